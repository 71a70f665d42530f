/* RMSNorm, CPU reference and the CPU runtime's implementation (contract in rmsnorm.h).
 * The sum of squares accumulates in double: rows are a few thousand wide and float
 * accumulation would put the reference itself ~1e-6 off. */
#include "rmsnorm.h"

#include <math.h>

/* 1 / sqrt(mean(x^2) + eps) of one row, the sum in double */
static float row_scale(const float *x, int64_t n, float eps) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++)
        ss += (double)x[i] * (double)x[i];
    return (float)(1.0 / sqrt(ss / (double)n + (double)eps));
}

void hy_rmsnorm_f32(float *y, const float *x, const float *w, int64_t rows, int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        const float inv = row_scale(xr, n, eps);
        for (int64_t i = 0; i < n; i++)
            yr[i] = xr[i] * inv * w[i];
    }
}

void hy_rmsnorm_add_f32(float *x, const float *t, const float *w, int64_t rows, int64_t n,
                        float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *tr = t + r * n;
        float *xr = x + r * n;
        const float inv = row_scale(tr, n, eps);
        for (int64_t i = 0; i < n; i++)
            xr[i] += tr[i] * inv * w[i];
    }
}
