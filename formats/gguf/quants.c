/* Scalar and 32-element block types: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 (layouts as ggml
 * defines them; docs/gguf.md draws them), the fp16/bf16 conversions, and the dispatchers
 * hy_ggml_dequantize / hy_ggml_quantize / hy_gguf_tensor_to_f32. Dequantisation evaluates
 * the same float expressions in the same order as ggml so results are bit-identical. */
#include "quants.h"
#include "hy_fp16.h"
#include "hy_gguf.h"

#include <math.h>
#include <string.h>

float hy_fp16_to_f32(uint16_t h) {
    return hy_fp16_decode(h);
}

uint16_t hy_f32_to_fp16(float f) {
    uint32_t x = hy_f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7e00 | (uint16_t)((ax >> 13) & 0x3ff);
    if (ax >= 0x477ff000u) return sign | 0x7c00; /* >= 65520 rounds to infinity */
    if (ax < 0x38800000u) {
        /* below the smallest normal (2^-14): the subnormal count is |f| * 2^24, rounded */
        float a = hy_bits_f32(ax) * 0x1p24f;
        return sign | (uint16_t)nearbyintf(a);
    }
    uint32_t h = (((ax >> 23) - 112) << 10) | ((ax >> 13) & 0x3ff);
    uint32_t rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* a carry may bump the exponent */
    return sign | (uint16_t)h;
}

void hy_dq_f16(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = hy_fp16_to_f32(hy_ld16(src + 2 * i));
}
void hy_dq_bf16(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = hy_bf16_to_f32(hy_ld16(src + 2 * i));
}
void hy_q_f16(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        hy_st16(dst + 2 * i, hy_f32_to_fp16(src[i]));
}
void hy_q_bf16(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        hy_st16(dst + 2 * i, hy_bf16_from_f32(src[i]));
}

/* Q8_0: fp16 d, then 32 int8; x = q * d. */
void hy_dq_q8_0(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, src += 34, dst += 32) {
        float d = hy_fp16_to_f32(hy_ld16(src));
        for (int j = 0; j < 32; j++)
            dst[j] = (float)(int8_t)src[2 + j] * d;
    }
}

/* Q4_0: fp16 d, then 16 bytes; byte j holds element j (low nibble) and j+16 (high);
 * x = (q - 8) * d. */
void hy_dq_q4_0(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, src += 18, dst += 32) {
        float d = hy_fp16_to_f32(hy_ld16(src));
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)((src[2 + j] & 0xf) - 8) * d;
            dst[j + 16] = (float)((src[2 + j] >> 4) - 8) * d;
        }
    }
}

/* Q4_1: fp16 d, fp16 m, then nibbles as Q4_0; x = q * d + m. */
void hy_dq_q4_1(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, src += 20, dst += 32) {
        float d = hy_fp16_to_f32(hy_ld16(src)), m = hy_fp16_to_f32(hy_ld16(src + 2));
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)(src[4 + j] & 0xf) * d + m;
            dst[j + 16] = (float)(src[4 + j] >> 4) * d + m;
        }
    }
}

/* Q5_0/Q5_1's fifth bits: a little-endian uint32 after the scale(s), bit i for element i. */
static uint32_t q5_high_bits(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Q5_0: fp16 d, 4 bytes of fifth bits, then nibbles as Q4_0; x = (q - 16) * d. */
void hy_dq_q5_0(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, src += 22, dst += 32) {
        float d = hy_fp16_to_f32(hy_ld16(src));
        uint32_t qh = q5_high_bits(src + 2);
        for (int j = 0; j < 16; j++) {
            int lo = (src[6 + j] & 0xf) | (int)((qh >> j) & 1) << 4;
            int hi = (src[6 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            dst[j] = d * (float)(lo - 16);
            dst[j + 16] = d * (float)(hi - 16);
        }
    }
}

/* Q5_1: fp16 d, fp16 m, 4 bytes of fifth bits, nibbles as Q4_0; x = q * d + m. */
void hy_dq_q5_1(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, src += 24, dst += 32) {
        float d = hy_fp16_to_f32(hy_ld16(src)), m = hy_fp16_to_f32(hy_ld16(src + 2));
        uint32_t qh = q5_high_bits(src + 4);
        for (int j = 0; j < 16; j++) {
            int lo = (src[8 + j] & 0xf) | (int)((qh >> j) & 1) << 4;
            int hi = (src[8 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            dst[j] = d * (float)lo + m;
            dst[j + 16] = d * (float)hi + m;
        }
    }
}

/* The element of a 32-block with the largest magnitude, its sign kept (first on ties): the
 * 4- and 5-bit formats map it exactly onto their most negative code. */
static float signed_extreme32(const float *x) {
    float ext = 0;
    for (int j = 0; j < 32; j++)
        if (fabsf(x[j]) > fabsf(ext)) ext = x[j];
    return ext;
}

static int clampi(long v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : (int)v;
}

void hy_q_q8_0(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, src += 32, dst += 34) {
        float amax = 0;
        for (int j = 0; j < 32; j++)
            amax = fmaxf(amax, fabsf(src[j]));
        uint16_t dh = hy_f32_to_fp16(amax / 127.0f);
        float d = hy_fp16_to_f32(dh);
        hy_st16(dst, dh);
        for (int j = 0; j < 32; j++)
            dst[2 + j] = (uint8_t)(int8_t)(d > 0 ? clampi(lroundf(src[j] / d), -128, 127) : 0);
    }
}

/* The scale is the signed extreme / -8 so that the extreme maps exactly onto q = 0. */
void hy_q_q4_0(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, src += 32, dst += 18) {
        const float ext = signed_extreme32(src);
        uint16_t dh = hy_f32_to_fp16(ext / -8.0f);
        float d = hy_fp16_to_f32(dh);
        hy_st16(dst, dh);
        for (int j = 0; j < 16; j++) {
            int lo = d != 0 ? clampi(lroundf(src[j] / d) + 8, 0, 15) : 8;
            int hi = d != 0 ? clampi(lroundf(src[j + 16] / d) + 8, 0, 15) : 8;
            dst[2 + j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

/* Q5_0 as hy_dq_q5_0 reads it: the extreme of the block maps to -16 (d = ext / -16), each
 * element to round(x / d) + 16 in 0..31, its fifth bit into the 32-bit mask. */
void hy_q_q5_0(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, src += 32, dst += 22) {
        const float ext = signed_extreme32(src);
        uint16_t dh = hy_f32_to_fp16(ext / -16.0f);
        float d = hy_fp16_to_f32(dh);
        hy_st16(dst, dh);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = d != 0 ? clampi(lroundf(src[j] / d) + 16, 0, 31) : 16;
            int hi = d != 0 ? clampi(lroundf(src[j + 16] / d) + 16, 0, 31) : 16;
            dst[6 + j] = (uint8_t)((lo & 0xf) | ((hi & 0xf) << 4));
            qh |= (uint32_t)(lo >> 4) << j | (uint32_t)(hi >> 4) << (j + 16);
        }
        for (int k = 0; k < 4; k++)
            dst[2 + k] = (uint8_t)(qh >> (8 * k));
    }
}

void hy_q_q4_1(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, src += 32, dst += 20) {
        float mn = src[0], mx = src[0];
        for (int j = 1; j < 32; j++) {
            mn = fminf(mn, src[j]);
            mx = fmaxf(mx, src[j]);
        }
        uint16_t dh = hy_f32_to_fp16((mx - mn) / 15.0f), mh = hy_f32_to_fp16(mn);
        float d = hy_fp16_to_f32(dh), m = hy_fp16_to_f32(mh);
        hy_st16(dst, dh);
        hy_st16(dst + 2, mh);
        for (int j = 0; j < 16; j++) {
            int lo = d > 0 ? clampi(lroundf((src[j] - m) / d), 0, 15) : 0;
            int hi = d > 0 ? clampi(lroundf((src[j + 16] - m) / d), 0, 15) : 0;
            dst[4 + j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

/* ---- dispatch ---- */

static hy_status check_n(hy_ggml_type t, int64_t n, const char *what) {
    if (!hy_ggml_type_supported(t))
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: type %s (id %d) is not supported (supported: F32, F16, "
                       "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)",
                       what, hy_ggml_type_name(t), (int)t);
    int64_t be = hy_ggml_block_elems(t);
    if (n < 0 || n % be)
        return hy_fail(HY_EINVAL,
                       "%s: %lld elements of %s, expected a non-negative multiple of %lld", what,
                       (long long)n, hy_ggml_type_name(t), (long long)be);
    return HY_OK;
}

hy_status hy_ggml_dequantize(hy_ggml_type t, const void *src, float *dst, int64_t n) {
    hy_status st = check_n(t, n, "dequantize");
    if (st) return st;
    if (n && (!src || !dst)) return hy_fail(HY_EINVAL, "dequantize: NULL buffer");
    const uint8_t *s = src;
    switch (t) {
    case HY_GGML_F32:
        if (n) memcpy(dst, s, (size_t)n * 4);
        break;
    case HY_GGML_F16:
        hy_dq_f16(s, dst, n);
        break;
    case HY_GGML_BF16:
        hy_dq_bf16(s, dst, n);
        break;
    case HY_GGML_Q8_0:
        hy_dq_q8_0(s, dst, n);
        break;
    case HY_GGML_Q4_0:
        hy_dq_q4_0(s, dst, n);
        break;
    case HY_GGML_Q4_1:
        hy_dq_q4_1(s, dst, n);
        break;
    case HY_GGML_Q5_0:
        hy_dq_q5_0(s, dst, n);
        break;
    case HY_GGML_Q5_1:
        hy_dq_q5_1(s, dst, n);
        break;
    case HY_GGML_Q4_K:
        hy_dq_q4_k(s, dst, n);
        break;
    case HY_GGML_Q5_K:
        hy_dq_q5_k(s, dst, n);
        break;
    case HY_GGML_Q6_K:
        hy_dq_q6_k(s, dst, n);
        break;
    }
    return HY_OK;
}

hy_status hy_ggml_quantize(hy_ggml_type t, const float *src, void *dst, int64_t n) {
    hy_status st = check_n(t, n, "quantize");
    if (st) return st;
    if (n && (!src || !dst)) return hy_fail(HY_EINVAL, "quantize: NULL buffer");
    uint8_t *d = dst;
    switch (t) {
    case HY_GGML_F32:
        if (n) memcpy(d, src, (size_t)n * 4);
        break;
    case HY_GGML_F16:
        hy_q_f16(src, d, n);
        break;
    case HY_GGML_BF16:
        hy_q_bf16(src, d, n);
        break;
    case HY_GGML_Q8_0:
        hy_q_q8_0(src, d, n);
        break;
    case HY_GGML_Q4_0:
        hy_q_q4_0(src, d, n);
        break;
    case HY_GGML_Q4_1:
        hy_q_q4_1(src, d, n);
        break;
    case HY_GGML_Q4_K:
        hy_q_q4_k(src, d, n);
        break;
    case HY_GGML_Q6_K:
        hy_q_q6_k(src, d, n);
        break;
    case HY_GGML_Q5_0:
        hy_q_q5_0(src, d, n);
        break;
    case HY_GGML_Q5_1:
    case HY_GGML_Q5_K:
        return hy_fail(HY_EUNSUPPORTED,
                       "quantize: type %s is read-only here (hylra dequantises it but has no "
                       "quantiser; expected F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q4_K or Q6_K)",
                       hy_ggml_type_name(t));
    }
    return HY_OK;
}

hy_status hy_gguf_tensor_to_f32(const hy_gguf_tensor *t, float *dst) {
    if (!t) return hy_fail(HY_EINVAL, "hy_gguf_tensor_to_f32: NULL tensor");
    hy_status st = hy_ggml_dequantize(t->type, t->data, dst, t->n_elements);
    if (st)
        return hy_fail_ctx(st, "tensor '%.*s'", (int)(t->name.len > 128 ? 128 : t->name.len),
                           t->name.ptr);
    return HY_OK;
}
