/* CPU reference kernels of the attention path (decode, top-k, sparse, page max): properties
 * that an independent derivation fixes (one token returns its V row, probabilities of a
 * group sum to G, sparse over the full set equals dense, top-k equals a brute-force rank
 * count), and the errors bad input must give. */
#include <stdlib.h>

#include "attention_decode.h"
#include "attention_sparse.h"
#include "hy_test.h"
#include "indexset.h"
#include "qsim.h"
#include "topk.h"

static uint64_t rng = 12345;
static float frand(void) { /* uniform in [-1, 1) */
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}
static float *rand_buf(size_t n, float amp) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = amp * frand();
    return p;
}

HY_TEST(decode_one_token_returns_v) {
    hy_attn_shape s = {1, 4, 2, 8, 3, 2 * 3 * 8, 0.5f, 0};
    int32_t lens[1] = {1};
    float *q = rand_buf(4 * 8, 1), *k = rand_buf(48, 1), *v = rand_buf(48, 1), out[32], sc[2 * 3];
    HY_OK_OR_FAIL(hy_attn_decode_f32(out, sc, 3, q, k, v, lens, &s));
    for (int h = 0; h < 4; h++)
        for (int i = 0; i < 8; i++)
            HY_CHECK_NEAR(out[h * 8 + i], v[(h / 2) * 3 * 8 + i], 1e-6);
    HY_CHECK_NEAR(sc[0], 2.0, 1e-6); /* two query heads, probability 1 each */
    HY_CHECK_NEAR(sc[3], 2.0, 1e-6);
    free(q), free(k), free(v);
}

HY_TEST(decode_scores_sum_to_group_and_out_is_convex) {
    const int B = 3, H = 8, KV = 2, D = 16, CAP = 37;
    hy_attn_shape s = {B, H, KV, D, CAP, KV * CAP * D + 5, 0.25f, 0};
    int32_t lens[3] = {37, 1, 20};
    float *q = rand_buf((size_t)B * H * D, 2), *k = rand_buf((size_t)B * s.seq_stride, 1);
    float *v = rand_buf((size_t)B * s.seq_stride, 1), *out = malloc((size_t)B * H * D * 4);
    float *sc = malloc((size_t)B * KV * 40 * 4);
    HY_OK_OR_FAIL(hy_attn_decode_f32(out, sc, 40, q, k, v, lens, &s));
    for (int b = 0; b < B; b++)
        for (int g = 0; g < KV; g++) {
            double sum = 0;
            for (int j = 0; j < lens[b]; j++)
                sum += sc[(b * KV + g) * 40 + j];
            HY_CHECK_NEAR(sum, H / KV, 1e-5);
        }
    for (int i = 0; i < B * H * D; i++)
        HY_CHECK(out[i] >= -1.0f && out[i] <= 1.0f);
    free(q), free(k), free(v), free(out), free(sc);
}

/* A sliding window of W tokens equals attention over the last W rows moved to the front (an
 * independent way to the same set), for dense decode and the dense units of a sparse call;
 * scores are refused with a window, and a negative window is an error. */
HY_TEST(decode_window_equals_shifted_cache) {
    const int H = 6, KV = 2, D = 8, CAP = 40, W = 13;
    hy_attn_shape s = {1, H, KV, D, CAP, KV * CAP * D, 0.3f, W};
    float *q = rand_buf((size_t)H * D, 2), *k = rand_buf((size_t)s.seq_stride, 1);
    float *v = rand_buf((size_t)s.seq_stride, 1), out[6 * 8], ref[6 * 8];
    float *ks = malloc((size_t)s.seq_stride * 4), *vs = malloc((size_t)s.seq_stride * 4);
    const uint8_t dense[2] = {HY_UNIT_DENSE, HY_UNIT_DENSE};
    const int32_t none[2] = {0, 0};
    const hy_indexset set = {(int32_t *)none, (int32_t *)none, 1, HY_GRAN_TOKEN, 1};
    for (int32_t len = 1; len <= CAP; len += 6) {
        const int lo = len > W ? len - W : 0;
        for (int g = 0; g < KV; g++)
            for (int t = 0; t < len - lo; t++)
                for (int i = 0; i < D; i++) {
                    ks[(g * CAP + t) * D + i] = k[(g * CAP + lo + t) * D + i];
                    vs[(g * CAP + t) * D + i] = v[(g * CAP + lo + t) * D + i];
                }
        hy_attn_shape s0 = s;
        s0.window = 0;
        const int32_t n0 = len - lo;
        HY_OK_OR_FAIL(hy_attn_decode_f32(ref, NULL, 0, q, ks, vs, &n0, &s0));
        HY_OK_OR_FAIL(hy_attn_decode_f32(out, NULL, 0, q, k, v, &len, &s));
        for (int i = 0; i < H * D; i++)
            HY_CHECK_NEAR(out[i], ref[i], 1e-6);
        HY_OK_OR_FAIL(hy_attn_sparse_f32(out, q, k, v, &len, &s, dense, &set));
        for (int i = 0; i < H * D; i++)
            HY_CHECK_NEAR(out[i], ref[i], 1e-6);
    }
    float sc[40];
    const int32_t len = 20;
    HY_CHECK_EQ_INT(hy_attn_decode_f32(out, sc, 40, q, k, v, &len, &s), HY_EINVAL);
    s.window = -1;
    HY_CHECK_EQ_INT(hy_attn_decode_f32(out, NULL, 0, q, k, v, &len, &s), HY_EINVAL);
    free(q), free(k), free(v), free(ks), free(vs);
}

HY_TEST(decode_rejects_bad_shapes) {
    hy_attn_shape s = {1, 6, 4, 8, 4, 4 * 4 * 8, 1.0f, 0};
    int32_t lens[1] = {2};
    float buf[256] = {0}, out[64];
    HY_CHECK_EQ_INT(hy_attn_decode_f32(out, NULL, 0, buf, buf, buf, lens, &s), HY_EINVAL);
    s.n_heads = 8;
    lens[0] = 5; /* > kv_cap */
    HY_CHECK_EQ_INT(hy_attn_decode_f32(out, NULL, 0, buf, buf, buf, lens, &s), HY_ERANGE);
    lens[0] = 0;
    HY_CHECK_EQ_INT(hy_attn_decode_f32(out, NULL, 0, buf, buf, buf, lens, &s), HY_ERANGE);
    lens[0] = 4;
    s.seq_stride = 10;
    HY_CHECK_EQ_INT(hy_attn_decode_f32(out, NULL, 0, buf, buf, buf, lens, &s), HY_EINVAL);
    s.seq_stride = 128;
    HY_CHECK_EQ_INT(hy_attn_decode_f32(out, buf, 2, buf, buf, buf, lens, &s), HY_EINVAL);
}

/* Brute force: token t of the middle is taken iff fewer than k middle tokens beat it. */
static void topk_brute(unsigned char *take, const float *x, int n, int k, int sink, int window) {
    int lo = sink < n ? sink : n, hi = n - window > lo ? n - window : lo;
    for (int t = 0; t < n; t++) {
        if (t < lo || t >= hi) {
            take[t] = 1;
            continue;
        }
        int better = 0;
        for (int u = lo; u < hi; u++) {
            int un = x[u] != x[u], tn = x[t] != x[t];
            if (un && !tn) continue;
            if (!un && tn)
                better++;
            else if (un && tn)
                better += u < t;
            else
                better += x[u] > x[t] || (x[u] == x[t] && u < t);
        }
        take[t] = better < k;
    }
}

HY_TEST(topk_matches_brute_force_with_ties) {
    const int cases[][4] = {{1, 4, 0, 0},   {50, 10, 0, 0},   {50, 10, 4, 8},   {30, 50, 2, 2},
                            {64, 64, 0, 0}, {100, 7, 60, 50}, {257, 33, 5, 17}, {9, 0, 2, 3}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int n = cases[c][0], k = cases[c][1], sink = cases[c][2], win = cases[c][3];
        float *x = malloc((size_t)n * 4);
        for (int i = 0; i < n; i++)
            x[i] = (float)(int)(frand() * 6); /* many ties */
        if (n > 10) x[3] = NAN;               /* NaN ranks last */
        const int stride = k + sink + win;
        int32_t *idx = malloc(((size_t)stride + 1) * 4), cnt = -1, nn = n;
        unsigned char *take = malloc((size_t)n);
        HY_OK_OR_FAIL(hy_topk_rows_f32(idx, &cnt, stride, x, n, 1, &nn, 1, k, sink, win));
        topk_brute(take, x, n, k, sink, win);
        int expect = 0, pos = 0, ok = 1;
        for (int t = 0; t < n; t++)
            if (take[t]) {
                expect++;
                if (pos >= cnt || idx[pos++] != t) ok = 0;
            }
        HY_CHECK_EQ_INT(cnt, expect);
        if (!ok) HY_FAILF("case %zu: indices differ from brute force", c);
        free(x), free(idx), free(take);
    }
}

HY_TEST(topk_rows_share_lengths_per_sequence) {
    float x[2 * 2 * 8];
    for (int i = 0; i < 32; i++)
        x[i] = (float)(i % 8);
    int32_t n[2] = {8, 3}, idx[4 * 2], cnt[4];
    HY_OK_OR_FAIL(hy_topk_rows_f32(idx, cnt, 2, x, 8, 4, n, 2, 2, 0, 0));
    HY_CHECK_EQ_INT(cnt[0], 2);
    HY_CHECK_EQ_INT(idx[0], 6);
    HY_CHECK_EQ_INT(idx[1], 7);
    HY_CHECK_EQ_INT(cnt[2], 2); /* row 2 belongs to sequence 1: n = 3 */
    HY_CHECK_EQ_INT(idx[4], 1);
    HY_CHECK_EQ_INT(idx[5], 2);
}

HY_TEST(topk_rejects_bad_arguments) {
    float x[4] = {0};
    int32_t idx[8], cnt, n = 4;
    HY_CHECK_EQ_INT(hy_topk_rows_f32(idx, &cnt, 2, x, 4, 1, &n, 1, 2, 1, 0), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_topk_rows_f32(idx, &cnt, 8, x, 4, 1, &n, 1, HY_TOPK_MAX_K + 1, 0, 0),
                    HY_EINVAL);
    n = 5;
    HY_CHECK_EQ_INT(hy_topk_rows_f32(idx, &cnt, 8, x, 4, 1, &n, 1, 2, 0, 0), HY_ERANGE);
}

HY_TEST(sparse_full_set_equals_dense_and_modes_mix) {
    const int B = 2, H = 6, KV = 3, D = 8, CAP = 19;
    hy_attn_shape s = {B, H, KV, D, CAP, KV * CAP * D, 0.3f, 0};
    int32_t lens[2] = {19, 6};
    float *q = rand_buf((size_t)B * H * D, 2), *k = rand_buf((size_t)B * s.seq_stride, 1);
    float *v = rand_buf((size_t)B * s.seq_stride, 1);
    float dense[2 * 6 * 8], sparse[2 * 6 * 8];
    int32_t idx[2 * 3 * 19], cnt[6];
    for (int b = 0; b < B; b++)
        for (int g = 0; g < KV; g++) {
            cnt[b * KV + g] = lens[b];
            for (int t = 0; t < lens[b]; t++)
                idx[(b * KV + g) * 19 + t] = t;
        }
    hy_indexset set = {idx, cnt, 19, HY_GRAN_TOKEN, 1};
    uint8_t modes[3] = {HY_UNIT_SPARSE, HY_UNIT_DENSE, HY_UNIT_SPARSE};
    HY_OK_OR_FAIL(hy_attn_decode_f32(dense, NULL, 0, q, k, v, lens, &s));
    HY_OK_OR_FAIL(hy_attn_sparse_f32(sparse, q, k, v, lens, &s, modes, &set));
    for (int i = 0; i < B * H * D; i++)
        HY_CHECK_NEAR(sparse[i], dense[i], 1e-6);
    /* pages of 4 covering everything give the same answer */
    for (int b = 0; b < B; b++)
        for (int g = 0; g < KV; g++) {
            cnt[b * KV + g] = (lens[b] + 3) / 4;
            for (int p = 0; p < cnt[b * KV + g]; p++)
                idx[(b * KV + g) * 19 + p] = p;
        }
    hy_indexset pages = {idx, cnt, 19, HY_GRAN_PAGE, 4};
    HY_OK_OR_FAIL(hy_attn_sparse_f32(sparse, q, k, v, lens, &s, modes, &pages));
    for (int i = 0; i < B * H * D; i++)
        HY_CHECK_NEAR(sparse[i], dense[i], 1e-6);
    /* one index: the output is that token's V row */
    cnt[0] = 1;
    idx[0] = 3;
    HY_OK_OR_FAIL(hy_attn_sparse_f32(sparse, q, k, v, lens, &s, modes, &set));
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < D; i++)
            HY_CHECK_NEAR(sparse[h * D + i], v[3 * D + i], 1e-6);
    free(q), free(k), free(v);
}

HY_TEST(sparse_rejects_out_of_range_index) {
    hy_attn_shape s = {1, 2, 1, 4, 8, 32, 1.0f, 0};
    int32_t lens[1] = {5}, idx[4] = {0, 5}, cnt[1] = {2};
    float buf[64] = {0}, out[8];
    hy_indexset set = {idx, cnt, 4, HY_GRAN_TOKEN, 1};
    uint8_t modes[1] = {HY_UNIT_SPARSE};
    HY_CHECK_EQ_INT(hy_attn_sparse_f32(out, buf, buf, buf, lens, &s, modes, &set), HY_ERANGE);
    idx[1] = 1;
    hy_indexset pages = {idx, cnt, 4, HY_GRAN_PAGE, 4}; /* page 1 = tokens 4..7, len 5: ok */
    HY_OK_OR_FAIL(hy_attn_sparse_f32(out, buf, buf, buf, lens, &s, modes, &pages));
    idx[1] = 2;
    HY_CHECK_EQ_INT(hy_attn_sparse_f32(out, buf, buf, buf, lens, &s, modes, &pages), HY_ERANGE);
    cnt[0] = 9;
    HY_CHECK_EQ_INT(hy_attn_sparse_f32(out, buf, buf, buf, lens, &s, modes, &set), HY_ERANGE);
}

HY_TEST(page_max_takes_the_max_and_clips_the_tail) {
    float x[10] = {1, 5, 2, 0, -1, -3, 7, 7, 9, NAN}, pages[4];
    int32_t n = 10;
    HY_OK_OR_FAIL(hy_page_max_f32(pages, 4, x, 10, 1, &n, 1, 3));
    HY_CHECK_NEAR(pages[0], 5, 0);
    HY_CHECK_NEAR(pages[1], 0, 0);
    HY_CHECK_NEAR(pages[2], 9, 0);
    HY_CHECK(isinf(pages[3]) && pages[3] < 0); /* NaN only */
    HY_CHECK_EQ_INT(hy_page_max_f32(pages, 3, x, 10, 1, &n, 1, 3), HY_ERANGE);
}

/* Query-drift decisions (qsim.h) on facts: the same query keeps the set, an orthogonal one
 * reselects, a forced row reselects without being counted, a skipped row is untouched. */
HY_TEST(qsim_decisions) {
    enum { G = 2, D = 4, KV = 4 };
    const hy_attn_shape s = {1, KV * G, KV, D, 16, KV * 16 * D, 0.5f, 0};
    const uint8_t modes[KV] = {HY_QSIM_CHECK, HY_QSIM_CHECK, HY_QSIM_FORCE, HY_QSIM_SKIP};
    const float weight[KV] = {1.0f, 0.5f, 1.0f, 1.0f};
    const int32_t lens[1] = {10};
    float q[KV * G * D] = {0}, sel[KV * G * D] = {0};
    for (int h = 0; h < G; h++) {
        q[(0 * G + h) * D + 0] = 1.0f, sel[(0 * G + h) * D + 0] = 2.0f; /* same direction */
        q[(1 * G + h) * D + 1] = 1.0f, sel[(1 * G + h) * D + 2] = 1.0f; /* orthogonal */
        q[(2 * G + h) * D + 3] = 1.0f, q[(3 * G + h) * D + 3] = 1.0f;
    }
    int32_t due[KV] = {9, 9, 9, 9}, pub[KV] = {9, 9, 9, 9};
    int64_t refreshes[1] = {0};
    double rows[1] = {0};
    HY_OK_OR_FAIL(hy_qsim_decide(due, pub, sel, q, lens, &s, modes, weight, 0.5f, refreshes, rows));
    HY_CHECK(due[0] == 0 && pub[0] == -2 && sel[0] == 2.0f);
    HY_CHECK(due[1] == 1 && pub[1] == 1 && sel[(1 * G) * D + 1] == 1.0f);
    HY_CHECK(due[2] == 1 && pub[2] == 2 && sel[(2 * G) * D + 3] == 1.0f);
    HY_CHECK(due[3] == 9 && pub[3] == 9 && sel[(3 * G) * D + 3] == 0.0f);
    HY_CHECK_EQ_INT(refreshes[0], 1);        /* row 1 only: the forced one is the caller's */
    HY_CHECK_NEAR(rows[0], 0.5 * 10, 1e-12); /* its weight times the length */
    HY_CHECK(hy_qsim_decide(due, pub, sel, q, lens, NULL, modes, weight, 0.5f, refreshes, rows) ==
             HY_EINVAL);
}

HY_TEST_MAIN()
