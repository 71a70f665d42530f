/* Per-type block codecs behind hy_ggml_dequantize / hy_ggml_quantize, and the fp16/bf16
 * conversions they share. n is always a whole number of blocks (checked by the caller);
 * block bytes are read byte-wise so src/dst need no alignment. Internal to formats/gguf. */
#ifndef HY_GGUF_QUANTS_H
#define HY_GGUF_QUANTS_H

#include <stdint.h>

#include "hy_bf16.h"

float hy_fp16_to_f32(uint16_t h);
uint16_t hy_f32_to_fp16(float f); /* round to nearest even, NaN kept quiet */
/* bf16: common/hy_bf16.h */

void hy_dq_f16(const uint8_t *src, float *dst, int64_t n);
void hy_dq_bf16(const uint8_t *src, float *dst, int64_t n);
void hy_dq_q8_0(const uint8_t *src, float *dst, int64_t n);
void hy_dq_q4_0(const uint8_t *src, float *dst, int64_t n);
void hy_dq_q4_1(const uint8_t *src, float *dst, int64_t n);
void hy_dq_q5_0(const uint8_t *src, float *dst, int64_t n);
void hy_dq_q5_1(const uint8_t *src, float *dst, int64_t n);
void hy_dq_q5_k(const uint8_t *src, float *dst, int64_t n);
void hy_dq_q4_k(const uint8_t *src, float *dst, int64_t n);
void hy_dq_q6_k(const uint8_t *src, float *dst, int64_t n);

void hy_q_f16(const float *src, uint8_t *dst, int64_t n);
void hy_q_bf16(const float *src, uint8_t *dst, int64_t n);
void hy_q_q8_0(const float *src, uint8_t *dst, int64_t n);
void hy_q_q4_0(const float *src, uint8_t *dst, int64_t n);
void hy_q_q4_1(const float *src, uint8_t *dst, int64_t n);
void hy_q_q5_0(const float *src, uint8_t *dst, int64_t n);
void hy_q_q4_k(const float *src, uint8_t *dst, int64_t n);
void hy_q_q6_k(const float *src, uint8_t *dst, int64_t n);

static inline void hy_st16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline uint16_t hy_ld16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

#endif
