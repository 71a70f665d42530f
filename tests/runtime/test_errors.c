/* Bad models and bad calls fail with named errors and leave state unchanged: wrong tensor
 * shapes, missing tensors and keys, unsupported architectures and RoPE scaling, token ids
 * outside the vocabulary, contexts longer than the model's, overfull sequences. */
#include "hy_test.h"
#include "runtime_test_util.h"

#include <string.h>

static hy_status load_broken(tiny_cfg *cfg) {
    hy_model *m = NULL;
    hy_status st = rt_load(cfg, NULL, &m);
    if (st == HY_OK) hy_model_free(m);
    return st;
}

#define CHECK_MSG(sub)                                                                             \
    do {                                                                                           \
        if (!strstr(hy_last_error(), sub))                                                         \
            HY_FAILF("message \"%s\" does not mention \"%s\"", hy_last_error(), sub);              \
    } while (0)

HY_TEST(wrong_shape_names_the_tensor) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.bad_tensor = "blk.1.attn_k.weight";
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_EMISMATCH);
    CHECK_MSG("blk.1.attn_k.weight");
    CHECK_MSG("[32, 17]"); /* found */
    CHECK_MSG("[32, 16]"); /* expected */
}
HY_TEST(wrong_norm_length_names_the_tensor) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.bad_tensor = "output_norm.weight";
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_EMISMATCH);
    CHECK_MSG("output_norm.weight");
}
HY_TEST(wrong_ffn_down_shape) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.bad_tensor = "blk.0.ffn_down.weight";
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_EMISMATCH);
    CHECK_MSG("blk.0.ffn_down.weight");
}
HY_TEST(missing_tensor_is_named) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.skip_tensor = "blk.1.ffn_up.weight";
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_ENOTFOUND);
    CHECK_MSG("blk.1.ffn_up.weight");
}
HY_TEST(missing_output_means_tied) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.tied = 1;
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    HY_CHECK(hy_model_info_borrow(m)->tied_output);
    hy_model_free(m);
}
HY_TEST(missing_hparam_is_named) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.skip_key = "block_count";
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_ENOTFOUND);
    CHECK_MSG("llama.block_count");
    cfg.skip_key = "attention.layer_norm_rms_epsilon";
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_ENOTFOUND);
    CHECK_MSG("layer_norm_rms_epsilon");
}
HY_TEST(head_count_kv_defaults_to_head_count) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.n_kv_heads = 4;
    cfg.skip_key = "attention.head_count_kv";
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    HY_CHECK_EQ_INT(hy_model_info_borrow(m)->n_kv_heads, 4);
    hy_model_free(m);
}
HY_TEST(unsupported_arch_is_refused) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.arch = "gpt2";
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_EUNSUPPORTED);
    CHECK_MSG("gpt2");
}
HY_TEST(rope_scaling_is_refused) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.rope_scaling = "yarn";
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_EUNSUPPORTED);
    CHECK_MSG("yarn");
    cfg.rope_scaling = "none";
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_OK);
}
HY_TEST(heads_not_dividing_is_refused) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.n_kv_heads = 3;
    HY_CHECK_EQ_INT(load_broken(&cfg), HY_EFORMAT);
    CHECK_MSG("head_count_kv");
}
HY_TEST(missing_file_is_an_io_error) {
    hy_model *m = (hy_model *)1;
    HY_CHECK(hy_model_load("/nonexistent/model.gguf", &m) != HY_OK);
    HY_CHECK(m == NULL);
    HY_CHECK_EQ_INT(hy_model_load(NULL, &m), HY_EINVAL);
}

HY_TEST(context_longer_than_training_is_refused) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    hy_ctx *c = NULL;
    HY_CHECK_EQ_INT(hy_ctx_create(m, 1025, 1, &c), HY_ERANGE);
    CHECK_MSG("1024");
    HY_CHECK(c == NULL);
    HY_CHECK_EQ_INT(hy_ctx_create(m, 0, 1, &c), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_ctx_create(m, 8, 0, &c), HY_ERANGE);
    hy_model_free(m);
}

HY_TEST(bad_calls_leave_the_cache_unchanged) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, 8, 2, &c));
    float *l = malloc((size_t)8 * cfg.n_vocab * sizeof(float));
    int32_t tok[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, 5, l, 1));
    int32_t bad[3] = {1, 61, 2};
    HY_CHECK_EQ_INT(hy_forward(c, 0, bad, 3, l, 1), HY_ERANGE);
    CHECK_MSG("id 61");
    bad[1] = -1;
    HY_CHECK_EQ_INT(hy_forward(c, 0, bad, 3, l, 1), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_forward(c, 0, tok, 4, l, 1), HY_ERANGE); /* 5 + 4 > 8 */
    CHECK_MSG("n_ctx = 8");
    HY_CHECK_EQ_INT(hy_forward(c, 2, tok, 1, l, 1), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_forward(c, -1, tok, 1, l, 1), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_forward(c, 0, tok, 2, l, 3), HY_EINVAL); /* n_logits > n_tok */
    HY_CHECK_EQ_INT(hy_forward(c, 0, tok, 2, NULL, 1), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_forward(c, 0, tok, -1, NULL, 0), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 0), 5);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 1), 0);
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, 3, l, 3)); /* exactly fills the context */
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 0), 8);
    HY_CHECK_EQ_INT(hy_forward(c, 0, tok, 1, l, 1), HY_ERANGE);
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, 0, NULL, 0)); /* nothing to do */
    hy_ctx_free(c);
    hy_model_free(m);
    free(l);
}

HY_TEST(null_arguments_are_errors) {
    HY_CHECK_EQ_INT(hy_forward(NULL, 0, NULL, 0, NULL, 0), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_forward_batch(NULL, NULL, NULL, 0, NULL), HY_EINVAL);
    HY_CHECK(hy_model_info_borrow(NULL) == NULL);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(NULL, 0), -1);
    hy_model_free(NULL);
    hy_ctx_free(NULL);
    hy_ctx_seq_reset(NULL, 0);
}

HY_TEST_MAIN()
