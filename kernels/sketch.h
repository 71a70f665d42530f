/* Key sketches for cheap selection (issue 12's `sketch` selectors): each key of a (token,
 * KV head) row is quantised symmetrically with one scale, qmax = 127 (8 bits) or 7 (4 bits):
 * scale = max_c |k_c| / qmax (0 for an all-zero key), kq_c = round-half-away(k_c / scale)
 * clamped to [-qmax, qmax]. Scores rank tokens as a select unit does, from the sketch instead
 * of the keys: logit_h(t) = s * kscale_t * (q_h . kq_t) for each query head h of the group,
 * softmax over t per head, summed over the heads. CPU reference here (sketch.c); the CUDA
 * kernels (int4 packed two to a byte) are issue 12's GPU part and keep these values. */
#ifndef HY_KERNELS_SKETCH_H
#define HY_KERNELS_SKETCH_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

/* k [n][D] fp32 -> kq [n][D] (one value per int8, also for 4 bits), kscale [n]. */
hy_status hy_sketch_quantize(int8_t *kq, float *kscale, const float *k, int64_t n, int D, int bits);
/* psum[t], t < n: the group's summed softmax probabilities of the sketch logits; q [G][D];
 * scale as the attention's (1/sqrt(D)). Sums in double. n == 0 writes nothing. */
hy_status hy_sketch_scores(float *psum, const float *q, int G, const int8_t *kq,
                           const float *kscale, int64_t n, int D, float scale);

#ifdef __cplusplus
}
#endif
#endif
