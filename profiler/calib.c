/* Calibration samples: disjoint ctx-token windows of the tokenised text, in an order fixed
 * by the seed (Fisher-Yates with splitmix64), so a seed names the exact dataset and a resumed
 * run continues with the same samples. */
#include "hy_profiler.h"

#include <stdlib.h>

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

hy_status hy_calib_starts(int64_t n_tokens, int32_t ctx, int32_t n_samples, uint64_t seed,
                          int64_t *starts) {
    if (ctx <= 0 || n_samples <= 0 || n_tokens < 0)
        return hy_fail(HY_EINVAL, "calibration: ctx %d, samples %d, tokens %lld: expected > 0", ctx,
                       n_samples, (long long)n_tokens);
    const int64_t n_win = n_tokens / ctx;
    if (n_win < n_samples)
        return hy_fail(HY_ERANGE,
                       "calibration: %lld tokens hold %lld windows of %d, %d samples asked",
                       (long long)n_tokens, (long long)n_win, ctx, n_samples);
    int64_t *w = hy_malloc((size_t)n_win * sizeof *w, "calibration windows");
    if (!w) return HY_ENOMEM;
    for (int64_t i = 0; i < n_win; i++)
        w[i] = i;
    uint64_t s = seed;
    for (int64_t i = n_win - 1; i > 0; i--) {
        const int64_t j = (int64_t)(splitmix64(&s) % (uint64_t)(i + 1));
        const int64_t t = w[i];
        w[i] = w[j], w[j] = t;
    }
    for (int32_t i = 0; i < n_samples; i++)
        starts[i] = w[i] * ctx;
    free(w);
    return HY_OK;
}
