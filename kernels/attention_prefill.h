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
#include <stdint.h>
void hy_attn_prefill_f32(float *out, int64_t out_stride, const float *q, int64_t q_stride,
                         const float *k, const float *v, int64_t n_q, int64_t pos0, int n_heads,
                         int n_kv_heads, int d, int64_t kv_cap, float scale);
#endif
