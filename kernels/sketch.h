/* Key sketches for cheap selection (issue 12's `sketch` selectors): each key of a (token,
 * KV head) row is quantised symmetrically with one scale, qmax = 127 (8 bits) or 7 (4 bits):
 * scale = max_c |k_c| / qmax (0 for an all-zero key), kq_c = round-half-away(k_c / scale)
 * clamped to [-qmax, qmax]. Scores rank tokens as a select unit does, from the sketch instead
 * of the keys: logit_h(t) = s * kscale_t * (q_h . kq_t) for each query head h of the group,
 * softmax over t per head, summed over the heads. CPU reference here (sketch.c); the CUDA
 * kernels (sketch.cu) keep these values on the bf16 cache, with int4 codes two to a byte. */
#ifndef HY_KERNELS_SKETCH_H
#define HY_KERNELS_SKETCH_H
#include <stdint.h>

#include "attention_decode.h"

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

/* CUDA. The sketch store of cache rows r = b * n_kv_heads + g (attention_decode.h's layout):
 * codes at sk + r * row_cap * B with B = D bytes a token (8 bits) or D / 2 (4 bits: channel 2i
 * in the low nibble of byte i, 2i + 1 in the high, two's complement), scales at
 * sks + r * row_cap. The fold quantises row r's keys [folded[r], n_r) from the bf16 cache as
 * hy_sketch_quantize does their fp32 values (exactly: the same float operations); the scores
 * then write scores[r * score_stride + t], t < n_r, as hy_sketch_scores, and set
 * folded[r] = n_r (so no fold block reads a value another changes). modes as
 * hy_cuda_attn_decode_units' (host, NULL = all): skipped rows are neither folded, scored nor
 * marked. row_cap >= kv_cap; ws needs logits (its logits and maxima are overwritten). */
hy_status hy_cuda_sketch_fold(uint8_t *sk, float *sks, int64_t row_cap, const int32_t *folded,
                              const uint16_t *k, const int32_t *lens, int64_t max_len,
                              const hy_attn_shape *s, const uint8_t *modes, int bits, void *stream);
hy_status hy_cuda_sketch_scores(float *scores, int64_t score_stride, int32_t *folded,
                                const float *q, const uint8_t *sk, const float *sks,
                                int64_t row_cap, const int32_t *lens, int64_t max_len,
                                const hy_attn_shape *s, const uint8_t *modes, int bits,
                                hy_cuda_attn_ws *ws, void *stream);

#ifdef __cplusplus
}
#endif
#endif
