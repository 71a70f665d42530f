/* tests/eval_stats/test_stats: the bootstrap CIs (degenerate cases, coverage of the true mean
 * on seeded normal data, pairing, determinism, errors) and Spearman's rho against a separate
 * O(n^2) reference written here (Pearson's r of average ranks). */
#include "hy_evalstats.h"
#include "hy_test.h"

#include <stdint.h>
#include <string.h>

/* The test's own generator (xorshift64*), independent of the one inside stats.c. */
static uint64_t rng_state = 88172645463325252ull;
static double uniform(void) {
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return ((rng_state * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}
static double normal(void) { /* Box-Muller */
    double u = uniform(), v = uniform();
    return sqrt(-2 * log(u > 0 ? u : 0x1.0p-53)) * cos(2 * M_PI * v);
}

HY_TEST(ci_of_constant_is_degenerate) {
    double x[10];
    for (int i = 0; i < 10; i++)
        x[i] = 3.25;
    hy_ci c;
    HY_OK_OR_FAIL(hy_ci_mean(x, 10, 7, 500, &c));
    HY_CHECK(c.mean == 3.25 && c.lo == 3.25 && c.hi == 3.25);
    HY_CHECK_EQ_INT(c.n, 10);
}

HY_TEST(ci_of_one_sample_is_degenerate) {
    double x = -1.5;
    hy_ci c;
    HY_OK_OR_FAIL(hy_ci_mean(&x, 1, 0, 100, &c));
    HY_CHECK(c.mean == -1.5 && c.lo == -1.5 && c.hi == -1.5);
}

HY_TEST(ci_contains_mean_and_orders) {
    double x[20];
    for (int i = 0; i < 20; i++)
        x[i] = normal();
    hy_ci c;
    HY_OK_OR_FAIL(hy_ci_mean(x, 20, 3, 1000, &c));
    HY_CHECK(c.lo < c.mean && c.mean < c.hi);
    double s = 0;
    for (int i = 0; i < 20; i++)
        s += x[i];
    HY_CHECK_NEAR(c.mean, s / 20, 1e-12);
}

/* 400 seeded experiments of 30 normal samples: a 95% interval should cover the true mean in
 * about 95% of them (the percentile bootstrap runs a little narrow at n = 30, ~93-94%). */
HY_TEST(ci_covers_true_mean_about_95_percent) {
    const double mu = 1.7, sigma = 2.0;
    int covered = 0;
    double x[30];
    for (int e = 0; e < 400; e++) {
        for (int i = 0; i < 30; i++)
            x[i] = mu + sigma * normal();
        hy_ci c;
        HY_OK_OR_FAIL(hy_ci_mean(x, 30, (uint64_t)e, 1000, &c));
        covered += c.lo <= mu && mu <= c.hi;
    }
    double frac = covered / 400.0;
    printf("coverage %.4f\n", frac);
    HY_CHECK(frac >= 0.90 && frac <= 0.99);
}

HY_TEST(ci_narrows_with_more_samples) {
    static double x[400];
    for (int i = 0; i < 400; i++)
        x[i] = normal();
    hy_ci small, big;
    HY_OK_OR_FAIL(hy_ci_mean(x, 25, 1, 1000, &small));
    HY_OK_OR_FAIL(hy_ci_mean(x, 400, 1, 1000, &big));
    HY_CHECK(big.hi - big.lo < (small.hi - small.lo) / 2); /* width ~ 1/sqrt(n): 4x here */
}

HY_TEST(paired_diff_of_identical_is_zero) {
    double x[12];
    for (int i = 0; i < 12; i++)
        x[i] = normal();
    hy_ci c;
    HY_OK_OR_FAIL(hy_ci_paired_diff(x, x, 12, 5, 800, &c));
    HY_CHECK(c.mean == 0 && c.lo == 0 && c.hi == 0);
}

HY_TEST(paired_diff_removes_shared_noise) {
    /* y = x + 0.5 + small noise: the paired CI is narrow although x itself varies a lot */
    double x[40], y[40];
    for (int i = 0; i < 40; i++)
        x[i] = 10 * normal(), y[i] = x[i] + 0.5 + 0.01 * normal();
    hy_ci d, cx;
    HY_OK_OR_FAIL(hy_ci_paired_diff(y, x, 40, 9, 1000, &d));
    HY_OK_OR_FAIL(hy_ci_mean(x, 40, 9, 1000, &cx));
    HY_CHECK_NEAR(d.mean, 0.5, 0.01);
    HY_CHECK(d.lo <= 0.5 + 0.01 && d.hi >= 0.5 - 0.01);
    HY_CHECK(d.hi - d.lo < 0.02 && cx.hi - cx.lo > 1);
}

HY_TEST(bootstrap_is_deterministic_for_a_seed) {
    double x[25], y[25];
    for (int i = 0; i < 25; i++)
        x[i] = normal(), y[i] = normal();
    hy_ci a, b, c, d, e;
    HY_OK_OR_FAIL(hy_ci_mean(x, 25, 42, 700, &a));
    HY_OK_OR_FAIL(hy_ci_mean(x, 25, 42, 700, &b));
    HY_OK_OR_FAIL(hy_ci_mean(x, 25, 43, 700, &c));
    HY_CHECK(memcmp(&a, &b, sizeof a) == 0);
    HY_CHECK(a.lo != c.lo || a.hi != c.hi);
    HY_OK_OR_FAIL(hy_ci_paired_diff(x, y, 25, 42, 700, &d));
    HY_OK_OR_FAIL(hy_ci_paired_diff(x, y, 25, 42, 700, &e));
    HY_CHECK(memcmp(&d, &e, sizeof d) == 0);
}

HY_TEST(bad_inputs_are_errors) {
    double x[4] = {1, 2, NAN, 4}, y[4] = {1, 2, 3, INFINITY};
    hy_ci c;
    HY_CHECK_EQ_INT(hy_ci_mean(x, 4, 0, 100, &c), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "x[2]") != NULL);
    HY_CHECK_EQ_INT(hy_ci_mean(x, 0, 0, 100, &c), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_ci_mean(y, 3, 0, 0, &c), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_ci_mean(NULL, 3, 0, 10, &c), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_ci_mean(y, 3, 0, 10, NULL), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_ci_paired_diff(y, y, 4, 0, 100, &c), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "[3]") != NULL);
    HY_CHECK_EQ_INT(hy_ci_paired_diff(y, x, 3, 0, 100, &c), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "y[2]") != NULL);
}

/* ---------- Spearman ---------- */

/* Reference: rank_i = 1 + #(x_j < x_i) + (#(x_j == x_i) - 1) / 2, then Pearson's r. */
static double ref_spearman(const double *x, const double *y, int n) {
    double rx[64], ry[64], mx = 0, my = 0;
    for (int i = 0; i < n; i++) {
        int lx = 0, ex = 0, ly = 0, ey = 0;
        for (int j = 0; j < n; j++)
            lx += x[j] < x[i], ex += x[j] == x[i], ly += y[j] < y[i], ey += y[j] == y[i];
        rx[i] = 1 + lx + (ex - 1) / 2.0, ry[i] = 1 + ly + (ey - 1) / 2.0;
        mx += rx[i] / n, my += ry[i] / n;
    }
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++)
        sxy += (rx[i] - mx) * (ry[i] - my), sxx += (rx[i] - mx) * (rx[i] - mx),
            syy += (ry[i] - my) * (ry[i] - my);
    return sxy / sqrt(sxx * syy);
}

HY_TEST(spearman_monotone_is_one) {
    double x[8], y[8], z[8];
    for (int i = 0; i < 8; i++)
        x[i] = i * 0.3 - 1, y[i] = exp(x[i]) * 5, z[i] = -x[i] * x[i] * x[i];
    HY_CHECK_NEAR(hy_spearman(x, y, 8), 1.0, 1e-12);
    HY_CHECK_NEAR(hy_spearman(x, z, 8), -1.0, 1e-12);
}

HY_TEST(spearman_ties_hand_case) {
    /* ranks x: 1, 2.5, 2.5, 4; y: 1, 3, 2, 4 -> sxy 4.5, sxx 4.5, syy 5 -> rho = sqrt(0.9) */
    double x[4] = {1, 2, 2, 3}, y[4] = {10, 30, 20, 40};
    HY_CHECK_NEAR(hy_spearman(x, y, 4), sqrt(0.9), 1e-12);
    HY_CHECK_NEAR(ref_spearman(x, y, 4), sqrt(0.9), 1e-12);
}

HY_TEST(spearman_matches_reference_with_ties) {
    for (int trial = 0; trial < 50; trial++) {
        int n = 3 + trial % 30;
        double x[64] = {0}, y[64] = {0};
        for (int i = 0; i < n; i++) /* few distinct values: many ties */
            x[i] = floor(uniform() * 5), y[i] = floor(uniform() * 4) + 0.1 * x[i];
        double ref = ref_spearman(x, y, n), got = hy_spearman(x, y, n);
        if (isnan(ref)) {
            HY_CHECK(isnan(got));
        } else {
            HY_CHECK_NEAR(got, ref, 1e-12);
        }
    }
}

HY_TEST(spearman_undefined_cases_are_nan) {
    double x[5] = {1, 2, 3, 4, 5}, c[5] = {2, 2, 2, 2, 2}, n[5] = {1, NAN, 3, 4, 5};
    HY_CHECK(isnan(hy_spearman(x, x, 2)));
    HY_CHECK(isnan(hy_spearman(x, x, 0)));
    HY_CHECK(isnan(hy_spearman(x, c, 5)));
    HY_CHECK(isnan(hy_spearman(c, x, 5)));
    HY_CHECK(isnan(hy_spearman(x, n, 5)));
    HY_CHECK(isnan(hy_spearman(NULL, x, 5)));
    HY_CHECK_NEAR(hy_spearman(x, x, 3), 1.0, 1e-12);
}

HY_TEST_MAIN()
