/* Rotary position embedding, CPU reference and the CPU runtime's implementation (contract in
 * rope.h). Angles are computed in double from pos * theta^(-2p/d): at positions of tens of
 * thousands a float angle would be off by ~1e-3 rad. cos/sin are computed once per token and
 * pair, then applied to every head. */
#include "rope.h"

#include <math.h>
#include <stdlib.h>

#define ROPE_MAX_PAIRS 512

void hy_rope_f32(float *x, int64_t n_tok, int n_heads, int head_dim, int64_t tok_stride,
                 const int32_t *pos, float theta, hy_rope_layout layout) {
    const int half = head_dim / 2;
    float cs[ROPE_MAX_PAIRS], sn[ROPE_MAX_PAIRS];
    double inv_freq[ROPE_MAX_PAIRS];
    if (half > ROPE_MAX_PAIRS) return; /* head_dim > 1024: refused by the runtime at load */
    for (int p = 0; p < half; p++)
        inv_freq[p] = pow((double)theta, -2.0 * (double)p / (double)head_dim);
    for (int64_t t = 0; t < n_tok; t++) {
        for (int p = 0; p < half; p++) {
            const double a = (double)pos[t] * inv_freq[p];
            cs[p] = (float)cos(a);
            sn[p] = (float)sin(a);
        }
        float *row = x + t * tok_stride;
        for (int h = 0; h < n_heads; h++) {
            float *v = row + (int64_t)h * head_dim;
            const int step = layout == HY_ROPE_NORM ? 2 : 1;
            const int off = layout == HY_ROPE_NORM ? 1 : half;
            for (int p = 0; p < half; p++) {
                float *a = v + (int64_t)p * step, *b = a + off;
                const float x0 = *a, x1 = *b;
                *a = x0 * cs[p] - x1 * sn[p];
                *b = x0 * sn[p] + x1 * cs[p];
            }
        }
    }
}
