/* SwiGLU, CPU reference and the CPU runtime's implementation (contract in swiglu.h).
 * Element-wise and in order, so out may alias gate or up. */
#include "swiglu.h"

#include <math.h>

void hy_swiglu_f32(float *out, const float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}
