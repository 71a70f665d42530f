/* Decode GEMV, CPU reference (gemv.h): plain loops in the order of the math, double sums. */
#include "gemv.h"

#include <string.h>

static hy_status check(const float *y, const float *x, const uint16_t *w, const hy_gemv_shape *s,
                       const char *who) {
    if (!y || !x || !w || !s) return hy_fail(HY_EINVAL, "%s: NULL argument", who);
    if (s->rows < 1 || s->rows > HY_GEMV_MAX_ROWS || s->in < 1 || s->out < 1 || s->ldx < s->in ||
        s->split < 1 || s->out % s->split || s->ldy < s->split ||
        (s->split < s->out && s->split_stride < (s->rows - 1) * s->ldy + s->split))
        return hy_fail(HY_EINVAL,
                       "%s: rows %lld (1..%d), in %lld, out %lld, ldx %lld (>= in), split %lld "
                       "(divides out), ldy %lld (>= split), split_stride %lld",
                       who, (long long)s->rows, HY_GEMV_MAX_ROWS, (long long)s->in,
                       (long long)s->out, (long long)s->ldx, (long long)s->split,
                       (long long)s->ldy, (long long)s->split_stride);
    return HY_OK;
}

static float bf16f(uint16_t b) {
    const uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

hy_status hy_gemv_bf16(float *y, const float *x, const uint16_t *w, const hy_gemv_shape *s) {
    hy_status st = check(y, x, w, s, "gemv_bf16");
    if (st) return st;
    for (int64_t o = 0; o < s->out; o++)
        for (int64_t b = 0; b < s->rows; b++) {
            double acc = 0.0;
            for (int64_t k = 0; k < s->in; k++)
                acc += (double)x[b * s->ldx + k] * bf16f(w[o * s->in + k]);
            float *dst = y + (o / s->split) * s->split_stride + b * s->ldy + o % s->split;
            *dst = (float)(s->beta != 0.0f ? (double)s->beta * *dst + acc : acc);
        }
    return HY_OK;
}
