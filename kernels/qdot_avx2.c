/* AVX2/FMA/F16C half of qmatmul.h. Every function carries a target attribute, so the file
 * builds without -mavx2 and runs only when hy_qdot_avx2_usable() said the CPU has them.
 * Idea: 32 weights per step expanded to bytes, multiplied with the int8 activations by
 * maddubs (unsigned x signed -> int16 pairs) and madd (-> int32), one float FMA per block
 * with the product of the two scales. Bound: the weight bytes (decode reads each once). */
#include "qdot_internal.h"
#include "qmatmul.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define HY_AVX2 __attribute__((target("avx2,fma,f16c")))
/* Bytes ahead to prefetch in the weight stream: without it a row streamed from DRAM ran at
 * under half the rate of one in cache (the hardware prefetcher restarts at every row). */
#ifndef PREFETCH
#define PREFETCH 4096
#endif

int hy_qdot_avx2_usable(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
}

/* one fp16 scale through F16C (the portable decode branches and costs as much as a block) */
HY_AVX2 static inline float ldh(const uint8_t *p) {
    return _cvtsh_ss((unsigned short)(p[0] | (p[1] << 8)));
}

HY_AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 16 bytes of nibbles -> 32 bytes: low nibbles in the low lane (elements 0..15), high in the
 * high lane (16..31), the Q4_0/Q4_1 element order. */
HY_AVX2 static inline __m256i nibbles(const uint8_t *p) {
    const __m128i t = _mm_loadu_si128((const __m128i *)p);
    const __m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

/* sum of u[i] * s[i] (u unsigned < 128 or |products| small enough for int16 pairs) as 8
 * int32 lanes. */
HY_AVX2 static inline __m256i dot_us(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

HY_AVX2 static float dot_q4_0(const uint8_t *w, const hy_q8_32 *x, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    float off = 0.0f; /* the -8 of every weight: -8 d sum(x) */
    for (int64_t b = 0; b < nb; b++, w += 18) {
        _mm_prefetch((const char *)w + PREFETCH, _MM_HINT_T0);
        const float dw = ldh(w);
        const __m256i q = _mm256_loadu_si256((const __m256i *)x[b].q);
        const __m256 p = _mm256_cvtepi32_ps(dot_us(nibbles(w + 2), q));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * x[b].d), p, acc);
        off += dw * x[b].s;
    }
    return hsum(acc) - 8.0f * off;
}

HY_AVX2 static float dot_q4_1(const uint8_t *w, const hy_q8_32 *x, int64_t nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0.0f;
    int64_t b = 0;
    /* two blocks per step: two independent FMA chains */
    for (; b + 1 < nb; b += 2, w += 40) {
        _mm_prefetch((const char *)w + PREFETCH, _MM_HINT_T0);
        const __m256i q0 = _mm256_loadu_si256((const __m256i *)x[b].q);
        const __m256i q1 = _mm256_loadu_si256((const __m256i *)x[b + 1].q);
        const __m256 p0 = _mm256_cvtepi32_ps(dot_us(nibbles(w + 4), q0));
        const __m256 p1 = _mm256_cvtepi32_ps(dot_us(nibbles(w + 24), q1));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(ldh(w) * x[b].d), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(ldh(w + 20) * x[b + 1].d), p1, acc1);
        mins += ldh(w + 2) * x[b].s + ldh(w + 22) * x[b + 1].s;
    }
    for (; b < nb; b++, w += 20) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)x[b].q);
        const __m256 p = _mm256_cvtepi32_ps(dot_us(nibbles(w + 4), q));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(ldh(w) * x[b].d), p, acc0);
        mins += ldh(w + 2) * x[b].s;
    }
    return hsum(_mm256_add_ps(acc0, acc1)) + mins;
}

HY_AVX2 static float dot_q8_0(const uint8_t *w, const hy_q8_32 *x, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, w += 34) {
        _mm_prefetch((const char *)w + PREFETCH, _MM_HINT_T0);
        const __m256i wq = _mm256_loadu_si256((const __m256i *)(w + 2));
        const __m256i q = _mm256_loadu_si256((const __m256i *)x[b].q);
        /* maddubs wants an unsigned operand: |w| times x with w's sign */
        const __m256 p =
            _mm256_cvtepi32_ps(dot_us(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(q, wq)));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(ldh(w) * x[b].d), p, acc);
    }
    return hsum(acc);
}

HY_AVX2 static float dot_q4_k(const uint8_t *w, const hy_q8_256 *x, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    float mins = 0.0f;
    const __m256i lo4 = _mm256_set1_epi8(0x0f);
    for (int64_t b = 0; b < nb; b++, w += 144) {
        for (int k = 0; k < 144; k += 64)
            _mm_prefetch((const char *)w + PREFETCH + k, _MM_HINT_T0);
        uint8_t sc[8], m[8];
        hy_q4k_scales(w + 4, sc, m);
        int msum = 0;
        for (int j = 0; j < 8; j++)
            msum += m[j] * (x[b].bsum[2 * j] + x[b].bsum[2 * j + 1]);
        mins += ldh(w + 2) * x[b].d * (float)msum;
        __m256i sum = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i qs = _mm256_loadu_si256((const __m256i *)(w + 16 + 32 * c));
            const __m256i q0 = _mm256_loadu_si256((const __m256i *)(x[b].q + 64 * c));
            const __m256i q1 = _mm256_loadu_si256((const __m256i *)(x[b].q + 64 * c + 32));
            const __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(qs, lo4), q0);
            const __m256i p1 =
                _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qs, 4), lo4), q1);
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p0, _mm256_set1_epi16(sc[2 * c])));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * c + 1])));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(ldh(w) * x[b].d), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum(acc) - mins;
}

HY_AVX2 static float dot_q6_k(const uint8_t *w, const hy_q8_256 *x, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i lo4 = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3);
    const __m256i k32 = _mm256_set1_epi8(32);
    for (int64_t b = 0; b < nb; b++, w += 210) {
        for (int k = 0; k < 210; k += 64)
            _mm_prefetch((const char *)w + PREFETCH + k, _MM_HINT_T0);
        const uint8_t *ql = w, *qh = w + 128;
        const int8_t *scales = (const int8_t *)(w + 192);
        __m256i sum = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)(ql + 64 * h));
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 64 * h + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)(qh + 32 * h));
            for (int s = 0; s < 4; s++) {
                const __m256i l = s & 1 ? l1 : l0;
                const __m256i low = _mm256_and_si256(s >= 2 ? _mm256_srli_epi16(l, 4) : l, lo4);
                /* shifts by a variable count: 0, 2, 4, 6 */
                const __m256i high =
                    _mm256_and_si256(_mm256_srl_epi16(hb, _mm_cvtsi32_si128(2 * s)), three);
                const __m256i q6 = _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
                const int e = 128 * h + 32 * s;
                const __m256i qx = _mm256_loadu_si256((const __m256i *)(x[b].q + e));
                /* (q - 32) x = q x - 32 x, each in int16 pairs without overflow */
                const __m256i p =
                    _mm256_sub_epi16(_mm256_maddubs_epi16(q6, qx), _mm256_maddubs_epi16(k32, qx));
                const __m256i scv = _mm256_set_m128i(_mm_set1_epi16(scales[e / 16 + 1]),
                                                     _mm_set1_epi16(scales[e / 16]));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, scv));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(ldh(w + 208) * x[b].d), _mm256_cvtepi32_ps(sum), acc);
    }
    return hsum(acc);
}

/* fp32-activation formats: 16 weights per step widened to fp32, two FMA chains. */
HY_AVX2 static inline __m256 widen(hy_qtype t, const uint8_t *w) {
    const __m128i h = _mm_loadu_si128((const __m128i *)w);
    if (t == HY_QT_F16) return _mm256_cvtph_ps(h);
    if (t == HY_QT_BF16)
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_loadu_ps((const float *)w);
}

HY_AVX2 static float dot_float(hy_qtype t, const uint8_t *w, const float *x, int64_t n) {
    const int64_t es = t == HY_QT_F32 ? 4 : 2;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm_prefetch((const char *)w + es * i + PREFETCH, _MM_HINT_T0);
        if (es == 4) _mm_prefetch((const char *)w + es * i + PREFETCH + 32, _MM_HINT_T0);
        a0 = _mm256_fmadd_ps(widen(t, w + es * i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(widen(t, w + es * (i + 8)), _mm256_loadu_ps(x + i + 8), a1);
    }
    float acc = hsum(_mm256_add_ps(a0, a1));
    if (i < n) acc += hy_qdot_scalar(t, w + es * i, x + i, n - i);
    return acc;
}

float hy_qdot_avx2(hy_qtype t, const void *w, const void *xq, int64_t n) {
    static const hy_qdot_impl impl = {dot_q4_0, dot_q4_1, dot_q8_0, dot_q4_k, dot_q6_k, dot_float};
    return hy_qdot_with(&impl, t, w, xq, n);
}

#else /* not x86-64: the portable half only */

int hy_qdot_avx2_usable(void) {
    return 0;
}
float hy_qdot_avx2(hy_qtype t, const void *w, const void *xq, int64_t n) {
    (void)t, (void)w, (void)xq, (void)n;
    return 0.0f;
}

#endif
