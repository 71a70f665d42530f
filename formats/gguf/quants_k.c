/* 256-element "K" super-blocks: Q4_K (8 sub-blocks of 32, 6-bit scales and mins packed in 12
 * bytes), Q5_K (Q4_K plus a fifth bit plane) and Q6_K (16 sub-blocks of 16, int8 scales, 6-bit
 * values split 4+2 bits). Layouts as ggml defines them (docs/gguf.md draws them). The quantisers
 * are a simple per-block search, good enough for building test models, not ggml's error-minimising
 * one. */
#include "hy_gguf.h"
#include "quants.h"

#include <math.h>

/* Q4_K scale/min j (0..7) from the 12 packed bytes: j < 4 uses the low 6 bits of bytes j and
 * j+4; j >= 4 takes 4 low bits from byte j+4 and its top 2 bits from the spare high bits of
 * bytes j-4 (scale) and j (min). */
static void q4k_scale_min(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* Q4_K block (144 bytes): fp16 d, fp16 dmin, scales[12], qs[128]. The 64 elements of chunk c
 * come from qs[32c..32c+31]: low nibbles are sub-block 2c, high nibbles sub-block 2c+1.
 * x = (d * sc) * q - (dmin * m). */
void hy_dq_q4_k(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, src += 144, dst += 256) {
        float d = hy_fp16_to_f32(hy_ld16(src)), dmin = hy_fp16_to_f32(hy_ld16(src + 2));
        const uint8_t *scales = src + 4, *qs = src + 16;
        for (int c = 0; c < 4; c++) {
            int sc0, m0, sc1, m1;
            q4k_scale_min(scales, 2 * c, &sc0, &m0);
            q4k_scale_min(scales, 2 * c + 1, &sc1, &m1);
            float d0 = d * (float)sc0, mm0 = dmin * (float)m0;
            float d1 = d * (float)sc1, mm1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) {
                dst[64 * c + l] = d0 * (float)(qs[32 * c + l] & 0xf) - mm0;
                dst[64 * c + 32 + l] = d1 * (float)(qs[32 * c + l] >> 4) - mm1;
            }
        }
    }
}

/* Q5_K block (176 bytes): fp16 d, fp16 dmin, scales[12] packed as Q4_K's, qh[32], qs[128].
 * Low nibbles as Q4_K; the fifth bit of element l of sub-block s is bit s of qh[l].
 * x = (d * sc) * q - (dmin * m). */
void hy_dq_q5_k(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, src += 176, dst += 256) {
        float d = hy_fp16_to_f32(hy_ld16(src)), dmin = hy_fp16_to_f32(hy_ld16(src + 2));
        const uint8_t *scales = src + 4, *qh = src + 16, *qs = src + 48;
        for (int s = 0; s < 8; s++) {
            int sc, m;
            q4k_scale_min(scales, s, &sc, &m);
            const float ds = d * (float)sc, dm = dmin * (float)m;
            for (int l = 0; l < 32; l++) {
                const uint8_t byte = qs[32 * (s / 2) + l];
                const int q = (s & 1 ? byte >> 4 : byte & 0xf) | ((qh[l] >> s) & 1) << 4;
                dst[32 * s + l] = ds * (float)q - dm;
            }
        }
    }
}

/* Q6_K block (210 bytes): ql[128], qh[64], int8 scales[16], fp16 d. Element
 * i = 128h + 32s + l (h < 2, s < 4, l < 32) takes its low 4 bits from ql[64h + 32(s&1) + l]
 * (high nibble when s >= 2) and its top 2 bits from qh[32h + l] >> 2s;
 * x = (d * scales[i / 16]) * (q - 32). */
void hy_dq_q6_k(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, src += 210, dst += 256) {
        const uint8_t *ql = src, *qh = src + 128;
        const int8_t *scales = (const int8_t *)(src + 192);
        float d = hy_fp16_to_f32(hy_ld16(src + 208));
        for (int h = 0; h < 2; h++)
            for (int s = 0; s < 4; s++)
                for (int l = 0; l < 32; l++) {
                    int i = 128 * h + 32 * s + l;
                    uint8_t lo = ql[64 * h + 32 * (s & 1) + l];
                    int q4 = s >= 2 ? lo >> 4 : lo & 0xf;
                    int q2 = (qh[32 * h + l] >> (2 * s)) & 3;
                    float ds = d * (float)scales[i / 16];
                    dst[i] = ds * (float)((q4 | (q2 << 4)) - 32);
                }
    }
}

static int clampi(long v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : (int)v;
}

/* Each sub-block gets scale (max - min) / 15 and bias -min (min clamped to <= 0 because the
 * format subtracts a non-negative dmin * m); both are then coded as 6-bit multiples of the
 * fp16 super-block d and dmin. */
void hy_q_q4_k(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, src += 256, dst += 144) {
        float scale[8], bias[8], max_scale = 0, max_bias = 0;
        for (int j = 0; j < 8; j++) {
            float mn = 0, mx = 0;
            for (int l = 0; l < 32; l++) {
                mn = fminf(mn, src[32 * j + l]);
                mx = fmaxf(mx, src[32 * j + l]);
            }
            scale[j] = (mx - mn) / 15.0f;
            bias[j] = -mn;
            max_scale = fmaxf(max_scale, scale[j]);
            max_bias = fmaxf(max_bias, bias[j]);
        }
        uint16_t dh = hy_f32_to_fp16(max_scale / 63.0f), mh = hy_f32_to_fp16(max_bias / 63.0f);
        float d = hy_fp16_to_f32(dh), dmin = hy_fp16_to_f32(mh);
        hy_st16(dst, dh);
        hy_st16(dst + 2, mh);
        int sc[8], m[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = d > 0 ? clampi(lroundf(scale[j] / d), 0, 63) : 0;
            m[j] = dmin > 0 ? clampi(lroundf(bias[j] / dmin), 0, 63) : 0;
        }
        uint8_t *s = dst + 4, *qs = dst + 16;
        for (int j = 0; j < 4; j++) {
            s[j] = (uint8_t)(sc[j] | ((sc[j + 4] >> 4) << 6));
            s[j + 4] = (uint8_t)(m[j] | ((m[j + 4] >> 4) << 6));
            s[j + 8] = (uint8_t)((sc[j + 4] & 0xf) | ((m[j + 4] & 0xf) << 4));
        }
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                int q[2];
                for (int k = 0; k < 2; k++) {
                    int j = 2 * c + k;
                    float ds = d * (float)sc[j], mm = dmin * (float)m[j];
                    q[k] = ds > 0 ? clampi(lroundf((src[32 * j + l] + mm) / ds), 0, 15) : 0;
                }
                qs[32 * c + l] = (uint8_t)(q[0] | (q[1] << 4));
            }
    }
}

/* Each 16-element sub-block gets scale amax / 31 (values -31..31 of the -32..31 range),
 * coded as an int8 multiple of the fp16 super-block d. */
void hy_q_q6_k(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++, src += 256, dst += 210) {
        float scale[16], max_scale = 0;
        for (int j = 0; j < 16; j++) {
            float amax = 0;
            for (int l = 0; l < 16; l++)
                amax = fmaxf(amax, fabsf(src[16 * j + l]));
            scale[j] = amax / 31.0f;
            max_scale = fmaxf(max_scale, scale[j]);
        }
        uint16_t dh = hy_f32_to_fp16(max_scale / 127.0f);
        float d = hy_fp16_to_f32(dh);
        uint8_t *ql = dst, *qh = dst + 128;
        int8_t *scales = (int8_t *)(dst + 192);
        hy_st16(dst + 208, dh);
        for (int j = 0; j < 16; j++)
            scales[j] = (int8_t)(d > 0 ? clampi(lroundf(scale[j] / d), 0, 127) : 0);
        for (int i = 0; i < 128; i++)
            ql[i] = 0;
        for (int i = 0; i < 64; i++)
            qh[i] = 0;
        for (int h = 0; h < 2; h++)
            for (int s = 0; s < 4; s++)
                for (int l = 0; l < 32; l++) {
                    int i = 128 * h + 32 * s + l;
                    float ds = d * (float)scales[i / 16];
                    int q = (ds > 0 ? clampi(lroundf(src[i] / ds), -32, 31) : 0) + 32;
                    ql[64 * h + 32 * (s & 1) + l] |= (uint8_t)((q & 0xf) << (s >= 2 ? 4 : 0));
                    qh[32 * h + l] |= (uint8_t)((q >> 4) << (2 * s));
                }
    }
}
