/* CPU reference for dense decode attention (attention_decode.h): fp32, one query head at a
 * time, scores -> softmax -> weighted sum of V, in the order of the math, skipping the units
 * whose mode is SKIP. Accumulates in double so it can serve as the yardstick for the CUDA
 * kernels. */
#include "attention_decode.h"

#include <math.h>
#include <stdlib.h>

hy_status hy_attn_shape_check(const hy_attn_shape *s, const int32_t *lens) {
    if (!s || !lens) return hy_fail(HY_EINVAL, "attention: shape or lens is NULL");
    if (s->batch < 1 || s->n_heads < 1 || s->n_kv_heads < 1 || s->head_dim < 1)
        return hy_fail(HY_EINVAL,
                       "attention: batch %d, n_heads %d, n_kv_heads %d, head_dim %d: "
                       "expected all >= 1",
                       s->batch, s->n_heads, s->n_kv_heads, s->head_dim);
    if (s->n_heads % s->n_kv_heads)
        return hy_fail(HY_EINVAL, "attention: n_heads %d is not a multiple of n_kv_heads %d",
                       s->n_heads, s->n_kv_heads);
    if (s->window < 0)
        return hy_fail(HY_EINVAL, "attention: window %lld, expected >= 0 (0: none)",
                       (long long)s->window);
    if (s->kv_cap < 1 || s->seq_stride < (int64_t)s->n_kv_heads * s->kv_cap * s->head_dim)
        return hy_fail(HY_EINVAL, "attention: seq_stride %lld < n_kv_heads*kv_cap*head_dim = %lld",
                       (long long)s->seq_stride,
                       (long long)s->n_kv_heads * s->kv_cap * s->head_dim);
    for (int b = 0; b < s->batch; b++)
        if (lens[b] < 1 || lens[b] > s->kv_cap)
            return hy_fail(HY_ERANGE, "attention: lens[%d] = %d, expected 1..kv_cap (%lld)", b,
                           lens[b], (long long)s->kv_cap);
    return HY_OK;
}

hy_status hy_attn_decode_f32(float *out, float *scores, int64_t score_stride, const float *q,
                             const float *k, const float *v, const int32_t *lens,
                             const hy_attn_shape *s) {
    return hy_attn_decode_units_f32(out, scores, score_stride, q, k, v, lens, s, NULL);
}

hy_status hy_attn_decode_units_f32(float *out, float *scores, int64_t score_stride, const float *q,
                                   const float *k, const float *v, const int32_t *lens,
                                   const hy_attn_shape *s, const uint8_t *modes) {
    hy_status st = hy_attn_shape_check(s, lens);
    if (st) return st;
    if (!out || !q || !k || !v) return hy_fail(HY_EINVAL, "attention decode: NULL buffer");
    for (int g = 0; modes && g < s->n_kv_heads; g++)
        if (modes[g] != HY_UNIT_DENSE && modes[g] != HY_UNIT_SKIP)
            return hy_fail(HY_EINVAL,
                           "attention decode: modes[%d] = %d, expected %d (dense) or %d (skip)", g,
                           modes[g], HY_UNIT_DENSE, HY_UNIT_SKIP);
    const int d = s->head_dim, group = s->n_heads / s->n_kv_heads;
    int64_t max_len = 0;
    for (int b = 0; b < s->batch; b++)
        max_len = lens[b] > max_len ? lens[b] : max_len;
    if (s->window < 0 || (scores && s->window > 0))
        return hy_fail(HY_EINVAL,
                       "attention decode: window %lld, expected >= 0 and 0 when scores are "
                       "asked for",
                       (long long)s->window);
    if (scores && score_stride < max_len)
        return hy_fail(HY_EINVAL, "attention decode: score_stride %lld < longest sequence %lld",
                       (long long)score_stride, (long long)max_len);
    double *p = malloc((size_t)max_len * sizeof *p);
    double *acc = malloc((size_t)d * sizeof *acc);
    if (!p || !acc) {
        free(p);
        free(acc);
        return hy_fail(HY_ENOMEM, "attention decode: %lld scores", (long long)max_len);
    }
    for (int b = 0; b < s->batch; b++) {
        const int64_t n = lens[b];
        const int64_t lo = s->window > 0 && n > s->window ? n - s->window : 0; /* first key */
        for (int g = 0; g < s->n_kv_heads; g++) {
            if (modes && modes[g] == HY_UNIT_SKIP) continue; /* another call serves it */
            const float *kg = k + b * s->seq_stride + (int64_t)g * s->kv_cap * d;
            const float *vg = v + b * s->seq_stride + (int64_t)g * s->kv_cap * d;
            float *sc = scores ? scores + ((int64_t)b * s->n_kv_heads + g) * score_stride : NULL;
            if (sc)
                for (int64_t j = 0; j < n; j++)
                    sc[j] = 0.0f;
            for (int h = g * group; h < (g + 1) * group; h++) {
                const float *qh = q + ((int64_t)b * s->n_heads + h) * d;
                double m = -INFINITY, l = 0.0;
                for (int64_t j = lo; j < n; j++) {
                    double dot = 0.0;
                    for (int i = 0; i < d; i++)
                        dot += (double)qh[i] * kg[j * d + i];
                    p[j] = dot * s->scale;
                    if (p[j] > m) m = p[j];
                }
                for (int64_t j = lo; j < n; j++) {
                    p[j] = exp(p[j] - m);
                    l += p[j];
                }
                for (int i = 0; i < d; i++)
                    acc[i] = 0.0;
                for (int64_t j = lo; j < n; j++)
                    for (int i = 0; i < d; i++)
                        acc[i] += p[j] / l * vg[j * d + i];
                float *oh = out + ((int64_t)b * s->n_heads + h) * d;
                for (int i = 0; i < d; i++)
                    oh[i] = (float)acc[i];
                if (sc)
                    for (int64_t j = 0; j < n; j++)
                        sc[j] += (float)(p[j] / l);
            }
        }
    }
    free(p);
    free(acc);
    return HY_OK;
}
