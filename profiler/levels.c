/* Nested top-k sets in one sort. The kernels' rule (kernels/topk.h) orders the middle tokens
 * totally (score, then index, NaN last), so the set for k is a prefix of one ranking and the
 * sets for a grid of k are nested: one sort gives every set as a "level" per token. */
#include "hy_profiler.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    float score;
    int32_t index;
} ranked;

/* Same order as kernels/topk.c: higher score first, lower index on ties, NaN below all. */
static int rank_order(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    const int xn = isnan(x->score), yn = isnan(y->score);
    if (xn != yn) return xn ? 1 : -1;
    if (!xn && x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

hy_status hy_profiler_levels(const float *scores, int64_t n, const int32_t *k_grid, int32_t n_k,
                             int32_t sink, int32_t window, uint8_t *level) {
    if (n < 0 || n_k <= 0 || n_k > 254 || sink < 0 || window < 0)
        return hy_fail(HY_EINVAL, "levels: n %lld, %d k values (1..254), sink %d, window %d",
                       (long long)n, n_k, sink, window);
    for (int32_t i = 1; i < n_k; i++)
        if (k_grid[i] <= k_grid[i - 1] || k_grid[0] < 0)
            return hy_fail(HY_EINVAL, "levels: k grid not ascending at index %d (%d after %d)", i,
                           k_grid[i], k_grid[i - 1]);
    const int64_t lo = sink < n ? sink : n;
    const int64_t hi = n - window > lo ? n - window : lo;
    ranked *mid = malloc(((size_t)(hi - lo) + 1) * sizeof *mid);
    if (!mid) return hy_fail(HY_ENOMEM, "levels: row of %lld scores", (long long)n);
    for (int64_t t = 0; t < n; t++)
        level[t] = 0; /* sink and window are in every set */
    for (int64_t t = lo; t < hi; t++)
        mid[t - lo] = (ranked){scores[t], (int32_t)t};
    qsort(mid, (size_t)(hi - lo), sizeof *mid, rank_order);
    int32_t ki = 0;
    for (int64_t r = 0; r < hi - lo; r++) {
        while (ki < n_k && r >= k_grid[ki])
            ki++;
        level[mid[r].index] = (uint8_t)ki; /* rank r is in the sets with k > r */
    }
    free(mid);
    return HY_OK;
}
