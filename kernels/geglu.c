/* GELU(tanh)-gated unit, CPU reference and the CPU runtime's implementation (contract in
 * geglu.h). Element-wise and in order, so out may alias gate or up. */
#include "geglu.h"

#include <math.h>

void hy_geglu_f32(float *out, const float *gate, const float *up, int64_t n) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = 0.5f * g * (1.0f + tanhf(k * (g + 0.044715f * g * g * g))) * up[i];
    }
}
