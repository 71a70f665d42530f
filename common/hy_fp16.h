/* IEEE half (fp16, stored as uint16_t) to float, exact for every input: one definition for
 * the GGUF codec (formats/gguf) and the quantized CPU kernels (kernels/qdot_*.c). */
#ifndef HY_FP16_H
#define HY_FP16_H
#include "hy_bf16.h"

static inline float hy_fp16_decode(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0) /* zero or subnormal: man * 2^-24, exact in fp32 */
        return hy_bits_f32(sign | hy_f32_bits((float)man * 0x1p-24f));
    if (exp == 31) return hy_bits_f32(sign | 0x7f800000u | (man << 13));
    return hy_bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

#endif
