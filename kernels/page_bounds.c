/* Page key bounds, CPU references (page_bounds.h): loops in the order of the math, double
 * sums for the scores. */
#include "page_bounds.h"

#include <math.h>

#include "hy_bf16.h"

static hy_status check(const hy_attn_shape *s, int64_t page_cap, int P, const char *who) {
    if (!s || s->batch < 1 || s->n_kv_heads < 1 || s->n_heads % s->n_kv_heads || s->head_dim < 1 ||
        P < 1 || page_cap < (s->kv_cap + P - 1) / P)
        return hy_fail(HY_EINVAL, "%s: bad shape, page size %d or page_cap %lld (need >= %lld)",
                       who, P, (long long)page_cap,
                       s ? (long long)((s->kv_cap + P - 1) / (P > 0 ? P : 1)) : 0LL);
    return HY_OK;
}

hy_status hy_page_bounds_fold(uint16_t *bmin, uint16_t *bmax, int64_t page_cap, int32_t *folded,
                              const uint16_t *k, const int32_t *lens, const hy_attn_shape *s,
                              int P) {
    hy_status st = check(s, page_cap, P, "page bounds fold");
    if (st) return st;
    if (!bmin || !bmax || !folded || !k || !lens)
        return hy_fail(HY_EINVAL, "page bounds fold: NULL buffer");
    const int D = s->head_dim, nkv = s->n_kv_heads;
    for (int64_t r = 0; r < (int64_t)s->batch * nkv; r++) {
        const int64_t b = r / nkv, g = r % nkv, n = lens[b];
        if (n < 0 || n > s->kv_cap || folded[r] < 0 || folded[r] > n)
            return hy_fail(HY_ERANGE, "page bounds fold: row %lld: n %lld, folded %d", (long long)r,
                           (long long)n, folded[r]);
        const uint16_t *kr = k + b * s->seq_stride + g * s->kv_cap * D;
        for (int64_t p = folded[r] / P; p * P < n; p++)
            for (int d = 0; d < D; d++) {
                float lo = INFINITY, hi = -INFINITY;
                for (int64_t t = p * P; t < p * P + P && t < n; t++) {
                    const float v = hy_bf16_to_f32(kr[t * D + d]);
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
                bmin[(r * page_cap + p) * D + d] = hy_bf16_from_f32(lo);
                bmax[(r * page_cap + p) * D + d] = hy_bf16_from_f32(hi);
            }
        folded[r] = (int32_t)n;
    }
    return HY_OK;
}

hy_status hy_page_bound_scores(float *scores, int64_t score_stride, int32_t *n_pages,
                               int32_t *folded, const float *q, const uint16_t *bmin,
                               const uint16_t *bmax, int64_t page_cap, const int32_t *lens,
                               const hy_attn_shape *s, int P, int window) {
    hy_status st = check(s, page_cap, P, "page bound scores");
    if (st) return st;
    if (!scores || !n_pages || !folded || !q || !bmin || !bmax || !lens || window < 0 ||
        score_stride < page_cap)
        return hy_fail(HY_EINVAL,
                       "page bound scores: NULL buffer, window %d or score_stride "
                       "%lld < page_cap %lld",
                       window, (long long)score_stride, (long long)page_cap);
    const int D = s->head_dim, nkv = s->n_kv_heads, G = s->n_heads / nkv;
    for (int64_t r = 0; r < (int64_t)s->batch * nkv; r++) {
        const int64_t b = r / nkv, g = r % nkv, n = lens[b], np = (n + P - 1) / P;
        const int64_t win0 = window > 0 ? (n - window > 0 ? n - window : 0) / P : np;
        const float *qg = q + (b * s->n_heads + g * G) * D;
        for (int64_t p = 0; p < np; p++) {
            if (p >= win0) {
                scores[r * score_stride + p] = -INFINITY;
                continue;
            }
            double acc = 0.0;
            for (int h = 0; h < G; h++)
                for (int d = 0; d < D; d++) {
                    const double lo =
                        (double)qg[h * D + d] * hy_bf16_to_f32(bmin[(r * page_cap + p) * D + d]);
                    const double hi =
                        (double)qg[h * D + d] * hy_bf16_to_f32(bmax[(r * page_cap + p) * D + d]);
                    acc += lo > hi ? lo : hi;
                }
            scores[r * score_stride + p] = (float)acc;
        }
        if (g == 0) n_pages[b] = (int32_t)np;
        folded[r] = (int32_t)n;
    }
    return HY_OK;
}
