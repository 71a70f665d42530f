/* Sampling a token from ranked candidates, one definition for the host sampler
 * (runtime/sampler.c) and the CUDA kernel that samples on the device (sample.cu), so that the
 * same logits and draw give the same token on both. The RNG is counter-based: draw `counter`
 * of stream `seed` is splitmix64(seed + (counter + 1) * 0x9e3779b97f4a7c15), its top 53 bits
 * as a double in [0, 1). The choice, at temperature T > 0 over candidates best first (larger
 * logit first, lower id on ties, NaN last): p_i = exp((v_i - v_0) / T) in double (0 for NaN),
 * the nucleus is the shortest prefix whose mass reaches top_p of the total, and the draw u
 * times that mass picks the first candidate whose running sum exceeds it. */
#ifndef HY_KERNELS_SAMPLE_H
#define HY_KERNELS_SAMPLE_H
#include <math.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

#if defined(__CUDACC__)
#define HY_SAMPLE_INLINE static inline __host__ __device__
#else
#define HY_SAMPLE_INLINE static inline
#endif

HY_SAMPLE_INLINE double hy_rng_uniform(uint64_t seed, uint64_t counter) {
    uint64_t z = seed + (counter + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* The position (0..n-1) the draw u in [0, 1) picks among n >= 1 ranked candidates ids (their
 * logits logits[ids[i]]); -1 when the best is NaN (every logit NaN). */
HY_SAMPLE_INLINE int hy_sample_ranked(const float *logits, const int32_t *ids, int n,
                                      float temperature, float top_p, double u) {
    const float v0 = logits[ids[0]];
    if (v0 != v0) return -1;
    const double inv_t = 1.0 / (double)temperature, top = (double)v0;
#define HY_SAMPLE_P(i)                                                                             \
    (logits[ids[i]] != logits[ids[i]] ? 0.0 : exp(((double)logits[ids[i]] - top) * inv_t))
    double total = 0.0;
    for (int i = 0; i < n; i++)
        total += HY_SAMPLE_P(i);
    int kept = n;
    double mass = 0.0;
    for (int i = 0; i < n; i++) {
        mass += HY_SAMPLE_P(i);
        if (mass >= (double)top_p * total) {
            kept = i + 1;
            break;
        }
    }
    const double x = u * mass;
    double acc = 0.0;
    for (int i = 0; i < kept; i++) {
        acc += HY_SAMPLE_P(i);
        if (x < acc) return i;
    }
#undef HY_SAMPLE_P
    return kept - 1;
}

#define HY_SAMPLE_MAX_K 1024

/* CUDA, one step of sampling for rows r < rows of logits (row r at logits + r * ld, V valid
 * values, ld >= V): cand/count are the top-k
 * of each row (topk.h with sink = window = 0: k ids ascending at cand + r * cand_stride), here
 * ranked best first and sampled with draw counters[r] of stream seed + r, which then counts
 * up; the token goes to tokens[r]. Temperature > 0, 1 <= k <= HY_SAMPLE_MAX_K, top_p in
 * (0, 1]. All pointers are device memory; stream is a cudaStream_t. */
hy_status hy_cuda_sample_rows(int32_t *tokens, const float *logits, int64_t ld, int64_t rows, int V,
                              const int32_t *cand, const int32_t *count, int64_t cand_stride, int k,
                              float temperature, float top_p, uint64_t seed, uint64_t *counters,
                              void *stream);

#ifdef __cplusplus
}
#endif
#endif
