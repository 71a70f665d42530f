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
#include "hy_common.h"

#if defined(__CUDACC__)
#define HY_BF16_INLINE static inline __host__ __device__
#else
#define HY_BF16_INLINE static inline
#endif

/* Round to nearest even. NaN becomes the quiet NaN 0x7fc0 with x's sign (truncating a
 * signalling NaN whose payload sits in the low half would give infinity); overflow past the
 * largest bf16 rounds to infinity as IEEE rounding does. */
HY_BF16_INLINE uint16_t hy_bf16_from_f32(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)(((u >> 16) & 0x8000u) | 0x7fc0u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

HY_BF16_INLINE float hy_bf16_to_f32(uint16_t b) {
    const uint32_t u = (uint32_t)b << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* out[i] = bf16(x[i]), i < n. Inline here rather than in bf16_ops.c because formats/gguf
 * exports a scalar uint16_t hy_f32_to_bf16(float) (hy_gguf.h): two external symbols of one
 * name would clash at link time, or worse bind a call to the other signature. As an inline the
 * two can only meet in a file that includes both headers, where the compiler refuses. */
static inline hy_status hy_f32_to_bf16(uint16_t *out, const float *x, int64_t n) {
    if (!out || !x || n < 0)
        return hy_fail(HY_EINVAL, "f32_to_bf16: out %p, x %p, n %lld: expected buffers and n >= 0",
                       (void *)out, (const void *)x, (long long)n);
    for (int64_t i = 0; i < n; i++)
        out[i] = hy_bf16_from_f32(x[i]);
    return HY_OK;
}

/* y[r][i] = bf16(hy_rmsnorm_f32(x, w)[r][i]) (rmsnorm.h), rows x n, eps as there. */
hy_status hy_rmsnorm_bf16(uint16_t *y, const float *x, const float *w, int64_t rows, int64_t n,
                          float eps);

/* out[i] = bf16(silu(gate[i]) * up[i]), the float product as hy_swiglu_f32 computes it. */
hy_status hy_swiglu_bf16(uint16_t *out, const float *gate, const float *up, int64_t n);

/* CUDA versions: device buffers, stream is a cudaStream_t (NULL = the default stream). The
 * RMSNorm sums squares in double, so its results differ from the CPU's (also double) only by
 * summation order: at most one bf16 ulp, on rare elements. SwiGLU's expf is CUDA's, within 2
 * float ulps of the C library's: again at most one bf16 ulp on rare elements. */
hy_status hy_cuda_f32_to_bf16(uint16_t *out, const float *x, int64_t n, void *stream);
hy_status hy_cuda_rmsnorm_bf16(uint16_t *y, const float *x, const float *w, int64_t rows, int64_t n,
                               float eps, void *stream);
hy_status hy_cuda_swiglu_bf16(uint16_t *out, const float *gate, const float *up, int64_t n,
                              void *stream);

#ifdef __cplusplus
}
#endif
#endif
