/* Batched decode: one step over several sequences gives each sequence the logits it gets
 * when decoded alone, and sequences do not see each other's caches. */
#include "hy_test.h"
#include "runtime_test_util.h"

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

HY_TEST_MAIN()
