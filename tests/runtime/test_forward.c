/* The CPU forward pass on tiny random Llama models against the double-precision reference in
 * tiny_llama.c: whole-prompt prefill, token-by-token decode through the same cache path,
 * prefill in pieces and across micro-batches, logits for chosen positions only, tied and
 * untied output, GQA ratios 1, 2 and 4, head_dim 8 and 64, quantised weights. */
#include "bf16_gemm.h"
#include "hy_test.h"
#include "runtime_test_util.h"

#include <string.h>

/* These checks hold the forward pass's bookkeeping (pieces, micro-batches, chosen rows) to
 * fp32 identities, so prefill takes the fp32 tiles here even where AMX runs; the bf16 path is
 * held to its rounding in test_weights.c and tests/kernels_cpu/test_bf16_gemm.c. */
__attribute__((constructor)) static void fp32_prefill(void) {
    (void)hy_bf16_gemm_force_off(1);
}

/* Prefills n tokens of a model built from cfg and checks every position's logits against
 * the reference. */
static void check_prefill(const tiny_cfg *cfg, int n, double tol) {
    tiny_model tm;
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(cfg, &tm, &m));
    const int V = cfg->n_vocab;
    int32_t *tok = rt_tokens(n, V, (unsigned)n + 3);
    double *ref = malloc((size_t)n * V * sizeof(double));
    float *got = malloc((size_t)n * V * sizeof(float));
    tiny_reference(&tm, tok, n, ref);
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, n, 1, &c));
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, n, got, n));
    double e = rt_err_fd(got, ref, (int64_t)n * V);
    if (!(e < tol)) HY_FAILF("prefill of %d tokens: relative error %.3g > %.3g", n, e, tol);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 0), n);
    hy_ctx_free(c);
    hy_model_free(m);
    tiny_free(&tm);
    free(tok), free(ref), free(got);
}

HY_TEST(info_reports_hparams) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    const hy_model_info *mi = hy_model_info_borrow(m);
    HY_CHECK(!strcmp(mi->arch, "llama"));
    HY_CHECK(!strcmp(mi->name, "tiny-llama-test"));
    HY_CHECK_EQ_INT(mi->n_layers, 2);
    HY_CHECK_EQ_INT(mi->n_heads, 4);
    HY_CHECK_EQ_INT(mi->n_kv_heads, 2);
    HY_CHECK_EQ_INT(mi->head_dim, 8);
    HY_CHECK_EQ_INT(mi->d_ff, 48);
    HY_CHECK_EQ_INT(mi->n_vocab, 61);
    HY_CHECK_EQ_INT(mi->n_ctx_train, 1024);
    HY_CHECK_EQ_INT(mi->rope_layout, 0);
    HY_CHECK(!mi->tied_output);
    HY_CHECK_EQ_INT(strlen(mi->sha256), 64);
    hy_model_free(m);
}

HY_TEST(prefill_matches_reference_gqa2) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    check_prefill(&cfg, 1, 1e-5);
    check_prefill(&cfg, 37, 1e-5);
}
HY_TEST(prefill_matches_reference_tied_output) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.tied = 1;
    check_prefill(&cfg, 20, 1e-5);
}
HY_TEST(prefill_matches_reference_mha_and_gqa4) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.n_kv_heads = 4;
    check_prefill(&cfg, 19, 1e-5);
    cfg.n_heads = 8;
    cfg.n_kv_heads = 2;
    cfg.d_model = 64;
    check_prefill(&cfg, 23, 1e-5);
}
HY_TEST(prefill_matches_reference_head_dim_64_gqa3) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.d_model = 192;
    cfg.n_heads = 3;
    cfg.n_kv_heads = 1;
    cfg.d_ff = 96;
    cfg.n_layers = 3;
    cfg.rope_theta = 100000.0f;
    check_prefill(&cfg, 70, 1e-5);
}
/* The Qwen rows of arch.h (QKV bias; per-head QK norm; both NEOX RoPE) against the same
 * double reference, which writes their math out separately (tiny_llama.c). */
HY_TEST(prefill_matches_reference_qwen2_and_qwen3) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.arch = "qwen2";
    cfg.rope_theta = 1000000.0f;
    check_prefill(&cfg, 29, 1e-5);
    cfg.arch = "qwen3";
    cfg.rms_eps = 1e-6f;
    check_prefill(&cfg, 29, 1e-5);
}
HY_TEST(prefill_matches_reference_q8_0_weights) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.wtype = HY_GGML_Q8_0;
    cfg.d_ff = 64; /* rows must be whole 32-element blocks */
    check_prefill(&cfg, 15, 1e-5);
    cfg.wtype = HY_GGML_F16;
    check_prefill(&cfg, 9, 1e-5);
}
HY_TEST(prefill_across_micro_batches) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.n_layers = 1;
    check_prefill(&cfg, 600, 2e-5); /* more than one 512-token micro-batch */
}

/* Prefill logits == the logits of the same tokens fed one at a time (decode path, sgemv,
 * n_q = 1 attention) == fed in uneven pieces. */
HY_TEST(prefill_equals_decode_and_pieces) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    const int n = 41, V = cfg.n_vocab;
    int32_t *tok = rt_tokens(n, V, 5);
    float *a = malloc((size_t)n * V * sizeof(float)), *b = malloc((size_t)n * V * sizeof(float));
    float *p = malloc((size_t)n * V * sizeof(float));
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, 64, 1, &c));
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, n, a, n));
    hy_ctx_seq_reset(c, 0);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 0), 0);
    for (int t = 0; t < n; t++)
        HY_OK_OR_FAIL(hy_forward(c, 0, tok + t, 1, b + (int64_t)t * V, 1));
    HY_CHECK(rt_err_ff(a, b, (int64_t)n * V) < 1e-4);
    hy_ctx_seq_reset(c, 0);
    const int cut[] = {0, 3, 4, 17, 40, 41};
    for (int i = 0; i + 1 < 6; i++)
        HY_OK_OR_FAIL(hy_forward(c, 0, tok + cut[i], cut[i + 1] - cut[i], p + (int64_t)cut[i] * V,
                                 cut[i + 1] - cut[i]));
    HY_CHECK(rt_err_ff(a, p, (int64_t)n * V) < 1e-4);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 0), n);
    hy_ctx_free(c);
    hy_model_free(m);
    free(tok), free(a), free(b), free(p);
}

/* Asking for the last k positions gives exactly those rows of the full answer. */
HY_TEST(logits_for_last_positions_only) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    const int n = 30, V = cfg.n_vocab;
    int32_t *tok = rt_tokens(n, V, 9);
    float *all = malloc((size_t)n * V * sizeof(float)),
          *last = malloc((size_t)3 * V * sizeof(float));
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, n, 1, &c));
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, n, all, n));
    hy_ctx_seq_reset(c, 0);
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, n, last, 3));
    HY_CHECK(rt_err_ff(all + (int64_t)(n - 3) * V, last, 3 * V) < 1e-5);
    hy_ctx_seq_reset(c, 0);
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, n, NULL, 0)); /* no logits at all */
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 0), n);
    hy_ctx_free(c);
    hy_model_free(m);
    free(tok), free(all), free(last);
}

/* Chosen positions spanning two micro-batches land in the right rows. */
HY_TEST(logits_for_positions_across_micro_batches) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.n_layers = 1;
    tiny_model tm;
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, &tm, &m));
    const int n = 530, k = 40, V = cfg.n_vocab;
    int32_t *tok = rt_tokens(n, V, 11);
    double *ref = malloc((size_t)n * V * sizeof(double));
    float *got = malloc((size_t)k * V * sizeof(float));
    tiny_reference(&tm, tok, n, ref);
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, n, 1, &c));
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, n, got, k));
    HY_CHECK(rt_err_fd(got, ref + (int64_t)(n - k) * V, (int64_t)k * V) < 2e-5);
    hy_ctx_free(c);
    hy_model_free(m);
    tiny_free(&tm);
    free(tok), free(ref), free(got);
}

/* hy_forward_rows: logits of arbitrary chosen positions (spanning micro-batches) in one pass,
 * equal to the reference rows; bad row lists are refused before anything runs. */
HY_TEST(logits_for_chosen_rows) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.n_layers = 1;
    tiny_model tm;
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, &tm, &m));
    const int n = 700, V = cfg.n_vocab;
    const int64_t rows[5] = {0, 1, 511, 512, 699};
    int32_t *tok = rt_tokens(n, V, 17);
    double *ref = malloc((size_t)n * V * sizeof(double));
    float *got = malloc((size_t)5 * V * sizeof(float));
    tiny_reference(&tm, tok, n, ref);
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, n, 1, &c));
    const int64_t bad1[2] = {5, 5}, bad2[1] = {700};
    HY_CHECK_EQ_INT(hy_forward_rows(c, 0, tok, n, bad1, 2, got), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_forward_rows(c, 0, tok, n, bad2, 1, got), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 0), 0);
    HY_OK_OR_FAIL(hy_forward_rows(c, 0, tok, n, rows, 5, got));
    for (int i = 0; i < 5; i++) {
        double e = rt_err_fd(got + (int64_t)i * V, ref + rows[i] * V, V);
        if (!(e < 2e-5)) HY_FAILF("row %lld: relative error %.3g", (long long)rows[i], e);
    }
    hy_ctx_free(c);
    hy_model_free(m);
    tiny_free(&tm);
    free(tok), free(ref), free(got);
}

/* Results do not depend on how many threads the context uses, nor on who threads the GEMMs. */
HY_TEST(one_and_two_threads_agree) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    const int n = 200, V = cfg.n_vocab;
    int32_t *tok = rt_tokens(n, V, 13);
    float *a = malloc((size_t)V * sizeof(float)), *b = malloc((size_t)V * sizeof(float));
    float *o = malloc((size_t)V * sizeof(float));
    hy_ctx *c1, *c2, *c3;
    setenv("HY_THREADS", "1", 1);
    HY_OK_OR_FAIL(hy_ctx_create(m, n, 1, &c1));
    setenv("HY_THREADS", "2", 1);
    HY_OK_OR_FAIL(hy_ctx_create(m, n, 1, &c2));
    setenv("HY_OPENBLAS_THREADING", "1", 1); /* GEMMs threaded by OpenBLAS instead */
    HY_OK_OR_FAIL(hy_ctx_create(m, n, 1, &c3));
    unsetenv("HY_OPENBLAS_THREADING");
    unsetenv("HY_THREADS");
    HY_OK_OR_FAIL(hy_forward(c3, 0, tok, n, o, 1));
    hy_ctx_free(c3);
    HY_CHECK_EQ_INT(hy_ctx_threads(c1), 1);
    HY_CHECK_EQ_INT(hy_ctx_threads(c2), 2);
    HY_OK_OR_FAIL(hy_forward(c1, 0, tok, n, a, 1));
    HY_OK_OR_FAIL(hy_forward(c2, 0, tok, n, b, 1));
    HY_CHECK(rt_err_ff(a, b, V) < 1e-5);
    HY_CHECK(rt_err_ff(a, o, V) < 1e-5);
    free(o);
    hy_ctx_free(c1);
    hy_ctx_free(c2);
    hy_model_free(m);
    free(tok), free(a), free(b);
}

/* Decode past 512 cached keys with 2 threads cuts each KV head's keys into pieces (split-KV,
 * attn_dispatch.c); the logits equal the one-thread decode's. */
HY_TEST(split_kv_decode_equals_one_thread) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.n_ctx_train = 1024;
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    const int n = 700, V = cfg.n_vocab;
    int32_t *tok = rt_tokens(n, V, 17);
    float *a = malloc((size_t)V * sizeof(float)), *b = malloc((size_t)V * sizeof(float));
    hy_ctx *c[2];
    for (int t = 0; t < 2; t++) {
        setenv("HY_THREADS", t ? "2" : "1", 1);
        HY_OK_OR_FAIL(hy_ctx_create(m, n, 1, &c[t]));
        HY_OK_OR_FAIL(hy_forward(c[t], 0, tok, n - 3, NULL, 0));
    }
    unsetenv("HY_THREADS");
    for (int i = n - 3; i < n; i++) {
        HY_OK_OR_FAIL(hy_forward(c[0], 0, tok + i, 1, a, 1));
        HY_OK_OR_FAIL(hy_forward(c[1], 0, tok + i, 1, b, 1));
        if (!(rt_err_ff(a, b, V) < 1e-5))
            HY_FAILF("decode at %d keys: 1 vs 2 threads differ by %.3g", i + 1, rt_err_ff(a, b, V));
    }
    hy_ctx_free(c[0]), hy_ctx_free(c[1]);
    hy_model_free(m);
    free(tok), free(a), free(b);
}

HY_TEST_MAIN()
