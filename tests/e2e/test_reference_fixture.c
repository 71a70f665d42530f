/* Checks the committed llama.cpp reference fixtures themselves and the comparison the e2e
 * tests use: that the data loads, is self-consistent, and that the tolerances reject a
 * change far smaller than any real bug (so the model tests are able to fail). */
#include "e2e_reference.h"
#include "hy_test.h"

static const char *source_root(void) {
    const char *r = getenv("HY_SOURCE_ROOT");
    return r ? r : ".";
}

HY_TEST(fixture_f32_loads_three_prompts) {
    e2e_reference ref;
    HY_OK_OR_FAIL(e2e_reference_load(source_root(), "f32", &ref));
    HY_CHECK_EQ_INT(ref.n_prompts, 3);
    HY_CHECK_EQ_INT(ref.n_vocab, 49152);
    for (int i = 0; i < ref.n_prompts; i++) {
        const e2e_prompt *p = &ref.prompts[i];
        HY_CHECK(p->n_ids >= 200);
        HY_CHECK(p->n_pos >= 5);
        HY_CHECK_EQ_INT(p->n_greedy, 32);
        HY_CHECK_EQ_INT(p->positions[0], 0);
        HY_CHECK_EQ_INT(p->positions[p->n_pos - 1], p->n_ids - 1);
    }
    e2e_reference_free(&ref);
}

HY_TEST(fixture_top1_matches_stored_logits) {
    e2e_reference ref;
    HY_OK_OR_FAIL(e2e_reference_load(source_root(), "f32", &ref));
    for (int i = 0; i < ref.n_prompts; i++) {
        const e2e_prompt *p = &ref.prompts[i];
        for (int k = 0; k < p->n_pos; k++)
            HY_CHECK_EQ_INT(e2e_argmax(p->logits + (size_t)k * ref.n_vocab, ref.n_vocab),
                            p->top1[k]);
    }
    e2e_reference_free(&ref);
}

HY_TEST(fixture_q4_1_is_far_from_f32) {
    /* The quantised-activation path of llama.cpp must not pass our fp32 tolerances: if it
     * did, the tolerances would be too loose to tell fp32 from Q8 activations. */
    e2e_reference f32, q41;
    HY_OK_OR_FAIL(e2e_reference_load(source_root(), "f32", &f32));
    HY_OK_OR_FAIL(e2e_reference_load(source_root(), "q4_1", &q41));
    const e2e_prompt *a = &f32.prompts[0], *b = &q41.prompts[0];
    HY_CHECK_EQ_INT(a->positions[0], b->positions[0]);
    e2e_diff d = e2e_compare(b->logits, a->logits, f32.n_vocab);
    HY_CHECK(d.max_abs > 10 * E2E_MAX_ABS_DIFF);
    HY_CHECK(!e2e_diff_ok(&d));
    e2e_reference_free(&f32);
    e2e_reference_free(&q41);
}

HY_TEST(compare_accepts_identical_rows) {
    float a[4] = {1, -2, 3, 0.5f};
    e2e_diff d = e2e_compare(a, a, 4);
    HY_CHECK_EQ_INT(d.top1_got, 2);
    HY_CHECK(d.max_abs == 0 && d.rel_l2 == 0);
    HY_CHECK(e2e_diff_ok(&d));
}

HY_TEST(compare_rejects_small_perturbation) {
    e2e_reference ref;
    HY_OK_OR_FAIL(e2e_reference_load(source_root(), "f32", &ref));
    int n = ref.n_vocab;
    float *row = hy_malloc((size_t)n * sizeof(float), "row");
    HY_REQUIRE(row);
    /* A single logit off by 1e-2 (10x the bound) must fail. */
    memcpy(row, ref.prompts[0].logits, (size_t)n * sizeof(float));
    row[n / 2] += 1e-2f;
    e2e_diff d = e2e_compare(row, ref.prompts[0].logits, n);
    HY_CHECK(!e2e_diff_ok(&d));
    /* Every logit scaled by 1.001 (a tiny norm-scale error) must fail too. */
    for (int i = 0; i < n; i++)
        row[i] = ref.prompts[0].logits[i] * 1.001f;
    d = e2e_compare(row, ref.prompts[0].logits, n);
    HY_CHECK(d.rel_l2 > E2E_MAX_REL_L2);
    HY_CHECK(!e2e_diff_ok(&d));
    free(row);
    e2e_reference_free(&ref);
}

HY_TEST(compare_rejects_nan) {
    float ref[3] = {0, 1, 2}, got[3] = {0, NAN, 2};
    e2e_diff d = e2e_compare(got, ref, 3);
    HY_CHECK(!e2e_diff_ok(&d));
}

HY_TEST(load_reports_missing_fixture) {
    e2e_reference ref;
    hy_status st = e2e_reference_load("/nonexistent-hylra-root", "f32", &ref);
    HY_CHECK_EQ_INT(st, HY_EIO);
    HY_CHECK(strstr(hy_last_error(), "reference.json") != NULL);
}

HY_TEST(load_reports_unknown_variant) {
    e2e_reference ref;
    hy_status st = e2e_reference_load(source_root(), "bf16", &ref);
    HY_CHECK_EQ_INT(st, HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "bf16") != NULL);
}

HY_TEST_MAIN()
