/* Portable half of qmatmul.h: activation preparation (hy_qact_quantize) and one dot product
 * per weight format, written in the order of the format's definition (docs/gguf.md draws the
 * blocks). Integer sums inside a block, one float multiply-add per block, as the AVX2 half
 * does, so the two differ only by float summation order. */
#include "hy_fp16.h"
#include "qdot_internal.h"
#include "qmatmul.h"

#include <math.h>
#include <string.h>

static uint16_t ld16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static float ldh(const uint8_t *p) {
    return hy_fp16_decode(ld16(p));
}

int hy_qtype_known(int t) {
    return hy_qtype_block_elems((hy_qtype)t) > 0;
}

int64_t hy_qtype_block_elems(hy_qtype t) {
    switch (t) {
    case HY_QT_F32:
    case HY_QT_F16:
    case HY_QT_BF16:
        return 1;
    case HY_QT_Q4_0:
    case HY_QT_Q4_1:
    case HY_QT_Q8_0:
        return 32;
    case HY_QT_Q4_K:
    case HY_QT_Q6_K:
        return 256;
    }
    return 0;
}

size_t hy_qtype_block_bytes(hy_qtype t) {
    switch (t) {
    case HY_QT_F32:
        return 4;
    case HY_QT_F16:
    case HY_QT_BF16:
        return 2;
    case HY_QT_Q4_0:
        return 18;
    case HY_QT_Q4_1:
        return 20;
    case HY_QT_Q8_0:
        return 34;
    case HY_QT_Q4_K:
        return 144;
    case HY_QT_Q6_K:
        return 210;
    }
    return 0;
}

size_t hy_qact_bytes(hy_qtype t, int64_t n) {
    switch (t) {
    case HY_QT_Q4_0:
    case HY_QT_Q4_1:
    case HY_QT_Q8_0:
        return (size_t)(n / 32) * sizeof(hy_q8_32);
    case HY_QT_Q4_K:
    case HY_QT_Q6_K:
        return (size_t)(n / 256) * sizeof(hy_q8_256);
    default:
        return (size_t)n * sizeof(float);
    }
}

/* d = max|x| / 127 so the largest element maps onto +-127; q = round(x / d). */
static float q8_scale(const float *x, int n, int8_t *q) {
    float amax = 0.0f;
    for (int i = 0; i < n; i++)
        amax = fmaxf(amax, fabsf(x[i]));
    const float d = amax / 127.0f, id = amax > 0.0f ? 127.0f / amax : 0.0f;
    for (int i = 0; i < n; i++)
        q[i] = (int8_t)lrintf(x[i] * id);
    return d;
}

void hy_qact_quantize(hy_qtype t, const float *x, int64_t n, void *dst) {
    if (t == HY_QT_Q4_0 || t == HY_QT_Q4_1 || t == HY_QT_Q8_0) {
        hy_q8_32 *b = dst;
        for (int64_t i = 0; i < n / 32; i++, x += 32) {
            b[i].d = q8_scale(x, 32, b[i].q);
            int sum = 0;
            for (int j = 0; j < 32; j++)
                sum += b[i].q[j];
            b[i].s = b[i].d * (float)sum;
        }
    } else if (t == HY_QT_Q4_K || t == HY_QT_Q6_K) {
        hy_q8_256 *b = dst;
        for (int64_t i = 0; i < n / 256; i++, x += 256) {
            b[i].d = q8_scale(x, 256, b[i].q);
            for (int j = 0; j < 16; j++) {
                int sum = 0;
                for (int l = 0; l < 16; l++)
                    sum += b[i].q[16 * j + l];
                b[i].bsum[j] = (int16_t)sum;
            }
        }
    } else {
        memcpy(dst, x, (size_t)n * sizeof(float));
    }
}

/* Q4_0 block: fp16 d, 16 bytes; byte j holds element j (low nibble) and j + 16 (high);
 * w = d (q - 8). */
static float dot_q4_0(const uint8_t *w, const hy_q8_32 *x, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++, w += 18) {
        int sum = 0;
        for (int j = 0; j < 16; j++)
            sum += ((w[2 + j] & 0xf) - 8) * x[b].q[j] + ((w[2 + j] >> 4) - 8) * x[b].q[j + 16];
        acc += ldh(w) * x[b].d * (float)sum;
    }
    return acc;
}

/* Q4_1 block: fp16 d, fp16 m, nibbles as Q4_0; w = d q + m, so w . x = d dx sum(q qx) + m s. */
static float dot_q4_1(const uint8_t *w, const hy_q8_32 *x, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++, w += 20) {
        int sum = 0;
        for (int j = 0; j < 16; j++)
            sum += (w[4 + j] & 0xf) * x[b].q[j] + (w[4 + j] >> 4) * x[b].q[j + 16];
        acc += ldh(w) * x[b].d * (float)sum + ldh(w + 2) * x[b].s;
    }
    return acc;
}

/* Q8_0 block: fp16 d, 32 int8; w = d q. */
static float dot_q8_0(const uint8_t *w, const hy_q8_32 *x, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++, w += 34) {
        int sum = 0;
        for (int j = 0; j < 32; j++)
            sum += (int8_t)w[2 + j] * x[b].q[j];
        acc += ldh(w) * x[b].d * (float)sum;
    }
    return acc;
}

void hy_q4k_scales(const uint8_t *s, uint8_t sc[8], uint8_t m[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        m[j] = s[j + 4] & 63;
        sc[j + 4] = (uint8_t)((s[j + 8] & 0xf) | ((s[j] >> 6) << 4));
        m[j + 4] = (uint8_t)((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
}

/* Q4_K super-block (144 bytes): fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins, 128
 * bytes of nibbles; chunk c's 32 bytes give sub-block 2c (low nibbles) and 2c + 1 (high).
 * w = d sc q - dmin m, so the minimums need only the activation's 16-element sums. */
static float dot_q4_k(const uint8_t *w, const hy_q8_256 *x, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++, w += 144) {
        uint8_t sc[8], m[8];
        hy_q4k_scales(w + 4, sc, m);
        const uint8_t *qs = w + 16;
        int sum = 0, msum = 0;
        for (int j = 0; j < 8; j++) {
            const int8_t *q = x[b].q + 32 * j;
            int s = 0;
            for (int l = 0; l < 32; l++)
                s += (j & 1 ? qs[32 * (j / 2) + l] >> 4 : qs[32 * (j / 2) + l] & 0xf) * q[l];
            sum += sc[j] * s;
            msum += m[j] * (x[b].bsum[2 * j] + x[b].bsum[2 * j + 1]);
        }
        acc += ldh(w) * x[b].d * (float)sum - ldh(w + 2) * x[b].d * (float)msum;
    }
    return acc;
}

/* Q6_K super-block (210 bytes): ql[128], qh[64], int8 scales[16], fp16 d. Element
 * i = 128h + 32s + l takes its low 4 bits from ql[64h + 32(s & 1) + l] (high nibble when
 * s >= 2) and its top 2 bits from qh[32h + l] >> 2s; w = d scales[i / 16] (q - 32). */
static float dot_q6_k(const uint8_t *w, const hy_q8_256 *x, int64_t nb) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++, w += 210) {
        const uint8_t *ql = w, *qh = w + 128;
        const int8_t *scales = (const int8_t *)(w + 192);
        int sum = 0;
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int e = 16 * g; e < 16 * g + 16; e++) {
                const int h = e / 128, sb = (e / 32) % 4, l = e % 32;
                const uint8_t lo = ql[64 * h + 32 * (sb & 1) + l];
                const int q =
                    ((sb >= 2 ? lo >> 4 : lo & 0xf) | (((qh[32 * h + l] >> (2 * sb)) & 3) << 4));
                s += (q - 32) * x[b].q[e];
            }
            sum += scales[g] * s;
        }
        acc += ldh(w + 208) * x[b].d * (float)sum;
    }
    return acc;
}

/* F16, BF16 and F32 rows against fp32 activations. */
static float dot_float(hy_qtype t, const uint8_t *w, const float *x, int64_t n) {
    float acc = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        float v;
        if (t == HY_QT_F32)
            memcpy(&v, w + 4 * i, sizeof v);
        else
            v = t == HY_QT_F16 ? ldh(w + 2 * i) : hy_bf16_to_f32(ld16(w + 2 * i));
        acc += v * x[i];
    }
    return acc;
}

float hy_qdot_scalar(hy_qtype t, const void *w, const void *xq, int64_t n) {
    static const hy_qdot_impl impl = {dot_q4_0, dot_q4_1, dot_q8_0, dot_q4_k, dot_q6_k, dot_float};
    return hy_qdot_with(&impl, t, w, xq, n);
}
