/* Dense decode attention (one new query per sequence), GQA, over a batch of sequences of
 * different lengths. CPU reference in attention_decode.c (fp32, loops in the order of the
 * math); CUDA split-KV flash-decoding in attention_decode.cu (bf16/fp16 KV, fp32 math).
 * Optionally emits the GQA-aggregated scores a `select` unit ranks: for each KV head g and
 * token j, the sum over g's query heads of the post-softmax probability of j. */
#ifndef HY_KERNELS_ATTENTION_DECODE_H
#define HY_KERNELS_ATTENTION_DECODE_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

typedef enum { HY_KV_F32 = 0, HY_KV_F16 = 1, HY_KV_BF16 = 2 } hy_kv_dtype;

/* What a unit (sequence, KV head) does in a decode or sparse attention call. DENSE attends to
 * all lens[b] tokens, SPARSE (attention_sparse.h only) to its index set; SKIP is not computed
 * at all: its out rows (and score rows) are left untouched, for units another launch serves. */
typedef enum { HY_UNIT_DENSE = 0, HY_UNIT_SPARSE = 1, HY_UNIT_SKIP = 2 } hy_kernel_unit_mode;

/* Shapes shared by decode and sparse attention.
 *   q, out  [batch][n_heads][head_dim]; query head h reads KV head h / (n_heads / n_kv_heads)
 *   k, v    sequence b starts at b * seq_stride elements; inside, [n_kv_heads][kv_cap][head_dim]
 *           (head-major, the runtime's cache layout); tokens 0..lens[b]-1 are valid. */
typedef struct {
    int batch, n_heads, n_kv_heads, head_dim;
    int64_t kv_cap;
    int64_t seq_stride;
    float scale; /* usually 1/sqrt(head_dim) */
    /* > 0: a sliding-window layer (Gemma 3): a DENSE unit of sequence b attends to its last
     * `window` tokens, [lens[b] - window, lens[b]) (all when lens[b] <= window); scores are
     * not offered then, and SPARSE units attend to their sets as given. 0: every token. */
    int64_t window;
} hy_attn_shape;

/* Checks a shape and lengths (1 <= lens[b] <= kv_cap, GQA divides, strides large enough). */
hy_status hy_attn_shape_check(const hy_attn_shape *s, const int32_t *lens);

/* CPU reference. scores may be NULL; else scores[(b * n_kv_heads + g) * score_stride + j]
 * for j < lens[b] is written (the rest untouched). */
hy_status hy_attn_decode_f32(float *out, float *scores, int64_t score_stride, const float *q,
                             const float *k, const float *v, const int32_t *lens,
                             const hy_attn_shape *s);

/* hy_attn_decode_f32 with a mode per KV head: modes[g] (host, n_kv_heads entries) is
 * HY_UNIT_DENSE or HY_UNIT_SKIP for every sequence; NULL = all dense. Skipped units write
 * neither out nor scores. hy_attn_decode_f32 is the modes == NULL case. */
hy_status hy_attn_decode_units_f32(float *out, float *scores, int64_t score_stride, const float *q,
                                   const float *k, const float *v, const int32_t *lens,
                                   const hy_attn_shape *s, const uint8_t *modes);

/* CUDA. One workspace serves decode and sparse calls up to max_tokens tokens (or gathered
 * tokens) per unit; created once per shape, reused every step (it owns split partials,
 * per-unit counters that each launch leaves zeroed, and the logits that scores need). */
typedef struct hy_cuda_attn_ws hy_cuda_attn_ws;
hy_status hy_cuda_attn_ws_create(hy_cuda_attn_ws **ws, const hy_attn_shape *s, int64_t max_tokens,
                                 int with_scores);
void hy_cuda_attn_ws_free(hy_cuda_attn_ws *ws);

/* All pointers are device memory except s and ws; lens is int32 on the device and max_len
 * (host) bounds it. q and out are fp32; k and v of dtype dt. stream is a cudaStream_t. */
hy_status hy_cuda_attn_decode(float *out, float *scores, int64_t score_stride, const float *q,
                              const void *k, const void *v, hy_kv_dtype dt, const int32_t *lens,
                              int64_t max_len, const hy_attn_shape *s, hy_cuda_attn_ws *ws,
                              void *stream);
/* With modes as hy_attn_decode_units_f32 (host array; NULL = all dense, which is
 * hy_cuda_attn_decode). The blocks of a skipped unit return at once, before touching the
 * workspace; a call whose units all skip launches nothing. With modes, at most 64 KV heads. */
hy_status hy_cuda_attn_decode_units(float *out, float *scores, int64_t score_stride, const float *q,
                                    const void *k, const void *v, hy_kv_dtype dt,
                                    const int32_t *lens, int64_t max_len, const hy_attn_shape *s,
                                    const uint8_t *modes, hy_cuda_attn_ws *ws, void *stream);

/* The `score` selector (issue 12): scores as hy_cuda_attn_decode_units writes them, from the
 * keys alone: no V is read and no output written (the same logits, so the same top-k as a
 * select unit's). modes as there; ws needs logits. CPU reference: hy_attn_decode_units_f32's
 * scores (which the V pass does not change). */
hy_status hy_cuda_attn_key_scores(float *scores, int64_t score_stride, const float *q,
                                  const void *k, hy_kv_dtype dt, const int32_t *lens,
                                  int64_t max_len, const hy_attn_shape *s, const uint8_t *modes,
                                  hy_cuda_attn_ws *ws, void *stream);

#ifdef __cplusplus
}
#endif
#endif
