/* tests/plan: plan JSON round trip (every mode of version 2), version 1 files still read,
 * each named validation error (unknown mode, v2 mode in a v1 file, source after its user,
 * source not select/bounds, bounds without pages, k above the context, shape mismatch), and
 * seeded fuzzers that mutate valid plans: every mutant is refused with a message or
 * re-validates. */
#include "hy_plan.h"
#include "hy_test.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static hy_plan *sample_plan(void) {
    hy_plan *p = NULL;
    if (hy_plan_create(4, 6, 2, 16, &p)) return NULL;
    snprintf(p->model_name, sizeof p->model_name, "SmolLM2-test");
    snprintf(p->model_sha256, sizeof p->model_sha256, "%064d", 42);
    snprintf(p->profile_sha256, sizeof p->profile_sha256, "%064d", 43);
    p->k = 256, p->sink = 4, p->window = 64, p->context = 4096;
    /* layer 0 dense; layer 1 head 0 selects every 4 steps, head 1 reuses it (head reuse);
     * layer 2 reuses layer 1 head 0 and selects with a qsim policy; layer 3 reuses layer 2. */
    p->units[2] = (hy_plan_unit){HY_MODE_SELECT, -1, 4, NAN};
    p->units[3] = (hy_plan_unit){HY_MODE_REUSE, 2, 1, NAN};
    p->units[4] = (hy_plan_unit){HY_MODE_REUSE, 2, 1, NAN};
    p->units[5] = (hy_plan_unit){HY_MODE_SELECT, -1, 0, 0.875f};
    p->units[6] = (hy_plan_unit){HY_MODE_REUSE, 5, 1, NAN};
    p->units[7] = (hy_plan_unit){HY_MODE_REUSE, 5, 1, NAN};
    snprintf(p->solver, sizeof p->solver, "ilp");
    snprintf(p->status, sizeof p->status, "optimal");
    p->budget_value = 0.3, p->budget_seconds = 1.5e-5, p->gap = 0.001, p->solve_seconds = 0.25;
    p->cost_s = 1.4e-5, p->dense_cost_s = 5e-5, p->loss = 0.125;
    return p;
}

static int same_plan(const hy_plan *a, const hy_plan *b) {
    if (a->n_layers != b->n_layers || a->n_heads != b->n_heads || a->n_kv_heads != b->n_kv_heads ||
        a->head_dim != b->head_dim || a->k != b->k || a->sink != b->sink ||
        a->window != b->window || a->context != b->context || a->granularity != b->granularity ||
        a->page_size != b->page_size || strcmp(a->model_name, b->model_name) ||
        strcmp(a->model_sha256, b->model_sha256) || strcmp(a->profile_sha256, b->profile_sha256) ||
        strcmp(a->solver, b->solver) || strcmp(a->status, b->status) ||
        strcmp(a->loss_kind, b->loss_kind) || strcmp(a->budget_kind, b->budget_kind))
        return 0;
    double an[] = {a->budget_value, a->budget_seconds, a->gap, a->solve_seconds,
                   a->cost_s,       a->dense_cost_s,   a->loss};
    double bn[] = {b->budget_value, b->budget_seconds, b->gap, b->solve_seconds,
                   b->cost_s,       b->dense_cost_s,   b->loss};
    for (int i = 0; i < 7; i++)
        /* numbers are written with 10 significant digits, for readable plans */
        if (!(fabs(an[i] - bn[i]) <= 1e-9 * fabs(an[i]) || (isnan(an[i]) && isnan(bn[i]))))
            return 0;
    for (int32_t u = 0; u < hy_plan_n_units(a); u++) {
        const hy_plan_unit *x = &a->units[u], *y = &b->units[u];
        if (x->mode != y->mode) return 0;
        if (x->mode == HY_MODE_REUSE && x->src != y->src) return 0;
        if (hy_mode_publishes(x->mode) &&
            (x->refresh != y->refresh || (x->refresh == 0 && x->qsim != y->qsim)))
            return 0;
    }
    return 1;
}

/* Every mode of version 2 on a page plan: layer 0 dense / window, layer 1 bounds (every 2
 * steps) / select (qsim), layer 2 reuses the bounds unit and the select unit, layer 3 bounds
 * (every step) / reuse of its own layer's bounds head. */
static hy_plan *v2_plan(void) {
    hy_plan *p = sample_plan();
    if (!p) return NULL;
    p->granularity = HY_GRAN_PAGE, p->page_size = 16;
    p->units[0] = (hy_plan_unit){HY_MODE_DENSE, -1, 1, NAN};
    p->units[1] = (hy_plan_unit){HY_MODE_WINDOW, -1, 1, NAN};
    p->units[2] = (hy_plan_unit){HY_MODE_BOUNDS, -1, 2, NAN};
    p->units[3] = (hy_plan_unit){HY_MODE_SELECT, -1, 0, 0.5f};
    p->units[4] = (hy_plan_unit){HY_MODE_REUSE, 2, 1, NAN};
    p->units[5] = (hy_plan_unit){HY_MODE_REUSE, 3, 1, NAN};
    p->units[6] = (hy_plan_unit){HY_MODE_BOUNDS, -1, 1, NAN};
    p->units[7] = (hy_plan_unit){HY_MODE_REUSE, 6, 1, NAN};
    snprintf(p->solver, sizeof p->solver, "policy:quest");
    return p;
}

HY_TEST(mode_names) {
    const char *want[] = {"dense",  "select", "reuse",   "window",
                          "bounds", "score",  "sketch8", "sketch4"};
    HY_CHECK_EQ_INT(HY_MODE_COUNT, 8);
    for (int m = 0; m < HY_MODE_COUNT; m++)
        HY_CHECK(!strcmp(hy_unit_mode_name((hy_unit_mode)m), want[m]));
    HY_CHECK(!strcmp(hy_unit_mode_name(HY_MODE_COUNT), "unknown"));
}

HY_TEST(round_trip_every_mode) {
    hy_plan *p = v2_plan(), *q = NULL;
    HY_REQUIRE(p);
    p->model_ctx_train = 8192;
    HY_OK_OR_FAIL(hy_plan_validate(p));
    char *js = NULL;
    HY_OK_OR_FAIL(hy_plan_to_json(p, &js));
    HY_CHECK(strstr(js, "\"version\": 3,"));
    HY_CHECK(strstr(js, "\"ctx_train\": 8192"));
    HY_CHECK(strstr(js, "\"mode\": \"window\""));
    HY_CHECK(strstr(js, "\"mode\": \"bounds\",\n   \"refresh\": 2"));
    HY_OK_OR_FAIL(hy_plan_from_json(js, strlen(js), "mem", &q));
    HY_CHECK(same_plan(p, q));
    for (int32_t u = 0; u < 8; u++)
        HY_CHECK_EQ_INT(q->units[u].mode, p->units[u].mode);
    HY_CHECK_EQ_INT(q->units[2].refresh, 2);
    HY_CHECK_EQ_INT(q->units[4].src, 2);
    HY_CHECK_EQ_INT(q->model_ctx_train, 8192);
    free(js);
    hy_plan_free(p);
    hy_plan_free(q);
}

/* Reads the JSON of sample_plan / v2_plan with the first `from` replaced by `to`. */
static hy_status read_edited(const char *from, const char *to, hy_plan **q);
static hy_status read_edited_v2(const char *from, const char *to, hy_plan **q);

HY_TEST(v2_mode_in_v1_file_refused) {
    hy_plan *q;
    HY_CHECK_EQ_INT(read_edited_v2("\"version\": 3", "\"version\": 1", &q), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "units[1].mode \"window\" needs plan version 2"));
    HY_CHECK(q == NULL);
}

/* The version 3 selectors: round trip, reuse of each, refused in a version 2 file. */
HY_TEST(v3_selectors) {
    hy_plan *p = sample_plan(), *q = NULL;
    HY_REQUIRE(p);
    p->units[0] = (hy_plan_unit){HY_MODE_SCORE, -1, 3, NAN};
    p->units[1] = (hy_plan_unit){HY_MODE_SKETCH8, -1, 1, NAN};
    p->units[2] = (hy_plan_unit){HY_MODE_SKETCH4, -1, 0, 0.8f};
    p->units[3] = (hy_plan_unit){HY_MODE_REUSE, 0, 1, NAN};
    p->units[4] = (hy_plan_unit){HY_MODE_REUSE, 1, 1, NAN};
    p->units[5] = (hy_plan_unit){HY_MODE_REUSE, 2, 1, NAN};
    p->units[6] = p->units[7] = (hy_plan_unit){HY_MODE_DENSE, -1, 1, NAN};
    HY_OK_OR_FAIL(hy_plan_validate(p));
    char *js = NULL;
    HY_OK_OR_FAIL(hy_plan_to_json(p, &js));
    HY_CHECK(strstr(js, "\"mode\": \"sketch8\""));
    HY_CHECK(strstr(js, "\"mode\": \"score\",\n   \"refresh\": 3"));
    HY_OK_OR_FAIL(hy_plan_from_json(js, strlen(js), "mem", &q));
    HY_CHECK(same_plan(p, q));
    hy_plan_free(q);
    q = NULL;
    char *v2 = strstr(js, "\"version\": 3");
    HY_REQUIRE(v2);
    v2[11] = '2';
    HY_CHECK_EQ_INT(hy_plan_from_json(js, strlen(js), "old.json", &q), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "units[0].mode \"score\" needs plan version 3"));
    free(js);
    hy_plan_free(p);
}

HY_TEST(version_1_file_still_read) {
    hy_plan *p = sample_plan(), *q = NULL;
    HY_REQUIRE(p);
    HY_OK_OR_FAIL(read_edited("\"version\": 3", "\"version\": 1", &q));
    HY_CHECK(same_plan(p, q));
    hy_plan_free(p);
    hy_plan_free(q);
}

HY_TEST(bounds_needs_page_granularity) {
    hy_plan *p = v2_plan(), *q = NULL;
    HY_REQUIRE(p);
    p->granularity = HY_GRAN_TOKEN;
    HY_CHECK_EQ_INT(hy_plan_validate(p), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(),
                    "units[2] (layer 1 head 0) has mode bounds, which needs granularity page"));
    HY_CHECK_EQ_INT(read_edited_v2("\"granularity\": \"page\",\n \"page_size\": 16",
                                   "\"granularity\": \"token\"", &q),
                    HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "needs granularity page"));
    hy_plan_free(p);
}

HY_TEST(reuse_of_window_refused) {
    hy_plan *p = v2_plan();
    HY_REQUIRE(p);
    p->units[4].src = 1; /* layer 1 head 0 reads layer 0 head 1, a window unit */
    HY_CHECK_EQ_INT(hy_plan_validate(p), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "whose mode is window, expected select, bounds, score"));
    hy_plan_free(p);
}

HY_TEST(bad_refresh_on_bounds) {
    hy_plan *p = v2_plan(), *q = NULL;
    HY_REQUIRE(p);
    p->units[6].refresh = 0, p->units[6].qsim = 2.0f;
    HY_CHECK_EQ_INT(hy_plan_validate(p), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "units[6] (layer 3 head 0) refresh 0 qsim 2"));
    HY_CHECK_EQ_INT(read_edited_v2("\"refresh\": 2", "\"refresh\": -3", &q), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "units[2].refresh is -3"));
    hy_plan_free(p);
}

HY_TEST(round_trip_file) {
    hy_plan *p = sample_plan(), *q = NULL;
    HY_REQUIRE(p);
    char path[128];
    snprintf(path, sizeof path, "/tmp/hy_test_plan_%d.json", (int)getpid());
    HY_OK_OR_FAIL(hy_plan_write(p, path));
    HY_OK_OR_FAIL(hy_plan_read(path, &q));
    HY_CHECK(same_plan(p, q));
    remove(path);
    hy_plan_free(p);
    hy_plan_free(q);
}

HY_TEST(round_trip_page_granularity) {
    hy_plan *p = sample_plan(), *q = NULL;
    HY_REQUIRE(p);
    p->granularity = HY_GRAN_PAGE, p->page_size = 16;
    char *js = NULL;
    HY_OK_OR_FAIL(hy_plan_to_json(p, &js));
    HY_CHECK(strstr(js, "\"page_size\": 16"));
    HY_OK_OR_FAIL(hy_plan_from_json(js, strlen(js), "mem", &q));
    HY_CHECK(same_plan(p, q));
    free(js);
    hy_plan_free(p);
    hy_plan_free(q);
}

/* Reads text edited from a valid plan p (freed here): replaces the first `from` with `to`. */
static hy_status read_edited_from(hy_plan *p, const char *from, const char *to, hy_plan **q) {
    char *js = NULL;
    *q = NULL;
    if (!p || hy_plan_to_json(p, &js)) return HY_EINVAL;
    char *at = strstr(js, from);
    hy_status st = HY_EINVAL;
    if (at) {
        size_t n = strlen(js) + strlen(to) + 1;
        char *out = malloc(n);
        size_t pre = (size_t)(at - js);
        memcpy(out, js, pre);
        strcpy(out + pre, to);
        strcat(out, at + strlen(from));
        st = hy_plan_from_json(out, strlen(out), "edited.json", q);
        free(out);
    }
    free(js);
    hy_plan_free(p);
    return st;
}

static hy_status read_edited(const char *from, const char *to, hy_plan **q) {
    return read_edited_from(sample_plan(), from, to, q);
}

static hy_status read_edited_v2(const char *from, const char *to, hy_plan **q) {
    return read_edited_from(v2_plan(), from, to, q);
}

HY_TEST(unknown_mode_is_named) {
    hy_plan *q;
    HY_CHECK_EQ_INT(read_edited("\"mode\": \"dense\"", "\"mode\": \"sparse\"", &q), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(),
                    "units[0].mode is \"sparse\", expected dense|select|reuse|window|bounds"));
}

HY_TEST(source_after_its_user_is_refused) {
    hy_plan *p = sample_plan();
    HY_REQUIRE(p);
    p->units[2] = (hy_plan_unit){HY_MODE_REUSE, 5, 1, NAN}; /* layer 1 reuses layer 2 */
    p->units[3] = (hy_plan_unit){HY_MODE_DENSE, -1, 1, NAN};
    p->units[4] = (hy_plan_unit){HY_MODE_DENSE, -1, 1, NAN};
    HY_CHECK_EQ_INT(hy_plan_validate(p), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "runs after its user"));
    hy_plan_free(p);
}

HY_TEST(source_must_be_select) {
    hy_plan *q;
    /* units[6] reuses layer 2 head 1 (units[5] is select): point it at a dense unit instead */
    HY_CHECK_EQ_INT(read_edited("\"src\": {\n    \"layer\": 2,\n    \"head\": 1",
                                "\"src\": {\n    \"layer\": 0,\n    \"head\": 1", &q),
                    HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "whose mode is dense, expected select, bounds, score"));
}

HY_TEST(self_reuse_refused) {
    hy_plan *p = sample_plan();
    HY_REQUIRE(p);
    p->units[7].src = 7;
    HY_CHECK(hy_plan_validate(p) != HY_OK);
    HY_CHECK(strstr(hy_last_error(), "reuses itself"));
    hy_plan_free(p);
}

HY_TEST(k_larger_than_context) {
    hy_plan *q;
    HY_CHECK_EQ_INT(read_edited("\"context\": 4096", "\"context\": 128", &q), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "k 256 is larger than the context 128"));
    hy_plan *p = sample_plan();
    HY_REQUIRE(p);
    HY_CHECK_EQ_INT(hy_plan_check_context(p, 100), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_plan_check_context(p, 256), HY_OK);
    hy_plan_free(p);
}

HY_TEST(shape_mismatch_units_count) {
    hy_plan *q;
    HY_CHECK_EQ_INT(read_edited("\"n_layers\": 4", "\"n_layers\": 5", &q), HY_EMISMATCH);
    HY_CHECK(strstr(hy_last_error(), "units has 8 entries, expected n_layers*n_kv_heads = 10"));
}

HY_TEST(shape_mismatch_against_model) {
    hy_plan *p = sample_plan();
    HY_REQUIRE(p);
    HY_CHECK_EQ_INT(hy_plan_check_model(p, NULL, 4, 6, 2, 16), HY_OK);
    HY_CHECK_EQ_INT(hy_plan_check_model(p, NULL, 4, 6, 3, 16), HY_EMISMATCH);
    HY_CHECK(strstr(hy_last_error(), "n_kv_heads is 2, the model has 3"));
    HY_CHECK_EQ_INT(hy_plan_check_model(p, "ab", 4, 6, 2, 16), HY_EMISMATCH);
    HY_CHECK(strstr(hy_last_error(), "sha256"));
    hy_plan_free(p);
}

HY_TEST(other_version_and_format_refused) {
    hy_plan *q;
    HY_CHECK_EQ_INT(read_edited("\"version\": 3", "\"version\": 4", &q), HY_EUNSUPPORTED);
    HY_CHECK(strstr(hy_last_error(), "version is 4, expected 1..3"));
    HY_CHECK_EQ_INT(read_edited("\"version\": 3", "\"version\": 0", &q), HY_EUNSUPPORTED);
    HY_CHECK_EQ_INT(read_edited("hylra-plan", "hylra-costs", &q), HY_EUNSUPPORTED);
    HY_CHECK(strstr(hy_last_error(), "format is \"hylra-costs\""));
}

HY_TEST(bad_refresh_and_order) {
    hy_plan *q;
    HY_CHECK_EQ_INT(read_edited("\"refresh\": 4", "\"refresh\": 0", &q), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "units[2].refresh is 0"));
    HY_CHECK_EQ_INT(read_edited("qsim:0.875", "qsim:1.5", &q), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "units[5].refresh"));
    HY_CHECK_EQ_INT(
        read_edited("\"layer\": 0,\n   \"head\": 1", "\"layer\": 0,\n   \"head\": 0", &q),
        HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "units[1] is layer 0 head 0, expected layer 0 head 1"));
}

HY_TEST(syntax_error_names_position) {
    hy_plan *q;
    HY_CHECK_EQ_INT(hy_plan_from_json("{\"format\": ", 11, "cut.json", &q), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "cut.json: JSON error at line 1"));
    HY_CHECK_EQ_INT(hy_plan_read("/nonexistent/plan.json", &q), HY_EIO);
}

/* Seeded fuzzer: byte flips, truncations, token swaps on a valid plan. A mutant either fails
 * with a message or is a plan that validates and round-trips to the same text. */
static uint64_t rng = 12345;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void fuzz_plan(hy_plan *p) {
    char *js = NULL;
    HY_REQUIRE(p && !hy_plan_to_json(p, &js));
    size_t n = strlen(js);
    const char *tokens[] = {"0",           "1",        "7",          "-1",
                            "99999999999", "null",     "\"select\"", "\"reuse\"",
                            "\"dense\"",   "{}",       "[]",         "\"qsim:0.5\"",
                            "1e308",       "\"\"",     "true",       "\"window\"",
                            "\"bounds\"",  "\"page\"", "2"};
    char *buf = malloc(n + 64);
    int accepted = 0, refused = 0;
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(buf, js, n + 1);
        size_t len = n;
        int kind = (int)rnd(4);
        if (kind == 0) {
            for (int j = 0; j < 1 + (int)rnd(4); j++)
                buf[rnd((uint32_t)len)] = (char)rnd(256);
        } else if (kind == 1) {
            len = rnd((uint32_t)len);
        } else {
            /* replace one number or string literal with a token */
            size_t at = rnd((uint32_t)len);
            while (at < len && !(buf[at] == ':'))
                at++;
            if (at >= len) continue;
            size_t end = at + 1;
            while (end < len && buf[end] != ',' && buf[end] != '\n')
                end++;
            const char *t = tokens[rnd(sizeof tokens / sizeof tokens[0])];
            char tmp[4096 * 4];
            if (len + strlen(t) + 4 > sizeof tmp) continue;
            memcpy(tmp, buf, at + 1);
            tmp[at + 1] = ' ';
            strcpy(tmp + at + 2, t);
            memcpy(tmp + at + 2 + strlen(t), buf + end, len - end);
            len = at + 2 + strlen(t) + (len - end);
            memcpy(buf, tmp, len);
        }
        hy_plan *q = NULL;
        hy_clear_error();
        hy_status st = hy_plan_from_json(buf, len, "fuzz", &q);
        if (st) {
            refused++;
            HY_CHECK(q == NULL);
            HY_CHECK(strncmp(hy_last_error(), "fuzz", 4) == 0);
        } else {
            accepted++;
            HY_CHECK(hy_plan_validate(q) == HY_OK);
            char *again = NULL;
            hy_plan *r = NULL;
            HY_CHECK(hy_plan_to_json(q, &again) == HY_OK);
            HY_CHECK(again && hy_plan_from_json(again, strlen(again), "again", &r) == HY_OK);
            HY_CHECK(r && same_plan(q, r));
            if (getenv("HY_FUZZ_DEBUG") && !(r && same_plan(q, r)))
                fprintf(stderr, "%.*s\n---\n%s\n", (int)len, buf, again);
            free(again);
            hy_plan_free(r);
        }
        hy_plan_free(q);
    }
    HY_CHECK(refused > 1000);
    HY_CHECK(accepted > 10);
    free(buf);
    free(js);
    hy_plan_free(p);
}

HY_TEST(fuzz_mutated_plans) {
    fuzz_plan(sample_plan());
}

HY_TEST(fuzz_mutated_v2_plans) {
    fuzz_plan(v2_plan());
}

HY_TEST_MAIN()
