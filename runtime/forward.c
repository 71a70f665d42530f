/* The Llama forward pass on the CPU, as llama.cpp computes LLAMA-arch GGUFs: embedding,
 * then per layer RMSNorm -> fused QKV GEMM -> RoPE (NORM layout) -> K/V into the cache ->
 * attention through the unit's mode -> output GEMM added to the residual -> RMSNorm -> fused
 * gate/up GEMM -> SwiGLU -> down GEMM added to the residual; final RMSNorm and the output
 * GEMM only for the rows whose logits were asked for. Other architectures are this pass with
 * the steps their row in arch.h adds or swaps (QKV bias, QK norm, post-norms, GELU gating,
 * embedding scale, per-layer RoPE base). Prefill, decode and batched decode all go through
 * hy_layer_forward; they differ only in how the batch is cut into runs. */
#include "arch.h"
#include "attn_mode.h"
#include "embedding.h"
#include "matmul.h"
#include "plan_exec.h"
#include "qkv_store.h"
#include "rmsnorm.h"
#include "rope.h"
#include "runtime_internal.h"
#ifdef HY_HAVE_CUDA
#include "gpu_internal.h"
#endif
#include "geglu.h"
#include "swiglu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Copies each token's RoPE'd K and its V into its sequence's cache at its position. */
static void store_kv(hy_ctx *c, int layer, const hy_run *runs, int n_runs) {
    const hy_model_info *mi = &c->m->info;
    const int hd = mi->head_dim;
    const int64_t qkv_w = (int64_t)(mi->n_heads + 2 * mi->n_kv_heads) * hd;
    const int64_t k_off = (int64_t)mi->n_heads * hd, v_off = k_off + (int64_t)mi->n_kv_heads * hd;
    for (int r = 0; r < n_runs; r++) {
        float *kc = hy_ctx_k(c, runs[r].seq, layer), *vc = hy_ctx_v(c, runs[r].seq, layer);
        for (int64_t i = 0; i < runs[r].n_q; i++) {
            const float *row = c->qkv + (runs[r].t0 + i) * qkv_w;
            const int64_t p = runs[r].pos0 + i;
            for (int h = 0; h < mi->n_kv_heads; h++) {
                const int64_t dst = ((int64_t)h * c->n_ctx + p) * hd;
                memcpy(kc + dst, row + k_off + (int64_t)h * hd, (size_t)hd * sizeof(float));
                memcpy(vc + dst, row + v_off + (int64_t)h * hd, (size_t)hd * sizeof(float));
            }
        }
    }
}

/* QKV bias and per-head Q/K RMSNorm where the architecture has them (before RoPE). */
static void qkv_extras(hy_ctx *c, const hy_layer_weights *w, int64_t n) {
    const hy_model_info *mi = &c->m->info;
    if (!w->bqkv && !w->q_norm) return;
    const hy_qkv_extras e = hy_layer_qkv_extras(mi, w->bqkv, w->q_norm, w->k_norm);
    /* the shapes are the loader's, checked at load: this cannot fail */
    (void)hy_qkv_extras_f32(c->qkv, (int64_t)(mi->n_heads + 2 * mi->n_kv_heads) * mi->head_dim, n,
                            &e);
}

/* x += in w^T (in: n rows of n_in values, ld apart; w fp32, or wq in the file's format), or
 * with a post-norm (Gemma 3) x += rmsnorm(in w^T) through c->h. */
static void add_block_output(hy_ctx *c, const float *in, int64_t ld, int64_t n_in, const float *w,
                             const hy_qmat *wq, const float *post_norm, int64_t n) {
    const int64_t d = c->m->info.d_model;
    if (!post_norm) {
        hy_ctx_matmul(c, c->x, d, in, ld, w, wq, n, n_in, d, 1.0f);
        return;
    }
    hy_ctx_matmul(c, c->h, d, in, ld, w, wq, n, n_in, d, 0.0f);
    hy_rmsnorm_add_f32(c->x, c->h, post_norm, n, d, c->m->info.rms_eps);
}

hy_status hy_layer_forward(hy_ctx *c, int layer, int64_t n, const hy_run *runs, int n_runs) {
    const hy_model_info *mi = &c->m->info;
    const hy_layer_weights *w = &c->m->layers[layer];
    const int64_t d = mi->d_model, hd = mi->head_dim, ff = mi->d_ff;
    const int64_t qkv_w = (int64_t)(mi->n_heads + 2 * mi->n_kv_heads) * hd;
    const int64_t att_w = (int64_t)mi->n_heads * hd;

    hy_rmsnorm_f32(c->h, c->x, w->attn_norm, n, d, mi->rms_eps);
    hy_ctx_matmul(c, c->qkv, qkv_w, c->h, d, w->wqkv, &w->q_qkv, n, d, qkv_w, 0.0f);
    qkv_extras(c, w, n);
    /* Q and K heads are adjacent in each row, so one call rotates both */
    hy_rope_f32(c->qkv, n, mi->n_heads + mi->n_kv_heads, mi->head_dim, qkv_w, c->pos,
                hy_model_layer_rope_theta(mi, layer), (hy_rope_layout)mi->rope_layout);
    store_kv(c, layer, runs, n_runs);
    hy_status st = hy_attn_run(c, layer, runs, n_runs);
    if (st != HY_OK) return st;
    add_block_output(c, c->att, att_w, att_w, w->wo, &w->q_o, w->post_attn_norm, n);

    hy_rmsnorm_f32(c->h, c->x, w->ffn_norm, n, d, mi->rms_eps);
    hy_ctx_matmul(c, c->gu, 2 * ff, c->h, d, w->wgu, &w->q_gu, n, d, 2 * ff, 0.0f);
    for (int64_t t = 0; t < n; t++) {
        float *row = c->gu + t * 2 * ff;
        if (c->m->arch->gelu)
            hy_geglu_f32(row, row, row + ff, ff);
        else
            hy_swiglu_f32(row, row, row + ff, ff);
    }
    add_block_output(c, c->gu, 2 * ff, ff, w->wdown, &w->q_down, w->post_ffn_norm, n);
    return HY_OK;
}

/* Token embeddings into c->x (from fp32 or from the file's format), scaled by sqrt(d_model)
 * where the architecture says so. */
static void embed(hy_ctx *c, const int32_t *tokens, int64_t n) {
    const int64_t d = c->m->info.d_model;
    if (c->m->tok_embd)
        hy_embedding_f32(c->x, c->m->tok_embd, d, tokens, n);
    else
        for (int64_t i = 0; i < n; i++)
            hy_qmat_rows_f32(&c->m->q_embd, d, tokens[i], 1, c->x + i * d);
    if (!c->m->arch->embd_scale) return;
    const float s = sqrtf((float)d);
    for (int64_t i = 0; i < n * d; i++)
        c->x[i] *= s;
}

/* Runs all layers over the n tokens already embedded in c->x, then writes logits for the
 * n_rows batch rows listed in rows (ascending) into logits (row-major, n_vocab each). Only
 * those rows go through the final norm and the output GEMM. */
static hy_status forward_batch(hy_ctx *c, int64_t n, const hy_run *runs, int n_runs,
                               const int64_t *rows, int64_t n_rows, float *logits) {
    const hy_model_info *mi = &c->m->info;
    for (int l = 0; l < mi->n_layers; l++) {
        hy_status st = hy_layer_forward(c, l, n, runs, n_runs);
        if (st != HY_OK) return st;
    }
    const int64_t d = mi->d_model;
    if (n_rows <= 0) return HY_OK;
    for (int64_t i = 0; i < n_rows; i++)
        hy_rmsnorm_f32(c->h + i * d, c->x + rows[i] * d, c->m->output_norm, 1, d, mi->rms_eps);
    hy_ctx_matmul(c, logits, mi->n_vocab, c->h, d, c->m->output,
                  c->m->info.tied_output ? &c->m->q_embd : &c->m->q_output, n_rows, d, mi->n_vocab,
                  0.0f);
    return HY_OK;
}

static hy_status check_tokens(const hy_ctx *c, const int32_t *tokens, int64_t n, const char *fn) {
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->m->info.n_vocab)
            return hy_fail(HY_ERANGE, "%s: token %lld has id %d, expected 0..%d", fn, (long long)i,
                           tokens[i], c->m->info.n_vocab - 1);
    return HY_OK;
}

/* Checks shared by hy_forward and hy_forward_rows; nothing is changed on failure. */
static hy_status check_append(const hy_ctx *c, int seq, const int32_t *tokens, int64_t n_tok,
                              const char *fn) {
    if (!c) return hy_fail(HY_EINVAL, "%s: NULL context", fn);
    if (seq < 0 || seq >= c->n_seq)
        return hy_fail(HY_ERANGE, "%s: seq = %d, expected 0..%d", fn, seq, c->n_seq - 1);
    if (n_tok < 0 || (n_tok > 0 && !tokens))
        return hy_fail(HY_EINVAL, "%s: n_tok = %lld with tokens %s", fn, (long long)n_tok,
                       tokens ? "set" : "NULL");
    if (n_tok > c->n_ctx - c->seq_len[seq])
        return hy_fail(HY_ERANGE,
                       "%s: sequence %d holds %lld tokens; %lld more exceed n_ctx = "
                       "%lld",
                       fn, seq, (long long)c->seq_len[seq], (long long)n_tok, (long long)c->n_ctx);
    return check_tokens(c, tokens, n_tok, fn);
}

/* Appends the tokens in micro-batches; rows (ascending indices into tokens) pick the
 * positions whose logits are written, in order, to logits. */
static hy_status append(hy_ctx *c, int seq, const int32_t *tokens, int64_t n_tok,
                        const int64_t *rows, int64_t n_rows, float *logits) {
#ifdef HY_HAVE_CUDA
    if (c->gpu) return hy_gpu_append(c, seq, tokens, n_tok, rows, n_rows, logits);
#endif
    const hy_model_info *mi = &c->m->info;
    int64_t next = 0; /* first entry of rows not yet produced */
    for (int64_t t0 = 0; t0 < n_tok; t0 += c->n_batch) {
        const int64_t n = n_tok - t0 < c->n_batch ? n_tok - t0 : c->n_batch;
        const int64_t p0 = c->seq_len[seq];
        embed(c, tokens + t0, n);
        for (int64_t i = 0; i < n; i++)
            c->pos[i] = (int32_t)(p0 + i);
        c->runs[0] = (hy_run){seq, 0, n, p0, n_tok == 1};
        int64_t k = 0;
        while (next + k < n_rows && rows[next + k] < t0 + n) {
            c->rows[k] = rows[next + k] - t0;
            k++;
        }
        hy_status st = forward_batch(c, n, c->runs, 1, c->rows, k,
                                     k ? logits + next * (int64_t)mi->n_vocab : NULL);
        if (st != HY_OK) return st;
        next += k;
        c->seq_len[seq] = p0 + n;
    }
    if (n_tok == 1) hy_seq_plan_step_done(c->plans[seq]);
    return HY_OK;
}

hy_status hy_forward(hy_ctx *c, int seq, const int32_t *tokens, int64_t n_tok, float *logits,
                     int64_t n_logits) {
    hy_status st = check_append(c, seq, tokens, n_tok, "hy_forward");
    if (st != HY_OK) return st;
    if (n_logits < 0 || n_logits > n_tok || (n_logits > 0 && !logits))
        return hy_fail(HY_EINVAL,
                       "hy_forward: n_logits = %lld, expected 0..n_tok = %lld with "
                       "a logits buffer",
                       (long long)n_logits, (long long)n_tok);
    int64_t *rows = NULL;
    if (n_logits > 0) {
        rows = hy_malloc((size_t)n_logits * sizeof *rows, "logit rows");
        if (!rows) return HY_ENOMEM;
        for (int64_t i = 0; i < n_logits; i++)
            rows[i] = n_tok - n_logits + i;
    }
    st = append(c, seq, tokens, n_tok, rows, n_logits, logits);
    free(rows);
    return st;
}

hy_status hy_forward_rows(hy_ctx *c, int seq, const int32_t *tokens, int64_t n_tok,
                          const int64_t *rows, int64_t n_rows, float *logits) {
    hy_status st = check_append(c, seq, tokens, n_tok, "hy_forward_rows");
    if (st != HY_OK) return st;
    if (n_rows < 0 || (n_rows > 0 && (!rows || !logits)))
        return hy_fail(HY_EINVAL, "hy_forward_rows: n_rows = %lld with rows/logits NULL",
                       (long long)n_rows);
    for (int64_t i = 0; i < n_rows; i++)
        if (rows[i] < 0 || rows[i] >= n_tok || (i > 0 && rows[i] <= rows[i - 1]))
            return hy_fail(HY_ERANGE,
                           "hy_forward_rows: rows[%lld] = %lld, expected ascending "
                           "indices in %lld..%lld",
                           (long long)i, (long long)rows[i],
                           i > 0 ? (long long)rows[i - 1] + 1 : 0LL, (long long)n_tok - 1);
    return append(c, seq, tokens, n_tok, rows, n_rows, logits);
}

hy_status hy_forward_batch(hy_ctx *c, const int *seqs, const int32_t *tokens, int n_seq,
                           float *logits) {
    if (!c || !seqs || !tokens || !logits)
        return hy_fail(HY_EINVAL, "hy_forward_batch: NULL argument");
    if (n_seq < 1 || n_seq > c->n_seq)
        return hy_fail(HY_ERANGE, "hy_forward_batch: n_seq = %d, expected 1..%d", n_seq, c->n_seq);
    for (int s = 0; s < n_seq; s++) {
        if (seqs[s] < 0 || seqs[s] >= c->n_seq)
            return hy_fail(HY_ERANGE, "hy_forward_batch: seqs[%d] = %d, expected 0..%d", s, seqs[s],
                           c->n_seq - 1);
        for (int r = 0; r < s; r++)
            if (seqs[r] == seqs[s])
                return hy_fail(HY_EINVAL,
                               "hy_forward_batch: sequence %d appears at %d and %d; "
                               "each sequence decodes one token per step",
                               seqs[s], r, s);
        if (c->seq_len[seqs[s]] >= c->n_ctx)
            return hy_fail(HY_ERANGE, "hy_forward_batch: sequence %d is full (n_ctx = %lld)",
                           seqs[s], (long long)c->n_ctx);
    }
    hy_status st = check_tokens(c, tokens, n_seq, "hy_forward_batch");
    if (st != HY_OK) return st;
#ifdef HY_HAVE_CUDA
    if (c->gpu) return hy_gpu_forward_batch(c, seqs, tokens, n_seq, logits);
#endif
    embed(c, tokens, n_seq);
    for (int s = 0; s < n_seq; s++) {
        const int64_t p = c->seq_len[seqs[s]];
        c->pos[s] = (int32_t)p;
        c->runs[s] = (hy_run){seqs[s], s, 1, p, 1};
    }
    for (int s = 0; s < n_seq; s++)
        c->rows[s] = s;
    st = forward_batch(c, n_seq, c->runs, n_seq, c->rows, n_seq, logits);
    if (st != HY_OK) return st;
    for (int s = 0; s < n_seq; s++) {
        c->seq_len[seqs[s]]++;
        hy_seq_plan_step_done(c->plans[seqs[s]]);
    }
    return HY_OK;
}
