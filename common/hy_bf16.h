/* bfloat16 (stored as uint16_t: the top half of an IEEE float) conversions, one definition
 * for the GGUF codec, the kernels' CPU references and their CUDA versions (host and device
 * under nvcc), so a float rounds to the same bits everywhere. */
#ifndef HY_BF16_H
#define HY_BF16_H
#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__)
#define HY_BF16_INLINE static inline __host__ __device__
#else
#define HY_BF16_INLINE static inline
#endif

/* Round to nearest even. NaN becomes the quiet NaN 0x7fc0 with x's sign (truncating a
 * signalling NaN whose payload sits in the low half would give infinity); overflow past the
 * largest bf16 rounds to infinity as IEEE rounding does. */
/* A float's IEEE bits and back (what the conversions below and the half-float codec work on). */
HY_BF16_INLINE uint32_t hy_f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
HY_BF16_INLINE float hy_bits_f32(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

HY_BF16_INLINE uint16_t hy_bf16_from_f32(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)(((u >> 16) & 0x8000u) | 0x7fc0u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

HY_BF16_INLINE float hy_bf16_to_f32(uint16_t b) {
    const uint32_t u = (uint32_t)b << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#endif
