/* The step after the QKV projection in a decode or prefill layer of the CUDA runtime: RoPE on
 * q and k, q kept in fp32 for attention, k and v rounded to bf16 and written into the KV
 * cache at each token's (sequence, position); plus the per-step bookkeeping of positions and
 * lengths. CPU reference in qkv_store.c, CUDA in qkv_store.cu. */
#ifndef HY_KERNELS_QKV_STORE_H
#define HY_KERNELS_QKV_STORE_H
#include <stdint.h>

#include "rope.h"
#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

typedef struct {
    int n_heads, n_kv_heads, head_dim;
    int64_t kv_cap;        /* token slots per (sequence, KV head) */
    int64_t seq_stride;    /* elements between sequences in the cache; inside:
                              [n_kv_heads][kv_cap][head_dim] (attention_decode.h's layout) */
    float theta;           /* RoPE base */
    hy_rope_layout layout; /* rope.h */
} hy_qkv_shape;

/* qkv: n_tok rows of row_stride floats, each [q heads | k heads | v heads] (n_heads*D,
 * n_kv*D, n_kv*D; D = head_dim, even, at most 1024). For token t:
 *   q_out[t][h][d] (contiguous [n_tok][n_heads*D], fp32) = RoPE(q at pos[t]);
 *   k_cache[seq[t]*seq_stride + (g*kv_cap + pos[t])*D + d] = bf16(RoPE(k at pos[t]));
 *   v_cache at the same place = bf16(v).
 * RoPE as rope.h (both layouts), the angle pos * theta^(-2p/D) in double and its cos and sin
 * rounded to float, as hy_rope_f32 does, so long positions stay accurate. The caller keeps
 * seq[t] within the cache (it has no sequence count to check against). The CPU version
 * returns HY_ERANGE naming t when pos[t] is outside [0, kv_cap) or seq[t] < 0, before writing
 * anything; the CUDA version (seq and pos in device memory) skips such rows, never writing
 * out of bounds. */
hy_status hy_qkv_rope_store(float *q_out, uint16_t *k_cache, uint16_t *v_cache, const float *qkv,
                            int64_t row_stride, int64_t n_tok, const int32_t *seq,
                            const int32_t *pos, const hy_qkv_shape *s);
hy_status hy_cuda_qkv_rope_store(float *q_out, uint16_t *k_cache, uint16_t *v_cache,
                                 const float *qkv, int64_t row_stride, int64_t n_tok,
                                 const int32_t *seq, const int32_t *pos, const hy_qkv_shape *s,
                                 void *stream);

/* What some architectures do to the projected row before RoPE (arch.h): add a bias to the
 * whole row (Qwen2), then RMSNorm each Q head with q_norm and each K head with k_norm
 * (Qwen3, Gemma 3), in place on qkv's n_tok rows (layout as above; V is biased, never
 * normed). RMSNorm as rmsnorm.h over head_dim values (the CPU sums squares in double, the
 * CUDA version in float). bias or the norm pair may be NULL (the pair both or neither); with
 * neither the call does nothing. */
typedef struct {
    int n_heads, n_kv_heads, head_dim;
    const float *bias;            /* [(n_heads + 2 n_kv_heads) * head_dim] or NULL */
    const float *q_norm, *k_norm; /* [head_dim] each, or both NULL */
    float eps;
} hy_qkv_extras;
hy_status hy_qkv_extras_f32(float *qkv, int64_t row_stride, int64_t n_tok, const hy_qkv_extras *e);
hy_status hy_cuda_qkv_extras_f32(float *qkv, int64_t row_stride, int64_t n_tok,
                                 const hy_qkv_extras *e, void *stream);
/* The argument check both versions run first (who names the caller in the message). */
hy_status hy_qkv_extras_check(const hy_qkv_extras *e, int64_t row_stride, int64_t n_tok,
                              const char *who);

/* The bookkeeping of one decode step: pos[i] = lens[i]; lens[i] += 1 (i < n). The CUDA
 * version works on device arrays, so a captured decode step advances itself. */
hy_status hy_seq_advance(int32_t *pos, int32_t *lens, int n);
hy_status hy_cuda_seq_advance(int32_t *pos, int32_t *lens, int n, void *stream);

#ifdef __cplusplus
}
#endif
#endif
