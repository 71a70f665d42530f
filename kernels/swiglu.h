/* SwiGLU contract (CPU reference in swiglu.c, CUDA in swiglu.cu):
 * out[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + exp(-x)); out may alias gate or up. */
#ifndef HY_KERNELS_SWIGLU_H
#define HY_KERNELS_SWIGLU_H
#include <stdint.h>
void hy_swiglu_f32(float *out, const float *gate, const float *up, int64_t n);
#endif
