/* Weights in the file's format (the default) against the fp32 path (--weights f32) on tiny
 * random models of every weight type: prefill (fp32 tiles, so equal to the fp32 path, or bf16
 * tiles on AMX, within their rounding) and token-by-token decode (int8 activations, so within their
 * rounding), both also against the double-precision reference; and the option's names. */
#include "bf16_gemm.h"
#include "hy_test.h"
#include "runtime_test_util.h"

static hy_status load(const tiny_cfg *cfg, tiny_model *tm, hy_weights w, hy_model **out) {
    char path[64];
    hy_status st = tiny_write(cfg, path, tm);
    if (st != HY_OK) return st;
    const hy_model_opts o = {w};
    st = hy_model_load_opts(path, &o, out);
    remove(path);
    return st;
}

/* Logits of n tokens: one prefill (rows all), or n single-token decode steps. */
static void run(hy_model *m, const int32_t *tok, int n, int decode, float *out, int V) {
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, n, 1, &c));
    if (!decode) HY_OK_OR_FAIL(hy_forward(c, 0, tok, n, out, n));
    for (int t = 0; decode && t < n; t++)
        HY_OK_OR_FAIL(hy_forward(c, 0, tok + t, 1, out + (int64_t)t * V, 1));
    hy_ctx_free(c);
}

static void check_type(hy_ggml_type type) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.d_model = 256, cfg.n_heads = 4, cfg.n_kv_heads = 2, cfg.d_ff = 512;
    cfg.wtype = type;
    tiny_model tm;
    hy_model *mq = NULL, *mf = NULL;
    HY_OK_OR_FAIL(load(&cfg, &tm, HY_WEIGHTS_NATIVE, &mq));
    HY_OK_OR_FAIL(load(&cfg, NULL, HY_WEIGHTS_F32, &mf));
    const int n = 20, V = cfg.n_vocab;
    int32_t *tok = rt_tokens(n, V, 11);
    double *ref = malloc((size_t)n * V * sizeof(double));
    float *pq = malloc((size_t)n * V * sizeof(float)), *pf = malloc((size_t)n * V * sizeof(float));
    float *dq = malloc((size_t)n * V * sizeof(float)), *df = malloc((size_t)n * V * sizeof(float));
    tiny_reference(&tm, tok, n, ref);
    run(mq, tok, n, 0, pq, V), run(mf, tok, n, 0, pf, V);
    run(mq, tok, n, 1, dq, V), run(mf, tok, n, 1, df, V);
    const int64_t all = (int64_t)n * V;
    const double e_pf = rt_err_fd(pf, ref, all), e_df = rt_err_fd(df, ref, all);
    const double e_pq = rt_err_fd(pq, ref, all), e_dq = rt_err_fd(dq, ref, all);
    /* int8 activations (d = max / 127 over 32 or 256 elements) through two random layers
     * measured 1.8e-2 (32-element blocks) and 2.8e-2 (Q4_K's 256); a wrong block layout
     * gives errors of order 1. The float formats take fp32 activations: exact. */
    const int act_f32 =
        type == HY_GGML_F16 || type == HY_GGML_BF16 || type == HY_GGML_F32 || type == HY_GGML_Q5_0;
    const double tol = act_f32 ? 1e-5 : 4e-2;
    /* where AMX runs, native prefill rounds both operands of its products to bf16 (relative
     * 2^-9 each): measured 6.3e-3 to 1.2e-2 on these models, below int8 decode's 1.8e-2 to
     * 2.8e-2; a wrong tile layout gives order 1 */
    const double tol_p = hy_bf16_gemm_usable() ? 4e-2 : tol;
    if (!(e_pf < 1e-5) || !(e_df < 1e-5) || !(e_pq < tol_p) || !(e_dq < tol))
        HY_FAILF("%s: relative error vs reference: f32 prefill %.3g decode %.3g, native prefill "
                 "%.3g decode %.3g",
                 hy_ggml_type_name(type), e_pf, e_df, e_pq, e_dq);
    printf("  %s: native prefill %.2e (%s), native decode %.2e, f32 decode %.2e (relative to "
           "max |logit|)\n",
           hy_ggml_type_name(type), e_pq, hy_bf16_gemm_usable() ? "bf16 AMX" : "fp32 tiles", e_dq,
           e_df);
    hy_model_free(mq), hy_model_free(mf), tiny_free(&tm);
    free(tok), free(ref), free(pq), free(pf), free(dq), free(df);
}

HY_TEST(every_weight_type_native_close_to_f32) {
    /* Q5_0 has no CPU kernel: the loader holds it as fp32 rows (model_load.c's qmat_add) */
    const hy_ggml_type types[] = {HY_GGML_Q4_0, HY_GGML_Q4_1, HY_GGML_Q8_0,
                                  HY_GGML_Q4_K, HY_GGML_Q6_K, HY_GGML_F16,
                                  HY_GGML_BF16, HY_GGML_F32,  HY_GGML_Q5_0};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        check_type(types[i]);
}

HY_TEST(weights_option_names) {
    hy_weights w = HY_WEIGHTS_F32;
    HY_CHECK(hy_weights_parse("native", &w) == HY_OK && w == HY_WEIGHTS_NATIVE);
    HY_CHECK(hy_weights_parse("f32", &w) == HY_OK && w == HY_WEIGHTS_F32);
    HY_CHECK(hy_weights_parse("q8", &w) == HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "\"q8\"") != NULL);
    const hy_model_opts bad = {(hy_weights)7};
    hy_model *m = NULL;
    HY_CHECK(hy_model_load_opts("unused.gguf", &bad, &m) == HY_EINVAL && m == NULL);
}

HY_TEST_MAIN()
