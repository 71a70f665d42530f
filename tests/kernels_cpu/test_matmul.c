/* hy_matmul_f32 (sgemm/sgemv over [n_out][n_in] weights) against a double loop, with row
 * strides, beta = 0 and 1, one token and many. */
#include "hy_test.h"
#include "kernel_test_util.h"
#include "matmul.h"

static void check(int64_t n_tok, int64_t n_in, int64_t n_out, int64_t pad, float beta) {
    ktu_seed((uint64_t)(n_tok * 100 + n_in + n_out));
    const int64_t ldx = n_in + pad, ldy = n_out + pad;
    float *x = ktu_rand(n_tok * ldx, -1, 1), *w = ktu_rand(n_out * n_in, -1, 1);
    float *y = ktu_rand(n_tok * ldy, -1, 1);
    double *ref = malloc((size_t)(n_tok * n_out) * sizeof(double));
    for (int64_t t = 0; t < n_tok; t++)
        for (int64_t o = 0; o < n_out; o++) {
            double acc = beta * (double)y[t * ldy + o];
            for (int64_t i = 0; i < n_in; i++)
                acc += (double)x[t * ldx + i] * w[o * n_in + i];
            ref[t * n_out + o] = acc;
        }
    hy_matmul_f32(y, ldy, x, ldx, w, n_tok, n_in, n_out, beta);
    double worst = 0;
    for (int64_t t = 0; t < n_tok; t++)
        for (int64_t o = 0; o < n_out; o++) {
            double e = fabs(y[t * ldy + o] - ref[t * n_out + o]) / (1.0 + fabs(ref[t * n_out + o]));
            if (!(e <= worst)) worst = e;
        }
    if (!(worst < 1e-5))
        HY_FAILF("%lldx%lldx%lld: err %.3g", (long long)n_tok, (long long)n_in, (long long)n_out,
                 worst);
    free(x), free(w), free(y), free(ref);
}

HY_TEST(one_token) {
    check(1, 576, 960, 0, 0.0f);
}
HY_TEST(one_token_accumulate) {
    check(1, 33, 17, 0, 1.0f);
}
HY_TEST(many_tokens_strided) {
    check(67, 129, 45, 3, 0.0f);
}
HY_TEST(many_tokens_accumulate) {
    check(130, 64, 576, 5, 1.0f);
}
HY_TEST(set_threads_round_trip) {
    int prev = hy_matmul_set_threads(1);
    HY_CHECK_EQ_INT(hy_matmul_set_threads(prev), 1);
}

HY_TEST_MAIN()
