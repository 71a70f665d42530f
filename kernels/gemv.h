/* Decode GEMV: a few fp32 activation rows times bf16 weights, the projections of a decode
 * step (one row per sequence). y = beta * y + x . W^T with W row-major [out][in] as in GGUF.
 * Output row o of batch row b lands at
 *   y[(o / split) * split_stride + b * ldy + o % split]
 * so one launch can write the gate and up halves of a fused [gate; up] matrix into two
 * separate [rows][split] blocks (split = out, split_stride unused: the plain layout).
 * Two optional prologues replace the pass that would otherwise feed x (one launch less each,
 * and the activations stay fp32):
 *   norm_w  RMSNorm: x[b][k] -> x[b][k] * norm_w[k] / sqrt(mean_k x[b][k]^2 + eps) (rmsnorm.h);
 *   up      SwiGLU:  x[b][k] -> silu(x[b][k]) * up[b * ldx + k] (swiglu.h), x being the gate;
 *           with gelu, gelu_tanh(x[b][k]) * up[b * ldx + k] instead (geglu.h).
 * CPU reference in gemv.c (double accumulation); CUDA in gemv.cu (fp32 accumulation, 16-byte
 * weight loads, several rows per warp so each activation load serves them all). Bound: the
 * weight bytes, out * in * 2, read once. */
#ifndef HY_KERNELS_GEMV_H
#define HY_KERNELS_GEMV_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

#define HY_GEMV_MAX_ROWS 8 /* batch rows one launch takes */

typedef struct {
    int64_t rows, in, out; /* rows <= HY_GEMV_MAX_ROWS; in % 8 == 0 on the GPU */
    int64_t ldx;           /* floats between activation rows, >= in */
    int64_t ldy;           /* floats between output rows of one block, >= split */
    int64_t split;         /* outputs per block (out for the plain layout), divides out */
    int64_t split_stride;  /* floats between blocks */
    float beta;            /* 0: overwrite (y may hold NaN), else accumulate */
    const float *norm_w;   /* RMSNorm prologue weights [in], or NULL */
    float eps;             /* its epsilon */
    const float *up;       /* SwiGLU prologue: the up rows (x is the gate), or NULL */
    int gelu;              /* with up: GELU(tanh) gating instead of SiLU (geglu.h, Gemma 3) */
} hy_gemv_shape;

hy_status hy_gemv_bf16(float *y, const float *x, const uint16_t *w, const hy_gemv_shape *s);
/* Device buffers; x and w 16-byte aligned, ldx % 4 == 0. */
hy_status hy_cuda_gemv_bf16(float *y, const float *x, const uint16_t *w, const hy_gemv_shape *s,
                            void *stream);

#ifdef __cplusplus
}
#endif
#endif
