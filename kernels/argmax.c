/* Row-wise argmax, CPU reference (contract in argmax.h). A strict '>' keeps the lowest
 * index on ties, and NaN never compares greater, so it is skipped unless the row is all NaN. */
#include "argmax.h"

void hy_argmax_rows_f32(int32_t *out, const float *x, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        int64_t best = -1;
        for (int64_t i = 0; i < n; i++) {
            if (xr[i] != xr[i]) continue; /* NaN */
            if (best < 0 || xr[i] > xr[best]) best = i;
        }
        out[r] = (int32_t)(best < 0 ? 0 : best);
    }
}
