/* eval/stats: the statistics eval and sweep report: means with 95% confidence intervals
 * (seeded percentile bootstrap over samples), paired differences against dense, and
 * Spearman's rank correlation between predicted and measured loss. Method: docs/eval.md. */
#ifndef HY_EVALSTATS_H
#define HY_EVALSTATS_H

#include "hy_common.h"

#include <stdint.h>

typedef struct {
    double mean, lo, hi; /* estimate and 95% interval; lo = hi = mean when n == 1 */
    int64_t n;
} hy_ci;

#define HY_BOOTSTRAP_DEFAULT 2000

/* Mean of x[0..n) with a percentile-bootstrap 95% CI (B resamples drawn from seed). NaN
 * (or infinite) entries are an error (HY_EINVAL naming the index); n == 0 and B < 1 are
 * HY_EINVAL. Same (x, n, seed, B) -> bit-identical interval. */
hy_status hy_ci_mean(const double *x, int64_t n, uint64_t seed, int B, hy_ci *out);
/* Mean of x[i] - y[i] (paired samples) with its bootstrap CI (resampling pairs); errors as
 * for hy_ci_mean. Identical arrays give exactly 0 with lo = hi = 0. */
hy_status hy_ci_paired_diff(const double *x, const double *y, int64_t n, uint64_t seed, int B,
                            hy_ci *out);

/* Spearman's rho of x and y (Pearson's r of the average ranks, so ties are handled); NaN
 * when n < 3, either side is constant, or any entry is NaN. */
double hy_spearman(const double *x, const double *y, int64_t n);

#endif
