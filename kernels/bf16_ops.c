/* CPU references of the bf16-output ops (bf16_ops.h): the float result of the fp32 op of the
 * same name (rmsnorm.c, swiglu.c), then one rounding to bf16 (the plain conversion is inline
 * in the header). Written to be read; the CPU
 * runtime keeps fp32 activations and does not call these. */
#include "bf16_ops.h"
#include "geglu.h"

#include <math.h>
#include <stdlib.h>

#include "rmsnorm.h"

hy_status hy_rmsnorm_bf16(uint16_t *y, const float *x, const float *w, int64_t rows, int64_t n,
                          float eps) {
    if (!y || !x || !w || rows < 0 || n < 1)
        return hy_fail(HY_EINVAL,
                       "rmsnorm_bf16: NULL buffer or rows %lld, n %lld: expected rows >= 0, "
                       "n >= 1",
                       (long long)rows, (long long)n);
    float *tmp = hy_malloc((size_t)n * sizeof *tmp, "rmsnorm_bf16 row");
    if (!tmp) return HY_ENOMEM;
    for (int64_t r = 0; r < rows; r++) {
        hy_rmsnorm_f32(tmp, x + r * n, w, 1, n, eps);
        for (int64_t i = 0; i < n; i++)
            y[r * n + i] = hy_bf16_from_f32(tmp[i]);
    }
    free(tmp);
    return HY_OK;
}

hy_status hy_swiglu_bf16(uint16_t *out, const float *gate, const float *up, int64_t n) {
    if (!out || !gate || !up || n < 0)
        return hy_fail(HY_EINVAL, "swiglu_bf16: NULL buffer or n %lld: expected n >= 0",
                       (long long)n);
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = hy_bf16_from_f32(g / (1.0f + expf(-g)) * up[i]);
    }
    return HY_OK;
}

hy_status hy_geglu_bf16(uint16_t *out, const float *gate, const float *up, int64_t n) {
    if (!out || !gate || !up || n < 0)
        return hy_fail(HY_EINVAL, "geglu_bf16: NULL buffer or n %lld: expected n >= 0",
                       (long long)n);
    for (int64_t i = 0; i < n; i++) {
        float v;
        hy_geglu_f32(&v, gate + i, up + i, 1);
        out[i] = hy_bf16_from_f32(v);
    }
    return HY_OK;
}

hy_status hy_f32_to_bf16(uint16_t *out, const float *x, int64_t n) {
    if (!out || !x || n < 0)
        return hy_fail(HY_EINVAL, "f32_to_bf16: out %p, x %p, n %lld: expected buffers and n >= 0",
                       (void *)out, (const void *)x, (long long)n);
    for (int64_t i = 0; i < n; i++)
        out[i] = hy_bf16_from_f32(x[i]);
    return HY_OK;
}
