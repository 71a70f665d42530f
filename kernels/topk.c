/* CPU reference for top-k with sink and window (topk.h): mark the sink and window, then take
 * the k best middle tokens by repeated selection over a sorted copy of (score, index) pairs;
 * write the marked indices in ascending order. Written to be read, not to be fast. */
#include "topk.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    float score;
    int32_t index;
} scored;

/* Best first: higher score, then lower index; NaN below everything. */
static int better_first(const void *a, const void *b) {
    const scored *x = a, *y = b;
    int xn = isnan(x->score), yn = isnan(y->score);
    if (xn != yn) return xn ? 1 : -1;
    if (!xn && x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

static hy_status topk_check(int64_t idx_stride, int64_t rows, const int32_t *n, int rows_per_n,
                            int k, int sink, int window) {
    if (k < 0 || k > HY_TOPK_MAX_K || sink < 0 || window < 0 || rows < 0 || rows_per_n < 1)
        return hy_fail(HY_EINVAL,
                       "topk: k %d (max %d), sink %d, window %d, rows %lld, "
                       "rows_per_n %d: out of range",
                       k, HY_TOPK_MAX_K, sink, window, (long long)rows, rows_per_n);
    if (idx_stride < (int64_t)k + sink + window)
        return hy_fail(HY_EINVAL, "topk: idx_stride %lld < k + sink + window = %lld",
                       (long long)idx_stride, (long long)k + sink + window);
    if (!n) return hy_fail(HY_EINVAL, "topk: n is NULL");
    return HY_OK;
}

hy_status hy_topk_rows_f32(int32_t *idx, int32_t *count, int64_t idx_stride, const float *x,
                           int64_t x_stride, int64_t rows, const int32_t *n, int rows_per_n, int k,
                           int sink, int window) {
    hy_status st = topk_check(idx_stride, rows, n, rows_per_n, k, sink, window);
    if (st) return st;
    if (!idx || !count || !x) return hy_fail(HY_EINVAL, "topk: NULL buffer");
    for (int64_t r = 0; r < rows; r++) {
        const int64_t nr = n[r / rows_per_n];
        if (nr < 0 || nr > x_stride)
            return hy_fail(HY_ERANGE, "topk: row %lld has n = %lld, expected 0..x_stride %lld",
                           (long long)r, (long long)nr, (long long)x_stride);
        const float *xr = x + r * x_stride;
        const int64_t lo = sink < nr ? sink : nr;
        const int64_t hi = nr - window > lo ? nr - window : lo; /* middle = [lo, hi) */
        unsigned char *take = calloc((size_t)nr + 1, 1);
        scored *mid = malloc(((size_t)(hi - lo) + 1) * sizeof *mid);
        if (!take || !mid) {
            free(take), free(mid);
            return hy_fail(HY_ENOMEM, "topk: row of %lld", (long long)nr);
        }
        for (int64_t t = 0; t < nr; t++)
            take[t] = t < lo || t >= hi;
        for (int64_t t = lo; t < hi; t++)
            mid[t - lo] = (scored){xr[t], (int32_t)t};
        qsort(mid, (size_t)(hi - lo), sizeof *mid, better_first);
        for (int64_t i = 0; i < hi - lo && i < k; i++)
            take[mid[i].index] = 1;
        int32_t c = 0;
        for (int64_t t = 0; t < nr; t++)
            if (take[t]) idx[r * idx_stride + c++] = (int32_t)t;
        count[r] = c;
        free(take), free(mid);
    }
    return HY_OK;
}
