/* eval/stats: 95% confidence intervals by the percentile bootstrap (resampling whole samples,
 * i.e. documents, never tokens: tokens of one document are correlated) and Spearman's rho.
 * The resampling stream is our own splitmix64, so a (data, seed, B) triple gives the same
 * interval on every machine. Method and its limits: docs/eval.md `## Statistics`. */
#include "hy_evalstats.h"

#include <math.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform index in [0, n): 53 random bits scaled; the bias is below 2^-53 * n, far under
 * the bootstrap's own Monte Carlo error. */
static int64_t draw(uint64_t *s, int64_t n) {
    int64_t i = (int64_t)((double)(splitmix64(s) >> 11) * 0x1.0p-53 * (double)n);
    return i < n ? i : n - 1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile of sorted v[0..n) by linear interpolation between order statistics (the
 * "type 7" definition of R and numpy's default), so small B still gives a smooth answer. */
static double quantile(const double *v, int n, double q) {
    double h = q * (n - 1);
    int i = (int)floor(h);
    if (i >= n - 1) return v[n - 1];
    return v[i] + (h - i) * (v[i + 1] - v[i]);
}

static hy_status check(const char *fn, const char *name, const double *x, int64_t n, int B,
                       const hy_ci *out) {
    if (!x || !out) return hy_fail(HY_EINVAL, "%s: %s or out is NULL", fn, name);
    if (n <= 0)
        return hy_fail(HY_EINVAL, "%s: %s has %lld samples, expected at least 1", fn, name,
                       (long long)n);
    if (B < 1) return hy_fail(HY_EINVAL, "%s: B = %d resamples, expected >= 1", fn, B);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return hy_fail(HY_EINVAL, "%s: %s[%lld] = %g, expected a finite number", fn, name,
                           (long long)i, x[i]);
    return HY_OK;
}

/* The bootstrap proper over d[0..n), already validated. */
static hy_status bootstrap(const double *d, int64_t n, uint64_t seed, int B, hy_ci *out) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += d[i];
    out->mean = sum / (double)n;
    out->n = n;
    if (n == 1) { /* one sample says nothing about spread: a degenerate interval, by contract */
        out->lo = out->hi = out->mean;
        return HY_OK;
    }
    double *means = hy_malloc((size_t)B * sizeof *means, "bootstrap means");
    if (!means) return HY_ENOMEM;
    uint64_t s = seed;
    for (int b = 0; b < B; b++) {
        double t = 0;
        for (int64_t i = 0; i < n; i++)
            t += d[draw(&s, n)];
        means[b] = t / (double)n;
    }
    qsort(means, (size_t)B, sizeof *means, cmp_double);
    out->lo = quantile(means, B, 0.025);
    out->hi = quantile(means, B, 0.975);
    free(means);
    return HY_OK;
}

hy_status hy_ci_mean(const double *x, int64_t n, uint64_t seed, int B, hy_ci *out) {
    hy_status st = check("hy_ci_mean", "x", x, n, B, out);
    return st ? st : bootstrap(x, n, seed, B, out);
}

hy_status hy_ci_paired_diff(const double *x, const double *y, int64_t n, uint64_t seed, int B,
                            hy_ci *out) {
    hy_status st = check("hy_ci_paired_diff", "x", x, n, B, out);
    if (!st) st = check("hy_ci_paired_diff", "y", y, n, B, out);
    if (st) return st;
    /* Resampling pairs is resampling their differences: one array, one bootstrap. */
    double *d = hy_malloc((size_t)n * sizeof *d, "paired differences");
    if (!d) return HY_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        d[i] = x[i] - y[i];
    st = bootstrap(d, n, seed, B, out);
    free(d);
    return st;
}

/* ---------- Spearman ---------- */

typedef struct {
    double v;
    int64_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *p = a, *q = b;
    if (p->v != q->v) return (p->v > q->v) - (p->v < q->v);
    return (p->i > q->i) - (p->i < q->i); /* stable, so ranks do not depend on qsort */
}

/* Ranks 1..n of x into r; a run of equal values shares the average of its positions. */
static int ranks(const double *x, int64_t n, double *r) {
    keyed *k = malloc((size_t)n * sizeof *k);
    if (!k) return -1;
    for (int64_t i = 0; i < n; i++)
        k[i] = (keyed){x[i], i};
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    for (int64_t a = 0; a < n;) {
        int64_t b = a;
        while (b + 1 < n && k[b + 1].v == k[a].v)
            b++;
        double avg = (double)(a + b) / 2.0 + 1.0;
        for (int64_t j = a; j <= b; j++)
            r[k[j].i] = avg;
        a = b + 1;
    }
    free(k);
    return 0;
}

double hy_spearman(const double *x, const double *y, int64_t n) {
    if (!x || !y || n < 3) return NAN;
    for (int64_t i = 0; i < n; i++)
        if (isnan(x[i]) || isnan(y[i])) return NAN;
    double *rx = malloc((size_t)n * 2 * sizeof *rx);
    if (!rx) return NAN;
    double *ry = rx + n;
    if (ranks(x, n, rx) || ranks(y, n, ry)) {
        free(rx);
        return NAN;
    }
    /* Pearson's r of the ranks: with ties this is the correct rho, unlike 1 - 6 sum d^2 / ... */
    double mean = (double)(n + 1) / 2.0, sxy = 0, sxx = 0, syy = 0;
    for (int64_t i = 0; i < n; i++) {
        double a = rx[i] - mean, b = ry[i] - mean;
        sxy += a * b, sxx += a * a, syy += b * b;
    }
    free(rx);
    if (sxx <= 0 || syy <= 0) return NAN; /* one side constant: no ordering to correlate */
    double rho = sxy / sqrt(sxx * syy);
    return rho > 1 ? 1 : rho < -1 ? -1 : rho;
}
