/* The bf16 tile products (kernels/bf16_gemm.h) and the bf16 prefill attention: packs against
 * their layout written out element by element, the AMX product against the scalar product
 * of the same packs and against a double reference on bf16-rounded inputs, odd shapes and
 * both betas; the attention against the fp32 kernel within bf16 rounding. Where the CPU has
 * no AMX the packs and the scalar product are still checked and the AMX cases say so. */
#include "attention_prefill.h"
#include "bf16_gemm.h"
#include "hy_bf16.h"
#include "hy_test.h"
#include "kernel_test_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static float rbf(float x) { /* x rounded to bf16 */
    return hy_bf16_to_f32(hy_bf16_from_f32(x));
}

/* max |got - ref| / max |ref| */
static double rel_to_max(const float *got, const double *ref, int64_t n) {
    double e = 0.0, m = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - ref[i]);
        e = d > e || isnan(d) ? d : e;
        m = fabs(ref[i]) > m ? fabs(ref[i]) : m;
    }
    return m > 0.0 ? e / m : e;
}

static void check_packs(int64_t n_tok, int64_t n_in, int64_t n_rows) {
    float *x = ktu_rand(n_tok * n_in, -2.0f, 2.0f), *w = ktu_rand(n_rows * n_in, -1.0f, 1.0f);
    const int64_t kp = hy_bf16_kpad(n_in), steps = kp / 32;
    uint16_t *xa = malloc(hy_bf16_act_elems(n_tok, n_in) * 2);
    uint16_t *wp = malloc(hy_bf16_w_elems(n_rows, n_in) * 2);
    uint16_t *wt = malloc(hy_bf16_w_elems(n_rows, n_in) * 2);
    memset(xa, 0xff, hy_bf16_act_elems(n_tok, n_in) * 2); /* padding must be written */
    hy_bf16_act_pack(x, n_in, n_tok, n_in, 0, n_tok, xa);
    hy_bf16_w_pack(w, n_rows, n_in, wp);
    /* the transposed pack of w^T (stored [n_in][n_rows]) must be the same panels */
    float *wtr = malloc((size_t)(n_rows * n_in) * sizeof *wtr);
    for (int64_t o = 0; o < n_rows; o++)
        for (int64_t i = 0; i < n_in; i++)
            wtr[i * n_rows + o] = w[o * n_in + i];
    hy_bf16_wt_pack(wtr, n_rows, n_in, n_rows, kp, wt);
    int64_t bad_a = 0, bad_w = 0, bad_t = 0;
    for (int64_t t = 0; t < (n_tok + 31) / 32 * 32; t++)
        for (int64_t i = 0; i < kp; i++) {
            const uint16_t want = t < n_tok && i < n_in ? hy_bf16_from_f32(x[t * n_in + i]) : 0;
            bad_a += xa[t * kp + i] != want;
        }
    for (int64_t o = 0; o < (n_rows + 15) / 16 * 16; o++)
        for (int64_t i = 0; i < kp; i++) {
            const uint16_t want = o < n_rows && i < n_in ? hy_bf16_from_f32(w[o * n_in + i]) : 0;
            const int64_t at =
                ((o / 16) * steps + i / 32) * 512 + (i % 32 / 2) * 32 + (o % 16) * 2 + i % 2;
            bad_w += wp[at] != want;
            bad_t += wt[at] != want;
        }
    if (bad_a || bad_w || bad_t)
        HY_FAILF("packs %lld x %lld x %lld: %lld activation, %lld weight, %lld transposed "
                 "elements wrong",
                 (long long)n_tok, (long long)n_in, (long long)n_rows, (long long)bad_a,
                 (long long)bad_w, (long long)bad_t);
    free(x), free(w), free(wtr), free(xa), free(wp), free(wt);
}

HY_TEST(packs_match_the_tile_layout) {
    ktu_seed(1);
    const int64_t shapes[][3] = {
        {1, 32, 16}, {5, 17, 3}, {33, 64, 40}, {64, 576, 48}, {70, 100, 33}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        check_packs(shapes[s][0], shapes[s][1], shapes[s][2]);
        const int prev = hy_bf16_gemm_force_off(1); /* the portable packs too */
        check_packs(shapes[s][0], shapes[s][1], shapes[s][2]);
        hy_bf16_gemm_force_off(prev);
    }
}

/* y = beta y + x w^T from the packs: the scalar product, and the AMX one where present,
 * against double sums of the bf16-rounded inputs. */
static void check_gemm(int64_t n_tok, int64_t n_in, int64_t n_rows, float beta, int amx) {
    float *x = ktu_rand(n_tok * n_in, -2.0f, 2.0f), *w = ktu_rand(n_rows * n_in, -1.0f, 1.0f);
    const int64_t ldy = n_rows + 3;
    float *y0 = ktu_rand(n_tok * ldy, -1.0f, 1.0f), *y = malloc((size_t)(n_tok * ldy) * 4);
    double *ref = malloc((size_t)(n_tok * ldy) * sizeof *ref);
    uint16_t *xa = malloc(hy_bf16_act_elems(n_tok, n_in) * 2);
    uint16_t *wp = malloc(hy_bf16_w_elems(n_rows, n_in) * 2);
    hy_bf16_act_pack(x, n_in, n_tok, n_in, 0, n_tok, xa);
    hy_bf16_w_pack(w, n_rows, n_in, wp);
    for (int64_t t = 0; t < n_tok; t++)
        for (int64_t o = 0; o < ldy; o++) {
            double s = 0.0;
            for (int64_t i = 0; o < n_rows && i < n_in; i++)
                s += (double)rbf(x[t * n_in + i]) * rbf(w[o * n_in + i]);
            ref[t * ldy + o] = o < n_rows ? beta * y0[t * ldy + o] + s : y0[t * ldy + o];
        }
    memcpy(y, y0, (size_t)(n_tok * ldy) * 4);
    if (beta == 0.0f)
        for (int64_t t = 0; t < n_tok; t++)
            for (int64_t o = 0; o < n_rows; o++)
                y[t * ldy + o] = NAN; /* beta 0 overwrites */
    if (amx)
        hy_bf16_gemm(y, ldy, xa, wp, n_tok, n_in, n_rows, beta);
    else
        hy_bf16_gemm_ref(y, ldy, xa, wp, n_tok, n_in, n_rows, beta);
    /* fp32 sums of n_in exact products: order-of-summation error only */
    const double e = rel_to_max(y, ref, n_tok * ldy);
    if (!(e < 2e-6 * sqrt((double)n_in)))
        HY_FAILF("%s %lld x %lld x %lld beta %g: relative error %.3g", amx ? "AMX" : "scalar",
                 (long long)n_tok, (long long)n_in, (long long)n_rows, beta, e);
    free(x), free(w), free(y0), free(y), free(ref), free(xa), free(wp);
}

HY_TEST(products_match_double_sums) {
    ktu_seed(2);
    const int64_t shapes[][3] = {{1, 32, 16},  {5, 17, 3},    {32, 64, 32},  {33, 576, 48},
                                 {64, 96, 64}, {70, 100, 33}, {96, 1536, 80}};
    const int amx = hy_bf16_gemm_usable();
    if (!amx) printf("  no AMX on this CPU (or HY_AMX=0): the tile product is not exercised\n");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int b = 0; b < 2; b++) {
            check_gemm(shapes[s][0], shapes[s][1], shapes[s][2], (float)b, 0);
            if (amx) check_gemm(shapes[s][0], shapes[s][1], shapes[s][2], (float)b, 1);
        }
}

/* bf16 attention against the fp32 kernel on the same inputs: the products see bf16 Q, K, V
 * and probabilities (relative 2^-9 each), the softmax is fp32 in both. */
HY_TEST(bf16_attention_close_to_fp32) {
    if (!hy_attn_prefill_bf16_usable(64, 3)) {
        printf("  no AMX on this CPU (or HY_AMX=0): checking the refusal only\n");
        float z[64] = {0};
        HY_CHECK_EQ_INT(hy_attn_prefill_bf16(z, 64, z, 64, z, z, 1, 0, 1, 1, 64, 1, 1.0f),
                        HY_EINVAL);
        return;
    }
    ktu_seed(3);
    const struct {
        int64_t n_q, pos0;
        int heads, kv, d;
    } cases[] = {{40, 0, 3, 1, 64}, {200, 300, 9, 3, 64}, {33, 700, 4, 1, 128}, {64, 0, 2, 2, 256}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const int64_t n_q = cases[c].n_q, pos0 = cases[c].pos0, cap = pos0 + n_q + 5;
        const int H = cases[c].heads, KV = cases[c].kv, d = cases[c].d;
        float *q = ktu_rand(n_q * H * d, -1.0f, 1.0f), *k = ktu_rand(KV * cap * d, -1.0f, 1.0f);
        float *v = ktu_rand(KV * cap * d, -1.0f, 1.0f);
        float *o16 = malloc((size_t)(n_q * H * d) * 4), *o32 = malloc((size_t)(n_q * H * d) * 4);
        const float scale = 2.0f / sqrtf((float)d); /* peaked enough that masking matters */
        HY_OK_OR_FAIL(
            hy_attn_prefill_bf16(o16, H * d, q, H * d, k, v, n_q, pos0, H, KV, d, cap, scale));
        hy_attn_prefill_f32(o32, H * d, q, H * d, k, v, n_q, pos0, H, KV, d, cap, scale);
        double e = 0.0, m = 0.0;
        for (int64_t i = 0; i < n_q * H * d; i++) {
            e = fmax(e, fabs((double)o16[i] - o32[i]));
            m = fmax(m, fabs((double)o32[i]));
            if (isnan(o16[i])) e = INFINITY;
        }
        printf("  case %zu: bf16 vs fp32 %.2e of the largest output\n", c, e / m);
        /* a wrong mask or layout gives errors of order 1 */
        if (!(e / m < 2e-2))
            HY_FAILF("case %zu (n_q %lld, pos0 %lld, %d/%d heads, d %d): error %.3g of max %.3g", c,
                     (long long)n_q, (long long)pos0, H, KV, d, e, m);
        free(q), free(k), free(v), free(o16), free(o32);
    }
}

HY_TEST_MAIN()
