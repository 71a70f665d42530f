/* Key sketches, CPU reference (sketch.h). */
#include "sketch.h"

#include <math.h>
#include <stdlib.h>

hy_status hy_sketch_quantize(int8_t *kq, float *kscale, const float *k, int64_t n, int D,
                             int bits) {
    if (!kq || !kscale || !k || n < 0 || D < 1 || (bits != 8 && bits != 4))
        return hy_fail(HY_EINVAL,
                       "sketch quantize: NULL buffer, n %lld, D %d or bits %d "
                       "(expected 8 or 4)",
                       (long long)n, D, bits);
    const float qmax = bits == 8 ? 127.0f : 7.0f;
    for (int64_t t = 0; t < n; t++) {
        const float *kt = k + t * D;
        float amax = 0.0f;
        for (int c = 0; c < D; c++)
            amax = fabsf(kt[c]) > amax ? fabsf(kt[c]) : amax;
        const float s = amax / qmax;
        kscale[t] = s;
        for (int c = 0; c < D; c++) {
            float v = s > 0.0f ? roundf(kt[c] / s) : 0.0f;
            v = v > qmax ? qmax : (v < -qmax ? -qmax : v);
            kq[t * D + c] = (int8_t)v;
        }
    }
    return HY_OK;
}

hy_status hy_sketch_scores(float *psum, const float *q, int G, const int8_t *kq,
                           const float *kscale, int64_t n, int D, float scale) {
    if (!psum || !q || !kq || !kscale || G < 1 || n < 0 || D < 1)
        return hy_fail(HY_EINVAL, "sketch scores: NULL buffer, G %d, n %lld or D %d", G,
                       (long long)n, D);
    if (n == 0) return HY_OK;
    double *lg = malloc((size_t)n * sizeof *lg);
    if (!lg) return hy_fail(HY_ENOMEM, "sketch scores: %lld logits", (long long)n);
    for (int64_t t = 0; t < n; t++)
        psum[t] = 0.0f;
    for (int h = 0; h < G; h++) {
        const float *qh = q + (int64_t)h * D;
        double mx = -INFINITY, sum = 0.0;
        /* eight keys at a time: eight independent sums, each still in channel order, so the
         * bits are those of one key at a time (each product is exact in double) */
        int64_t t = 0;
        for (; t + 8 <= n; t += 8) {
            double acc[8] = {0};
            const int8_t *k0 = kq + t * D;
            for (int c = 0; c < D; c++)
                for (int e = 0; e < 8; e++)
                    acc[e] += (double)qh[c] * k0[e * D + c];
            for (int e = 0; e < 8; e++)
                lg[t + e] = acc[e] * kscale[t + e] * scale;
        }
        for (; t < n; t++) {
            double dot = 0.0;
            for (int c = 0; c < D; c++)
                dot += (double)qh[c] * kq[t * D + c];
            lg[t] = dot * kscale[t] * scale;
        }
        for (t = 0; t < n; t++)
            mx = lg[t] > mx ? lg[t] : mx;
        for (t = 0; t < n; t++) {
            lg[t] = exp(lg[t] - mx);
            sum += lg[t];
        }
        for (t = 0; t < n; t++)
            psum[t] += (float)(lg[t] / sum);
    }
    free(lg);
    return HY_OK;
}
