/* Decode GEMV, CPU reference (gemv.h): plain loops in the order of the math, double sums. */
#include "gemv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static hy_status check(const float *y, const float *x, const uint16_t *w, const hy_gemv_shape *s,
                       const char *who) {
    if (!y || !x || !w || !s) return hy_fail(HY_EINVAL, "%s: NULL argument", who);
    if (s->rows < 1 || s->rows > HY_GEMV_MAX_ROWS || s->in < 1 || s->out < 1 || s->ldx < s->in ||
        s->split < 1 || s->out % s->split || s->ldy < s->split ||
        (s->split < s->out && s->split_stride < (s->rows - 1) * s->ldy + s->split) ||
        (s->norm_w && s->up))
        return hy_fail(HY_EINVAL,
                       "%s: rows %lld (1..%d), in %lld, out %lld, ldx %lld (>= in), split %lld "
                       "(divides out), ldy %lld (>= split), split_stride %lld, at most one "
                       "prologue",
                       who, (long long)s->rows, HY_GEMV_MAX_ROWS, (long long)s->in,
                       (long long)s->out, (long long)s->ldx, (long long)s->split, (long long)s->ldy,
                       (long long)s->split_stride);
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
    /* the prologue's rows first, then the products */
    double *xe = malloc((size_t)(s->rows * s->in) * sizeof *xe);
    if (!xe) return hy_fail(HY_ENOMEM, "gemv_bf16: %lld doubles", (long long)(s->rows * s->in));
    for (int64_t b = 0; b < s->rows; b++) {
        const float *xr = x + b * s->ldx;
        double scale = 1.0;
        if (s->norm_w) {
            double ss = 0.0;
            for (int64_t k = 0; k < s->in; k++)
                ss += (double)xr[k] * xr[k];
            scale = 1.0 / sqrt(ss / (double)s->in + (double)s->eps);
        }
        for (int64_t k = 0; k < s->in; k++) {
            double v = xr[k];
            if (s->norm_w) v = v * s->norm_w[k] * scale;
            if (s->up && s->gelu) /* geglu.h's tanh form */
                v = 0.5 * v * (1.0 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))) *
                    s->up[b * s->ldx + k];
            else if (s->up)
                v = v / (1.0 + exp(-v)) * s->up[b * s->ldx + k];
            xe[b * s->in + k] = v;
        }
    }
    for (int64_t o = 0; o < s->out; o++)
        for (int64_t b = 0; b < s->rows; b++) {
            double acc = 0.0;
            for (int64_t k = 0; k < s->in; k++)
                acc += xe[b * s->in + k] * bf16f(w[o * s->in + k]);
            float *dst = y + (o / s->split) * s->split_stride + b * s->ldy + o % s->split;
            *dst = (float)(s->beta != 0.0f ? (double)s->beta * *dst + acc : acc);
        }
    free(xe);
    return HY_OK;
}
