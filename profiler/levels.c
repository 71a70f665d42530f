/* Nested top-k sets in one sort. The kernels' rule (kernels/topk.h) orders the middle tokens
 * totally (score, then index, NaN last), so the set for k is a prefix of one ranking and the
 * sets for a grid of k are nested: one sort gives every set as a "level" per token, and the
 * ranking itself (hy_profiler_ranking's order) lets the statistics visit a set's tokens
 * without scanning the row. The sort is a radix sort: the profile sorts one row per unit and
 * query (5,760 rows of 4K at SmolLM2's defaults), where qsort's comparator calls cost as much
 * as a fifth of the statistics. */
#include "hy_profiler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sort key of one score, ascending in the rank order of kernels/topk.c (higher score first,
 * NaN below all): the float's bits made monotone, then complemented. -0 ranks as +0 (the two
 * compare equal, so their tie goes to the lower index, as the comparator's would). */
static inline uint32_t rank_key(float f) {
    if (isnan(f)) return UINT32_MAX;
    if (f == 0.0f) f = 0.0f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u); /* ascending with the value */
    return ~u;
}

/* LSD radix sort of (key, index) pairs by key, 8 bits a pass, between a and b; returns the
 * buffer that holds the result. Stable, and the input is in index order, so equal keys keep
 * the lower index first: the tie rule without a comparator. */
static uint64_t *radix_rank(uint64_t *a, uint64_t *b, int64_t n) {
    for (int shift = 32; shift < 64; shift += 8) {
        int64_t count[257] = {0};
        for (int64_t r = 0; r < n; r++)
            count[((a[r] >> shift) & 0xffu) + 1]++;
        if (n == 0 || count[((a[0] >> shift) & 0xffu) + 1] == n) continue; /* one bucket */
        for (int c = 0; c < 256; c++)
            count[c + 1] += count[c];
        for (int64_t r = 0; r < n; r++)
            b[count[(a[r] >> shift) & 0xffu]++] = a[r];
        uint64_t *t = a;
        a = b, b = t;
    }
    return a;
}

hy_status hy_profiler_ranking(const float *scores, int64_t n, const int32_t *k_grid, int32_t n_k,
                              int32_t sink, int32_t window, uint8_t *level, int32_t *order) {
    if (n < 0 || n > INT32_MAX || n_k <= 0 || n_k > 254 || sink < 0 || window < 0)
        return hy_fail(HY_EINVAL,
                       "levels: n %lld (0..2^31-1), %d k values (1..254), sink %d, "
                       "window %d",
                       (long long)n, n_k, sink, window);
    for (int32_t i = 1; i < n_k; i++)
        if (k_grid[i] <= k_grid[i - 1] || k_grid[0] < 0)
            return hy_fail(HY_EINVAL, "levels: k grid not ascending at index %d (%d after %d)", i,
                           k_grid[i], k_grid[i - 1]);
    const int64_t lo = sink < n ? sink : n;
    const int64_t hi = n - window > lo ? n - window : lo;
    uint64_t *buf = malloc(2 * ((size_t)(hi - lo) + 1) * sizeof *buf);
    if (!buf) return hy_fail(HY_ENOMEM, "levels: row of %lld scores", (long long)n);
    int64_t at = 0;
    for (int64_t t = 0; t < n; t++) {
        level[t] = 0; /* sink and window are in every set */
        if (order && (t < lo || t >= hi)) order[at++] = (int32_t)t;
    }
    for (int64_t t = lo; t < hi; t++)
        buf[t - lo] = (uint64_t)rank_key(scores[t]) << 32 | (uint64_t)t;
    const uint64_t *mid = radix_rank(buf, buf + (hi - lo) + 1, hi - lo);
    int32_t ki = 0;
    for (int64_t r = 0; r < hi - lo; r++) {
        while (ki < n_k && r >= k_grid[ki])
            ki++;
        const int32_t t = (int32_t)(mid[r] & 0xffffffffu);
        level[t] = (uint8_t)ki; /* rank r is in the sets with k > r */
        if (order) order[at + r] = t;
    }
    free(buf);
    return HY_OK;
}

hy_status hy_profiler_levels(const float *scores, int64_t n, const int32_t *k_grid, int32_t n_k,
                             int32_t sink, int32_t window, uint8_t *level) {
    return hy_profiler_ranking(scores, n, k_grid, n_k, sink, window, level, NULL);
}
