/* CUDA versions of the small ops whose contracts live in rmsnorm.h, rope.h, swiglu.h,
 * embedding.h, argmax.h and attention_prefill.h: same arguments on device buffers (fp32),
 * plus a stream (a cudaStream_t). Each checks its launch and returns HY_EDEVICE on failure. */
#ifndef HY_KERNELS_CUDA_OPS_H
#define HY_KERNELS_CUDA_OPS_H
#include <stdint.h>

#include "rope.h"
#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

/* x += rmsnorm(t, w) (rmsnorm.h's hy_rmsnorm_add_f32; t and x distinct) */
hy_status hy_cuda_rmsnorm_add_f32(float *x, const float *t, const float *w, int64_t rows, int64_t n,
                                  float eps, void *stream);
hy_status hy_cuda_rmsnorm_f32(float *y, const float *x, const float *w, int64_t rows, int64_t n,
                              float eps, void *stream);
hy_status hy_cuda_rope_f32(float *x, int64_t n_tok, int n_heads, int head_dim, int64_t tok_stride,
                           const int32_t *pos, float theta, hy_rope_layout layout, void *stream);
hy_status hy_cuda_swiglu_f32(float *out, const float *gate, const float *up, int64_t n,
                             void *stream);
hy_status hy_cuda_embedding_f32(float *out, const float *table, int64_t d, const int32_t *ids,
                                int64_t n_tok, void *stream);
/* bf16 table, times scale (embedding.h's hy_embedding_bf16 contract) */
hy_status hy_cuda_embedding_bf16(float *out, const uint16_t *table, int64_t d, const int32_t *ids,
                                 int64_t n_tok, float scale, void *stream);
hy_status hy_cuda_argmax_rows_f32(int32_t *out, const float *x, int64_t rows, int64_t n,
                                  void *stream);
/* Causal prefill, flash-style tiles; k, v of dtype kv_dtype (0 f32, 1 f16, 2 bf16, as
 * hy_kv_dtype); d a multiple of 32 up to 256. window > 0: a sliding-window layer, query i
 * attends keys (pos0 + i - window, pos0 + i] only (the CPU runtime calls the reference once
 * per such query, with k and v moved to its first key); 0: all earlier keys. */
hy_status hy_cuda_attn_prefill(float *out, int64_t out_stride, const float *q, int64_t q_stride,
                               const void *k, const void *v, int kv_dtype, int64_t n_q,
                               int64_t pos0, int n_heads, int n_kv_heads, int d, int64_t kv_cap,
                               float scale, int64_t window, void *stream);

#ifdef __cplusplus
}
#endif
#endif
