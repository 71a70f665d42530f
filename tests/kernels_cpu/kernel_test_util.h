/* Shared helpers for the CPU kernel tests: a seeded generator for random inputs and the
 * max relative error of a float array against a double reference. Test-only. */
#ifndef KERNEL_TEST_UTIL_H
#define KERNEL_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t ktu_state = 0x9e3779b97f4a7c15ull;
static inline void ktu_seed(uint64_t s) {
    ktu_state = s * 0x9e3779b97f4a7c15ull + 1;
}
static inline double ktu_uniform(void) { /* [0, 1) */
    ktu_state ^= ktu_state << 13;
    ktu_state ^= ktu_state >> 7;
    ktu_state ^= ktu_state << 17;
    return (double)(ktu_state >> 11) / 9007199254740992.0;
}
static inline float *ktu_rand(int64_t n, float lo, float hi) {
    float *x = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * ktu_uniform());
    return x;
}
/* max_i |got_i - ref_i| / (|ref_i| + floor) */
static inline double ktu_max_rel(const float *got, const double *ref, int64_t n, double floor) {
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]) / (fabs(ref[i]) + floor);
        if (!(e <= worst)) worst = e; /* NaN counts as the worst */
    }
    return worst;
}

#endif
