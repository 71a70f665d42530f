/* Embedding gather, CPU reference and the CPU runtime's implementation (contract in
 * embedding.h). Ids were validated by the caller. */
#include "embedding.h"

#include <string.h>

void hy_embedding_f32(float *out, const float *table, int64_t d, const int32_t *ids,
                      int64_t n_tok) {
    for (int64_t t = 0; t < n_tok; t++)
        memcpy(out + t * d, table + (int64_t)ids[t] * d, (size_t)d * sizeof(float));
}

void hy_embedding_bf16(float *out, const uint16_t *table, int64_t d, const int32_t *ids,
                       int64_t n_tok, float scale) {
    for (int64_t t = 0; t < n_tok; t++) {
        const uint16_t *row = table + (int64_t)ids[t] * d;
        for (int64_t i = 0; i < d; i++) {
            const uint32_t u = (uint32_t)row[i] << 16;
            float v;
            memcpy(&v, &u, sizeof u);
            out[t * d + i] = v * scale;
        }
    }
}
