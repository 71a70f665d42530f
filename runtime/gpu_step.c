/* CUDA backend, decode steps: a step's rows are cut into segments (gpu_internal.h), the
 * step is keyed by everything that shapes its launches (rows, segments, plans, which select
 * units reselect, the length bucket that fixes the split-KV partition), captured once as a
 * CUDA graph and replayed. Inside a step nothing waits on the host: positions advance on the
 * device, and greedy decoding feeds the argmax back as the next step's tokens (sampling, the
 * sampled token: top-k over the vocabulary and kernels/sample.h's choice, on the device). */
#include "arch.h"
#include "cuda_ops.h"
#include "gpu_internal.h"
#include "qkv_store.h"
#include "sample.h"
#include "topk.h"

#include <stdlib.h>
#include <string.h>

enum { TOK_HOST = 1, TOK_ARGMAX = 2, LOGITS_OUT = 4, ATTN_ONLY = 8, TOK_SAMPLE = 16 };

typedef struct {
    int n; /* rows */
    int flags;
    int64_t max_len; /* bucketed */
    hy_gpu_segment segs[64];
    int n_segs;
    hy_sampler_params sp; /* TOK_SAMPLE; zeroed otherwise (it is part of the key) */
    uint8_t *refresh;     /* [n_segs][n_units] */
    int32_t seqs[4096];
} step_desc;

static int plans_equal(const hy_gpu_seq_plan *a, const hy_gpu_seq_plan *b) {
    if (a == b) return 1;
    if (!a || !b) return 0;
    const hy_plan *p = a->plan, *q = b->plan;
    return p->k == q->k && p->sink == q->sink && p->window == q->window &&
           p->granularity == q->granularity && hy_plan_n_units(p) == hy_plan_n_units(q) &&
           !memcmp(p->units, q->units, (size_t)hy_plan_n_units(p) * sizeof *p->units);
}

static void refresh_of(const hy_gpu_seq_plan *sp, uint8_t *r, int n_units) {
    for (int u = 0; u < n_units; u++) {
        const hy_plan_unit *pu = &sp->plan->units[u];
        r[u] = hy_mode_publishes(pu->mode) &&
               (sp->sel_step[u] < 0 ||
                (pu->refresh >= 1 && sp->step - sp->sel_step[u] >= pu->refresh));
        /* a query-drift unit (refresh 0) is forced only before its first selection; after
         * it the device decides (gpu_attn.c, kernels/qsim.h) */
    }
}

/* Lengths are bucketed so a graph serves many steps: at most 1/32 more than the longest
 * sequence, at least 256 tokens a bucket (the split-KV chunks of the longest unit). */
static int64_t len_bucket(int64_t len, int64_t cap) {
    int64_t p = 1;
    while (p * 2 <= len)
        p *= 2;
    int64_t gran = p / 32 < 256 ? 256 : p / 32;
    int64_t b = (len + gran - 1) / gran * gran;
    return b > cap ? cap : b;
}

static hy_status describe(hy_ctx *c, const int *seqs, int n, int flags, step_desc *d) {
    hy_gpu_ctx *g = c->gpu;
    const int U = c->m->info.n_layers * c->m->info.n_kv_heads;
    memset(d, 0, sizeof *d);
    d->n = n;
    d->flags = flags;
    d->refresh = hy_malloc((size_t)n * (size_t)U, "refresh pattern");
    if (!d->refresh) return HY_ENOMEM;
    uint8_t *tmp = d->refresh; /* per-row pattern is built in the next free segment slot */
    int64_t max_len = 1;
    for (int r = 0; r < n; r++) {
        const int s = seqs[r];
        d->seqs[r] = s;
        const int64_t len = c->seq_len[s] + (flags & ATTN_ONLY ? 0 : 1);
        if (len > max_len) max_len = len;
        const hy_gpu_seq_plan *sp = g->plans[s];
        uint8_t *pat = tmp + (size_t)d->n_segs * U;
        if (sp) refresh_of(sp, pat, U);
        hy_gpu_segment *last = d->n_segs ? &d->segs[d->n_segs - 1] : NULL;
        if (last && last->seq0 + last->n == s && last->row0 + last->n == r &&
            plans_equal(last->sp, sp) && (!sp || !memcmp(last->refresh, pat, (size_t)U))) {
            last->n++;
            continue;
        }
        if (d->n_segs == 64)
            return hy_fail(HY_EUNSUPPORTED,
                           "CUDA decode step: more than 64 groups of sequences with distinct "
                           "plans or refresh phases in one batch");
        d->segs[d->n_segs++] = (hy_gpu_segment){r, s, 1, sp, sp ? pat : NULL};
    }
    d->max_len = len_bucket(max_len, c->n_ctx);
    return HY_OK;
}

/* The key: flags, rows, bucket, and per segment its rows, sequences, plan and pattern. */
static unsigned char *make_key(const hy_ctx *c, const step_desc *d, size_t *len) {
    const int U = c->m->info.n_layers * c->m->info.n_kv_heads;
    size_t n = 3 * sizeof(int64_t) + sizeof d->sp +
               (size_t)d->n_segs * (3 * sizeof(int) + sizeof(void *) + U);
    unsigned char *k = hy_malloc(n, "graph key"), *p = k;
    if (!k) return NULL;
    const int64_t head[3] = {d->flags, d->n, d->max_len};
    memcpy(p, head, sizeof head), p += sizeof head;
    memcpy(p, &d->sp, sizeof d->sp), p += sizeof d->sp;
    for (int i = 0; i < d->n_segs; i++) {
        const hy_gpu_segment *s = &d->segs[i];
        const int v[3] = {s->row0, s->seq0, s->n};
        memcpy(p, v, sizeof v), p += sizeof v;
        memcpy(p, &s->sp, sizeof s->sp), p += sizeof s->sp;
        if (s->refresh)
            memcpy(p, s->refresh, (size_t)U);
        else
            memset(p, 0, (size_t)U);
        p += U;
    }
    *len = n;
    return k;
}

/* Everything a step launches, in stream order (captured, never run eagerly). */
static hy_status record(hy_ctx *c, const step_desc *d, const int32_t *dev_slots,
                        const int32_t *dev_seqs) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    hy_gpu_step_attn sa = {d->segs, d->n_segs, d->max_len, (int32_t *)dev_slots};
    if (d->flags & ATTN_ONLY) {
        for (int l = 0; l < mi->n_layers; l++)
            HY_TRY(hy_gpu_attn_layer(c, l, &sa));
        return HY_OK;
    }
    if (d->flags & TOK_HOST)
        HY_CUDA_CHECK(cudaMemcpyAsync(g->tokens, g->h_tokens, (size_t)d->n * 4,
                                      cudaMemcpyHostToDevice, g->stream));
    HY_CUDA_CHECK(
        cudaMemcpyAsync(g->seqs, dev_seqs, (size_t)d->n * 4, cudaMemcpyDeviceToDevice, g->stream));
    for (int i = 0; i < d->n_segs; i++)
        HY_TRY(hy_cuda_seq_advance(g->pos + d->segs[i].row0, g->lens + d->segs[i].seq0,
                                   d->segs[i].n, g->stream));
    HY_TRY(hy_gpu_embed(c, g->tokens, d->n));
    HY_TRY(hy_gpu_layers(c, d->n, hy_gpu_attn_layer, &sa));
    HY_TRY(hy_gpu_logits(c, 0, d->n));
    if (d->flags & TOK_ARGMAX)
        HY_TRY(hy_cuda_argmax_rows_f32(g->tokens, g->logits, d->n, mi->n_vocab, g->stream));
    if (d->flags & TOK_SAMPLE) {
        const int64_t V = mi->n_vocab;
        HY_CUDA_CHECK(cudaMemcpy2DAsync(g->slogits, (size_t)g->slog_stride * 4, g->logits,
                                        (size_t)V * 4, (size_t)V * 4, (size_t)d->n,
                                        cudaMemcpyDeviceToDevice, g->stream));
        HY_TRY(hy_cuda_topk_rows_f32(g->cand, g->cand_n, HY_SAMPLE_MAX_K, g->slogits,
                                     g->slog_stride, d->n, g->vocab_n, d->n, V, d->sp.top_k, 0, 0,
                                     g->stream));
        HY_TRY(hy_cuda_sample_rows(g->tokens, g->slogits, g->slog_stride, d->n, (int)V, g->cand,
                                   g->cand_n, HY_SAMPLE_MAX_K, d->sp.top_k, d->sp.temperature,
                                   d->sp.top_p, d->sp.seed, g->draws, g->stream));
    }
    if (d->flags & LOGITS_OUT)
        HY_CUDA_CHECK(cudaMemcpyAsync(g->h_logits, g->logits, (size_t)d->n * mi->n_vocab * 4,
                                      cudaMemcpyDeviceToHost, g->stream));
    return HY_OK;
}

static hy_status capture(hy_ctx *c, const step_desc *d, hy_gpu_graph *gr) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    const int64_t per = g->n_batch * (int64_t)mi->n_kv_heads, n_slots = mi->n_layers * 3 * per;
    int32_t *h = hy_malloc((size_t)(n_slots + d->n) * 4, "slot tables");
    if (!h) return HY_ENOMEM;
    hy_gpu_fill_slots(c, d->segs, d->n_segs, (int)g->n_batch, h);
    memcpy(h + n_slots, d->seqs, (size_t)d->n * 4);
    cudaError_t e = cudaMalloc((void **)&gr->slots, (size_t)(n_slots + d->n) * 4);
    if (e == cudaSuccess)
        e = cudaMemcpy(gr->slots, h, (size_t)(n_slots + d->n) * 4, cudaMemcpyHostToDevice);
    free(h);
    if (e != cudaSuccess)
        return hy_fail(HY_EDEVICE, "CUDA decode step: slot tables: %s", cudaGetErrorString(e));
    HY_CUDA_CHECK(cudaStreamBeginCapture(g->stream, cudaStreamCaptureModeRelaxed));
    hy_status st = record(c, d, gr->slots, gr->slots + n_slots);
    cudaGraph_t graph = NULL;
    e = cudaStreamEndCapture(g->stream, &graph);
    if (!st && e != cudaSuccess)
        st = hy_fail(HY_EDEVICE, "CUDA decode step: capture failed: %s", cudaGetErrorString(e));
    if (!st) {
        e = cudaGraphInstantiate(&gr->exec, graph, 0);
        if (e != cudaSuccess)
            st = hy_fail(HY_EDEVICE, "CUDA decode step: instantiating the graph: %s",
                         cudaGetErrorString(e));
    }
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    return st;
}

static hy_status graph_for(hy_ctx *c, const step_desc *d, hy_gpu_graph **out) {
    hy_gpu_ctx *g = c->gpu;
    size_t klen = 0;
    unsigned char *key = make_key(c, d, &klen);
    if (!key) return HY_ENOMEM;
    hy_gpu_graph *victim = &g->graphs[0];
    for (int i = 0; i < HY_GPU_GRAPHS; i++) {
        hy_gpu_graph *gr = &g->graphs[i];
        if (gr->exec && gr->key_len == klen && !memcmp(gr->key, key, klen)) {
            free(key);
            gr->last_use = ++g->graph_clock;
            *out = gr;
            return HY_OK;
        }
        if (!gr->exec || gr->last_use < victim->last_use) victim = gr;
        if (!gr->exec) break;
    }
    if (victim->exec) {
        HY_CUDA_CHECK(cudaStreamSynchronize(g->stream)); /* it may still be running */
        cudaGraphExecDestroy(victim->exec);
        cudaFree(victim->slots);
        free(victim->key);
        memset(victim, 0, sizeof *victim);
    }
    hy_status st = capture(c, d, victim);
    if (st) {
        cudaFree(victim->slots);
        if (victim->exec) cudaGraphExecDestroy(victim->exec);
        memset(victim, 0, sizeof *victim);
        free(key);
        return st;
    }
    victim->key = key;
    victim->key_len = klen;
    victim->last_use = ++g->graph_clock;
    *out = victim;
    return HY_OK;
}

/* Host mirrors of what the step did on the device: lengths, steps, selections, counters
 * (attention-only timing steps advance the plans' phases but not the lengths). */
static void step_done(hy_ctx *c, const step_desc *d, int advance_len) {
    const hy_model_info *mi = &c->m->info;
    const int U = mi->n_layers * mi->n_kv_heads;
    for (int si = 0; si < d->n_segs; si++) {
        const hy_gpu_segment *sg = &d->segs[si];
        for (int b = 0; b < sg->n; b++) {
            const int s = sg->seq0 + b;
            const int64_t n = advance_len ? ++c->seq_len[s] : c->seq_len[s];
            hy_gpu_seq_plan *sp = c->gpu->plans[s];
            if (!sp) continue;
            const int P = sp->plan->page_size > 0 ? sp->plan->page_size : 1;
            for (int u = 0; u < U; u++) {
                const hy_unit_mode m = sp->plan->units[u].mode;
                /* what dense reads here: a sliding-window layer's window (attn_dispatch.c) */
                const int64_t W = hy_model_layer_window(mi, u / mi->n_kv_heads);
                const double nd = (double)(W && W < n ? W : n);
                sp->kv_dense += nd;
                if (sg->refresh[u]) sp->sel_step[u] = sp->step, sp->refreshes++;
                /* rows read besides the sets, in K+V rows as the CPU counts them: dense
                 * passes, a bounds refresh's page minima and maxima (one row a page), a score
                 * refresh's keys (half a row a token), a sketch refresh's codes and scales */
                const double D = (double)mi->head_dim;
                if (m == HY_MODE_DENSE || (m == HY_MODE_SELECT && sg->refresh[u]))
                    sp->kv_host += nd;
                else if (m == HY_MODE_BOUNDS && sg->refresh[u])
                    sp->kv_host += (double)((n + P - 1) / P);
                else if (m == HY_MODE_SCORE && sg->refresh[u])
                    sp->kv_host += 0.5 * (double)n;
                else if ((m == HY_MODE_SKETCH8 || m == HY_MODE_SKETCH4) && sg->refresh[u])
                    sp->kv_host +=
                        (double)n * (D * (m == HY_MODE_SKETCH8 ? 8 : 4) / 8.0 + 4.0) / (4.0 * D);
            }
            sp->step++;
        }
    }
}

static hy_status check_rows(const hy_ctx *c, const int *seqs, int n, int steps, const char *fn) {
    if (n < 1 || n > c->n_seq)
        return hy_fail(HY_ERANGE, "%s: n_seq = %d, expected 1..%d", fn, n, c->n_seq);
    if (n > (int)(sizeof((step_desc *)0)->seqs / sizeof(int32_t)))
        return hy_fail(HY_EUNSUPPORTED, "%s: %d sequences in one CUDA step, at most 4096", fn, n);
    for (int s = 0; s < n; s++) {
        if (seqs[s] < 0 || seqs[s] >= c->n_seq)
            return hy_fail(HY_ERANGE, "%s: seqs[%d] = %d, expected 0..%d", fn, s, seqs[s],
                           c->n_seq - 1);
        for (int r = 0; r < s; r++)
            if (seqs[r] == seqs[s])
                return hy_fail(HY_EINVAL, "%s: sequence %d appears at %d and %d", fn, seqs[s], r,
                               s);
        if (c->seq_len[seqs[s]] + steps > c->n_ctx)
            return hy_fail(HY_ERANGE,
                           "%s: sequence %d holds %lld tokens; %d more exceed n_ctx = %lld", fn,
                           seqs[s], (long long)c->seq_len[seqs[s]], steps, (long long)c->n_ctx);
    }
    return HY_OK;
}

static hy_status run_step(hy_ctx *c, const int *seqs, int n, int flags,
                          const hy_sampler_params *sp) {
    step_desc *d = hy_malloc(sizeof *d, "decode step");
    if (!d) return HY_ENOMEM;
    hy_status st = describe(c, seqs, n, flags, d);
    if (sp) d->sp = *sp;
    hy_gpu_graph *gr = NULL;
    if (!st) st = graph_for(c, d, &gr);
    if (!st) {
        cudaError_t e = cudaGraphLaunch(gr->exec, c->gpu->stream);
        if (e != cudaSuccess)
            st = hy_fail(HY_EDEVICE, "CUDA decode step: graph launch: %s", cudaGetErrorString(e));
    }
    if (!st) step_done(c, d, !(flags & ATTN_ONLY));
    free(d->refresh);
    free(d);
    return st;
}

hy_status hy_gpu_forward_batch(hy_ctx *c, const int *seqs, const int32_t *tokens, int n_seq,
                               float *logits) {
    HY_TRY(check_rows(c, seqs, n_seq, 1, "hy_forward_batch"));
    hy_gpu_ctx *g = c->gpu;
    HY_CUDA_CHECK(cudaStreamSynchronize(g->stream)); /* h_tokens and h_logits are reused */
    memcpy(g->h_tokens, tokens, (size_t)n_seq * 4);
    HY_TRY(run_step(c, seqs, n_seq, TOK_HOST | LOGITS_OUT, NULL));
    HY_CUDA_CHECK(cudaStreamSynchronize(g->stream));
    memcpy(logits, g->h_logits, (size_t)n_seq * c->m->info.n_vocab * 4);
    return HY_OK;
}

/* Lockstep decode of sequences 0..n_seq-1 with the next tokens chosen on the device (argmax,
 * or sampled with sp), all steps replayed before one synchronisation at the end. */
static hy_status decode_loop(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps,
                             const hy_sampler_params *sp, int32_t *out, const char *fn) {
    int *seqs = hy_malloc((size_t)(n_seq > 0 ? n_seq : 1) * sizeof *seqs, "sequence list");
    if (!seqs) return HY_ENOMEM;
    for (int s = 0; s < n_seq; s++)
        seqs[s] = s;
    hy_gpu_ctx *g = c->gpu;
    int32_t *d_out = NULL;
    hy_status st = check_rows(c, seqs, n_seq, n_steps, fn);
    if (!st && out && n_steps > 0) {
        cudaError_t e = cudaMalloc((void **)&d_out, (size_t)n_steps * n_seq * 4);
        if (e != cudaSuccess) st = hy_fail(HY_ENOMEM, "%s: %s", fn, cudaGetErrorString(e));
    }
    if (!st) {
        cudaError_t e = cudaStreamSynchronize(g->stream);
        if (e == cudaSuccess) {
            memcpy(g->h_tokens, tokens, (size_t)n_seq * 4);
            e = cudaMemcpyAsync(g->tokens, g->h_tokens, (size_t)n_seq * 4, cudaMemcpyHostToDevice,
                                g->stream);
        }
        if (e != cudaSuccess) st = hy_fail(HY_EDEVICE, "%s: %s", fn, cudaGetErrorString(e));
    }
    for (int i = 0; !st && i < n_steps; i++) {
        st = run_step(c, seqs, n_seq, sp ? TOK_SAMPLE : TOK_ARGMAX, sp);
        if (!st && d_out) {
            cudaError_t e = cudaMemcpyAsync(d_out + (size_t)i * n_seq, g->tokens, (size_t)n_seq * 4,
                                            cudaMemcpyDeviceToDevice, g->stream);
            if (e != cudaSuccess) st = hy_fail(HY_EDEVICE, "%s: %s", fn, cudaGetErrorString(e));
        }
    }
    if (!st) {
        cudaError_t e = cudaStreamSynchronize(g->stream);
        if (e == cudaSuccess && d_out)
            e = cudaMemcpy(out, d_out, (size_t)n_steps * n_seq * 4, cudaMemcpyDeviceToHost);
        if (e != cudaSuccess) st = hy_fail(HY_EDEVICE, "%s: %s", fn, cudaGetErrorString(e));
    }
    cudaFree(d_out);
    free(seqs);
    return st;
}

hy_status hy_gpu_decode_greedy(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps,
                               int32_t *out) {
    return decode_loop(c, n_seq, tokens, n_steps, NULL, out, "hy_decode_greedy");
}

/* Buffers of device sampling, made at the first call; the draw counters restart at 0. */
static hy_status ensure_sampling(hy_ctx *c, int n_seq) {
    hy_gpu_ctx *g = c->gpu;
    const int64_t V = c->m->info.n_vocab, nb = g->n_batch;
    if (!g->slogits) {
        g->slog_stride = (V + 3) / 4 * 4;
        const int32_t v = (int32_t)V;
        cudaError_t e = cudaMalloc((void **)&g->slogits, (size_t)(nb * g->slog_stride) * 4);
        if (e == cudaSuccess) e = cudaMalloc((void **)&g->cand, (size_t)(nb * HY_SAMPLE_MAX_K) * 4);
        if (e == cudaSuccess) e = cudaMalloc((void **)&g->cand_n, (size_t)nb * 4);
        if (e == cudaSuccess) e = cudaMalloc((void **)&g->vocab_n, 4);
        if (e == cudaSuccess) e = cudaMalloc((void **)&g->draws, (size_t)nb * 8);
        if (e == cudaSuccess) e = cudaMemcpy(g->vocab_n, &v, 4, cudaMemcpyHostToDevice);
        if (e != cudaSuccess)
            return hy_fail(e == cudaErrorMemoryAllocation ? HY_ENOMEM : HY_EDEVICE,
                           "hy_decode_sample: device sampling buffers: %s", cudaGetErrorString(e));
    }
    HY_CUDA_CHECK(cudaMemsetAsync(g->draws, 0, (size_t)n_seq * 8, g->stream));
    return HY_OK;
}

hy_status hy_gpu_decode_sample(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps,
                               const hy_sampler_params *p, int32_t *out) {
    /* top_k 0 or past the vocabulary means every token, as on the host */
    const int V = c->m->info.n_vocab;
    hy_sampler_params ps = *p;
    ps.top_k = p->top_k == 0 || p->top_k > V ? V : p->top_k;
    if (ps.top_k > HY_SAMPLE_MAX_K)
        return hy_fail(HY_EUNSUPPORTED,
                       "hy_decode_sample: top_k = %d over a vocabulary of %d; the CUDA runtime "
                       "samples on the device from at most %d candidates; use a top_k in "
                       "1..%d or a CPU context",
                       p->top_k, V, HY_SAMPLE_MAX_K, HY_SAMPLE_MAX_K);
    if (n_seq > c->gpu->n_batch)
        return hy_fail(HY_ERANGE, "hy_decode_sample: n_seq = %d, expected 1..%lld", n_seq,
                       (long long)c->gpu->n_batch);
    HY_TRY(ensure_sampling(c, n_seq));
    return decode_loop(c, n_seq, tokens, n_steps, &ps, out, "hy_decode_sample");
}

hy_status hy_gpu_time_attention(hy_ctx *c, int n_seq, int n_steps, double *seconds) {
    int *seqs = hy_malloc((size_t)(n_seq > 0 ? n_seq : 1) * sizeof *seqs, "sequence list");
    if (!seqs) return HY_ENOMEM;
    for (int s = 0; s < n_seq; s++)
        seqs[s] = s;
    hy_gpu_ctx *g = c->gpu;
    hy_status st = check_rows(c, seqs, n_seq, 0, "hy_ctx_time_attention");
    cudaEvent_t e0 = NULL, e1 = NULL;
    if (!st && (cudaEventCreate(&e0) != cudaSuccess || cudaEventCreate(&e1) != cudaSuccess))
        st = hy_fail(HY_EDEVICE, "hy_ctx_time_attention: cudaEventCreate failed");
    /* the plans' refresh phases advance as in real steps (so a recycled plan is timed over
     * its cycle) and are put back afterwards */
    hy_gpu_seq_plan saved[64];
    int64_t *saved_sel[64] = {0};
    const int U = c->m->info.n_layers * c->m->info.n_kv_heads;
    if (!st && n_seq > 64)
        st = hy_fail(HY_EUNSUPPORTED, "hy_ctx_time_attention: at most 64 sequences");
    for (int s = 0; !st && s < n_seq; s++)
        if (g->plans[s]) {
            saved[s] = *g->plans[s];
            saved_sel[s] = hy_malloc((size_t)U * sizeof(int64_t), "saved plan state");
            if (!saved_sel[s])
                st = HY_ENOMEM;
            else
                memcpy(saved_sel[s], g->plans[s]->sel_step, (size_t)U * sizeof(int64_t));
        }
    int64_t rows_read[64];
    if (!st && cudaMemcpy(rows_read, g->rows_read, (size_t)n_seq * 8, cudaMemcpyDeviceToHost) !=
                   cudaSuccess)
        st = hy_fail(HY_EDEVICE, "hy_ctx_time_attention: reading the counters failed");
    for (int i = -1; !st && i < n_steps; i++) { /* step -1: capture and warm up */
        if (i == 0 && cudaEventRecord(e0, g->stream) != cudaSuccess)
            st = hy_fail(HY_EDEVICE, "hy_ctx_time_attention: cudaEventRecord failed");
        if (!st) st = run_step(c, seqs, n_seq, ATTN_ONLY, NULL);
    }
    if (!st && cudaMemcpy(g->rows_read, rows_read, (size_t)n_seq * 8, cudaMemcpyHostToDevice) !=
                   cudaSuccess)
        st = hy_fail(HY_EDEVICE, "hy_ctx_time_attention: restoring the counters failed");
    for (int s = 0; s < n_seq && s < 64; s++)
        if (saved_sel[s]) {
            memcpy(g->plans[s]->sel_step, saved_sel[s], (size_t)U * sizeof(int64_t));
            int64_t *sel = g->plans[s]->sel_step;
            *g->plans[s] = saved[s];
            g->plans[s]->sel_step = sel;
            free(saved_sel[s]);
        }
    float ms = 0.0f;
    if (!st &&
        (cudaEventRecord(e1, g->stream) != cudaSuccess || cudaEventSynchronize(e1) != cudaSuccess ||
         cudaEventElapsedTime(&ms, e0, e1) != cudaSuccess))
        st = hy_fail(HY_EDEVICE, "hy_ctx_time_attention: timing events failed");
    if (!st) *seconds = ms * 1e-3 / (n_steps > 0 ? n_steps : 1);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    free(seqs);
    return st;
}
