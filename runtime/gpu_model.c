/* CUDA backend, weights: the bf16 device copy of a loaded model (converted from the CPU
 * runtime's fp32 tensors, so loading and validation are written once) and synthetic models
 * whose weights are drawn on the device from a seed, for shapes no package ships. */
#include "bf16_ops.h"
#include "fill.h"
#include "gpu_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hy_gpu_model_free(hy_gpu_model *g) {
    if (!g) return;
    if (g->layers) {
        for (int l = 0; g->layers && l < g->n_layers; l++) {
            hy_gpu_layer *w = &g->layers[l];
            cudaFree(w->wqkv), cudaFree(w->wo), cudaFree(w->wgu), cudaFree(w->wdown);
            cudaFree(w->attn_norm), cudaFree(w->ffn_norm);
            cudaFree(w->bqkv), cudaFree(w->q_norm), cudaFree(w->k_norm);
            cudaFree(w->post_attn_norm), cudaFree(w->post_ffn_norm);
        }
        free(g->layers);
    }
    if (g->output != g->tok_embd) cudaFree(g->output);
    cudaFree(g->tok_embd);
    cudaFree(g->output_norm);
    free(g);
}

static hy_status dev_alloc(void **p, size_t bytes, double *total, const char *what) {
    cudaError_t e = cudaMalloc(p, bytes);
    if (e != cudaSuccess) {
        *p = NULL;
        cudaGetLastError(); /* an allocation failure is not sticky; clear it */
        return hy_fail(e == cudaErrorMemoryAllocation ? HY_ENOMEM : HY_EDEVICE,
                       "CUDA model: allocating %s (%.1f MiB, %.2f GiB so far): %s", what,
                       (double)bytes / 1048576.0, *total / 1073741824.0, cudaGetErrorString(e));
    }
    *total += (double)bytes;
    return HY_OK;
}

/* fp32 host tensor -> bf16 device tensor through a host staging buffer */
static hy_status upload_bf16(uint16_t **dst, const float *src, int64_t n, uint16_t *stage,
                             int64_t stage_n, double *total, const char *what) {
    HY_TRY(dev_alloc((void **)dst, (size_t)n * 2, total, what));
    for (int64_t i0 = 0; i0 < n; i0 += stage_n) {
        const int64_t m = n - i0 < stage_n ? n - i0 : stage_n;
        HY_TRY(hy_f32_to_bf16(stage, src + i0, m));
        HY_CUDA_CHECK(cudaMemcpy(*dst + i0, stage, (size_t)m * 2, cudaMemcpyHostToDevice));
    }
    return HY_OK;
}

static hy_status upload_f32(float **dst, const float *src, int64_t n, double *total,
                            const char *what) {
    HY_TRY(dev_alloc((void **)dst, (size_t)n * 4, total, what));
    HY_CUDA_CHECK(cudaMemcpy(*dst, src, (size_t)n * 4, cudaMemcpyHostToDevice));
    return HY_OK;
}

static hy_status upload_all(const hy_model *m, hy_gpu_model *g) {
    const hy_model_info *mi = &m->info;
    const int64_t d = mi->d_model, hd = mi->head_dim, ff = mi->d_ff;
    const int64_t qkv = (int64_t)(mi->n_heads + 2 * mi->n_kv_heads) * hd,
                  att = (int64_t)mi->n_heads * hd;
    const int64_t stage_n = 1 << 22;
    uint16_t *stage = hy_malloc((size_t)stage_n * 2, "bf16 staging buffer");
    if (!stage) return HY_ENOMEM;
    hy_status st = upload_bf16(&g->tok_embd, m->tok_embd, (int64_t)mi->n_vocab * d, stage, stage_n,
                               &g->bytes, "token_embd");
    if (!st) st = upload_f32(&g->output_norm, m->output_norm, d, &g->bytes, "output_norm");
    if (!st && !mi->tied_output)
        st = upload_bf16(&g->output, m->output, (int64_t)mi->n_vocab * d, stage, stage_n, &g->bytes,
                         "output");
    if (!st && mi->tied_output) g->output = g->tok_embd;
    for (int l = 0; !st && l < mi->n_layers; l++) {
        const hy_layer_weights *w = &m->layers[l];
        hy_gpu_layer *o = &g->layers[l];
        st = upload_bf16(&o->wqkv, w->wqkv, qkv * d, stage, stage_n, &g->bytes, "attn_qkv");
        if (!st) st = upload_bf16(&o->wo, w->wo, d * att, stage, stage_n, &g->bytes, "attn_output");
        if (!st)
            st = upload_bf16(&o->wgu, w->wgu, 2 * ff * d, stage, stage_n, &g->bytes, "ffn_gate_up");
        if (!st)
            st = upload_bf16(&o->wdown, w->wdown, d * ff, stage, stage_n, &g->bytes, "ffn_down");
        if (!st) st = upload_f32(&o->attn_norm, w->attn_norm, d, &g->bytes, "attn_norm");
        if (!st) st = upload_f32(&o->ffn_norm, w->ffn_norm, d, &g->bytes, "ffn_norm");
        if (!st && w->bqkv) st = upload_f32(&o->bqkv, w->bqkv, qkv, &g->bytes, "attn_qkv.bias");
        if (!st && w->q_norm) st = upload_f32(&o->q_norm, w->q_norm, hd, &g->bytes, "attn_q_norm");
        if (!st && w->k_norm) st = upload_f32(&o->k_norm, w->k_norm, hd, &g->bytes, "attn_k_norm");
        if (!st && w->post_attn_norm)
            st = upload_f32(&o->post_attn_norm, w->post_attn_norm, d, &g->bytes,
                            "post_attention_norm");
        if (!st && w->post_ffn_norm)
            st = upload_f32(&o->post_ffn_norm, w->post_ffn_norm, d, &g->bytes, "post_ffw_norm");
    }
    free(stage);
    return st;
}

/* Weights of a synthetic model: uniform in +-1/sqrt(fan-in) (activations stay O(1) through
 * the layers), norms 1; each tensor its own slice of the seed's stream. */
static hy_status draw(uint16_t **dst, int64_t rows, int64_t cols, uint64_t seed, uint64_t *off,
                      double *total, const char *what) {
    const int64_t n = rows * cols;
    HY_TRY(dev_alloc((void **)dst, (size_t)n * 2, total, what));
    HY_TRY(hy_cuda_fill_uniform_bf16(*dst, n, seed, *off, 1.0f / sqrtf((float)cols), NULL));
    *off += (uint64_t)n;
    return HY_OK;
}

static hy_status ones(float **dst, int64_t n, double *total, const char *what) {
    HY_TRY(dev_alloc((void **)dst, (size_t)n * 4, total, what));
    return hy_cuda_fill_f32(*dst, n, 1.0f, NULL);
}

static hy_status draw_all(const hy_model_info *mi, uint64_t seed, hy_gpu_model *g) {
    const int64_t d = mi->d_model, hd = mi->head_dim, ff = mi->d_ff;
    const int64_t qkv = (int64_t)(mi->n_heads + 2 * mi->n_kv_heads) * hd,
                  att = (int64_t)mi->n_heads * hd;
    uint64_t off = 0;
    double *t = &g->bytes;
    HY_TRY(draw(&g->tok_embd, mi->n_vocab, d, seed, &off, t, "token_embd"));
    HY_TRY(ones(&g->output_norm, d, t, "output_norm"));
    if (mi->tied_output)
        g->output = g->tok_embd;
    else
        HY_TRY(draw(&g->output, mi->n_vocab, d, seed, &off, t, "output"));
    for (int l = 0; l < mi->n_layers; l++) {
        hy_gpu_layer *o = &g->layers[l];
        HY_TRY(draw(&o->wqkv, qkv, d, seed, &off, t, "attn_qkv"));
        HY_TRY(draw(&o->wo, d, att, seed, &off, t, "attn_output"));
        HY_TRY(draw(&o->wgu, 2 * ff, d, seed, &off, t, "ffn_gate_up"));
        HY_TRY(draw(&o->wdown, d, ff, seed, &off, t, "ffn_down"));
        HY_TRY(ones(&o->attn_norm, d, t, "attn_norm"));
        HY_TRY(ones(&o->ffn_norm, d, t, "ffn_norm"));
    }
    HY_CUDA_CHECK(cudaDeviceSynchronize());
    return HY_OK;
}

static hy_status gpu_model_alloc(const hy_model_info *mi, hy_gpu_model **out) {
    hy_gpu_model *g = hy_calloc(1, sizeof *g, "CUDA model");
    if (!g) return HY_ENOMEM;
    g->n_layers = mi->n_layers;
    g->layers = hy_calloc((size_t)mi->n_layers, sizeof *g->layers, "CUDA layer table");
    if (!g->layers) {
        free(g);
        return HY_ENOMEM;
    }
    *out = g;
    return HY_OK;
}

hy_status hy_gpu_model_upload(hy_model *m) {
    if (m->gpu) return HY_OK;
    hy_gpu_model *g = NULL;
    HY_TRY(gpu_model_alloc(&m->info, &g));
    hy_status st = upload_all(m, g);
    if (st) {
        hy_gpu_model_free(g);
        return hy_fail_ctx(st, "copying %s to the GPU",
                           m->info.name[0] ? m->info.name : "the model");
    }
    m->gpu = g;
    return HY_OK;
}

hy_status hy_gpu_model_synthetic(hy_model *m, uint64_t seed) {
    hy_gpu_model *g = NULL;
    hy_status st = gpu_model_alloc(&m->info, &g);
    if (!st) {
        st = draw_all(&m->info, seed, g);
        if (st) hy_fail_ctx(st, "drawing the weights of %s", m->info.name);
    }
    if (st) {
        hy_gpu_model_free(g);
        return st;
    }
    m->gpu = g;
    return HY_OK;
}
