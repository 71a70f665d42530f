/* Quantized matrix-vector products (qmatmul.h) on random weights of every format, quantised by
 * the GGUF codec: each implementation (AVX2 where the CPU has it, and the portable one) is held
 * to the fp32 reference (dequantised weights times dequantised activations, in double) within
 * float rounding, and to the unquantised activations within the int8 activation error. */
#include "hy_gguf.h"
#include "hy_test.h"
#include "kernel_test_util.h"
#include "qmatmul.h"

static const hy_qtype types[] = {HY_QT_Q4_0, HY_QT_Q4_1, HY_QT_Q8_0, HY_QT_Q4_K,
                                 HY_QT_Q6_K, HY_QT_F16,  HY_QT_BF16, HY_QT_F32};

/* The activation values the kernel multiplies (x itself for the float formats). */
static void act_values(hy_qtype t, const void *xq, const float *x, int64_t n, double *out) {
    if (t == HY_QT_Q4_0 || t == HY_QT_Q4_1 || t == HY_QT_Q8_0) {
        const hy_q8_32 *b = xq;
        for (int64_t i = 0; i < n; i++)
            out[i] = (double)b[i / 32].d * b[i / 32].q[i % 32];
    } else if (t == HY_QT_Q4_K || t == HY_QT_Q6_K) {
        const hy_q8_256 *b = xq;
        for (int64_t i = 0; i < n; i++)
            out[i] = (double)b[i / 256].d * b[i / 256].q[i % 256];
    } else {
        for (int64_t i = 0; i < n; i++)
            out[i] = x[i];
    }
}

static void check(hy_qtype t, int64_t n_in, int64_t n_out, float beta, int scalar) {
    ktu_seed((uint64_t)(t * 1000 + n_in + n_out + scalar));
    const int prev = hy_qmatmul_force_scalar(scalar);
    float *wf = ktu_rand(n_out * n_in, -1, 1), *x = ktu_rand(n_in, -2, 2);
    float *y = ktu_rand(n_out, -1, 1), *wd = malloc((size_t)(n_out * n_in) * sizeof(float));
    const size_t row_bytes = (size_t)(n_in / hy_qtype_block_elems(t)) * hy_qtype_block_bytes(t);
    void *wq = malloc(row_bytes * (size_t)n_out), *xq = malloc(hy_qact_bytes(t, n_in));
    double *xv = malloc((size_t)n_in * sizeof(double));
    HY_REQUIRE(hy_ggml_quantize((hy_ggml_type)t, wf, wq, n_out * n_in) == HY_OK);
    HY_REQUIRE(hy_ggml_dequantize((hy_ggml_type)t, wq, wd, n_out * n_in) == HY_OK);
    hy_qact_quantize(t, x, n_in, xq);
    act_values(t, xq, x, n_in, xv);
    float *y0 = malloc((size_t)n_out * sizeof(float));
    memcpy(y0, y, (size_t)n_out * sizeof(float));
    hy_qmatvec(t, wq, n_in, n_out, xq, y, beta);
    double worst_exact = 0, worst_act = 0;
    for (int64_t o = 0; o < n_out; o++) {
        double same = beta * (double)y0[o], plain = same, mag = 1.0;
        for (int64_t i = 0; i < n_in; i++) {
            same += (double)wd[o * n_in + i] * xv[i];
            plain += (double)wd[o * n_in + i] * x[i];
            mag += fabs((double)wd[o * n_in + i] * x[i]);
        }
        const double e1 = fabs(y[o] - same) / mag, e2 = fabs(y[o] - plain) / mag;
        if (!(e1 <= worst_exact)) worst_exact = e1;
        if (!(e2 <= worst_act)) worst_act = e2;
    }
    /* float summation over n_in products; int8 activations: |error| <= d / 2 per element */
    if (!(worst_exact < 2e-6) || !(worst_act < 5e-3))
        HY_FAILF("%s %s %lldx%lld beta %g: vs same activations %.3g, vs fp32 activations %.3g",
                 hy_ggml_type_name((hy_ggml_type)t), scalar ? "scalar" : hy_qmatmul_impl(),
                 (long long)n_in, (long long)n_out, (double)beta, worst_exact, worst_act);
    hy_qmatmul_force_scalar(prev);
    free(wf), free(x), free(y), free(y0), free(wd), free(wq), free(xq), free(xv);
}

HY_TEST(every_format_both_implementations) {
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        for (int scalar = 0; scalar < 2; scalar++) {
            check(types[i], 256, 37, 0.0f, scalar);
            check(types[i], 1536, 9, 1.0f, scalar);
        }
}

/* The two implementations agree on raw random blocks too (any byte pattern, finite scales). */
HY_TEST(random_bytes_scalar_equals_fast) {
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        const hy_qtype t = types[i];
        const int64_t n = 512, nb = n / hy_qtype_block_elems(t);
        const size_t bb = hy_qtype_block_bytes(t);
        uint8_t *w = malloc((size_t)nb * bb);
        ktu_seed(7 + (uint64_t)t);
        for (size_t k = 0; k < (size_t)nb * bb; k++)
            w[k] = (uint8_t)(ktu_uniform() * 256);
        if (t == HY_QT_F16 || t == HY_QT_BF16 || t == HY_QT_F32) {
            /* finite values: re-encode random floats */
            float *f = ktu_rand(n, -1, 1);
            hy_ggml_quantize((hy_ggml_type)t, f, w, n);
            free(f);
        } else {
            /* scales of a sane magnitude: 0x3c00 is fp16 1.0; clear the exponent's top bits */
            const size_t off[] = {[HY_QT_Q4_0] = 0,
                                  [HY_QT_Q4_1] = 0,
                                  [HY_QT_Q8_0] = 0,
                                  [HY_QT_Q4_K] = 0,
                                  [HY_QT_Q6_K] = 208};
            for (int64_t b = 0; b < nb; b++) {
                uint8_t *s = w + (size_t)b * bb + off[t];
                s[1] = (uint8_t)((s[1] & 0x83) | 0x20);
                if (t == HY_QT_Q4_1 || t == HY_QT_Q4_K) s[3] = (uint8_t)((s[3] & 0x83) | 0x20);
            }
        }
        float *x = ktu_rand(n, -3, 3);
        void *xq = malloc(hy_qact_bytes(t, n));
        hy_qact_quantize(t, x, n, xq);
        const float a = hy_qdot_scalar(t, w, xq, n), b = hy_qdot_avx2(t, w, xq, n);
        if (strcmp(hy_qmatmul_impl(), "avx2") == 0 && !(fabsf(a - b) <= 1e-4f * (1.0f + fabsf(a))))
            HY_FAILF("%s: scalar %.9g, avx2 %.9g", hy_ggml_type_name((hy_ggml_type)t), (double)a,
                     (double)b);
        free(w), free(x), free(xq);
    }
}

HY_TEST(activation_blocks) {
    float x[256];
    for (int i = 0; i < 256; i++)
        x[i] = (float)(i - 100) / 10.0f;
    hy_q8_256 b;
    hy_qact_quantize(HY_QT_Q4_K, x, 256, &b);
    HY_CHECK(b.q[255] == 127); /* the largest magnitude (x[255] = 15.5) maps onto 127 */
    int s = 0;
    for (int l = 0; l < 16; l++)
        s += b.q[16 + l];
    HY_CHECK(b.bsum[1] == s);
    hy_q8_32 c;
    hy_qact_quantize(HY_QT_Q4_1, x, 32, &c);
    HY_CHECK(fabsf(c.d * c.q[0] - x[0]) <= c.d / 2);
}

HY_TEST_MAIN()
