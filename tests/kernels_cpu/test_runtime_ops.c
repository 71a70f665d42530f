/* The CPU references of the ops the CUDA runtime adds (bf16_ops, qkv_store, fill, the batched
 * set merge, attention SKIP units), each against values fixed by hand or an independent
 * derivation: rounding of chosen floats, RoPE through hy_rope_f32 plus manual placement, the
 * splitmix64 sequence, per-row hy_set_merge and a token bitmap, untouched poison rows. */
#include <math.h>
#include <string.h>

#include "attention_decode.h"
#include "attention_sparse.h"
#include "bf16_ops.h"
#include "fill.h"
#include "gemv.h"
#include "hy_bf16.h"
#include "hy_test.h"
#include "indexset.h"
#include "kernel_test_util.h"
#include "page_bounds.h"
#include "qkv_store.h"
#include "rmsnorm.h"
#include "rope.h"
#include "sketch.h"
#include "swiglu.h"

HY_TEST(bf16_rounds_chosen_values) {
    static const struct {
        uint32_t in;
        uint16_t out;
    } cases[] = {
        {0x3f800000u, 0x3f80}, /* 1 */
        {0x3f808000u, 0x3f80}, /* 1 + 2^-8: a tie, the even neighbour is below */
        {0x3f808001u, 0x3f81}, /* just above the tie */
        {0x3f818000u, 0x3f82}, /* tie with an odd lower neighbour: up to even */
        {0x3f817fffu, 0x3f81}, /* just below that tie */
        {0xbf808000u, 0xbf80}, /* ties to even for negatives too */
        {0xbf818000u, 0xbf82},
        {0x80000000u, 0x8000}, /* -0 keeps its sign */
        {0x00000000u, 0x0000},
        {0x7f800000u, 0x7f80}, /* +inf */
        {0xff800000u, 0xff80}, /* -inf */
        {0x7f7fffffu, 0x7f80}, /* largest float rounds past the largest bf16: inf */
        {0x7f7f7fffu, 0x7f7f}, /* below the tie: stays the largest bf16 */
        {0x7f7f8000u, 0x7f80}, /* tie, odd lower neighbour: up to inf */
        {0x00008000u, 0x0000}, /* subnormal tie, even below */
        {0x00018000u, 0x0002}, /* subnormal tie, odd below */
        {0x7fc00000u, 0x7fc0}, /* quiet NaN */
        {0xffc00000u, 0xffc0}, /* negative NaN keeps its sign */
        {0x7f800001u, 0x7fc0}, /* signalling NaN with a low payload: truncation gives inf */
        {0xff800001u, 0xffc0},
        {0x7fffffffu, 0x7fc0}, /* NaN whose rounding would carry into the sign */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint16_t got = hy_bf16_from_f32(hy_bits_f32(cases[i].in));
        if (got != cases[i].out)
            HY_FAILF("bf16(0x%08x) = 0x%04x, expected 0x%04x", cases[i].in, got, cases[i].out);
    }
    HY_CHECK(hy_bf16_to_f32(0x3f80) == 1.0f);
    HY_CHECK(hy_bf16_to_f32(0xc040) == -3.0f);
    HY_CHECK(hy_f32_bits(hy_bf16_to_f32(0x8000)) == 0x80000000u);
    /* every non-NaN bf16 survives the round trip through float */
    int bad = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        const float x = hy_bf16_to_f32((uint16_t)b);
        if (x == x && hy_bf16_from_f32(x) != b) bad++;
    }
    HY_CHECK_EQ_INT(bad, 0);
}

HY_TEST(bf16_array_conversion_matches_scalar) {
    ktu_seed(7);
    float *x = ktu_rand(1001, -1e4f, 1e4f);
    x[3] = -0.0f, x[4] = NAN, x[5] = INFINITY;
    uint16_t *y = malloc(1001 * 2);
    HY_OK_OR_FAIL(hy_f32_to_bf16(y, x, 1001));
    for (int i = 0; i < 1001; i++)
        if (y[i] != hy_bf16_from_f32(x[i])) {
            HY_FAILF("element %d: 0x%04x, expected 0x%04x", i, y[i], hy_bf16_from_f32(x[i]));
            break;
        }
    HY_CHECK_EQ_INT(hy_f32_to_bf16(y, x, -1), HY_EINVAL);
    free(x), free(y);
}

/* within half a bf16 ulp (2^-9 relative) plus float noise of the double reference */
static int bf16_close(uint16_t got, double ref) {
    return fabs((double)hy_bf16_to_f32(got) - ref) <= fabs(ref) * 0x1p-8 + 1e-30;
}

HY_TEST(rmsnorm_bf16_is_rounded_rmsnorm) {
    const int64_t rows = 5, n = 777;
    ktu_seed(11);
    float *x = ktu_rand(rows * n, -3, 3), *w = ktu_rand(n, -2, 2), *ref = malloc(rows * n * 4);
    uint16_t *y = malloc(rows * n * 2);
    HY_OK_OR_FAIL(hy_rmsnorm_bf16(y, x, w, rows, n, 1e-5f));
    hy_rmsnorm_f32(ref, x, w, rows, n, 1e-5f);
    int diff = 0, far = 0;
    for (int64_t r = 0; r < rows; r++) {
        double ss = 0;
        for (int64_t i = 0; i < n; i++)
            ss += (double)x[r * n + i] * x[r * n + i];
        const double inv = 1.0 / sqrt(ss / n + 1e-5);
        for (int64_t i = 0; i < n; i++) {
            diff += y[r * n + i] != hy_bf16_from_f32(ref[r * n + i]);
            far += !bf16_close(y[r * n + i], x[r * n + i] * inv * w[i]);
        }
    }
    HY_CHECK_EQ_INT(diff, 0);
    HY_CHECK_EQ_INT(far, 0);
    HY_CHECK_EQ_INT(hy_rmsnorm_bf16(y, x, w, rows, 0, 1e-5f), HY_EINVAL);
    free(x), free(w), free(ref), free(y);
}

HY_TEST(swiglu_bf16_is_rounded_swiglu) {
    const int64_t n = 1003;
    ktu_seed(12);
    float *g = ktu_rand(n, -8, 8), *u = ktu_rand(n, -3, 3), *ref = malloc(n * 4);
    uint16_t *y = malloc(n * 2);
    HY_OK_OR_FAIL(hy_swiglu_bf16(y, g, u, n));
    hy_swiglu_f32(ref, g, u, n);
    int diff = 0, far = 0;
    for (int64_t i = 0; i < n; i++) {
        diff += y[i] != hy_bf16_from_f32(ref[i]);
        far += !bf16_close(y[i], (double)g[i] / (1.0 + exp(-(double)g[i])) * u[i]);
    }
    HY_CHECK_EQ_INT(diff, 0);
    HY_CHECK_EQ_INT(far, 0);
    free(g), free(u), free(ref), free(y);
}

/* RoPE through hy_rope_f32 on copies of the q and k parts, then manual placement. */
static void check_qkv_store(hy_rope_layout layout) {
    const int H = 6, KV = 2, D = 16, B = 3, T = 7;
    const int64_t cap = 9, sstride = (int64_t)KV * cap * D + 5, rstride = (H + 2 * KV) * D + 3;
    hy_qkv_shape s = {H, KV, D, cap, sstride, 10000.0f, layout};
    ktu_seed(100 + layout);
    float *qkv = ktu_rand(T * rstride, -2, 2), *q = malloc((size_t)T * H * D * 4);
    const size_t ncache = (size_t)B * sstride;
    uint16_t *kc = malloc(ncache * 2), *vc = malloc(ncache * 2);
    for (size_t i = 0; i < ncache; i++)
        kc[i] = vc[i] = 0xdead;
    const int32_t seq[7] = {0, 2, 1, 2, 0, 1, 2}, pos[7] = {0, 8, 3, 4, 5, 1, 0};
    HY_OK_OR_FAIL(hy_qkv_rope_store(q, kc, vc, qkv, rstride, T, seq, pos, &s));
    /* q */
    float *qr = malloc((size_t)T * H * D * 4), *kr = malloc((size_t)T * KV * D * 4);
    for (int t = 0; t < T; t++) {
        memcpy(qr + t * H * D, qkv + t * rstride, (size_t)H * D * 4);
        memcpy(kr + t * KV * D, qkv + t * rstride + H * D, (size_t)KV * D * 4);
    }
    hy_rope_f32(qr, T, H, D, H * D, pos, 10000.0f, layout);
    hy_rope_f32(kr, T, KV, D, KV * D, pos, 10000.0f, layout);
    HY_CHECK(memcmp(q, qr, (size_t)T * H * D * 4) == 0);
    for (int i = 0; i < H * D; i++) /* position 0 rotates nothing */
        HY_CHECK(q[i] == qkv[i]);
    /* k and v at their places, every other cache element untouched */
    size_t written = 0, wrong = 0;
    for (int t = 0; t < T; t++)
        for (int g = 0; g < KV; g++)
            for (int d = 0; d < D; d++) {
                const size_t at = (size_t)(seq[t] * sstride + ((int64_t)g * cap + pos[t]) * D + d);
                wrong += kc[at] != hy_bf16_from_f32(kr[(t * KV + g) * D + d]);
                wrong += vc[at] != hy_bf16_from_f32(qkv[t * rstride + (H + KV + g) * D + d]);
            }
    for (size_t i = 0; i < ncache; i++)
        written += kc[i] != 0xdead;
    HY_CHECK_EQ_INT(wrong, 0);
    HY_CHECK_EQ_INT(written, (size_t)T * KV * D);
    free(qkv), free(q), free(kc), free(vc), free(qr), free(kr);
}

HY_TEST(qkv_rope_store_matches_rope_and_placement) {
    check_qkv_store(HY_ROPE_NORM);
    check_qkv_store(HY_ROPE_NEOX);
}

HY_TEST(qkv_rope_store_rejects_bad_rows_before_writing) {
    const int H = 2, KV = 1, D = 4;
    hy_qkv_shape s = {H, KV, D, 4, KV * 4 * D, 10000.0f, HY_ROPE_NEOX};
    float qkv[3 * 16], q[3 * 8];
    uint16_t kc[2 * 16], vc[2 * 16];
    for (int i = 0; i < 48; i++)
        qkv[i] = (float)i;
    for (int i = 0; i < 24; i++)
        q[i] = -1.0f;
    memset(kc, 0x5a, sizeof kc), memset(vc, 0x5a, sizeof vc);
    int32_t seq[3] = {0, 1, 0}, pos[3] = {0, 1, 4}; /* token 2: pos == kv_cap */
    HY_CHECK_EQ_INT(hy_qkv_rope_store(q, kc, vc, qkv, 16, 3, seq, pos, &s), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "token 2") != NULL);
    for (int i = 0; i < 24; i++)
        HY_CHECK(q[i] == -1.0f);
    for (int i = 0; i < 32; i++)
        HY_CHECK(kc[i] == 0x5a5a && vc[i] == 0x5a5a);
    pos[2] = -1;
    HY_CHECK_EQ_INT(hy_qkv_rope_store(q, kc, vc, qkv, 16, 3, seq, pos, &s), HY_ERANGE);
    pos[2] = 3, seq[1] = -1;
    HY_CHECK_EQ_INT(hy_qkv_rope_store(q, kc, vc, qkv, 16, 3, seq, pos, &s), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "token 1") != NULL);
    seq[1] = 1;
    HY_OK_OR_FAIL(hy_qkv_rope_store(q, kc, vc, qkv, 16, 3, seq, pos, &s));
    HY_CHECK_EQ_INT(hy_qkv_rope_store(q, kc, vc, qkv, 15, 3, seq, pos, &s), HY_EINVAL);
    s.head_dim = 3;
    HY_CHECK_EQ_INT(hy_qkv_rope_store(q, kc, vc, qkv, 16, 3, seq, pos, &s), HY_EINVAL);
    s.head_dim = 4, s.seq_stride = 15;
    HY_CHECK_EQ_INT(hy_qkv_rope_store(q, kc, vc, qkv, 16, 3, seq, pos, &s), HY_EINVAL);
}

/* Bias, then each Q and K head normalised, V biased only; against the math in double. */
HY_TEST(qkv_extras_bias_then_head_norm) {
    enum { H = 3, KV = 1, D = 8, T = 2, W = (H + 2 * KV) * D, RS = W + 3 };
    float qkv[T * RS], bias[W], qn[D], kn[D], want[T * RS];
    for (int i = 0; i < T * RS; i++)
        qkv[i] = (float)((i * 37) % 23) / 7.0f - 1.5f;
    for (int i = 0; i < W; i++)
        bias[i] = (float)(i % 5) * 0.25f - 0.5f;
    for (int i = 0; i < D; i++)
        qn[i] = 1.0f + 0.125f * (float)i, kn[i] = 2.0f - 0.0625f * (float)i;
    memcpy(want, qkv, sizeof qkv);
    for (int t = 0; t < T; t++) {
        float *r = want + t * RS;
        for (int i = 0; i < W; i++)
            r[i] += bias[i];
        for (int h = 0; h < H + KV; h++) {
            double ss = 0;
            for (int i = 0; i < D; i++)
                ss += (double)r[h * D + i] * r[h * D + i];
            const double inv = 1.0 / sqrt(ss / D + 1e-6);
            for (int i = 0; i < D; i++)
                r[h * D + i] = (float)(r[h * D + i] * inv * (h < H ? qn[i] : kn[i]));
        }
    }
    hy_qkv_extras e = {H, KV, D, bias, qn, kn, 1e-6f};
    HY_OK_OR_FAIL(hy_qkv_extras_f32(qkv, RS, T, &e));
    for (int i = 0; i < T * RS; i++)
        if (fabsf(qkv[i] - want[i]) > 1e-6f * (1.0f + fabsf(want[i])))
            HY_FAILF("qkv_extras: element %d = %g, expected %g", i, (double)qkv[i],
                     (double)want[i]);
    /* no extras: nothing changes; a lone norm and a short row are refused */
    hy_qkv_extras none = {H, KV, D, NULL, NULL, NULL, 1e-6f};
    memcpy(want, qkv, sizeof qkv);
    HY_OK_OR_FAIL(hy_qkv_extras_f32(qkv, RS, T, &none));
    HY_CHECK(memcmp(qkv, want, sizeof qkv) == 0);
    e.k_norm = NULL;
    HY_CHECK_EQ_INT(hy_qkv_extras_f32(qkv, RS, T, &e), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "k_norm") != NULL);
    e.k_norm = kn;
    HY_CHECK_EQ_INT(hy_qkv_extras_f32(qkv, W - 1, T, &e), HY_EINVAL);
    HY_CHECK(memcmp(qkv, want, sizeof qkv) == 0);
}

HY_TEST(seq_advance_moves_positions) {
    int32_t lens[3] = {5, 0, 100}, pos[3] = {-1, -1, -1};
    HY_OK_OR_FAIL(hy_seq_advance(pos, lens, 3));
    HY_CHECK(pos[0] == 5 && pos[1] == 0 && pos[2] == 100);
    HY_CHECK(lens[0] == 6 && lens[1] == 1 && lens[2] == 101);
    HY_OK_OR_FAIL(hy_seq_advance(pos, lens, 0));
    lens[1] = INT32_MAX;
    HY_CHECK_EQ_INT(hy_seq_advance(pos, lens, 3), HY_ERANGE);
    HY_CHECK(lens[0] == 6); /* nothing changed */
    HY_CHECK_EQ_INT(hy_seq_advance(pos, lens, -1), HY_EINVAL);
}

HY_TEST(fill_is_deterministic_and_sliceable) {
    const int64_t n = 5000, k = 1234;
    uint16_t *a = malloc(n * 2), *b = malloc(n * 2), *c = malloc(n * 2);
    HY_OK_OR_FAIL(hy_fill_uniform_bf16(a, n, 42, 0, 0.5f));
    HY_OK_OR_FAIL(hy_fill_uniform_bf16(b, n, 42, 0, 0.5f));
    HY_CHECK(memcmp(a, b, n * 2) == 0);
    HY_OK_OR_FAIL(hy_fill_uniform_bf16(c, n - k, 42, (uint64_t)k, 0.5f));
    HY_CHECK(memcmp(a + k, c, (n - k) * 2) == 0);
    HY_OK_OR_FAIL(hy_fill_uniform_bf16(b, n, 43, 0, 0.5f));
    int same = 0;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        same += a[i] == b[i];
        const float x = hy_bf16_to_f32(a[i]);
        HY_CHECK(x >= -0.5f && x <= 0.5f);
        sum += x;
    }
    HY_CHECK(same < n / 50);
    HY_CHECK(fabs(sum / n) < 0.02); /* uniform on [-0.5, 0.5): sd of the mean ~0.004 */
    /* splitmix64 seeded with 0: the first output is 0xe220a8397b1dcdaf, top 24 bits 0xe220a8 */
    HY_OK_OR_FAIL(hy_fill_uniform_bf16(a, 1, 0, 0, 1.0f));
    HY_CHECK_EQ_INT(a[0], hy_bf16_from_f32(2.0f * (float)0xe220a8 / 16777216.0f - 1.0f));
    float f[7];
    HY_OK_OR_FAIL(hy_fill_f32(f, 7, -2.5f));
    for (int i = 0; i < 7; i++)
        HY_CHECK(f[i] == -2.5f);
    HY_CHECK_EQ_INT(hy_fill_f32(f, -1, 0.0f), HY_EINVAL);
    free(a), free(b), free(c);
}

HY_TEST(set_merge_keeps_sink_stored_window) {
    const int32_t stored[6] = {0, 1, 5, 9, 14, 18};
    int32_t out[16];
    /* n 20, sink 2, window 4: sink {0,1}, stored below the window {5, 9, 14}, window 16..19 */
    int64_t m = hy_set_merge(out, stored, 6, 20, 1, 2, 4);
    const int32_t want[] = {0, 1, 5, 9, 14, 16, 17, 18, 19};
    HY_CHECK_EQ_INT(m, 9);
    HY_CHECK(m == 9 && memcmp(out, want, sizeof want) == 0);
    /* pages of 4 (n 20 = 5 pages): sink page 0, window from page 4; stored pages 1, 3 */
    const int32_t pages[3] = {1, 3, 4};
    m = hy_set_merge(out, pages, 3, 20, 4, 2, 4);
    const int32_t wantp[] = {0, 1, 3, 4};
    HY_CHECK(m == 4 && memcmp(out, wantp, sizeof wantp) == 0);
    /* sink and window meet: every unit */
    m = hy_set_merge(out, stored, 6, 5, 1, 3, 3);
    HY_CHECK_EQ_INT(m, 5);
}

/* Random ascending sets in a store; rows checked against hy_set_merge and a token bitmap. */
static void check_merge_rows(int P, int sink, int window) {
    enum { B = 3, KV = 4, ROWS = B * KV, SLOTS = 10, SS = 64 };
    ktu_seed((uint64_t)(P * 100 + sink * 10 + window));
    int32_t store[SLOTS * SS], store_n[SLOTS], slots[ROWS], lens[B] = {300, 37, 1};
    for (int s = 0; s < SLOTS; s++) {
        int c = 0;
        for (int t = 0; t < 300 / P + 1 && c < SS; t++)
            if (ktu_uniform() < 0.15) store[s * SS + c++] = t;
        store_n[s] = c;
    }
    store_n[3] = -1; /* nothing selected yet */
    for (int r = 0; r < ROWS; r++)
        slots[r] = r % 5 == 4 ? -1 : (int32_t)(ktu_uniform() * SLOTS);
    slots[1] = 3;
    const int64_t os = SS + (sink + P - 1) / P + (window + P - 1) / P + 1;
    int32_t *out = malloc((size_t)ROWS * os * 4), cnt[ROWS], *want = malloc((size_t)os * 4);
    int64_t rr[B] = {7, 0, -3};
    HY_OK_OR_FAIL(hy_set_merge_rows(out, cnt, os, store, store_n, SS, slots, ROWS, lens, KV, P,
                                    sink, window, rr));
    int64_t tokens[B] = {7, 0, -3};
    for (int r = 0; r < ROWS; r++) {
        const int b = r / KV, sl = slots[r];
        const int64_t ns = sl >= 0 && store_n[sl] > 0 ? store_n[sl] : 0;
        const int64_t m =
            hy_set_merge(want, sl >= 0 ? store + sl * SS : NULL, ns, lens[b], P, sink, window);
        if (cnt[r] != m || memcmp(out + r * os, want, (size_t)m * 4))
            HY_FAILF("P %d sink %d window %d: row %d differs from hy_set_merge (count %d vs %lld)",
                     P, sink, window, r, cnt[r], (long long)m);
        unsigned char seen[300] = {0};
        for (int64_t i = 0; i < m; i++)
            for (int64_t t = (int64_t)want[i] * P; t < (int64_t)want[i] * P + P && t < lens[b]; t++)
                seen[t] = 1;
        for (int t = 0; t < lens[b]; t++)
            tokens[b] += seen[t];
    }
    for (int b = 0; b < B; b++)
        HY_CHECK_EQ_INT(rr[b], tokens[b]);
    free(out), free(want);
}

HY_TEST(set_merge_rows_matches_per_row_merge) {
    check_merge_rows(1, 4, 16);
    check_merge_rows(1, 0, 0);
    check_merge_rows(4, 5, 9);
    check_merge_rows(16, 16, 64);
    check_merge_rows(3, 0, 1);
}

HY_TEST(set_merge_rows_skips_rows_of_slot_minus_two) {
    int32_t store[8] = {1, 2, 3}, store_n[1] = {3}, slots[3] = {-2, 0, -7}, lens[3] = {10, 10, -4};
    int32_t out[3 * 12], cnt[3] = {77, 77, 77};
    int64_t read[3] = {0, 0, 0};
    for (int i = 0; i < 36; i++)
        out[i] = -5;
    /* row 2 would be refused (negative length) if it were not skipped */
    HY_OK_OR_FAIL(
        hy_set_merge_rows(out, cnt, 12, store, store_n, 8, slots, 3, lens, 1, 1, 1, 2, read));
    HY_CHECK(cnt[0] == 77 && out[0] == -5 && read[0] == 0);
    HY_CHECK(cnt[1] == 6 && out[12] == 0 && read[1] == 6);
    HY_CHECK(cnt[2] == 77 && out[24] == -5 && read[2] == 0);
}

HY_TEST(set_merge_rows_rejects_bad_arguments) {
    int32_t store[8] = {1, 2, 3}, store_n[1] = {3}, slots[2] = {0, -1}, lens[2] = {10, 10};
    int32_t out[2 * 16], cnt[2];
    /* the general bound: 8 + 1 + 2 + 1 = 12 */
    HY_OK_OR_FAIL(
        hy_set_merge_rows(out, cnt, 12, store, store_n, 8, slots, 2, lens, 1, 1, 1, 2, NULL));
    HY_CHECK_EQ_INT(cnt[0], 6); /* sink 0, stored 1 2 3, window 8 9 */
    HY_CHECK_EQ_INT(cnt[1], 3); /* no stored set: 0, 8, 9 */
    /* a smaller stride is fine while every row fits (6 entries), not below */
    HY_OK_OR_FAIL(
        hy_set_merge_rows(out, cnt, 6, store, store_n, 8, slots, 2, lens, 1, 1, 1, 2, NULL));
    HY_CHECK(cnt[0] == 6 && out[5] == 9 && cnt[1] == 3 && out[6] == 0);
    for (int i = 0; i < 32; i++)
        out[i] = -5;
    HY_CHECK_EQ_INT(
        hy_set_merge_rows(out, cnt, 5, store, store_n, 8, slots, 2, lens, 1, 1, 1, 2, NULL),
        HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "row 0") != NULL);
    HY_CHECK(out[0] == -5); /* nothing written */
    HY_CHECK_EQ_INT(
        hy_set_merge_rows(out, cnt, -1, store, store_n, 8, slots, 2, lens, 1, 1, 1, 2, NULL),
        HY_EINVAL);
    store_n[0] = 9;
    HY_CHECK_EQ_INT(
        hy_set_merge_rows(out, cnt, 12, store, store_n, 8, slots, 2, lens, 1, 1, 1, 2, NULL),
        HY_ERANGE);
    store_n[0] = 3, lens[1] = -1;
    HY_CHECK_EQ_INT(
        hy_set_merge_rows(out, cnt, 12, store, store_n, 8, slots, 2, lens, 1, 1, 1, 2, NULL),
        HY_ERANGE);
    HY_CHECK_EQ_INT(
        hy_set_merge_rows(out, cnt, 12, store, store_n, 8, slots, 2, lens, 1, 0, 1, 2, NULL),
        HY_EINVAL);
}

HY_TEST(attention_skip_units_leave_rows_untouched) {
    const int B = 2, H = 6, KV = 3, D = 8, CAP = 21;
    hy_attn_shape s = {B, H, KV, D, CAP, KV * CAP * D, 0.3f, 0};
    int32_t lens[2] = {21, 9};
    ktu_seed(5);
    float *q = ktu_rand(B * H * D, -2, 2), *k = ktu_rand(B * s.seq_stride, -1, 1);
    float *v = ktu_rand(B * s.seq_stride, -1, 1);
    float dense[2 * 6 * 8], got[2 * 6 * 8], sd[2 * 3 * 24], sg[2 * 3 * 24];
    HY_OK_OR_FAIL(hy_attn_decode_f32(dense, sd, 24, q, k, v, lens, &s));
    /* decode: KV head 1 skipped */
    const uint8_t dmodes[3] = {HY_UNIT_DENSE, HY_UNIT_SKIP, HY_UNIT_DENSE};
    for (int i = 0; i < B * H * D; i++)
        got[i] = NAN;
    for (int i = 0; i < B * KV * 24; i++)
        sg[i] = -7.0f;
    HY_OK_OR_FAIL(hy_attn_decode_units_f32(got, sg, 24, q, k, v, lens, &s, dmodes));
    const int G = H / KV;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < D; i++) {
                const int at = (b * H + h) * D + i;
                if (h / G == 1)
                    HY_CHECK(isnan(got[at]));
                else
                    HY_CHECK(got[at] == dense[at]);
            }
    for (int b = 0; b < B; b++)
        for (int g = 0; g < KV; g++)
            for (int j = 0; j < lens[b]; j++) {
                const int at = (b * KV + g) * 24 + j;
                HY_CHECK(g == 1 ? sg[at] == -7.0f : sg[at] == sd[at]);
            }
    /* NULL modes is all dense */
    HY_OK_OR_FAIL(hy_attn_decode_units_f32(got, NULL, 0, q, k, v, lens, &s, NULL));
    HY_CHECK(memcmp(got, dense, sizeof dense) == 0);
    const uint8_t bad[3] = {HY_UNIT_DENSE, HY_UNIT_SPARSE, HY_UNIT_DENSE};
    HY_CHECK_EQ_INT(hy_attn_decode_units_f32(got, NULL, 0, q, k, v, lens, &s, bad), HY_EINVAL);
    /* sparse: SPARSE over the full set (= dense), SKIP, DENSE; the skipped unit's set is
     * garbage and must not be read */
    int32_t idx[2 * 3 * 21], cnt[6];
    for (int b = 0; b < B; b++)
        for (int g = 0; g < KV; g++) {
            cnt[b * KV + g] = g == 1 ? 99 : lens[b];
            for (int t = 0; t < 21; t++)
                idx[(b * KV + g) * 21 + t] = g == 1 ? 1000 : t;
        }
    hy_indexset set = {idx, cnt, 21, HY_GRAN_TOKEN, 1};
    const uint8_t smodes[3] = {HY_UNIT_SPARSE, HY_UNIT_SKIP, HY_UNIT_DENSE};
    for (int i = 0; i < B * H * D; i++)
        got[i] = NAN;
    HY_OK_OR_FAIL(hy_attn_sparse_f32(got, q, k, v, lens, &s, smodes, &set));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < D; i++) {
                const int at = (b * H + h) * D + i;
                if (h / G == 1)
                    HY_CHECK(isnan(got[at]));
                else
                    HY_CHECK_NEAR(got[at], dense[at], 1e-6);
            }
    const uint8_t bad3[3] = {HY_UNIT_SPARSE, 3, HY_UNIT_DENSE};
    HY_CHECK_EQ_INT(hy_attn_sparse_f32(got, q, k, v, lens, &s, bad3, &set), HY_EINVAL);
    free(q), free(k), free(v);
}

/* The GEMV reference on numbers small enough to check by hand, its split layout and beta. */
HY_TEST(gemv_reference_by_hand) {
    /* w = [[1, 2], [3, 4], [0.5, -1]] in bf16 (exact), x = [[1, 1], [2, -1]] */
    const uint16_t w[6] = {0x3f80, 0x4000, 0x4040, 0x4080, 0x3f00, 0xbf80};
    const float x[4] = {1, 1, 2, -1};
    float y[6] = {0};
    const hy_gemv_shape s = {.rows = 2, .in = 2, .out = 3, .ldx = 2, .ldy = 3, .split = 3};
    HY_OK_OR_FAIL(hy_gemv_bf16(y, x, w, &s));
    const float want[6] = {3, 7, -0.5f, 0, 2, 2};
    for (int i = 0; i < 6; i++)
        HY_CHECK_NEAR(y[i], want[i], 0);
    /* beta 1 adds; split 1 puts output o of row b at o * stride + b */
    float z[12];
    for (int i = 0; i < 12; i++)
        z[i] = 1.0f;
    const hy_gemv_shape t = {.rows = 2,
                             .in = 2,
                             .out = 3,
                             .ldx = 2,
                             .ldy = 1,
                             .split = 1,
                             .split_stride = 4,
                             .beta = 1.0f};
    HY_OK_OR_FAIL(hy_gemv_bf16(z, x, w, &t));
    const int at[6] = {0, 1, 4, 5, 8, 9};
    const float zw[6] = {4, 1, 8, 3, 0.5f, 3};
    for (int i = 0; i < 6; i++)
        HY_CHECK_NEAR(z[at[i]], zw[i], 0);
    const hy_gemv_shape bad = {.rows = 9, .in = 2, .out = 3, .ldx = 2, .ldy = 3, .split = 3};
    HY_CHECK(hy_gemv_bf16(y, x, w, &bad) == HY_EINVAL);
    /* prologues: RMSNorm of row [1, 1] is [1, 1] (eps 0) times norm_w; SwiGLU with up */
    const float nw[2] = {2, 0.5f}, up[4] = {1, 0, 0, 0};
    hy_gemv_shape n = s;
    n.norm_w = nw;
    HY_OK_OR_FAIL(hy_gemv_bf16(y, x, w, &n));
    HY_CHECK_NEAR(y[0], 2 * 1 + 0.5 * 2, 1e-6); /* row 0: x normed = [2, 0.5] */
    const double r1 = 1.0 / sqrt(2.5);          /* row 1: [2, -1] / sqrt(mean 2.5) * [2, 0.5] */
    HY_CHECK_NEAR(y[3], (4 * r1) * 1 + (-0.5 * r1) * 2, 1e-6);
    hy_gemv_shape g = s;
    g.up = up;
    HY_OK_OR_FAIL(hy_gemv_bf16(y, x, w, &g));
    HY_CHECK_NEAR(y[0], 1.0 / (1.0 + exp(-1.0)) * 1 * 1, 1e-6); /* silu(1) * 1, then 0 */
    HY_CHECK_NEAR(y[3], 0, 0);
    n.up = up;
    HY_CHECK(hy_gemv_bf16(y, x, w, &n) == HY_EINVAL);
}

/* Page scores: hy_page_max_f32's maxima, window pages at -inf, the page counts. */
HY_TEST(page_scores_mask_the_window) {
    float x[2 * 40], pm[2 * 3], ps[2 * 3];
    for (int i = 0; i < 80; i++)
        x[i] = (float)((i * 37) % 11);
    const int32_t n[2] = {40, 33};
    int32_t np[2] = {0, 0};
    HY_OK_OR_FAIL(hy_page_max_f32(pm, 3, x, 40, 2, n, 1, 16));
    HY_OK_OR_FAIL(hy_page_scores_f32(ps, 3, np, x, 40, 2, n, 1, 16, 10));
    HY_CHECK(np[0] == 3 && np[1] == 3);
    /* row 0: window [30, 40) starts in page 1; row 1: window [23, 33) starts in page 1 */
    HY_CHECK(ps[0] == pm[0] && isinf(ps[1]) && ps[1] < 0 && isinf(ps[2]));
    HY_CHECK(ps[3] == pm[3] && isinf(ps[4]) && isinf(ps[5]));
    HY_OK_OR_FAIL(hy_page_scores_f32(ps, 3, np, x, 40, 2, n, 1, 16, 0)); /* no window */
    for (int i = 0; i < 6; i++)
        HY_CHECK(ps[i] == pm[i]);
    HY_CHECK(hy_page_scores_f32(ps, 3, NULL, x, 40, 2, n, 1, 16, 0) == HY_EINVAL);
}

/* Page bounds: the fold keeps each page's per-channel min and max (recomputing the partial
 * page), the scores are the group's upper bound on q.k, window pages -inf. */
HY_TEST(page_bounds_fold_and_score) {
    enum { B = 1, H = 2, KV = 1, D = 2, CAP = 10, P = 4 };
    const hy_attn_shape s = {B, H, KV, D, CAP, KV * CAP * D, 1.0f, 0};
    uint16_t k[CAP * D], mn[3 * D], mx[3 * D];
    /* key t = (t, -t) for t < 10 */
    for (int t = 0; t < CAP; t++)
        k[t * D] = hy_bf16_from_f32((float)t), k[t * D + 1] = hy_bf16_from_f32((float)-t);
    int32_t lens[1] = {6}, folded[1] = {0}, np[1] = {0};
    HY_OK_OR_FAIL(hy_page_bounds_fold(mn, mx, 3, folded, k, lens, &s, P));
    HY_CHECK(folded[0] == 6);
    HY_CHECK(hy_bf16_to_f32(mn[0]) == 0 && hy_bf16_to_f32(mx[0]) == 3);  /* page 0, channel 0 */
    HY_CHECK(hy_bf16_to_f32(mn[1]) == -3 && hy_bf16_to_f32(mx[1]) == 0); /* channel 1 */
    HY_CHECK(hy_bf16_to_f32(mn[2]) == 4 && hy_bf16_to_f32(mx[2]) == 5);  /* page 1: t 4, 5 */
    lens[0] = 9; /* page 1 is refolded with t 6, 7; page 2 gets t = 8 */
    HY_OK_OR_FAIL(hy_page_bounds_fold(mn, mx, 3, folded, k, lens, &s, P));
    HY_CHECK(hy_bf16_to_f32(mx[2]) == 7 && hy_bf16_to_f32(mn[3]) == -7);
    HY_CHECK(hy_bf16_to_f32(mn[4]) == 8 && hy_bf16_to_f32(mx[5]) == -8);
    /* q heads (1, 1) and (-1, 0): page 0 bound = max(0,3)+max(-3,0) + max(0,-3)+max(0,0) = 3 */
    const float q[H * D] = {1, 1, -1, 0};
    float sc[3];
    HY_OK_OR_FAIL(hy_page_bound_scores(sc, 3, np, folded, q, mn, mx, 3, lens, &s, P, 0));
    HY_CHECK(np[0] == 3);
    HY_CHECK_NEAR(sc[0], 3, 0);
    HY_CHECK_NEAR(sc[1], 7 + -4 + -4 + 0, 0); /* page 1: [4,7] x [-7,-4] */
    HY_CHECK_NEAR(sc[2], 8 - 8 - 8 + 0, 0);
    HY_OK_OR_FAIL(hy_page_bound_scores(sc, 3, np, folded, q, mn, mx, 3, lens, &s, P, 2));
    HY_CHECK(sc[0] == 3 && isinf(sc[1]) && isinf(sc[2])); /* window [7, 9): pages 1 and 2 */
    folded[0] = 12;
    HY_CHECK(hy_page_bounds_fold(mn, mx, 3, folded, k, lens, &s, P) == HY_ERANGE);
    HY_CHECK(hy_page_bounds_fold(mn, mx, 2, folded, k, lens, &s, P) == HY_EINVAL);
}

/* Sketches: symmetric rounding with one scale a key (clamped, zero keys), and scores that are
 * the softmax of the dequantised logits summed over the group. */
HY_TEST(sketch_quantize_and_score) {
    const float k[3 * 4] = {1.0f, -0.5f, 0.25f, 0.0f, 0, 0, 0, 0, -7.0f, 3.5f, 1.0f, 0.49f};
    int8_t q8[12], q4[12];
    float s8[3], s4[3];
    HY_OK_OR_FAIL(hy_sketch_quantize(q8, s8, k, 3, 4, 8));
    HY_OK_OR_FAIL(hy_sketch_quantize(q4, s4, k, 3, 4, 4));
    HY_CHECK_NEAR(s8[0], 1.0 / 127, 1e-9);
    HY_CHECK(q8[0] == 127 && q8[1] == -64 && q8[2] == 32 && q8[3] == 0); /* -63.5 -> -64 */
    HY_CHECK(s8[1] == 0 && q8[4] == 0 && q8[7] == 0);
    HY_CHECK(q4[8] == -7 && q4[9] == 4 && q4[10] == 1 && q4[11] == 0); /* 3.5 -> 4, 0.49 -> 0 */
    HY_CHECK_NEAR(s4[2], 1.0, 1e-7);
    /* scores: with exact keys (int values, scale 1) the softmax of q.k * 0.5 per head */
    const int8_t kq[2 * 2] = {1, 0, 0, 2};
    const float ks[2] = {1, 1}, q[2 * 2] = {2, 0, 0, 1};
    float ps[2];
    HY_OK_OR_FAIL(hy_sketch_scores(ps, q, 2, kq, ks, 2, 2, 0.5f));
    /* head 0 logits (1, 0), head 1 (0, 1): each a softmax, summed: (e/(1+e) + 1/(1+e)) = 1 */
    const double e = exp(1.0);
    HY_CHECK_NEAR(ps[0], e / (1 + e) + 1 / (1 + e), 1e-6);
    HY_CHECK_NEAR(ps[0] + ps[1], 2.0, 1e-6);
    HY_CHECK(hy_sketch_quantize(q8, s8, k, 3, 4, 5) == HY_EINVAL);
}

HY_TEST_MAIN()
