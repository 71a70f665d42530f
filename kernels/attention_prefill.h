/* Causal prefill attention contract for one sequence, GQA (CPU reference in
 * attention_prefill.c, CUDA flash-style in attention_prefill.cu).
 *   q   [n_q][n_heads * d], row stride q_stride floats; query i sits at position pos0 + i
 *   k,v [n_kv_heads][kv_cap][d] head-major cache of this sequence and layer; keys 0..pos0+n_q-1
 *       are valid
 *   out [n_q][n_heads * d], row stride out_stride
 * Query head h uses KV head h / (n_heads / n_kv_heads); query i attends keys j <= pos0 + i;
 * softmax(scale * q.k) with the row max subtracted. Decode is the case n_q = 1. */
#ifndef HY_KERNELS_ATTENTION_PREFILL_H
#define HY_KERNELS_ATTENTION_PREFILL_H
#include "hy_common.h"

#include <stdint.h>
void hy_attn_prefill_f32(float *out, int64_t out_stride, const float *q, int64_t q_stride,
                         const float *k, const float *v, int64_t n_q, int64_t pos0, int n_heads,
                         int n_kv_heads, int d, int64_t kv_cap, float scale);

/* The same contract with Q, K, V and the chunk probabilities rounded to bf16 and both
 * products on AMX tiles in fp32 (attention_prefill_bf16.c, kernels/bf16_gemm.h): for the CPU
 * runtime's prefill on native weights, where the fp32 kernel's two sgemms were most of a
 * long prefill. Only where hy_attn_prefill_bf16_usable(d, group) (AMX present, d a multiple
 * of 32 up to 256); otherwise HY_EINVAL. HY_ENOMEM when its packs (2 x keys x d bf16) do not
 * fit. Worth it for blocks of queries, not for one. */
int hy_attn_prefill_bf16_usable(int d, int g);
hy_status hy_attn_prefill_bf16(float *out, int64_t out_stride, const float *q, int64_t q_stride,
                               const float *k, const float *v, int64_t n_q, int64_t pos0,
                               int n_heads, int n_kv_heads, int d, int64_t kv_cap, float scale);

/* Split-KV decode, for balancing a decode step whose KV heads are fewer than the threads:
 * one piece is the g query heads of one KV group (q: g rows of d floats, contiguous) against
 * keys and values rows 0..n_keys-1 of k and v (pointers already at the piece's first key; all
 * visible). It writes the unnormalised accumulator o[g][d] = sum_j exp(s_j - m) v_j, the row
 * maxima m[g] and sums l[g] (s_j = scale q.k_j). Needs g <= 8 and d <= 256. */
void hy_attn_decode_part_f32(float *o, float *m, float *l, const float *q, const float *k,
                             const float *v, int64_t n_keys, int g, int d, float scale);
/* Merges n_parts pieces (o [part][g][d], m and l [part][g]) into out (row h at out + h d):
 * the softmax over all the pieces' keys. */
void hy_attn_decode_merge_f32(float *out, const float *o, const float *m, const float *l,
                              int n_parts, int g, int d);
#endif
