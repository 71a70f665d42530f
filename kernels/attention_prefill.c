/* Causal GQA attention on the CPU (contract in attention_prefill.h), used by the CPU runtime
 * for prefill and decode. Flash-style over key chunks so scratch stays fixed and on the
 * stack: for each KV head, a block of queries times the heads of its group is stacked into
 * one matrix (one pass over K/V serves the group), scores come from one sgemm per key chunk,
 * the softmax is online (running max and sum per row), and P x V is a second sgemm. Bound by
 * sgemm math for long prefills, by reading K/V for decode. */
#include "attention_prefill.h"
#include "attention_prefill_internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#define AP_ROWS 96 /* stacked query rows per block (queries x group heads); a multiple of 16 */
#define AP_KEYS HY_AP_KEYS
#define AP_MAX_D 256
#define AP_DIRECT_ROWS 8 /* up to this many stacked rows (decode), plain loops beat sgemm */

/* exp(x) for x <= 0 (scores minus their running max): 2^n * e^r with |r| <= ln2/2 and a
 * degree-6 polynomial, ~1 ulp. Branch-free so the compiler vectorises the softmax loop,
 * which otherwise costs as much as the two sgemms. x is clamped to -87 on its bit pattern
 * (for x <= 0 a larger unsigned pattern is a more negative number, -inf included): a float
 * compare would stop GCC from if-converting the loop under -ftrapping-math. */
static inline __attribute__((always_inline)) float ap_exp(float x) {
    uint32_t xb;
    memcpy(&xb, &x, sizeof xb);
    xb = xb < 0xC2AE0000u ? xb : 0xC2AE0000u; /* -87.0f */
    memcpy(&x, &xb, sizeof x);
    const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = x - n * 0.693145751953125f - n * 1.42860682030941723e-06f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Two-pass exact path for shapes beyond the stack blocks (d > AP_MAX_D or a GQA group wider
 * than AP_ROWS); also the plainest statement of the contract. out rows are the accumulators. */
static void attn_plain(float *out, int64_t out_stride, const float *q, int64_t q_stride,
                       const float *k, const float *v, int64_t n_q, int64_t pos0, int n_heads,
                       int n_kv_heads, int d, int64_t kv_cap, float scale) {
    const int g = n_heads / n_kv_heads;
    for (int64_t i = 0; i < n_q; i++) {
        const int64_t n_keys = pos0 + i + 1;
        for (int h = 0; h < n_heads; h++) {
            const float *qi = q + i * q_stride + (int64_t)h * d;
            const float *kh = k + (int64_t)(h / g) * kv_cap * d;
            const float *vh = v + (int64_t)(h / g) * kv_cap * d;
            float *oi = out + i * out_stride + (int64_t)h * d;
            float mx = -INFINITY;
            for (int64_t j = 0; j < n_keys; j++) {
                float s = 0.0f;
                for (int c = 0; c < d; c++)
                    s += qi[c] * kh[j * d + c];
                if (s * scale > mx) mx = s * scale;
            }
            double sum = 0.0;
            for (int c = 0; c < d; c++)
                oi[c] = 0.0f;
            for (int64_t j = 0; j < n_keys; j++) {
                float s = 0.0f;
                for (int c = 0; c < d; c++)
                    s += qi[c] * kh[j * d + c];
                const float p = expf(s * scale - mx);
                sum += p;
                for (int c = 0; c < d; c++)
                    oi[c] += p * vh[j * d + c];
            }
            for (int c = 0; c < d; c++)
                oi[c] = (float)(oi[c] / sum);
        }
    }
}

/* Vector-friendly pieces of the softmax: eight independent lanes so that the compiler
 * vectorises the reductions without -ffast-math. Each is compiled twice, portable and for
 * AVX2+FMA, and the CPU picks once (__builtin_cpu_supports). */
static inline __attribute__((always_inline)) float lanes_max_body(const float *x, int n,
                                                                  float init) {
    float mv[8] = {init, init, init, init, init, init, init, init};
    int j = 0;
    for (; j + 8 <= n; j += 8)
        for (int t = 0; t < 8; t++)
            mv[t] = x[j + t] > mv[t] ? x[j + t] : mv[t];
    for (; j < n; j++)
        mv[0] = x[j] > mv[0] ? x[j] : mv[0];
    float m = mv[0];
    for (int t = 1; t < 8; t++)
        m = mv[t] > m ? mv[t] : m;
    return m;
}

/* x[j] = exp(x[j] - mx) for j < n (a plain loop the vectoriser takes); returns the sum. */
static inline __attribute__((always_inline)) float lanes_exp_sum_body(float *x, int n, float mx) {
    for (int j = 0; j < n; j++)
        x[j] = ap_exp(x[j] - mx);
    float sv[8] = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8)
        for (int t = 0; t < 8; t++)
            sv[t] += x[j + t];
    for (; j < n; j++)
        sv[0] += x[j];
    float sum = 0.0f;
    for (int t = 0; t < 8; t++)
        sum += sv[t];
    return sum;
}

/* Few-row products for decode (a handful of stacked query rows): sgemm with M = 3 spends
 * its time packing, while these loops read each K/V row once for all rows, which is what
 * bounds decode. Dots use eight lanes so they vectorise. */
static inline __attribute__((always_inline)) void
scores_body(float *s, const float *qs, int rows, int d, const float *kc, int nc, float scale) {
    for (int j = 0; j < nc; j++) {
        const float *kj = kc + (int64_t)j * d;
        for (int r = 0; r < rows; r++) {
            const float *qr = qs + (int64_t)r * d;
            float acc[8] = {0};
            int c = 0;
            for (; c + 8 <= d; c += 8)
                for (int t = 0; t < 8; t++)
                    acc[t] += qr[c + t] * kj[c + t];
            for (; c < d; c++)
                acc[0] += qr[c] * kj[c];
            float dot = 0.0f;
            for (int t = 0; t < 8; t++)
                dot += acc[t];
            s[(int64_t)r * nc + j] = dot * scale;
        }
    }
}
static inline __attribute__((always_inline)) void pv_body(float *o, const float *s, int rows,
                                                          int nc, const float *vc, int d) {
    for (int j = 0; j < nc; j++) {
        const float *vj = vc + (int64_t)j * d;
        for (int r = 0; r < rows; r++) {
            const float p = s[(int64_t)r * nc + j];
            float *orow = o + (int64_t)r * d;
            for (int c = 0; c < d; c++)
                orow[c] += p * vj[c];
        }
    }
}

static void scores_portable(float *s, const float *qs, int rows, int d, const float *kc, int nc,
                            float scale) {
    scores_body(s, qs, rows, d, kc, nc, scale);
}
static void pv_portable(float *o, const float *s, int rows, int nc, const float *vc, int d) {
    pv_body(o, s, rows, nc, vc, d);
}
static float lanes_max_portable(const float *x, int n, float init) {
    return lanes_max_body(x, n, init);
}
static float lanes_exp_sum_portable(float *x, int n, float mx) {
    return lanes_exp_sum_body(x, n, mx);
}
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) static float lanes_max_avx2(const float *x, int n, float init) {
    return lanes_max_body(x, n, init);
}
__attribute__((target("avx2,fma"))) static float lanes_exp_sum_avx2(float *x, int n, float mx) {
    return lanes_exp_sum_body(x, n, mx);
}
__attribute__((target("avx2,fma"))) static void
scores_avx2(float *s, const float *qs, int rows, int d, const float *kc, int nc, float scale) {
    scores_body(s, qs, rows, d, kc, nc, scale);
}
__attribute__((target("avx2,fma"))) static void pv_avx2(float *o, const float *s, int rows, int nc,
                                                        const float *vc, int d) {
    pv_body(o, s, rows, nc, vc, d);
}
/* The softmax pieces once more for AVX-512: the exponentials take 16 lanes a step (the same
 * polynomial per element and the same eight-lane sums as the AVX2 build). */
__attribute__((target("avx512f,avx2,fma"))) static float lanes_max_avx512(const float *x, int n,
                                                                          float init) {
    return lanes_max_body(x, n, init);
}
__attribute__((target("avx512f,avx2,fma"))) static float lanes_exp_sum_avx512(float *x, int n,
                                                                              float mx) {
    return lanes_exp_sum_body(x, n, mx);
}
static int have_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cached;
}
static int have_avx512(void) {
    static int cached = -1;
    if (cached < 0) cached = have_avx2() && __builtin_cpu_supports("avx512f");
    return cached;
}
static float lanes_max(const float *x, int n, float init) {
    if (have_avx512()) return lanes_max_avx512(x, n, init);
    return have_avx2() ? lanes_max_avx2(x, n, init) : lanes_max_portable(x, n, init);
}
static float lanes_exp_sum(float *x, int n, float mx) {
    if (have_avx512()) return lanes_exp_sum_avx512(x, n, mx);
    return have_avx2() ? lanes_exp_sum_avx2(x, n, mx) : lanes_exp_sum_portable(x, n, mx);
}
static void scores_direct(float *s, const float *qs, int rows, int d, const float *kc, int nc,
                          float scale) {
    if (have_avx2())
        scores_avx2(s, qs, rows, d, kc, nc, scale);
    else
        scores_portable(s, qs, rows, d, kc, nc, scale);
}
static void pv_direct(float *o, const float *s, int rows, int nc, const float *vc, int d) {
    if (have_avx2())
        pv_avx2(o, s, rows, nc, vc, d);
    else
        pv_portable(o, s, rows, nc, vc, d);
}
#else
#define lanes_max lanes_max_portable
#define lanes_exp_sum lanes_exp_sum_portable
#define scores_direct scores_portable
#define pv_direct pv_portable
#endif

/* Masked online-softmax update of one block (attention_prefill_internal.h). */
void hy_attn_softmax_chunk(float *s, int nc, float *o, int d, float *m, float *l, int rows, int g,
                           int64_t lim0, int64_t c0) {
    for (int r = 0; r < rows; r++) {
        float *sr = s + (int64_t)r * nc;
        const int64_t nv64 = lim0 + r / g - c0 + 1;
        const int nv = nv64 < 0 ? 0 : (nv64 > nc ? nc : (int)nv64);
        if (nv < nc) memset(sr + nv, 0, (size_t)(nc - nv) * sizeof(float));
        if (nv == 0) continue;
        const float mx = lanes_max(sr, nv, m[r]);
        const float sum = lanes_exp_sum(sr, nv, mx);
        if (mx != m[r]) {
            const float f = m[r] == -INFINITY ? 0.0f : ap_exp(m[r] - mx);
            l[r] *= f;
            float *orow = o + (int64_t)r * d;
            for (int c = 0; c < d; c++)
                orow[c] *= f;
        }
        l[r] += sum;
        m[r] = mx;
    }
}

void hy_attn_stack_queries(float *qs, const float *q, int64_t q_stride, int nb, int g, int kvh,
                           int d) {
    for (int ii = 0; ii < nb; ii++)
        memcpy(qs + (int64_t)ii * g * d, q + ii * q_stride + (int64_t)kvh * g * d,
               (size_t)g * d * sizeof(float));
}

void hy_attn_store_rows(float *out, int64_t out_stride, const float *o, const float *l, int nb,
                        int g, int kvh, int d) {
    for (int ii = 0; ii < nb; ii++)
        for (int hh = 0; hh < g; hh++) {
            const int r = ii * g + hh;
            const float inv = 1.0f / l[r];
            float *dst = out + ii * out_stride + (int64_t)(kvh * g + hh) * d;
            for (int c = 0; c < d; c++)
                dst[c] = o[(int64_t)r * d + c] * inv;
        }
}

void hy_attn_prefill_f32(float *out, int64_t out_stride, const float *q, int64_t q_stride,
                         const float *k, const float *v, int64_t n_q, int64_t pos0, int n_heads,
                         int n_kv_heads, int d, int64_t kv_cap, float scale) {
    if (n_q <= 0 || n_heads <= 0 || n_kv_heads <= 0) return;
    const int g = n_heads / n_kv_heads;
    if (d > AP_MAX_D || g > AP_ROWS) {
        attn_plain(out, out_stride, q, q_stride, k, v, n_q, pos0, n_heads, n_kv_heads, d, kv_cap,
                   scale);
        return;
    }
    float qs[AP_ROWS * AP_MAX_D], o[AP_ROWS * AP_MAX_D], s[AP_ROWS * AP_KEYS];
    float m[AP_ROWS] = {0}, l[AP_ROWS] = {0};
    const int bq = AP_ROWS / g;
    for (int kvh = 0; kvh < n_kv_heads; kvh++) {
        const float *kh = k + (int64_t)kvh * kv_cap * d;
        const float *vh = v + (int64_t)kvh * kv_cap * d;
        for (int64_t i0 = 0; i0 < n_q; i0 += bq) {
            const int nb = (int)(n_q - i0 < bq ? n_q - i0 : bq);
            const int rows = nb * g;
            hy_attn_stack_queries(qs, q + i0 * q_stride, q_stride, nb, g, kvh, d);
            for (int r = 0; r < rows; r++) {
                m[r] = -INFINITY;
                l[r] = 0.0f;
            }
            memset(o, 0, (size_t)rows * d * sizeof(float));
            const int64_t n_keys = pos0 + i0 + nb;
            for (int64_t c0 = 0; c0 < n_keys; c0 += AP_KEYS) {
                const int nc = (int)(n_keys - c0 < AP_KEYS ? n_keys - c0 : AP_KEYS);
                if (rows <= AP_DIRECT_ROWS)
                    scores_direct(s, qs, rows, d, kh + c0 * d, nc, scale);
                else
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, nc, d, scale, qs, d,
                                kh + c0 * d, d, 0.0f, s, nc);
                hy_attn_softmax_chunk(s, nc, o, d, m, l, rows, g, pos0 + i0, c0);
                if (rows <= AP_DIRECT_ROWS)
                    pv_direct(o, s, rows, nc, vh + c0 * d, d);
                else
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, nc, 1.0f, s, nc,
                                vh + c0 * d, d, 1.0f, o, d);
            }
            hy_attn_store_rows(out + i0 * out_stride, out_stride, o, l, nb, g, kvh, d);
        }
    }
}

void hy_attn_decode_part_f32(float *o, float *m, float *l, const float *q, const float *k,
                             const float *v, int64_t n_keys, int g, int d, float scale) {
    float s[AP_DIRECT_ROWS * AP_KEYS];
    for (int r = 0; r < g; r++)
        m[r] = -INFINITY, l[r] = 0.0f;
    memset(o, 0, (size_t)g * d * sizeof(float));
    for (int64_t c0 = 0; c0 < n_keys; c0 += AP_KEYS) {
        const int nc = (int)(n_keys - c0 < AP_KEYS ? n_keys - c0 : AP_KEYS);
        scores_direct(s, q, g, d, k + c0 * d, nc, scale);
        hy_attn_softmax_chunk(s, nc, o, d, m, l, g, g, n_keys - 1, c0); /* every key visible */
        pv_direct(o, s, g, nc, v + c0 * d, d);
    }
}

void hy_attn_decode_merge_f32(float *out, const float *o, const float *m, const float *l,
                              int n_parts, int g, int d) {
    for (int r = 0; r < g; r++) {
        float mx = -INFINITY, sum = 0.0f;
        for (int p = 0; p < n_parts; p++)
            mx = m[p * g + r] > mx ? m[p * g + r] : mx;
        float *dst = out + (int64_t)r * d;
        memset(dst, 0, (size_t)d * sizeof(float));
        for (int p = 0; p < n_parts; p++) {
            if (m[p * g + r] == -INFINITY) continue; /* a piece with no keys */
            const float f = ap_exp(m[p * g + r] - mx);
            sum += f * l[p * g + r];
            const float *op = o + ((int64_t)p * g + r) * d;
            for (int c = 0; c < d; c++)
                dst[c] += f * op[c];
        }
        const float inv = 1.0f / sum;
        for (int c = 0; c < d; c++)
            dst[c] *= inv;
    }
}
