/* GELU-gated linear unit contract (CPU reference in geglu.c; no CUDA half yet):
 * out[i] = gelu(gate[i]) * up[i] with GELU's tanh form,
 * gelu(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as Gemma's FFN computes it;
 * out may alias gate or up. */
#ifndef HY_KERNELS_GEGLU_H
#define HY_KERNELS_GEGLU_H
#include <stdint.h>
void hy_geglu_f32(float *out, const float *gate, const float *up, int64_t n);
#endif
