/* Causal GQA attention (prefill and the n_q = 1 decode case) against a naive double loop:
 * head_dim 64 and 128 (and odd/large ones that take the plain path), GQA ratios 1, 3 and 4,
 * query blocks that start mid-cache (pos0 > 0) and lengths that cross key chunks. */
#include "attention_prefill.h"
#include "hy_test.h"
#include "kernel_test_util.h"

static void naive(double *out, const float *q, int64_t q_stride, const float *k, const float *v,
                  int64_t n_q, int64_t pos0, int nh, int nkv, int d, int64_t cap, float scale) {
    const int g = nh / nkv;
    double *s = malloc((size_t)(pos0 + n_q) * sizeof(double));
    for (int64_t i = 0; i < n_q; i++)
        for (int h = 0; h < nh; h++) {
            const float *kh = k + (int64_t)(h / g) * cap * d, *vh = v + (int64_t)(h / g) * cap * d;
            int64_t nk = pos0 + i + 1;
            double mx = -1e300, sum = 0;
            for (int64_t j = 0; j < nk; j++) {
                double dot = 0;
                for (int c = 0; c < d; c++)
                    dot += (double)q[i * q_stride + h * d + c] * kh[j * d + c];
                s[j] = dot * scale;
                if (s[j] > mx) mx = s[j];
            }
            for (int64_t j = 0; j < nk; j++)
                sum += (s[j] = exp(s[j] - mx));
            for (int c = 0; c < d; c++) {
                double acc = 0;
                for (int64_t j = 0; j < nk; j++)
                    acc += s[j] * vh[j * d + c];
                out[(i * nh + h) * d + c] = acc / sum;
            }
        }
    free(s);
}

static void check(int64_t n_q, int64_t pos0, int nh, int nkv, int d, float qscale) {
    ktu_seed((uint64_t)(n_q * 7919 + pos0 * 31 + nh * 7 + d));
    const int64_t cap = pos0 + n_q + 3, q_stride = (int64_t)nh * d + 5,
                  out_stride = (int64_t)nh * d + 2;
    float *q = ktu_rand(n_q * q_stride, -qscale, qscale);
    float *k = ktu_rand((int64_t)nkv * cap * d, -1, 1),
          *v = ktu_rand((int64_t)nkv * cap * d, -1, 1);
    float *out = ktu_rand(n_q * out_stride, 100, 101);
    double *ref = malloc((size_t)(n_q * nh * d) * sizeof(double));
    const float scale = 1.0f / sqrtf((float)d);
    naive(ref, q, q_stride, k, v, n_q, pos0, nh, nkv, d, cap, scale);
    hy_attn_prefill_f32(out, out_stride, q, q_stride, k, v, n_q, pos0, nh, nkv, d, cap, scale);
    double worst = 0;
    for (int64_t i = 0; i < n_q; i++)
        for (int64_t c = 0; c < (int64_t)nh * d; c++) {
            double e = fabs(out[i * out_stride + c] - ref[i * nh * d + c]);
            if (!(e <= worst)) worst = e;
        }
    if (!(worst < 2e-5))
        HY_FAILF("n_q=%lld pos0=%lld heads=%d/%d d=%d: max abs err %.3g", (long long)n_q,
                 (long long)pos0, nh, nkv, d, worst);
    /* padding after each output row is untouched */
    for (int64_t i = 0; i < n_q; i++)
        HY_CHECK(out[i * out_stride + (int64_t)nh * d] >= 100.0f);
    free(q), free(k), free(v), free(out), free(ref);
}

HY_TEST(single_token_first_position) {
    check(1, 0, 4, 4, 64, 1);
}
HY_TEST(decode_gqa3_d64) {
    check(1, 700, 9, 3, 64, 2);
}
HY_TEST(decode_gqa4_d128) {
    check(1, 513, 8, 2, 128, 2);
}
HY_TEST(prefill_mha_d64) {
    check(37, 0, 2, 2, 64, 1);
}
HY_TEST(prefill_gqa3_d64_crosses_chunks) {
    check(300, 0, 9, 3, 64, 2);
}
HY_TEST(prefill_gqa4_d128_mid_cache) {
    check(70, 200, 8, 2, 128, 2);
}
HY_TEST(prefill_odd_head_dim) {
    check(19, 5, 6, 2, 6, 1);
}
HY_TEST(prefill_sharp_softmax) {
    check(40, 260, 3, 1, 64, 8);
}
HY_TEST(few_rows_direct_path_masks) {
    check(2, 300, 8, 2, 64, 2); /* 2 queries x group of 4 = 8 stacked rows */
    check(5, 0, 1, 1, 128, 1);
    check(1, 1000, 4, 4, 64, 3);
}
HY_TEST(plain_path_wide_head) {
    check(9, 4, 2, 1, 320, 1);
}
HY_TEST(plain_path_wide_group) {
    check(3, 2, 96, 1, 16, 1);
}

/* Split-KV decode: pieces over key ranges, merged, equal the whole decode (n_q = 1). */
static void check_pieces(int64_t n_keys, int g, int d, int n_parts) {
    ktu_seed((uint64_t)(n_keys * 10 + n_parts));
    float *q = ktu_rand((int64_t)g * d, -2, 2), *k = ktu_rand(n_keys * d, -1, 1);
    float *v = ktu_rand(n_keys * d, -1, 1), *whole = malloc((size_t)g * d * sizeof(float));
    float *got = malloc((size_t)g * d * sizeof(float));
    float *o = malloc((size_t)n_parts * g * d * sizeof(float));
    float *m = malloc((size_t)n_parts * g * sizeof(float)),
          *l = malloc((size_t)n_parts * g * sizeof(float));
    const float scale = 1.0f / sqrtf((float)d);
    hy_attn_prefill_f32(whole, (int64_t)g * d, q, (int64_t)g * d, k, v, 1, n_keys - 1, g, 1, d,
                        n_keys, scale);
    for (int p = 0; p < n_parts; p++) {
        const int64_t k0 = n_keys * p / n_parts, k1 = n_keys * (p + 1) / n_parts;
        hy_attn_decode_part_f32(o + (int64_t)p * g * d, m + p * g, l + p * g, q, k + k0 * d,
                                v + k0 * d, k1 - k0, g, d, scale);
    }
    hy_attn_decode_merge_f32(got, o, m, l, n_parts, g, d);
    double worst = 0;
    for (int64_t i = 0; i < (int64_t)g * d; i++) {
        const double e = fabs((double)got[i] - whole[i]) / (1.0 + fabs(whole[i]));
        if (!(e <= worst)) worst = e;
    }
    if (!(worst < 1e-5))
        HY_FAILF("%lld keys, g %d, d %d, %d pieces: error %.3g", (long long)n_keys, g, d, n_parts,
                 worst);
    free(q), free(k), free(v), free(whole), free(got), free(o), free(m), free(l);
}

HY_TEST(decode_pieces_merge_to_the_whole) {
    check_pieces(1000, 3, 64, 2);
    check_pieces(777, 4, 128, 3);
    check_pieces(9, 8, 32, 4); /* some pieces of 2 keys */
    check_pieces(3, 3, 64, 4); /* one piece empty */
}

HY_TEST_MAIN()
