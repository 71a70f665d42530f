/* Batched decode: one step over several sequences gives each sequence the logits it gets
 * when decoded alone, and sequences do not see each other's caches. */
#include "hy_test.h"
#include "runtime_test_util.h"

#include <stdlib.h>

HY_TEST(batched_decode_equals_single_decode) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    const int V = cfg.n_vocab, S = 3, steps = 5;
    const int plen[3] = {7, 1, 19};
    hy_ctx *cb, *cs;
    HY_OK_OR_FAIL(hy_ctx_create(m, 64, S, &cb));
    HY_OK_OR_FAIL(hy_ctx_create(m, 64, 1, &cs));
    int32_t *prompt[3], *next[3];
    for (int s = 0; s < S; s++) {
        prompt[s] = rt_tokens(plen[s], V, 100u + (unsigned)s);
        next[s] = rt_tokens(steps, V, 200u + (unsigned)s);
        HY_OK_OR_FAIL(hy_forward(cb, s, prompt[s], plen[s], NULL, 0));
    }
    float *lb = malloc((size_t)S * V * sizeof(float)), *ls = malloc((size_t)V * sizeof(float));
    float *single = malloc((size_t)S * steps * V * sizeof(float));
    for (int s = 0; s < S; s++) {
        hy_ctx_seq_reset(cs, 0);
        HY_OK_OR_FAIL(hy_forward(cs, 0, prompt[s], plen[s], NULL, 0));
        for (int t = 0; t < steps; t++)
            HY_OK_OR_FAIL(
                hy_forward(cs, 0, &next[s][t], 1, single + ((int64_t)s * steps + t) * V, 1));
    }
    /* batch the sequences in a shuffled order: 2, 0, 1 */
    const int order[3] = {2, 0, 1};
    for (int t = 0; t < steps; t++) {
        int seqs[3];
        int32_t tok[3];
        for (int i = 0; i < S; i++)
            seqs[i] = order[i], tok[i] = next[order[i]][t];
        HY_OK_OR_FAIL(hy_forward_batch(cb, seqs, tok, S, lb));
        for (int i = 0; i < S; i++) {
            double e =
                rt_err_ff(lb + (int64_t)i * V, single + ((int64_t)order[i] * steps + t) * V, V);
            if (!(e < 1e-4)) HY_FAILF("step %d seq %d: max diff %.3g", t, order[i], e);
        }
    }
    for (int s = 0; s < S; s++)
        HY_CHECK_EQ_INT(hy_ctx_seq_len(cb, s), plen[s] + steps);
    (void)ls;
    hy_ctx_free(cb);
    hy_ctx_free(cs);
    hy_model_free(m);
    for (int s = 0; s < S; s++)
        free(prompt[s]), free(next[s]);
    free(lb), free(ls), free(single);
}

HY_TEST(batch_of_a_subset_leaves_others_alone) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, 16, 4, &c));
    int32_t tok[2] = {1, 2};
    int seqs[2] = {3, 1};
    float *l = malloc((size_t)2 * cfg.n_vocab * sizeof(float));
    HY_OK_OR_FAIL(hy_forward_batch(c, seqs, tok, 2, l));
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 0), 0);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 1), 1);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 2), 0);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 3), 1);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 4), -1);
    hy_ctx_free(c);
    hy_model_free(m);
    free(l);
}

HY_TEST(batch_rejects_duplicates_and_full_sequences) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, 2, 2, &c));
    float *l = malloc((size_t)2 * cfg.n_vocab * sizeof(float));
    int dup[2] = {1, 1}, ok[2] = {0, 1}, bad[2] = {0, 2};
    int32_t tok[2] = {1, 2}, badtok[2] = {1, 61};
    HY_CHECK_EQ_INT(hy_forward_batch(c, dup, tok, 2, l), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "appears") != NULL);
    HY_CHECK_EQ_INT(hy_forward_batch(c, bad, tok, 2, l), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_forward_batch(c, ok, badtok, 2, l), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_forward_batch(c, ok, tok, 3, l), HY_ERANGE);
    HY_OK_OR_FAIL(hy_forward_batch(c, ok, tok, 2, l));
    HY_OK_OR_FAIL(hy_forward_batch(c, ok, tok, 2, l));
    HY_CHECK_EQ_INT(hy_forward_batch(c, ok, tok, 2, l), HY_ERANGE); /* n_ctx = 2 reached */
    HY_CHECK(strstr(hy_last_error(), "full") != NULL);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 0), 2);
    hy_ctx_free(c);
    hy_model_free(m);
    free(l);
}

/* Sequences with plans whose units all attend densely (all dense; one select unit per
 * layer, which publishes a set nobody reads) decode, in one batch with an unplanned sequence,
 * to the very same logits: `hylra eval` measures every method against sequence 0 this way,
 * and on native weights the int8 activations turn any arithmetic difference (a split-KV sum
 * order, another attention kernel) into logit changes that would be charged to the plans
 * (they were: KL 0.003 between dense and an all-dense plan). Long enough (1200 tokens, 3 KV
 * heads on 2 threads) for a single sequence's split-KV decode; Q4_1 weights, tied output
 * (the shape that showed it). */
HY_TEST(dense_and_select_units_decode_as_no_plan) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.d_model = 576, cfg.n_heads = 9, cfg.n_kv_heads = 3, cfg.d_ff = 256, cfg.n_layers = 4;
    cfg.n_ctx_train = 2048, cfg.n_vocab = 4096, cfg.tied = 1, cfg.wtype = HY_GGML_Q4_1;
    hy_model *m;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    const int V = cfg.n_vocab, n0 = 1200, steps = 6;
    setenv("HY_THREADS", "2", 1);
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, 2048, 3, &c));
    unsetenv("HY_THREADS");
    int32_t *tok = rt_tokens(n0 + steps, V, 77u);
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, n0, NULL, 0));
    HY_OK_OR_FAIL(hy_ctx_seq_copy(c, 1, 0));
    HY_OK_OR_FAIL(hy_ctx_seq_copy(c, 2, 0));
    hy_plan *dense = rt_new_plan(m, 64, 4, 16), *sel = rt_new_plan(m, 64, 4, 16);
    for (int l = 0; l < cfg.n_layers; l++)
        rt_set_unit(sel, l, l % 3, HY_MODE_SELECT, 0, 0, 1);
    HY_OK_OR_FAIL(hy_ctx_set_plan(c, 1, dense));
    HY_OK_OR_FAIL(hy_ctx_set_plan(c, 2, sel));
    float *lg = malloc((size_t)3 * V * sizeof *lg);
    const int seqs[3] = {0, 1, 2};
    for (int t = 0; t < steps; t++) {
        const int32_t b[3] = {tok[n0 + t], tok[n0 + t], tok[n0 + t]};
        HY_OK_OR_FAIL(hy_forward_batch(c, seqs, b, 3, lg));
        for (int i = 1; i < 3; i++) {
            const double e = rt_err_ff(lg + (int64_t)i * V, lg, V);
            if (e != 0.0)
                HY_FAILF("step %d: %s plan vs no plan: max |dlogit| %.3g, expected 0", t,
                         i == 1 ? "all-dense" : "select", e);
        }
    }
    free(lg), free(tok);
    hy_plan_free(dense), hy_plan_free(sel);
    hy_ctx_free(c);
    hy_model_free(m);
}

HY_TEST_MAIN()
