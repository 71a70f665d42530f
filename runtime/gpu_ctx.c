/* CUDA backend, contexts: the bf16 KV cache of n_seq sequences, scratch for one batch of
 * rows, cuBLAS with its own workspace (GEMMs never allocate inside a graph capture), the
 * select path's buffers, and per-sequence plan state with the checks that keep a plan the
 * kernels cannot run from giving a wrong result. */
#include "fill.h"
#include "gemv.h"
#include "gpu_internal.h"
#include "page_bounds.h"
#include "topk.h"

#include <stdlib.h>
#include <string.h>

#define HY_GPU_UBATCH 512
/* Decode batches of up to this many rows run the GEMV: at one row it matches cuBLAS's speed
 * and keeps activations in fp32; at 2..8 rows cuBLAS's tensor-core GEMM was faster (A/B on
 * the H200, docs/runtime.md). */
#define HY_GPU_GEMV_ROWS 1

static hy_status dmalloc(void *pp, size_t bytes, const char *what) {
    void **p = (void **)pp;
    cudaError_t e = cudaMalloc(p, bytes ? bytes : 16);
    if (e != cudaSuccess) {
        *p = NULL;
        cudaGetLastError();
        return hy_fail(e == cudaErrorMemoryAllocation ? HY_ENOMEM : HY_EDEVICE,
                       "CUDA context: allocating %s (%.1f MiB): %s", what,
                       (double)bytes / 1048576.0, cudaGetErrorString(e));
    }
    return HY_OK;
}

void hy_gpu_graphs_clear(hy_gpu_ctx *g) {
    for (int i = 0; i < HY_GPU_GRAPHS; i++) {
        hy_gpu_graph *gr = &g->graphs[i];
        if (gr->exec) cudaGraphExecDestroy(gr->exec);
        cudaFree(gr->slots);
        free(gr->key);
        memset(gr, 0, sizeof *gr);
    }
}

static void seq_plan_free(hy_gpu_seq_plan *sp) {
    if (!sp) return;
    hy_plan_free(sp->plan);
    free(sp->sel_step);
    free(sp);
}

void hy_gpu_ctx_free(hy_ctx *c) {
    hy_gpu_ctx *g = c->gpu;
    if (!g) return;
    if (g->stream) cudaStreamSynchronize(g->stream);
    hy_gpu_graphs_clear(g);
    if (g->blas) cublasDestroy(g->blas);
    if (g->stream) cudaStreamDestroy(g->stream);
    void *dev[] = {g->blas_ws,      g->k,       g->v,        g->lens,     g->x,
                   g->qkv,          g->q,       g->att,      g->gu,       g->t,
                   g->logits,       g->h16,     g->a16,      g->tokens,   g->pos,
                   g->seqs,         g->argmax,  g->scores,   g->pscores,  g->n_pages,
                   g->bmin,         g->bmax,    g->folded,   g->tk_idx,   g->tk_n,
                   g->store,        g->store_n, g->att_idx,  g->att_n,    g->rows_read,
                   g->sk[0],        g->sk[1],   g->sks[0],   g->sks[1],   g->sk_folded[0],
                   g->sk_folded[1], g->slogits, g->cand,     g->cand_n,   g->vocab_n,
                   g->draws,        g->q_sel,   g->qsim_alt, g->qsim_due, g->qsim_refreshes,
                   g->qsim_rows};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        cudaFree(dev[i]);
    cudaFreeHost(g->h_tokens);
    cudaFreeHost(g->h_logits);
    hy_cuda_attn_ws_free(g->attn_ws);
    if (g->plans)
        for (int s = 0; s < c->n_seq; s++)
            seq_plan_free(g->plans[s]);
    free(g->plans);
    free(g);
    c->gpu = NULL;
}

static hy_status alloc_all(hy_ctx *c, hy_gpu_ctx *g) {
    const hy_model_info *mi = &c->m->info;
    const int64_t d = mi->d_model, hd = mi->head_dim, nkv = mi->n_kv_heads;
    const int64_t nb = g->n_batch, ns = c->n_seq;
    g->layer_stride = nkv * c->n_ctx * hd;
    g->seq_stride = g->layer_stride * mi->n_layers;
    const size_t kv = (size_t)g->seq_stride * (size_t)ns * 2;
    HY_TRY(dmalloc(&g->k, kv, "K cache"));
    HY_TRY(dmalloc(&g->v, kv, "V cache"));
    HY_TRY(dmalloc(&g->lens, (size_t)ns * 4, "sequence lengths"));
    HY_CUDA_CHECK(cudaMemset(g->lens, 0, (size_t)ns * 4));
    HY_TRY(dmalloc(&g->x, (size_t)(nb * d) * 4, "residual stream"));
    HY_TRY(dmalloc(&g->qkv, (size_t)(nb * (mi->n_heads + 2 * nkv) * hd) * 4, "QKV rows"));
    HY_TRY(dmalloc(&g->q, (size_t)(nb * mi->n_heads * hd) * 4, "queries"));
    HY_TRY(dmalloc(&g->att, (size_t)(nb * mi->n_heads * hd) * 4, "attention output"));
    HY_TRY(dmalloc(&g->gu, (size_t)(nb * 2 * mi->d_ff) * 4, "gate/up rows"));
    HY_TRY(dmalloc(&g->t, (size_t)(nb * d) * 4, "block outputs"));
    HY_TRY(dmalloc(&g->logits, (size_t)(nb * mi->n_vocab) * 4, "logits"));
    const int64_t wide = d > (int64_t)mi->d_ff ? d : mi->d_ff;
    const int64_t wide2 = wide > (int64_t)mi->n_heads * hd ? wide : (int64_t)mi->n_heads * hd;
    HY_TRY(dmalloc(&g->h16, (size_t)(nb * d) * 2, "normed rows (bf16)"));
    HY_TRY(dmalloc(&g->a16, (size_t)(nb * wide2) * 2, "GEMM inputs (bf16)"));
    HY_TRY(dmalloc(&g->tokens, (size_t)nb * 4, "tokens"));
    HY_TRY(dmalloc(&g->pos, (size_t)nb * 4, "positions"));
    HY_TRY(dmalloc(&g->seqs, (size_t)nb * 4, "row sequences"));
    HY_TRY(dmalloc(&g->argmax, (size_t)nb * 4, "argmax"));
    HY_TRY(dmalloc(&g->rows_read, (size_t)ns * 8, "attention counters"));
    HY_CUDA_CHECK(cudaMemset(g->rows_read, 0, (size_t)ns * 8));
    HY_CUDA_CHECK(cudaMallocHost((void **)&g->h_tokens, (size_t)nb * 4));
    g->h_logits_rows = ns;
    HY_CUDA_CHECK(cudaMallocHost((void **)&g->h_logits, (size_t)(ns * mi->n_vocab) * 4));
    g->blas_ws_bytes = (size_t)32 << 20;
    HY_TRY(dmalloc(&g->blas_ws, g->blas_ws_bytes, "cuBLAS workspace"));
    hy_attn_shape s = {(int)ns,  mi->n_heads,   mi->n_kv_heads, mi->head_dim,
                       c->n_ctx, g->seq_stride, 0.0f,           0};
    s.scale = 1.0f;
    /* rounded up so a page set's last page (tokens past n are skipped) fits the workspace */
    HY_TRY(hy_cuda_attn_ws_create(&g->attn_ws, &s, (c->n_ctx + 255) / 256 * 256, 1));
    g->score_stride = (c->n_ctx + 3) / 4 * 4;
    HY_TRY(dmalloc(&g->scores, (size_t)(ns * nkv * g->score_stride) * 4, "select scores"));
    HY_TRY(dmalloc(&g->pscores, (size_t)(ns * nkv * g->score_stride) * 4, "page scores"));
    HY_TRY(dmalloc(&g->n_pages, (size_t)ns * 4, "page counts"));
    return HY_OK;
}

hy_status hy_gpu_ctx_create(hy_ctx *c) {
    int n_dev = 0;
    cudaError_t e = cudaGetDeviceCount(&n_dev);
    if (e != cudaSuccess || n_dev < 1) {
        cudaGetLastError();
        return hy_fail(HY_EDEVICE, "--device cuda: no usable GPU (%s)",
                       e != cudaSuccess ? cudaGetErrorString(e) : "no device");
    }
    hy_model *m = (hy_model *)c->m; /* the device copy is made once and kept with the model */
    HY_TRY(hy_gpu_model_upload(m));
    hy_gpu_ctx *g = hy_calloc(1, sizeof *g, "CUDA context");
    if (!g) return HY_ENOMEM;
    c->gpu = g;
    g->n_batch = c->n_ctx < HY_GPU_UBATCH ? c->n_ctx : HY_GPU_UBATCH;
    if (g->n_batch < c->n_seq) g->n_batch = c->n_seq;
    const char *gr = getenv("HY_GEMV_ROWS");
    g->gemv_rows = gr ? atoi(gr) : HY_GPU_GEMV_ROWS;
    if (g->gemv_rows < 0 || g->gemv_rows > HY_GEMV_MAX_ROWS) g->gemv_rows = HY_GPU_GEMV_ROWS;
    g->plans = hy_calloc((size_t)c->n_seq, sizeof *g->plans, "sequence plans");
    if (!g->plans) return HY_ENOMEM;
    HY_CUDA_CHECK(cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking));
    HY_CUBLAS_CHECK(cublasCreate(&g->blas));
    HY_CUBLAS_CHECK(cublasSetStream(g->blas, g->stream));
    hy_status st = alloc_all(c, g);
    if (st)
        return hy_fail_ctx(st, "CUDA context (n_ctx %lld, n_seq %d)", (long long)c->n_ctx,
                           c->n_seq);
    HY_CUBLAS_CHECK(cublasSetWorkspace(g->blas, g->blas_ws, g->blas_ws_bytes));
    return HY_OK;
}

/* ---------- plans ---------- */

/* Sizes the set buffers for the plan's sets, in its units (tokens or pages): the top-k's k +
 * sink + window, the merges' one more sink and window (growing them drops every graph, whose
 * launches hold the old addresses). */
static hy_status ensure_sets(hy_ctx *c, const hy_plan *p) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    const int64_t P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
    const int64_t sink_u = (p->sink + P - 1) / P, win_u = (p->window + P - 1) / P + 1;
    int64_t tk = (p->k + P - 1) / P + sink_u + win_u, cap = tk + sink_u + win_u + 1;
    if (tk <= g->tk_stride && cap <= g->set_cap) return HY_OK;
    tk = tk > g->tk_stride ? tk : g->tk_stride;
    cap = cap > g->set_cap ? cap : g->set_cap;
    HY_CUDA_CHECK(cudaStreamSynchronize(g->stream));
    hy_gpu_graphs_clear(g);
    cudaFree(g->tk_idx), cudaFree(g->tk_n), cudaFree(g->store), cudaFree(g->store_n);
    cudaFree(g->att_idx), cudaFree(g->att_n);
    g->tk_idx = g->tk_n = g->store = g->store_n = g->att_idx = g->att_n = NULL;
    g->tk_stride = g->set_cap = 0;
    /* the published sets are gone: every planned sequence reselects at its next step */
    for (int s = 0; s < c->n_seq; s++)
        hy_gpu_seq_plan_reset(g->plans[s]);
    const int64_t rows = (int64_t)c->n_seq * mi->n_kv_heads;
    HY_TRY(dmalloc(&g->tk_idx, (size_t)(rows * tk) * 4, "top-k sets"));
    HY_TRY(dmalloc(&g->tk_n, (size_t)rows * 4, "top-k counts"));
    HY_TRY(dmalloc(&g->store, (size_t)(mi->n_layers * rows * cap) * 4, "published sets"));
    HY_TRY(dmalloc(&g->store_n, (size_t)(mi->n_layers * rows) * 4, "published set sizes"));
    HY_TRY(dmalloc(&g->att_idx, (size_t)(rows * cap) * 4, "attended sets"));
    HY_TRY(dmalloc(&g->att_n, (size_t)rows * 4, "attended set sizes"));
    HY_CUDA_CHECK(cudaMemset(g->store_n, 0xff, (size_t)(mi->n_layers * rows) * 4));
    g->tk_stride = tk;
    g->set_cap = cap;
    return HY_OK;
}

/* Page key bounds for a plan with bounds units: [layer][seq][kv head][page][head_dim] bf16
 * minima and maxima for pages of the plan's size (a smaller page size reallocates). */
static hy_status ensure_bounds(hy_ctx *c, const hy_plan *p) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    int any = 0;
    for (int32_t u = 0; u < hy_plan_n_units(p); u++)
        any |= p->units[u].mode == HY_MODE_BOUNDS;
    if (!any) return HY_OK;
    if (g->bmin && g->bounds_P == p->page_size) return HY_OK;
    if (g->bmin)
        return hy_fail(HY_EUNSUPPORTED,
                       "hy_ctx_set_plan: bounds units with pages of %d tokens, but this CUDA "
                       "context keeps page bounds of %d tokens (one page size per context)",
                       p->page_size, g->bounds_P);
    const int64_t rows = (int64_t)mi->n_layers * c->n_seq * mi->n_kv_heads;
    const int64_t cap = (c->n_ctx + p->page_size - 1) / p->page_size;
    const size_t bytes = (size_t)(rows * cap * mi->head_dim) * 2;
    HY_TRY(dmalloc(&g->bmin, bytes, "page key minima"));
    HY_TRY(dmalloc(&g->bmax, bytes, "page key maxima"));
    HY_TRY(dmalloc(&g->folded, (size_t)rows * 4, "page bounds lengths"));
    HY_CUDA_CHECK(cudaMemset(g->folded, 0, (size_t)rows * 4));
    g->page_cap_b = cap;
    g->bounds_P = p->page_size;
    return HY_OK;
}

/* Key sketches for a plan with sketch units, one store per width the plan uses:
 * [layer][seq][kv head][n_ctx] rows of codes (head_dim bytes at 8 bits, half at 4) and scales,
 * and the tokens folded into each row. */
static hy_status ensure_sketch(hy_ctx *c, const hy_plan *p) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    const int64_t rows = (int64_t)mi->n_layers * c->n_seq * mi->n_kv_heads;
    for (int w = 0; w < 2; w++) {
        const hy_unit_mode want = w == 0 ? HY_MODE_SKETCH8 : HY_MODE_SKETCH4;
        int any = 0;
        for (int32_t u = 0; u < hy_plan_n_units(p); u++)
            any |= p->units[u].mode == want;
        if (!any || g->sk[w]) continue;
        const size_t rb = (size_t)(w == 0 ? mi->head_dim : mi->head_dim / 2);
        HY_TRY(dmalloc(&g->sk[w], (size_t)(rows * c->n_ctx) * rb, "key sketch codes"));
        HY_TRY(dmalloc(&g->sks[w], (size_t)(rows * c->n_ctx) * 4, "key sketch scales"));
        HY_TRY(dmalloc(&g->sk_folded[w], (size_t)rows * 4, "key sketch lengths"));
        HY_CUDA_CHECK(cudaMemset(g->sk_folded[w], 0, (size_t)rows * 4));
    }
    return HY_OK;
}

/* State of query-drift units, made when a plan has one (written without a GPU on 2026-12-04,
 * opt-in until its tests ran on the H200 on 2026-12-05). */
static hy_status ensure_qsim(hy_ctx *c, const hy_plan *p) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    int32_t first = -1;
    for (int32_t u = 0; u < hy_plan_n_units(p) && first < 0; u++)
        if (hy_mode_publishes(p->units[u].mode) && p->units[u].refresh < 1) first = u;
    if (first < 0 || g->q_sel) return HY_OK;
    const int64_t hq = (int64_t)mi->n_heads * mi->head_dim;
    HY_TRY(dmalloc(&g->q_sel, (size_t)((int64_t)mi->n_layers * c->n_seq * hq) * 4,
                   "query-drift queries"));
    HY_TRY(dmalloc(&g->qsim_alt, (size_t)(g->n_batch * hq) * 4, "query-drift outputs"));
    HY_TRY(dmalloc(&g->qsim_due, (size_t)(g->n_batch * mi->n_kv_heads) * 4, "query-drift flags"));
    HY_TRY(dmalloc(&g->qsim_refreshes, (size_t)c->n_seq * 8, "query-drift counters"));
    HY_TRY(dmalloc(&g->qsim_rows, (size_t)c->n_seq * 8, "query-drift counters"));
    HY_CUDA_CHECK(cudaMemset(g->qsim_refreshes, 0, (size_t)c->n_seq * 8));
    HY_CUDA_CHECK(cudaMemset(g->qsim_rows, 0, (size_t)c->n_seq * 8));
    return HY_OK;
}

void hy_gpu_seq_plan_reset(hy_gpu_seq_plan *sp) {
    if (!sp) return;
    for (int32_t u = 0; u < hy_plan_n_units(sp->plan); u++)
        sp->sel_step[u] = -1;
    sp->step = 0;
    sp->refreshes = 0;
    sp->kv_dense = sp->kv_host = 0.0;
}

/* check_plan of plan_exec.c has validated the plan against the model and the context. */
hy_status hy_gpu_set_plan(hy_ctx *c, int seq, const hy_plan *plan) {
    hy_gpu_ctx *g = c->gpu;
    hy_gpu_seq_plan *sp = NULL;
    if (plan) {
        HY_TRY(ensure_sets(c, plan));
        HY_TRY(ensure_bounds(c, plan));
        HY_TRY(ensure_sketch(c, plan));
        HY_TRY(ensure_qsim(c, plan));
        sp = hy_calloc(1, sizeof *sp, "sequence plan");
        if (!sp) return HY_ENOMEM;
        sp->sel_step = hy_malloc((size_t)hy_plan_n_units(plan) * sizeof(int64_t), "plan steps");
        if (!sp->sel_step || hy_plan_copy(plan, &sp->plan)) {
            seq_plan_free(sp);
            return HY_ENOMEM;
        }
        hy_gpu_seq_plan_reset(sp);
    }
    HY_CUDA_CHECK(cudaStreamSynchronize(g->stream));
    hy_gpu_graphs_clear(g); /* graphs name plans by address */
    seq_plan_free(g->plans[seq]);
    g->plans[seq] = sp;
    HY_CUDA_CHECK(cudaMemset(g->rows_read + seq, 0, 8));
    if (g->qsim_rows) {
        HY_CUDA_CHECK(cudaMemset(g->qsim_rows + seq, 0, 8));
        HY_CUDA_CHECK(cudaMemset(g->qsim_refreshes + seq, 0, 8));
    }
    return HY_OK;
}

static hy_status set_len(hy_ctx *c, int seq, int64_t n) {
    hy_gpu_ctx *g = c->gpu;
    int32_t v = (int32_t)n;
    HY_CUDA_CHECK(cudaMemcpyAsync(g->lens + seq, &v, 4, cudaMemcpyHostToDevice, g->stream));
    HY_CUDA_CHECK(cudaMemsetAsync(g->rows_read + seq, 0, 8, g->stream));
    if (g->qsim_rows) {
        HY_CUDA_CHECK(cudaMemsetAsync(g->qsim_rows + seq, 0, 8, g->stream));
        HY_CUDA_CHECK(cudaMemsetAsync(g->qsim_refreshes + seq, 0, 8, g->stream));
    }
    /* the sequence's keys changed: its page bounds and key sketches start over */
    int32_t *const marks[3] = {g->folded, g->sk_folded[0], g->sk_folded[1]};
    for (int i = 0; i < 3; i++)
        for (int l = 0; marks[i] && l < c->m->info.n_layers; l++)
            HY_CUDA_CHECK(
                cudaMemsetAsync(marks[i] + ((int64_t)l * c->n_seq + seq) * c->m->info.n_kv_heads, 0,
                                (size_t)c->m->info.n_kv_heads * 4, g->stream));
    HY_CUDA_CHECK(cudaStreamSynchronize(g->stream));
    c->seq_len[seq] = n;
    hy_gpu_seq_plan_reset(g->plans[seq]);
    return HY_OK;
}

hy_status hy_gpu_seq_reset(hy_ctx *c, int seq) {
    return set_len(c, seq, 0);
}

hy_status hy_gpu_seq_copy(hy_ctx *c, int dst, int src) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    const int64_t n = c->seq_len[src], hd = mi->head_dim;
    if (n > 0) {
        /* the filled rows of each unit's [n_ctx][hd] block: one 2D copy per cache */
        const size_t width = (size_t)(n * hd) * 2, pitch = (size_t)(c->n_ctx * hd) * 2;
        const size_t units = (size_t)mi->n_layers * mi->n_kv_heads;
        HY_CUDA_CHECK(cudaMemcpy2DAsync(g->k + dst * g->seq_stride, pitch,
                                        g->k + src * g->seq_stride, pitch, width, units,
                                        cudaMemcpyDeviceToDevice, g->stream));
        HY_CUDA_CHECK(cudaMemcpy2DAsync(g->v + dst * g->seq_stride, pitch,
                                        g->v + src * g->seq_stride, pitch, width, units,
                                        cudaMemcpyDeviceToDevice, g->stream));
    }
    return set_len(c, dst, n);
}

hy_status hy_gpu_attn_counters(const hy_ctx *c, int seq, hy_attn_counters *out) {
    const hy_gpu_ctx *g = c->gpu;
    const hy_gpu_seq_plan *sp = g->plans[seq];
    *out = (hy_attn_counters){0};
    if (!sp) return HY_OK;
    int64_t dev_rows = 0;
    HY_CUDA_CHECK(cudaStreamSynchronize(g->stream));
    HY_CUDA_CHECK(cudaMemcpy(&dev_rows, g->rows_read + seq, 8, cudaMemcpyDeviceToHost));
    unsigned long long q_ref = 0;
    double q_rows = 0.0;
    if (g->qsim_rows) {
        HY_CUDA_CHECK(cudaMemcpy(&q_ref, g->qsim_refreshes + seq, 8, cudaMemcpyDeviceToHost));
        HY_CUDA_CHECK(cudaMemcpy(&q_rows, g->qsim_rows + seq, 8, cudaMemcpyDeviceToHost));
    }
    out->steps = sp->step;
    out->unit_steps = sp->step * hy_plan_n_units(sp->plan);
    out->refreshes = sp->refreshes + (int64_t)q_ref;
    out->kv_tokens = sp->kv_host + (double)dev_rows + q_rows;
    out->kv_tokens_dense = sp->kv_dense;
    return HY_OK;
}

hy_status hy_ctx_seq_fill_random(hy_ctx *c, int seq, int64_t n, uint64_t seed) {
    if (!c) return hy_fail(HY_EINVAL, "hy_ctx_seq_fill_random: NULL context");
    if (!c->gpu) return hy_fail(HY_EUNSUPPORTED, "hy_ctx_seq_fill_random: CUDA contexts only");
    if (seq < 0 || seq >= c->n_seq)
        return hy_fail(HY_ERANGE, "hy_ctx_seq_fill_random: seq = %d, expected 0..%d", seq,
                       c->n_seq - 1);
    if (n < 0 || n > c->n_ctx)
        return hy_fail(HY_ERANGE, "hy_ctx_seq_fill_random: n = %lld, expected 0..n_ctx = %lld",
                       (long long)n, (long long)c->n_ctx);
    hy_gpu_ctx *g = c->gpu;
    /* the whole block of the sequence: values past n are never read */
    const uint64_t off = (uint64_t)seq * (uint64_t)g->seq_stride * 2;
    HY_TRY(hy_cuda_fill_uniform_bf16(g->k + seq * g->seq_stride, g->seq_stride, seed, off, 1.0f,
                                     g->stream));
    HY_TRY(hy_cuda_fill_uniform_bf16(g->v + seq * g->seq_stride, g->seq_stride, seed,
                                     off + (uint64_t)g->seq_stride, 1.0f, g->stream));
    return set_len(c, seq, n);
}
