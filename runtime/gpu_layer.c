/* CUDA backend, the layer math: the same pass as forward.c with bf16 weights (fp32
 * accumulation and residual): RMSNorm -> QKV projection (+ Qwen's bias or the per-head Q/K
 * norms) -> RoPE with K/V stored into the bf16 cache -> attention (the caller's function:
 * prefill kernel or the decode step's plan modes) -> output projection added to the residual
 * -> RMSNorm -> gate/up as one launch -> SwiGLU (GELU gating for Gemma 3) -> down projection
 * added to the residual. Gemma 3's post-norms normalise each block's output before the add
 * (through g->t), and its embeddings are scaled by sqrt(d_model). Projections are the decode
 * GEMV (kernels/gemv.h) for up to 8 rows, cuBLAS tensor-core GEMMs on bf16 activations
 * beyond. No call here synchronises, so a decode step can be captured as one graph. */
#include "arch.h"
#include "bf16_ops.h"
#include "cuda_ops.h"
#include "gemv.h"
#include "gpu_internal.h"
#include "qkv_store.h"

#include <math.h>

/* y[n][out] (fp32, row stride out) = beta y + x[n][in] (bf16) . w[out][in]^T (bf16) */
static hy_status gemm(hy_gpu_ctx *g, float *y, const uint16_t *x, const uint16_t *w, int64_t n,
                      int64_t in, int64_t out, float beta) {
    const float one = 1.0f;
    HY_CUBLAS_CHECK(cublasGemmEx(g->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)out, (int)n, (int)in, &one,
                                 w, CUDA_R_16BF, (int)in, x, CUDA_R_16BF, (int)in, &beta, y,
                                 CUDA_R_32F, (int)out, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return HY_OK;
}

/* The same from fp32 rows x[n][ldx] through the decode GEMV (n <= HY_GEMV_MAX_ROWS), with
 * the RMSNorm (norm_w) or SwiGLU (up) prologue when given; split > 0 writes outputs
 * o >= split to a second block n * split floats later (gate | up). */
static hy_status gemv(hy_gpu_ctx *g, float *y, const float *x, int64_t ldx, const uint16_t *w,
                      int64_t n, int64_t in, int64_t out, float beta, int64_t split,
                      const float *norm_w, float eps, const float *up, int gelu) {
    const hy_gemv_shape s = {.rows = n,
                             .in = in,
                             .out = out,
                             .ldx = ldx,
                             .ldy = split ? split : out,
                             .split = split ? split : out,
                             .split_stride = split ? n * split : 0,
                             .beta = beta,
                             .norm_w = norm_w,
                             .eps = eps,
                             .up = up,
                             .gelu = gelu};
    return hy_cuda_gemv_bf16(y, x, w, &s, g->stream);
}

hy_status hy_gpu_embed(hy_ctx *c, const int32_t *dev_tokens, int64_t n) {
    hy_gpu_ctx *g = c->gpu;
    const int64_t d = c->m->info.d_model;
    const float scale = c->m->arch && c->m->arch->embd_scale ? sqrtf((float)d) : 1.0f;
    return hy_cuda_embedding_bf16(g->x, c->m->gpu->tok_embd, d, dev_tokens, n, scale, g->stream);
}

/* x += the block output in y (beta 1), or x += rmsnorm(y, post) through g->t (Gemma 3) */
static float *block_out(hy_gpu_ctx *g, const float *post) {
    return post ? g->t : g->x;
}
static hy_status post_add(hy_gpu_ctx *g, const float *post, int64_t n, int64_t d, float eps) {
    return post ? hy_cuda_rmsnorm_add_f32(g->x, g->t, post, n, d, eps, g->stream) : HY_OK;
}

/* Decode steps of up to HY_GEMV_MAX_ROWS rows keep activations in fp32 and run the GEMV,
 * which reads the weights at the copy rate and needs no conversion passes; larger batches
 * and prefill convert activations to bf16 for cuBLAS's tensor-core GEMMs. */
static hy_status layer(hy_ctx *c, int l, int64_t n, hy_gpu_attn_fn attn, void *arg) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    const hy_gpu_layer *w = &c->m->gpu->layers[l];
    const int64_t d = mi->d_model, hd = mi->head_dim, ff = mi->d_ff;
    const int64_t qkv_w = (int64_t)(mi->n_heads + 2 * mi->n_kv_heads) * hd;
    const int64_t att_w = (int64_t)mi->n_heads * hd;
    const int small = n <= g->gemv_rows;
    const int gelu = c->m->arch && c->m->arch->gelu;
    const float eps = mi->rms_eps;
    void *st = g->stream;

    if (small) {
        HY_TRY(gemv(g, g->qkv, g->x, d, w->wqkv, n, d, qkv_w, 0.0f, 0, w->attn_norm, eps, NULL, 0));
    } else {
        HY_TRY(hy_cuda_rmsnorm_bf16(g->h16, g->x, w->attn_norm, n, d, mi->rms_eps, st));
        HY_TRY(gemm(g, g->qkv, g->h16, w->wqkv, n, d, qkv_w, 0.0f));
    }
    if (w->bqkv || w->q_norm) {
        const hy_qkv_extras e = hy_layer_qkv_extras(mi, w->bqkv, w->q_norm, w->k_norm);
        HY_TRY(hy_cuda_qkv_extras_f32(g->qkv, qkv_w, n, &e, st));
    }
    const hy_qkv_shape qs = {.n_heads = mi->n_heads,
                             .n_kv_heads = mi->n_kv_heads,
                             .head_dim = mi->head_dim,
                             .kv_cap = c->n_ctx,
                             .seq_stride = g->seq_stride,
                             .theta = hy_model_layer_rope_theta(mi, l),
                             .layout = (hy_rope_layout)mi->rope_layout};
    HY_TRY(hy_cuda_qkv_rope_store(g->q, g->k + l * g->layer_stride, g->v + l * g->layer_stride,
                                  g->qkv, qkv_w, n, g->seqs, g->pos, &qs, st));
    HY_TRY(attn(c, l, arg));
    const float *pa = w->post_attn_norm, *pf = w->post_ffn_norm;
    if (small) { /* 4 GEMV launches: the norms and SwiGLU ride in their prologues */
        HY_TRY(gemv(g, block_out(g, pa), g->att, att_w, w->wo, n, att_w, d, pa ? 0.0f : 1.0f, 0,
                    NULL, 0.0f, NULL, 0));
        HY_TRY(post_add(g, pa, n, d, eps));
        HY_TRY(gemv(g, g->gu, g->x, d, w->wgu, n, d, 2 * ff, 0.0f, ff, w->ffn_norm, eps, NULL, 0));
        HY_TRY(gemv(g, block_out(g, pf), g->gu, ff, w->wdown, n, ff, d, pf ? 0.0f : 1.0f, 0, NULL,
                    0.0f, g->gu + n * ff, gelu));
        return post_add(g, pf, n, d, eps);
    }
    HY_TRY(hy_cuda_f32_to_bf16(g->a16, g->att, n * att_w, st));
    HY_TRY(gemm(g, block_out(g, pa), g->a16, w->wo, n, att_w, d, pa ? 0.0f : 1.0f));
    HY_TRY(post_add(g, pa, n, d, eps));

    HY_TRY(hy_cuda_rmsnorm_bf16(g->h16, g->x, w->ffn_norm, n, d, eps, st));
    /* gate and up: two matrices of one buffer into two contiguous [n][ff] blocks */
    const float one = 1.0f, zero = 0.0f;
    HY_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        g->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)ff, (int)n, (int)d, &one, w->wgu, CUDA_R_16BF,
        (int)d, (long long)(ff * d), g->h16, CUDA_R_16BF, (int)d, 0, &zero, g->gu, CUDA_R_32F,
        (int)ff, (long long)(n * ff), 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    if (gelu)
        HY_TRY(hy_cuda_geglu_bf16(g->a16, g->gu, g->gu + n * ff, n * ff, st));
    else
        HY_TRY(hy_cuda_swiglu_bf16(g->a16, g->gu, g->gu + n * ff, n * ff, st));
    HY_TRY(gemm(g, block_out(g, pf), g->a16, w->wdown, n, ff, d, pf ? 0.0f : 1.0f));
    return post_add(g, pf, n, d, eps);
}

hy_status hy_gpu_layers(hy_ctx *c, int64_t n, hy_gpu_attn_fn attn, void *arg) {
    for (int l = 0; l < c->m->info.n_layers; l++)
        HY_TRY(layer(c, l, n, attn, arg));
    return HY_OK;
}

hy_status hy_gpu_logits(hy_ctx *c, int64_t row0, int64_t n) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    const int64_t d = mi->d_model;
    if (n <= g->gemv_rows)
        return gemv(g, g->logits, g->x + row0 * d, d, c->m->gpu->output, n, d, mi->n_vocab, 0.0f, 0,
                    c->m->gpu->output_norm, mi->rms_eps, NULL, 0);
    HY_TRY(hy_cuda_rmsnorm_bf16(g->h16, g->x + row0 * d, c->m->gpu->output_norm, n, d, mi->rms_eps,
                                g->stream));
    return gemm(g, g->logits, g->h16, c->m->gpu->output, n, d, mi->n_vocab, 0.0f);
}
