/* CPU page scoring for page-granular index sets (indexset.h): a page scores the max of its
 * tokens, so a page holding one strong token is kept (Quest-style upper bound). */
#include "indexset.h"

#include <math.h>

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
