/* Query-drift refresh decisions, CPU reference (qsim.h). */
#include "qsim.h"

#include <math.h>
#include <string.h>

double hy_qsim_mean_cos(const float *q, const float *old, int G, int D) {
    double mean = 0.0;
    for (int h = 0; h < G; h++) {
        double ab = 0.0, aa = 0.0, bb = 0.0;
        for (int d = 0; d < D; d++) {
            const double x = q[h * D + d], y = old[h * D + d];
            ab += x * y, aa += x * x, bb += y * y;
        }
        mean += aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
    }
    return mean / G;
}

hy_status hy_qsim_decide(int32_t *due, int32_t *pub, float *q_sel, const float *q,
                         const int32_t *lens, const hy_attn_shape *s, const uint8_t *modes,
                         const float *weight, float t, int64_t *refreshes, double *rows) {
    if (!due || !pub || !q_sel || !q || !lens || !s || !modes || !weight || !refreshes || !rows ||
        s->n_kv_heads < 1 || s->n_heads % s->n_kv_heads)
        return hy_fail(HY_EINVAL, "qsim decide: NULL buffer or bad shape");
    const int nkv = s->n_kv_heads, G = s->n_heads / nkv, D = s->head_dim;
    for (int b = 0; b < s->batch; b++)
        for (int g = 0; g < nkv; g++) {
            if (modes[g] == HY_QSIM_SKIP) continue;
            const int64_t r = (int64_t)b * nkv + g;
            const float *qr = q + r * G * D;
            float *old = q_sel + r * G * D;
            int go = modes[g] == HY_QSIM_FORCE;
            if (!go) go = hy_qsim_mean_cos(qr, old, G, D) < (double)t;
            due[r] = go;
            pub[r] = go ? (int32_t)r : -2;
            if (!go) continue;
            memcpy(old, qr, (size_t)G * D * sizeof *old);
            if (modes[g] == HY_QSIM_FORCE) continue; /* forced ones are the caller's to count */
            refreshes[b]++;
            rows[b] += (double)weight[g] * lens[b];
        }
    return HY_OK;
}
