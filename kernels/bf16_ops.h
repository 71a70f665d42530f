/* bf16 (stored as uint16_t: the top half of an IEEE float) for the CUDA runtime: the scalar
 * conversions host code uses when it converts weights at load, and the ops whose output feeds
 * a bf16 GEMM (activations, RMSNorm, SwiGLU), so no separate conversion pass is needed.
 * CPU references in bf16_ops.c, CUDA in bf16_ops.cu. Rounding is to nearest, ties to even;
 * the CUDA kernels call the same inline conversion, so they round bit for bit the same. */
#ifndef HY_KERNELS_BF16_OPS_H
#define HY_KERNELS_BF16_OPS_H
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_bf16.h"
#include "hy_common.h"

/* out[i] = bf16(x[i]), i < n (hy_bf16_from_f32, common/hy_bf16.h). */
hy_status hy_f32_to_bf16(uint16_t *out, const float *x, int64_t n);

/* y[r][i] = bf16(hy_rmsnorm_f32(x, w)[r][i]) (rmsnorm.h), rows x n, eps as there. */
hy_status hy_rmsnorm_bf16(uint16_t *y, const float *x, const float *w, int64_t rows, int64_t n,
                          float eps);

/* out[i] = bf16(silu(gate[i]) * up[i]), the float product as hy_swiglu_f32 computes it. */
hy_status hy_swiglu_bf16(uint16_t *out, const float *gate, const float *up, int64_t n);
/* out[i] = bf16(gelu_tanh(gate[i]) * up[i]), the float value as hy_geglu_f32 computes it. */
hy_status hy_geglu_bf16(uint16_t *out, const float *gate, const float *up, int64_t n);

/* CUDA versions: device buffers, stream is a cudaStream_t (NULL = the default stream). The
 * RMSNorm sums squares in double, so its results differ from the CPU's (also double) only by
 * summation order: at most one bf16 ulp, on rare elements. SwiGLU's expf is CUDA's, within 2
 * float ulps of the C library's: again at most one bf16 ulp on rare elements. */
hy_status hy_cuda_f32_to_bf16(uint16_t *out, const float *x, int64_t n, void *stream);
hy_status hy_cuda_rmsnorm_bf16(uint16_t *y, const float *x, const float *w, int64_t rows, int64_t n,
                               float eps, void *stream);
hy_status hy_cuda_swiglu_bf16(uint16_t *out, const float *gate, const float *up, int64_t n,
                              void *stream);
/* GELU's tanhf is CUDA's (within 2 float ulps of the C library's): at most one bf16 ulp on
 * rare elements, as SwiGLU. */
hy_status hy_cuda_geglu_bf16(uint16_t *out, const float *gate, const float *up, int64_t n,
                             void *stream);

#ifdef __cplusplus
}
#endif
#endif
