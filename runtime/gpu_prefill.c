/* CUDA backend, hy_forward / hy_forward_rows: a one-token forward is a decode step (the
 * sequence's plan applies, as on the CPU); longer ones are prefill in micro-batches of up to
 * n_batch tokens through the causal prefill kernel, always dense. Not captured: prefill runs
 * once per prompt, and its launches are few and large. */
#include "arch.h"
#include "bf16_ops.h"
#include "cuda_ops.h"
#include "gpu_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int seq;
    int64_t n, pos0;
} prefill_arg;

static hy_status prefill_attn(hy_ctx *c, int l, void *arg) {
    const prefill_arg *a = arg;
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    const int64_t hq = (int64_t)mi->n_heads * mi->head_dim;
    const int64_t off = a->seq * g->seq_stride + l * g->layer_stride;
    return hy_cuda_attn_prefill(g->att, hq, g->q, hq, g->k + off, g->v + off, HY_KV_BF16, a->n,
                                a->pos0, mi->n_heads, mi->n_kv_heads, mi->head_dim, c->n_ctx,
                                mi->attn_scale, hy_model_layer_window(mi, l), g->stream);
}

/* Logits of the chunk's rows listed in rows[0..k) (chunk-relative, ascending) -> out. */
static hy_status chunk_logits(hy_ctx *c, const int64_t *rows, int64_t k, float *out) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    const int64_t d = mi->d_model, V = mi->n_vocab;
    for (int64_t i0 = 0; i0 < k;) {
        /* a run of consecutive rows is one norm + one GEMM */
        int64_t i1 = i0 + 1;
        while (i1 < k && rows[i1] == rows[i1 - 1] + 1)
            i1++;
        HY_TRY(hy_gpu_logits(c, rows[i0], i1 - i0));
        HY_CUDA_CHECK(cudaMemcpyAsync(out + i0 * V, g->logits, (size_t)((i1 - i0) * V) * 4,
                                      cudaMemcpyDeviceToHost, g->stream));
        HY_CUDA_CHECK(cudaStreamSynchronize(g->stream));
        i0 = i1;
    }
    (void)d;
    return HY_OK;
}

hy_status hy_gpu_append(hy_ctx *c, int seq, const int32_t *tokens, int64_t n_tok,
                        const int64_t *rows, int64_t n_rows, float *logits) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    if (n_tok == 1) {
        float *row = hy_malloc((size_t)mi->n_vocab * 4, "logits row");
        if (!row) return HY_ENOMEM;
        hy_status st = hy_gpu_forward_batch(c, &seq, tokens, 1, row);
        if (!st && n_rows == 1) memcpy(logits, row, (size_t)mi->n_vocab * 4);
        free(row);
        return st;
    }
    int32_t *hp = hy_malloc((size_t)g->n_batch * 2 * 4, "positions");
    int64_t *rel = hy_malloc((size_t)g->n_batch * sizeof *rel, "logit rows");
    hy_status st = hp && rel ? HY_OK : HY_ENOMEM;
    int64_t next = 0;
    for (int64_t t0 = 0; !st && t0 < n_tok; t0 += g->n_batch) {
        const int64_t n = n_tok - t0 < g->n_batch ? n_tok - t0 : g->n_batch;
        const int64_t p0 = c->seq_len[seq];
        for (int64_t i = 0; i < n; i++)
            hp[i] = (int32_t)(p0 + i), hp[g->n_batch + i] = seq;
        cudaError_t e = cudaStreamSynchronize(g->stream);
        if (e == cudaSuccess)
            e = cudaMemcpy(g->tokens, tokens + t0, (size_t)n * 4, cudaMemcpyHostToDevice);
        if (e == cudaSuccess) e = cudaMemcpy(g->pos, hp, (size_t)n * 4, cudaMemcpyHostToDevice);
        if (e == cudaSuccess)
            e = cudaMemcpy(g->seqs, hp + g->n_batch, (size_t)n * 4, cudaMemcpyHostToDevice);
        if (e != cudaSuccess) {
            st = hy_fail(HY_EDEVICE, "CUDA prefill: copying inputs: %s", cudaGetErrorString(e));
            break;
        }
        prefill_arg a = {seq, n, p0};
        st = hy_gpu_embed(c, g->tokens, n);
        if (!st) st = hy_gpu_layers(c, n, prefill_attn, &a);
        int64_t k = 0;
        while (!st && next + k < n_rows && rows[next + k] < t0 + n) {
            rel[k] = rows[next + k] - t0;
            k++;
        }
        if (!st && k) st = chunk_logits(c, rel, k, logits + next * (int64_t)mi->n_vocab);
        next += k;
        if (!st) {
            const int32_t len = (int32_t)(p0 + n);
            e = cudaMemcpyAsync(g->lens + seq, &len, 4, cudaMemcpyHostToDevice, g->stream);
            if (e == cudaSuccess) e = cudaStreamSynchronize(g->stream);
            if (e != cudaSuccess)
                st = hy_fail(HY_EDEVICE, "CUDA prefill: %s", cudaGetErrorString(e));
            c->seq_len[seq] = p0 + n;
        }
    }
    free(hp);
    free(rel);
    return st;
}
