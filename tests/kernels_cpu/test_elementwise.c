/* RMSNorm, RoPE (both layouts), SwiGLU, embedding and argmax against naive double loops. */
#include "argmax.h"
#include "embedding.h"
#include "hy_test.h"
#include "kernel_test_util.h"
#include "rmsnorm.h"
#include "rope.h"
#include "swiglu.h"

static void check_rmsnorm(int64_t rows, int64_t n, float eps, int alias) {
    ktu_seed((uint64_t)(rows * 1000 + n));
    float *x = ktu_rand(rows * n, -3, 3), *w = ktu_rand(n, -2, 2);
    float *y = alias ? x : malloc((size_t)(rows * n) * sizeof(float));
    double *ref = malloc((size_t)(rows * n) * sizeof(double));
    for (int64_t r = 0; r < rows; r++) {
        double ss = 0;
        for (int64_t i = 0; i < n; i++)
            ss += (double)x[r * n + i] * x[r * n + i];
        double inv = 1.0 / sqrt(ss / n + eps);
        for (int64_t i = 0; i < n; i++)
            ref[r * n + i] = x[r * n + i] * inv * w[i];
    }
    hy_rmsnorm_f32(y, x, w, rows, n, eps);
    HY_CHECK(ktu_max_rel(y, ref, rows * n, 1e-3) < 1e-6);
    if (!alias) free(y);
    free(x), free(w), free(ref);
}

HY_TEST(rmsnorm_shapes) {
    check_rmsnorm(1, 1, 1e-5f, 0);
    check_rmsnorm(3, 7, 1e-6f, 0);
    check_rmsnorm(17, 576, 1e-5f, 0);
    check_rmsnorm(2, 4097, 1e-5f, 0);
}
HY_TEST(rmsnorm_in_place) {
    check_rmsnorm(5, 129, 1e-5f, 1);
}
HY_TEST(rmsnorm_zero_row_is_finite) {
    float x[8] = {0}, w[8] = {1, 1, 1, 1, 1, 1, 1, 1}, y[8];
    hy_rmsnorm_f32(y, x, w, 1, 8, 1e-5f);
    for (int i = 0; i < 8; i++)
        HY_CHECK(y[i] == 0.0f);
}

static void check_rope(int64_t n_tok, int n_heads, int hd, int64_t extra, hy_rope_layout layout,
                       float theta) {
    ktu_seed((uint64_t)(n_tok * 31 + hd + layout));
    const int64_t stride = (int64_t)n_heads * hd + extra;
    float *x = ktu_rand(n_tok * stride, -1, 1);
    double *ref = malloc((size_t)(n_tok * stride) * sizeof(double));
    int32_t *pos = malloc((size_t)n_tok * sizeof(int32_t));
    for (int64_t t = 0; t < n_tok; t++)
        pos[t] = (int32_t)(ktu_uniform() * 20000);
    for (int64_t i = 0; i < n_tok * stride; i++)
        ref[i] = x[i];
    for (int64_t t = 0; t < n_tok; t++)
        for (int h = 0; h < n_heads; h++)
            for (int p = 0; p < hd / 2; p++) {
                int64_t ia = t * stride + (int64_t)h * hd + (layout == HY_ROPE_NORM ? 2 * p : p);
                int64_t ib = ia + (layout == HY_ROPE_NORM ? 1 : hd / 2);
                double ang = pos[t] * pow(theta, -2.0 * p / hd);
                double a = x[ia], b = x[ib];
                ref[ia] = a * cos(ang) - b * sin(ang);
                ref[ib] = a * sin(ang) + b * cos(ang);
            }
    hy_rope_f32(x, n_tok, n_heads, hd, stride, pos, theta, layout);
    HY_CHECK(ktu_max_rel(x, ref, n_tok * stride, 1.0) < 1e-6);
    free(x), free(ref), free(pos);
}

HY_TEST(rope_norm_layout) {
    check_rope(1, 1, 64, 0, HY_ROPE_NORM, 10000.0f);
    check_rope(13, 9, 64, 0, HY_ROPE_NORM, 100000.0f);
    check_rope(5, 4, 128, 7, HY_ROPE_NORM, 500000.0f);
}
HY_TEST(rope_neox_layout) {
    check_rope(1, 1, 64, 0, HY_ROPE_NEOX, 10000.0f);
    check_rope(11, 3, 128, 0, HY_ROPE_NEOX, 1000000.0f);
    check_rope(4, 2, 6, 5, HY_ROPE_NEOX, 10000.0f);
}
HY_TEST(rope_layouts_differ) {
    float a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8];
    memcpy(b, a, sizeof a);
    int32_t pos = 3;
    hy_rope_f32(a, 1, 1, 8, 8, &pos, 10000.0f, HY_ROPE_NORM);
    hy_rope_f32(b, 1, 1, 8, 8, &pos, 10000.0f, HY_ROPE_NEOX);
    HY_CHECK(fabsf(a[1] - b[1]) > 1e-3f);
}
HY_TEST(rope_position_zero_is_identity) {
    float a[16], b[16];
    for (int i = 0; i < 16; i++)
        a[i] = b[i] = (float)i - 7.5f;
    int32_t pos = 0;
    hy_rope_f32(a, 1, 2, 8, 16, &pos, 10000.0f, HY_ROPE_NORM);
    for (int i = 0; i < 16; i++)
        HY_CHECK(a[i] == b[i]);
}

static void check_swiglu(int64_t n, int alias) {
    ktu_seed((uint64_t)n);
    float *g = ktu_rand(n, -20, 20), *u = ktu_rand(n, -3, 3);
    double *ref = malloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++)
        ref[i] = g[i] / (1.0 + exp(-(double)g[i])) * u[i];
    float *out = alias ? g : malloc((size_t)n * sizeof(float));
    hy_swiglu_f32(out, g, u, n);
    HY_CHECK(ktu_max_rel(out, ref, n, 1e-6) < 1e-5);
    if (!alias) free(out);
    free(g), free(u), free(ref);
}
HY_TEST(swiglu_shapes) {
    check_swiglu(1, 0);
    check_swiglu(7, 0);
    check_swiglu(1536 * 3 + 1, 0);
}
HY_TEST(swiglu_aliases_gate) {
    check_swiglu(1001, 1);
}
HY_TEST(swiglu_extremes) {
    float g[3] = {-200.0f, 200.0f, 0.0f}, u[3] = {1, 1, 1}, o[3];
    hy_swiglu_f32(o, g, u, 3);
    HY_CHECK(o[0] == 0.0f || fabsf(o[0]) < 1e-30f);
    HY_CHECK_NEAR(o[1], 200.0, 1e-4);
    HY_CHECK(o[2] == 0.0f);
}

HY_TEST(embedding_gathers_rows) {
    const int64_t d = 5, vocab = 11;
    float *table = ktu_rand(vocab * d, -1, 1);
    int32_t ids[4] = {10, 0, 3, 3};
    float out[4 * 5];
    hy_embedding_f32(out, table, d, ids, 4);
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < d; i++)
            HY_CHECK(out[t * d + i] == table[ids[t] * d + i]);
    free(table);
}

HY_TEST(argmax_ties_and_nan) {
    float x[4 * 4] = {1, 3, 3, 2, NAN, -1, NAN, -2, NAN, NAN, NAN, NAN, -INFINITY, -5, 7, 7};
    int32_t out[4];
    hy_argmax_rows_f32(out, x, 4, 4);
    HY_CHECK_EQ_INT(out[0], 1);
    HY_CHECK_EQ_INT(out[1], 1);
    HY_CHECK_EQ_INT(out[2], 0);
    HY_CHECK_EQ_INT(out[3], 2);
}
HY_TEST(argmax_random_rows) {
    ktu_seed(7);
    const int64_t rows = 9, n = 49153;
    float *x = ktu_rand(rows * n, -10, 10);
    int32_t out[9];
    hy_argmax_rows_f32(out, x, rows, n);
    for (int64_t r = 0; r < rows; r++) {
        int64_t best = 0;
        for (int64_t i = 1; i < n; i++)
            if (x[r * n + i] > x[r * n + best]) best = i;
        HY_CHECK_EQ_INT(out[r], best);
    }
    free(x);
}

HY_TEST_MAIN()
