/* Embedding gather contract (CPU reference in embedding.c, CUDA in embedding.cu):
 * out[t][:] = table[ids[t]][:] for t < n_tok, rows of d floats. Ids are validated by the
 * caller (the runtime checks 0 <= id < n_vocab before any kernel runs). */
#ifndef HY_KERNELS_EMBEDDING_H
#define HY_KERNELS_EMBEDDING_H
#include <stdint.h>
void hy_embedding_f32(float *out, const float *table, int64_t d, const int32_t *ids, int64_t n_tok);
/* The same from a bf16 table (uint16_t, the CUDA runtime's weights), widened exactly to fp32
 * and multiplied by scale in float (1: the plain gather; sqrt(d_model): Gemma 3). */
void hy_embedding_bf16(float *out, const uint16_t *table, int64_t d, const int32_t *ids,
                       int64_t n_tok, float scale);
#endif
