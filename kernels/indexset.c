/* CPU index-set operations (indexset.h): page scoring (a page scores the max of its tokens,
 * so a page holding one strong token is kept, a Quest-style upper bound) and the merge of a
 * stored set with the sink and the current window, for one row (the CPU runtime's sparse
 * units) and for a batch of rows (the reference of the CUDA runtime's merge kernel). */
#include "indexset.h"

#include <math.h>
#include <stdlib.h>

hy_status hy_page_max_f32(float *pages, int64_t page_stride, const float *x, int64_t x_stride,
                          int64_t rows, const int32_t *n, int rows_per_n, int page_size) {
    if (!pages || !x || !n || rows < 0 || rows_per_n < 1 || page_size < 1)
        return hy_fail(HY_EINVAL,
                       "page max: NULL buffer or rows %lld, rows_per_n %d, "
                       "page_size %d",
                       (long long)rows, rows_per_n, page_size);
    for (int64_t r = 0; r < rows; r++) {
        const int64_t nr = n[r / rows_per_n];
        const int64_t np = (nr + page_size - 1) / page_size;
        if (nr < 0 || nr > x_stride || np > page_stride)
            return hy_fail(HY_ERANGE,
                           "page max: row %lld has n = %lld (%lld pages), expected "
                           "n <= x_stride %lld and pages <= page_stride %lld",
                           (long long)r, (long long)nr, (long long)np, (long long)x_stride,
                           (long long)page_stride);
        for (int64_t p = 0; p < np; p++) {
            float m = -INFINITY;
            for (int64_t t = p * page_size; t < (p + 1) * page_size && t < nr; t++)
                if (x[r * x_stride + t] > m) m = x[r * x_stride + t]; /* NaN never wins */
            pages[r * page_stride + p] = m;
        }
    }
    return HY_OK;
}

hy_status hy_page_scores_f32(float *pages, int64_t page_stride, int32_t *n_pages, const float *x,
                             int64_t x_stride, int64_t rows, const int32_t *n, int rows_per_n,
                             int page_size, int window) {
    if (!n_pages || window < 0)
        return hy_fail(HY_EINVAL, "page scores: n_pages NULL or window %d < 0", window);
    hy_status st = hy_page_max_f32(pages, page_stride, x, x_stride, rows, n, rows_per_n, page_size);
    if (st) return st;
    for (int64_t r = 0; r < rows; r++) {
        const int64_t nr = n[r / rows_per_n], np = (nr + page_size - 1) / page_size;
        if (r % rows_per_n == 0) n_pages[r / rows_per_n] = (int32_t)np;
        if (window <= 0) continue;
        for (int64_t p = (nr - window > 0 ? nr - window : 0) / page_size; p < np; p++)
            pages[r * page_stride + p] = -INFINITY;
    }
    return HY_OK;
}

int64_t hy_set_merge(int32_t *out, const int32_t *stored, int64_t n_stored, int64_t n, int P,
                     int sink, int window) {
    const int64_t units = (n + P - 1) / P;
    int64_t sink_u = ((int64_t)sink + P - 1) / P;
    if (sink_u > units) sink_u = units;
    int64_t win_u = units; /* first unit overlapping the window [n - window, n) */
    if (window > 0) win_u = (n - window > 0 ? n - window : 0) / P;
    int64_t m = 0;
    if (sink_u >= win_u) { /* sink and window meet: every unit */
        for (int64_t t = 0; t < units; t++)
            out[m++] = (int32_t)t;
        return m;
    }
    for (int64_t t = 0; t < sink_u; t++)
        out[m++] = (int32_t)t;
    for (int64_t i = 0; i < n_stored; i++) {
        const int64_t t = stored[i];
        if (t < sink_u) continue;
        if (t >= win_u) break;
        if (m == 0 || out[m - 1] < t) out[m++] = (int32_t)t;
    }
    for (int64_t t = win_u; t < units; t++)
        out[m++] = (int32_t)t;
    return m;
}

hy_status hy_set_merge_rows(int32_t *out_idx, int32_t *out_count, int64_t out_stride,
                            const int32_t *store, const int32_t *store_n, int64_t store_stride,
                            const int32_t *slots, int64_t rows, const int32_t *lens, int rows_per_n,
                            int P, int sink, int window, int64_t *rows_read) {
    if (rows < 0 || rows_per_n < 1 || P < 1 || sink < 0 || window < 0 || store_stride < 0 ||
        out_stride < 0)
        return hy_fail(HY_EINVAL,
                       "set_merge_rows: rows %lld, rows_per_n %d, P %d, sink %d, window %d, "
                       "store_stride %lld, out_stride %lld: expected rows >= 0, rows_per_n >= 1, "
                       "P >= 1, the rest >= 0",
                       (long long)rows, rows_per_n, P, sink, window, (long long)store_stride,
                       (long long)out_stride);
    if (rows > 0 && (!out_idx || !out_count || !store || !store_n || !slots || !lens))
        return hy_fail(HY_EINVAL, "set_merge_rows: NULL array (only rows_read may be NULL)");
    /* every row is checked, its merge included, before anything is written */
    const int64_t scratch_n =
        store_stride + ((int64_t)sink + P - 1) / P + ((int64_t)window + P - 1) / P + 1;
    int32_t *scratch = hy_malloc((size_t)scratch_n * sizeof *scratch, "set_merge_rows scratch");
    if (!scratch) return HY_ENOMEM;
    hy_status st = HY_OK;
    for (int64_t r = 0; r < rows && !st; r++) {
        const int32_t n = lens[r / rows_per_n], slot = slots[r];
        if (slot <= -2) continue; /* skipped row */
        if (n < 0) {
            st = hy_fail(HY_ERANGE, "set_merge_rows: row %lld: lens[%lld] = %d, expected >= 0",
                         (long long)r, (long long)(r / rows_per_n), n);
        } else if (slot >= 0 && store_n[slot] > store_stride) {
            st = hy_fail(HY_ERANGE,
                         "set_merge_rows: row %lld: store_n[%d] = %d, expected <= store_stride "
                         "%lld",
                         (long long)r, slot, store_n[slot], (long long)store_stride);
        } else {
            const int64_t ns = slot >= 0 && store_n[slot] > 0 ? store_n[slot] : 0;
            const int64_t m = hy_set_merge(scratch, slot >= 0 ? store + slot * store_stride : NULL,
                                           ns, n, P, sink, window);
            if (m > out_stride)
                st = hy_fail(HY_ERANGE,
                             "set_merge_rows: row %lld merges to %lld entries, out_stride is "
                             "%lld",
                             (long long)r, (long long)m, (long long)out_stride);
        }
    }
    free(scratch);
    if (st) return st;
    for (int64_t r = 0; r < rows; r++) {
        const int64_t n = lens[r / rows_per_n];
        const int32_t slot = slots[r];
        if (slot <= -2) continue;
        const int32_t *stored = slot >= 0 ? store + (int64_t)slot * store_stride : NULL;
        const int64_t n_stored = slot >= 0 && store_n[slot] > 0 ? store_n[slot] : 0;
        int32_t *out = out_idx + r * out_stride;
        const int64_t m = hy_set_merge(out, stored, n_stored, n, P, sink, window);
        out_count[r] = (int32_t)m;
        if (rows_read) {
            int64_t tokens = 0;
            for (int64_t i = 0; i < m; i++) {
                const int64_t first = (int64_t)out[i] * P;
                tokens += first + P <= n ? P : n - first;
            }
            rows_read[r / rows_per_n] += tokens;
        }
    }
    return HY_OK;
}
