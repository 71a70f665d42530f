/* Every generator on the real tokenizer and haystack, over seeds, indices, lengths (512,
 * 2048, 8192) and depths (0, 0.5, 1): the sample is reproducible byte for byte, its prompt
 * is within [0.97, 1] x target tokens, the reference parser (task_ref.c) recovers exactly
 * the generator's answers from the prompt alone, and the asked needle sits within 5% of the
 * asked depth. Then the parameters, the error paths and a 131072-token sample. */
#include "task_ref.h"
#include "tasks_test_util.h"

#include <stdint.h>

static int sorted_equal(char **a, int na, char **b, int nb) {
    if (na != nb) return 0;
    for (int i = 0; i < na; i++) {
        int found = 0;
        for (int j = 0; j < nb; j++)
            found |= strcmp(a[i], b[j]) == 0;
        if (!found) return 0;
    }
    return 1;
}

/* One sample through every check; returns 0 after recording failures. */
static int check_sample(hy_task_kind kind, const hy_task_params *p) {
    const char *name = hy_task_name(kind);
    hy_task_sample s = {0}, t = {0};
    if (hy_task_generate(kind, p, &s)) {
        HY_FAILF("%s target %lld depth %g seed %llu index %lld: %s", name,
                 (long long)p->target_tokens, p->depth, (unsigned long long)p->seed,
                 (long long)p->index, hy_last_error());
        return 0;
    }
    int ok = 1;
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            HY_FAILF(__VA_ARGS__);                                                                 \
            fprintf(stderr, "  (%s, target %lld, depth %g, seed %llu, index %lld)\n", name,        \
                    (long long)p->target_tokens, p->depth, (unsigned long long)p->seed,            \
                    (long long)p->index);                                                          \
            ok = 0;                                                                                \
        }                                                                                          \
    } while (0)
    /* reproducible */
    hy_status st = hy_task_generate(kind, p, &t);
    EXPECT(st == HY_OK, "second generation failed: %s", hy_last_error());
    if (st == HY_OK) {
        EXPECT(strcmp(s.prompt, t.prompt) == 0, "prompt differs between two generations");
        EXPECT(strcmp(s.answer_prefix, t.answer_prefix) == 0, "answer prefix differs");
        EXPECT(s.n_answers == t.n_answers && s.max_new_tokens == t.max_new_tokens,
               "answer count or max_new_tokens differ");
        for (int i = 0; i < s.n_answers && i < t.n_answers; i++)
            EXPECT(strcmp(s.answers[i], t.answers[i]) == 0, "answer %d differs", i);
    }
    /* length, counted here */
    hy_token *ids = NULL;
    int64_t n = -1;
    st = hy_tokenizer_encode(tt_tok, s.prompt, strlen(s.prompt), 0, &ids, &n);
    free(ids);
    EXPECT(st == HY_OK && n == s.prompt_tokens, "prompt has %lld tokens, sample says %lld",
           (long long)n, (long long)s.prompt_tokens);
    EXPECT(n <= p->target_tokens && n * 100 >= p->target_tokens * 97,
           "%lld tokens, outside [0.97, 1] x %lld", (long long)n, (long long)p->target_tokens);
    EXPECT(s.max_new_tokens > 0 && s.max_new_tokens <= 512, "max_new_tokens %d", s.max_new_tokens);
    EXPECT(s.answer_prefix && s.answer_prefix[0], "empty answer prefix");
    /* the reference parser */
    ref_result r;
    if (ref_solve(name, s.prompt, &r) != 0) {
        EXPECT(0, "reference parser: %s", r.err);
    } else {
        EXPECT(sorted_equal(r.answers, r.n_answers, s.answers, s.n_answers),
               "reference found %d answers (first %s), generator has %d (first %s)", r.n_answers,
               r.n_answers ? r.answers[0] : "-", s.n_answers, s.n_answers ? s.answers[0] : "-");
        if (kind == HY_TASK_VT) EXPECT(r.in_order, "a variable is read before it is set");
        if (kind != HY_TASK_FWE && p->depth >= 0) {
            int k = ref_find_needle(&r, s.prompt, s.answers[0]);
            EXPECT(k >= 0, "no needle holds the first answer %s", s.answers[0]);
            if (k >= 0) {
                double d = ref_depth(&r, k);
                EXPECT(fabs(d - p->depth) <= 0.05, "needle at depth %.3f, asked %.3f", d, p->depth);
            }
        }
        /* a perfect answer scores 1, a wrong one 0 */
        char perfect[4096] = "";
        for (int i = 0; i < s.n_answers; i++) {
            strncat(perfect, " ", sizeof perfect - strlen(perfect) - 1);
            strncat(perfect, s.answers[i], sizeof perfect - strlen(perfect) - 1);
        }
        EXPECT(hy_task_score(&s, perfect) == 1.0, "the answers themselves do not score 1");
        EXPECT(hy_task_score(&s, "I cannot find it.") == 0.0, "a non-answer scores above 0");
        ref_free(&r);
    }
    hy_task_sample_free(&s);
    hy_task_sample_free(&t);
    return ok;
#undef EXPECT
}

static void sweep(hy_task_kind kind) {
    HY_REQUIRE(tt_setup());
    static const int64_t lens[] = {512, 2048, 8192};
    static const double depths[] = {0.0, 0.5, 1.0};
    static const uint64_t seeds[] = {1, 20261123};
    for (int l = 0; l < 3; l++)
        for (int d = 0; d < 3; d++)
            for (int s = 0; s < 2; s++)
                for (int64_t i = 0; i < 2; i++) {
                    hy_task_params p = tt_params(lens[l], depths[d], seeds[s], i * 7 + l);
                    check_sample(kind, &p);
                }
}

HY_TEST(passkey_sweep) {
    sweep(HY_TASK_PASSKEY);
}
HY_TEST(niah_sweep) {
    sweep(HY_TASK_NIAH);
}
HY_TEST(multikey_sweep) {
    sweep(HY_TASK_MULTIKEY);
}
HY_TEST(multivalue_sweep) {
    sweep(HY_TASK_MULTIVALUE);
}
HY_TEST(multiquery_sweep) {
    sweep(HY_TASK_MULTIQUERY);
}
HY_TEST(vt_sweep) {
    sweep(HY_TASK_VT);
}
HY_TEST(fwe_sweep) {
    sweep(HY_TASK_FWE);
}

HY_TEST(parameters_change_the_task) {
    HY_REQUIRE(tt_setup());
    hy_task_params p = tt_params(2048, 0.25, 5, 3);
    p.n_keys = 8, p.n_queries = 3, p.n_values = 6, p.vt_chains = 3, p.vt_hops = 2;
    for (int k = 0; k < HY_TASK_GEN_COUNT; k++)
        check_sample((hy_task_kind)k, &p);
    hy_task_sample s = {0};
    HY_OK_OR_FAIL(hy_task_generate(HY_TASK_MULTIQUERY, &p, &s));
    HY_CHECK_EQ_INT(s.n_answers, 3);
    hy_task_sample_free(&s);
    HY_OK_OR_FAIL(hy_task_generate(HY_TASK_MULTIVALUE, &p, &s));
    HY_CHECK_EQ_INT(s.n_answers, 6);
    hy_task_sample_free(&s);
    HY_OK_OR_FAIL(hy_task_generate(HY_TASK_VT, &p, &s));
    HY_CHECK_EQ_INT(s.n_answers, 3);
    hy_task_sample_free(&s);
    p.depth = -1; /* drawn per sample: still every check but the depth */
    for (int k = 0; k < HY_TASK_GEN_COUNT; k++)
        check_sample((hy_task_kind)k, &p);
}

HY_TEST(seed_and_index_matter) {
    HY_REQUIRE(tt_setup());
    for (int k = 0; k < HY_TASK_GEN_COUNT; k++) {
        hy_task_params p = tt_params(1024, 0.5, 9, 0), q = p, r = p;
        q.index = 1, r.seed = 10;
        hy_task_sample a = {0}, b = {0}, c = {0};
        HY_OK_OR_FAIL(hy_task_generate((hy_task_kind)k, &p, &a));
        HY_OK_OR_FAIL(hy_task_generate((hy_task_kind)k, &q, &b));
        HY_OK_OR_FAIL(hy_task_generate((hy_task_kind)k, &r, &c));
        HY_CHECK(strcmp(a.prompt, b.prompt) != 0);
        HY_CHECK(strcmp(a.prompt, c.prompt) != 0);
        HY_CHECK(strcmp(a.answers[0], b.answers[0]) != 0);
        hy_task_sample_free(&a), hy_task_sample_free(&b), hy_task_sample_free(&c);
    }
}

/* The engine regenerates with a smaller target once it knows max_new_tokens; the answers
 * and max_new_tokens must survive that. */
HY_TEST(answers_do_not_depend_on_length) {
    HY_REQUIRE(tt_setup());
    for (int k = 0; k < HY_TASK_GEN_COUNT; k++) {
        hy_task_params p = tt_params(4096, 0.3, 77, 2), q = p;
        q.target_tokens = 4096 - 40;
        hy_task_sample a = {0}, b = {0};
        HY_OK_OR_FAIL(hy_task_generate((hy_task_kind)k, &p, &a));
        HY_OK_OR_FAIL(hy_task_generate((hy_task_kind)k, &q, &b));
        HY_CHECK(sorted_equal(a.answers, a.n_answers, b.answers, b.n_answers));
        HY_CHECK_EQ_INT(a.max_new_tokens, b.max_new_tokens);
        HY_CHECK(strcmp(a.answer_prefix, b.answer_prefix) == 0);
        hy_task_sample_free(&a), hy_task_sample_free(&b);
    }
}

HY_TEST(long_and_short_extremes) {
    HY_REQUIRE(tt_setup());
    for (int k = 0; k < HY_TASK_GEN_COUNT; k++) {
        hy_task_params p = tt_params(256, 0.5, 3, 0);
        check_sample((hy_task_kind)k, &p);
    }
    hy_task_params p = tt_params(131072, 0.75, 3, 0);
    check_sample(HY_TASK_NIAH, &p);
    check_sample(HY_TASK_FWE, &p);
}

/* The checks above can fail: a changed number, a dropped assignment and a wrong depth are
 * all seen. */
HY_TEST(reference_parser_sees_tampering) {
    HY_REQUIRE(tt_setup());
    hy_task_params p = tt_params(1024, 0.5, 11, 0);
    hy_task_sample s = {0};
    HY_OK_OR_FAIL(hy_task_generate(HY_TASK_NIAH, &p, &s));
    char *hit = strstr(s.prompt, s.answers[0]);
    HY_REQUIRE(hit != NULL);
    hit[0] = hit[0] == '9' ? '8' : (char)(hit[0] + 1);
    ref_result r;
    HY_REQUIRE(ref_solve("niah", s.prompt, &r) == 0);
    HY_CHECK(!sorted_equal(r.answers, r.n_answers, s.answers, s.n_answers));
    int k = ref_find_needle(&r, s.prompt, s.answers[0]);
    HY_CHECK_EQ_INT(k, -1);
    HY_CHECK(fabs(ref_depth(&r, 0) - 0.5) <= 0.05);
    HY_CHECK(fabs(ref_depth(&r, 0) - 0.0) > 0.05);
    ref_free(&r);
    hy_task_sample_free(&s);

    HY_OK_OR_FAIL(hy_task_generate(HY_TASK_VT, &p, &s));
    char stmt[64];
    snprintf(stmt, sizeof stmt, "VAR %s = VAR", s.answers[2]);
    hit = strstr(s.prompt, stmt);
    HY_REQUIRE(hit != NULL);
    memcpy(hit, "XAR", 3); /* the chain breaks at its third variable */
    HY_REQUIRE(ref_solve("vt", s.prompt, &r) == 0);
    HY_CHECK_EQ_INT(r.n_answers, 2);
    ref_free(&r);
    hy_task_sample_free(&s);

    HY_OK_OR_FAIL(hy_task_generate(HY_TASK_FWE, &p, &s));
    hit = strstr(s.prompt, "\n\n") + 2;
    char *top = strstr(hit, s.answers[0]);
    HY_REQUIRE(top != NULL);
    top[0] = top[0] == 'z' ? 'y' : 'z'; /* one occurrence less is still the most frequent */
    HY_REQUIRE(ref_solve("fwe", s.prompt, &r) == 0);
    HY_CHECK(sorted_equal(r.answers, r.n_answers, s.answers, s.n_answers));
    ref_free(&r);
    hy_task_sample_free(&s);
}

HY_TEST(errors) {
    HY_REQUIRE(tt_setup());
    hy_task_sample s = {0};
    hy_task_params p = tt_params(255, 0.5, 1, 0);
    HY_CHECK(hy_task_generate(HY_TASK_PASSKEY, &p, &s) == HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "target_tokens") != NULL);
    p.target_tokens = 131073;
    HY_CHECK(hy_task_generate(HY_TASK_PASSKEY, &p, &s) == HY_ERANGE);
    /* too many needles for the length: the message names the minimum */
    p = tt_params(256, 0.5, 1, 0);
    p.n_keys = 64, p.n_queries = 64;
    HY_CHECK(hy_task_generate(HY_TASK_MULTIQUERY, &p, &s) == HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "at least") != NULL);
    p = tt_params(512, 1.5, 1, 0);
    HY_CHECK(hy_task_generate(HY_TASK_NIAH, &p, &s) == HY_ERANGE);
    p.depth = NAN;
    HY_CHECK(hy_task_generate(HY_TASK_NIAH, &p, &s) == HY_ERANGE);
    p = tt_params(512, 0.5, 1, 0);
    p.n_keys = 2, p.n_queries = 3;
    HY_CHECK(hy_task_generate(HY_TASK_MULTIQUERY, &p, &s) == HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "n_queries") != NULL);
    p = tt_params(512, 0.5, 1, 0);
    p.vt_hops = 33;
    HY_CHECK(hy_task_generate(HY_TASK_VT, &p, &s) == HY_ERANGE);
    p = tt_params(512, 0.5, 1, 0);
    p.haystack = "Too short. A haystack of one line.";
    HY_CHECK(hy_task_generate(HY_TASK_FWE, &p, &s) == HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "haystack") != NULL);
    p.haystack = NULL;
    HY_CHECK(hy_task_generate(HY_TASK_FWE, &p, &s) == HY_EINVAL);
    /* odd but long haystacks: only blanks fails cleanly; no punctuation or odd bytes work */
    char *odd = malloc(70001);
    HY_REQUIRE(odd != NULL);
    memset(odd, ' ', 70000);
    odd[70000] = 0;
    p.haystack = odd;
    HY_CHECK(hy_task_generate(HY_TASK_NIAH, &p, &s) == HY_EINVAL);
    for (int i = 0; i < 70000; i++)
        odd[i] = "word \n\xff\x01<|im_end|>"[i % 18];
    HY_OK_OR_FAIL(hy_task_generate(HY_TASK_NIAH, &p, &s));
    HY_CHECK(s.prompt_tokens <= 512 && s.prompt_tokens * 100 >= 512 * 97);
    hy_task_sample_free(&s);
    free(odd);
    p = tt_params(512, 0.5, 1, 0);
    p.tok = NULL;
    HY_CHECK(hy_task_generate(HY_TASK_PASSKEY, &p, &s) == HY_EINVAL);
    p = tt_params(512, 0.5, 1, 0);
    HY_CHECK(hy_task_generate((hy_task_kind)42, &p, &s) == HY_EINVAL);
    HY_CHECK(hy_task_generate(HY_TASK_PASSKEY, NULL, &s) == HY_EINVAL);
    HY_CHECK(hy_task_generate(HY_TASK_PASSKEY, &p, NULL) == HY_EINVAL);
    HY_CHECK(s.prompt == NULL && s.answers == NULL);
    hy_task_sample_free(&s);
    hy_task_sample_free(NULL);
}

HY_TEST_MAIN()
