/* tests/policy: the peer-policy specs (each accepted form, each refusal with its message),
 * the plans they generate (valid, with the modes docs/policies.md states), plan pricing
 * (all-dense = dense, window monotone in W, refresh averaging, page rounding) and fitting
 * (the largest value within the budget, value + 1 above it, unreachable budgets named). */
#include "hy_policy.h"
#include "hy_test.h"
#include "topk.h"

#include <unistd.h>

/* SmolLM2-135M-shaped: 30 layers, 9 heads, 3 KV heads, head_dim 64. */
static hy_policy_shape shape(void) {
    return (hy_policy_shape){.n_layers = 30,
                             .n_heads = 9,
                             .n_kv_heads = 3,
                             .head_dim = 64,
                             .model_name = "SmolLM2-test",
                             .model_sha256 = NULL,
                             .sink = 4,
                             .window = 64,
                             .context = 4096};
}

static hy_cost_model model(double launch_s) {
    hy_cost_model m;
    hy_cost_model_init(&m, 64, 9, 3, NULL);
    m.launch_s = launch_s;
    return m;
}

static hy_policy parsed(const char *spec) {
    hy_policy p;
    if (hy_policy_parse(spec, &p)) p.kind = (hy_policy_kind)-1;
    return p;
}

HY_TEST(parse_good_specs) {
    hy_policy p;
    HY_OK_OR_FAIL(hy_policy_parse("dense", &p));
    HY_CHECK_EQ_INT(p.kind, HY_POLICY_DENSE);
    HY_OK_OR_FAIL(hy_policy_parse("window:0", &p));
    HY_CHECK(p.kind == HY_POLICY_WINDOW && p.window == 0);
    HY_OK_OR_FAIL(hy_policy_parse("window:1024", &p));
    HY_CHECK_EQ_INT(p.window, 1024);
    HY_OK_OR_FAIL(hy_policy_parse("quest:16,512", &p));
    HY_CHECK(p.kind == HY_POLICY_QUEST && p.page_size == 16 && p.k == 512);
    HY_OK_OR_FAIL(hy_policy_parse("tidal:2,13,256", &p));
    HY_CHECK(p.kind == HY_POLICY_TIDAL && p.dense_layers == 2 && p.reselect == 13 && p.k == 256);
    HY_OK_OR_FAIL(hy_policy_parse("tidal:0,1,1", &p));
    HY_OK_OR_FAIL(hy_policy_parse("recycled:8,300", &p));
    HY_CHECK(p.kind == HY_POLICY_RECYCLED && p.stride == 8 && p.k == 300);
    HY_OK_OR_FAIL(hy_policy_parse("plan:/tmp/a:b.json", &p));
    HY_CHECK(p.kind == HY_POLICY_PLAN && !strcmp(p.path, "/tmp/a:b.json"));
}

/* Each refusal: HY_EINVAL, the spec quoted, what was wrong and the expected form. */
HY_TEST(parse_bad_specs) {
    static const struct {
        const char *spec, *msg;
    } cases[] = {
        {"quest:16", "policy \"quest:16\": not the right count of non-negative integers; "
                     "expected quest:P,k (page size P >= 1, tokens kept k >= 1)"},
        {"quest:16,512x", "expected quest:P,k"},
        {"quest:16,512,", "expected quest:P,k"},
        {"quest:0,512", "P is 0"},
        {"quest:16,0", "k is 0"},
        {"quest: 16,512", "expected quest:P,k"},
        {"window:-3", "policy \"window:-3\": not one non-negative integer; expected window:W"},
        {"window:", "expected window:W"},
        {"window:+4", "expected window:W"},
        {"window:99999999999", "expected window:W"},
        {"window", "unknown, expected dense|window:W|quest:P,k"},
        {"tidal:2,13", "expected tidal:L1,L2,k"},
        {"tidal:13,2,256", "L2 is not > L1"},
        {"tidal:2,2,256", "L2 is not > L1"},
        {"tidal:2,13,-256", "expected tidal:L1,L2,k"},
        {"recycled:0,256", "s is 0"},
        {"recycled:4,0", "k is 0"},
        {"recycled:4;256", "expected recycled:s,k"},
        {"plan:", "no file name; expected plan:FILE"},
        {"dense:1", "unknown"},
        {"Dense", "unknown"},
        {"", "unknown"},
        {"lychee:4", "unknown"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hy_policy p;
        hy_clear_error();
        HY_CHECK_EQ_INT(hy_policy_parse(cases[i].spec, &p), HY_EINVAL);
        if (!strstr(hy_last_error(), cases[i].msg))
            HY_FAILF("spec \"%s\": message \"%s\" lacks \"%s\"", cases[i].spec, hy_last_error(),
                     cases[i].msg);
    }
    hy_policy p;
    HY_CHECK_EQ_INT(hy_policy_parse(NULL, &p), HY_EINVAL);
}

HY_TEST(format_is_canonical_and_parses_back) {
    const char *specs[] = {"dense",          "window:0",       "window:512", "quest:16,512",
                           "tidal:2,13,256", "recycled:4,256", "plan:x.json"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        hy_policy p, q;
        char buf[128];
        HY_OK_OR_FAIL(hy_policy_parse(specs[i], &p));
        hy_policy_format(&p, buf, sizeof buf);
        HY_CHECK(!strcmp(buf, specs[i]));
        HY_OK_OR_FAIL(hy_policy_parse(buf, &q));
        HY_CHECK(!memcmp(&p, &q, sizeof p));
    }
}

static hy_plan *plan_of(const char *spec, double launch_s) {
    hy_policy p = parsed(spec);
    hy_policy_shape s = shape();
    hy_cost_model m = model(launch_s);
    hy_plan *pl = NULL;
    if (hy_policy_plan(&p, &s, &m, &pl)) {
        fprintf(stderr, "%s: %s\n", spec, hy_last_error());
        return NULL;
    }
    return pl;
}

static int count_mode(const hy_plan *pl, hy_unit_mode m) {
    int n = 0;
    for (int32_t u = 0; u < hy_plan_n_units(pl); u++)
        n += pl->units[u].mode == m;
    return n;
}

/* A model with sliding-window layers (Gemma 3-like: every third layer global here): the
 * peers' sets go in the global layers only; tidal must name global layers; window is what it
 * says everywhere. */
HY_TEST(window_layers_stay_dense_in_peer_plans) {
    hy_policy_shape s = shape();
    s.sliding_window = 512, s.swa_period = 3;
    hy_cost_model m = model(3e-6);
    const char *specs[] = {"quest:16,512", "recycled:8,300", "tidal:2,5,256", "window:256"};
    for (int i = 0; i < 4; i++) {
        hy_policy p = parsed(specs[i]);
        hy_plan *pl = NULL;
        HY_OK_OR_FAIL(hy_policy_plan(&p, &s, &m, &pl));
        for (int32_t u = 0; pl && u < hy_plan_n_units(pl); u++) {
            const int32_t l = u / pl->n_kv_heads;
            const hy_unit_mode md = pl->units[u].mode;
            if ((l + 1) % 3 && i < 3) HY_CHECK_EQ_INT(md, HY_MODE_DENSE);
            if (md == HY_MODE_REUSE) HY_CHECK((pl->units[u].src / pl->n_kv_heads + 1) % 3 == 0);
        }
        hy_plan_free(pl);
    }
    /* and the cost model prices their dense units at the window, not the context */
    hy_policy dp = parsed("dense");
    hy_plan *dense = NULL;
    HY_OK_OR_FAIL(hy_policy_plan(&dp, &s, &m, &dense));
    double c_all, d_all, c_w, d_w;
    HY_OK_OR_FAIL(hy_plan_predict_cost(&m, dense, 4096, &c_all, &d_all));
    m.sliding_window = 512, m.swa_period = 3;
    HY_OK_OR_FAIL(hy_plan_predict_cost(&m, dense, 4096, &c_w, &d_w));
    HY_CHECK_NEAR(c_w / d_w, 1.0, 1e-12); /* all dense: the plan costs what dense does */
    HY_CHECK_NEAR(c_all / d_all, 1.0, 1e-12);
    HY_CHECK(d_w < d_all); /* 20 of 30 layers read 512 of 4096 keys (plus launches) */
    hy_plan_free(dense);
    hy_policy p = parsed("tidal:2,13,256");
    hy_plan *pl = NULL;
    HY_CHECK_EQ_INT(hy_policy_plan(&p, &s, &m, &pl), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "must be global layers") != NULL);
}

HY_TEST(plans_have_the_stated_modes) {
    hy_plan *d = plan_of("dense", 3e-6), *w = plan_of("window:256", 3e-6),
            *q = plan_of("quest:16,512", 3e-6), *t = plan_of("tidal:2,13,256", 3e-6),
            *r = plan_of("recycled:8,300", 3e-6);
    HY_REQUIRE(d && w && q && t && r);
    hy_plan *all[] = {d, w, q, t, r};
    const char *solver[] = {"policy:dense", "policy:window", "policy:quest", "policy:tidal",
                            "policy:recycled"};
    for (int i = 0; i < 5; i++) {
        HY_CHECK_EQ_INT(hy_plan_validate(all[i]), HY_OK);
        HY_CHECK(!strcmp(all[i]->solver, solver[i]));
        HY_CHECK(isnan(all[i]->loss) && isnan(all[i]->budget_value));
        HY_CHECK(!strcmp(all[i]->model_name, "SmolLM2-test"));
        HY_CHECK_EQ_INT(all[i]->context, 4096);
        HY_CHECK(all[i]->cost_s > 0 && all[i]->dense_cost_s > 0);
    }
    HY_CHECK_EQ_INT(count_mode(d, HY_MODE_DENSE), 90);
    HY_CHECK_EQ_INT(count_mode(w, HY_MODE_WINDOW), 90);
    HY_CHECK(w->window == 256 && w->sink == 4);
    HY_CHECK_EQ_INT(count_mode(q, HY_MODE_BOUNDS), 90);
    HY_CHECK(q->granularity == HY_GRAN_PAGE && q->page_size == 16 && q->k == 512);
    HY_CHECK(q->window == 64 && q->units[5].refresh == 1);
    HY_CHECK_EQ_INT(count_mode(r, HY_MODE_SELECT), 90);
    HY_CHECK(r->units[17].refresh == 8 && r->k == 300);
    /* tidal: layers 0, 1 dense; 2 and 13 select; 3..12 reuse layer 2, 14.. reuse 13 */
    HY_CHECK_EQ_INT(count_mode(t, HY_MODE_DENSE), 6);
    HY_CHECK_EQ_INT(count_mode(t, HY_MODE_SELECT), 6);
    HY_CHECK_EQ_INT(count_mode(t, HY_MODE_REUSE), 78);
    for (int32_t h = 0; h < 3; h++) {
        HY_CHECK_EQ_INT(t->units[1 * 3 + h].mode, HY_MODE_DENSE);
        HY_CHECK_EQ_INT(t->units[2 * 3 + h].mode, HY_MODE_SELECT);
        HY_CHECK_EQ_INT(t->units[13 * 3 + h].mode, HY_MODE_SELECT);
        HY_CHECK_EQ_INT(t->units[12 * 3 + h].src, 2 * 3 + h);
        HY_CHECK_EQ_INT(t->units[3 * 3 + h].src, 2 * 3 + h);
        HY_CHECK_EQ_INT(t->units[14 * 3 + h].src, 13 * 3 + h);
        HY_CHECK_EQ_INT(t->units[29 * 3 + h].src, 13 * 3 + h);
    }
    /* every generated plan survives the file format */
    for (int i = 0; i < 5; i++) {
        char *js = NULL;
        hy_plan *back = NULL;
        HY_OK_OR_FAIL(hy_plan_to_json(all[i], &js));
        HY_OK_OR_FAIL(hy_plan_from_json(js, strlen(js), solver[i], &back));
        HY_CHECK(!strcmp(back->solver, solver[i]));
        free(js);
        hy_plan_free(back);
        hy_plan_free(all[i]);
    }
}

HY_TEST(plan_parameters_checked_against_shape) {
    hy_policy_shape s = shape();
    hy_cost_model m = model(3e-6);
    hy_plan *pl = NULL;
    hy_policy p = parsed("tidal:2,30,256");
    HY_CHECK_EQ_INT(hy_policy_plan(&p, &s, &m, &pl), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "L1 2 L2 30, expected 0 <= L1 < L2 < n_layers (30)"));
    p = parsed("quest:16,5000");
    HY_CHECK_EQ_INT(hy_policy_plan(&p, &s, &m, &pl), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "quest:16,5000: k 5000, expected 1..4096"));
    p = parsed("quest:16,512");
    p.page_size = 0; /* hand-made, not parsed */
    HY_CHECK_EQ_INT(hy_policy_plan(&p, &s, &m, &pl), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "page size P 0"));
    p = parsed("window:16");
    s.context = 0;
    HY_CHECK_EQ_INT(hy_policy_plan(&p, &s, &m, &pl), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "context 0"));
    HY_CHECK(pl == NULL);
}

HY_TEST(predict_all_dense_equals_dense) {
    hy_plan *d = plan_of("dense", 3e-6);
    HY_REQUIRE(d);
    hy_cost_model m = model(3e-6);
    double c, ds, layer;
    HY_OK_OR_FAIL(hy_plan_predict_cost(&m, d, 4096, &c, &ds));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_DENSE, 4096, 0, &layer));
    HY_CHECK_NEAR(c, ds, 1e-15);
    HY_CHECK_NEAR(ds, 30 * layer, 1e-15);
    HY_CHECK_NEAR(d->cost_s, ds, 1e-15);
    /* a plan for another KV shape is not priced by this model */
    m.n_kv_heads = 4;
    HY_CHECK_EQ_INT(hy_plan_predict_cost(&m, d, 4096, &c, &ds), HY_EMISMATCH);
    hy_plan_free(d);
}

HY_TEST(predict_window_monotone_in_w) {
    double prev = -1;
    for (int w = 0; w <= 4096; w += 256) {
        char spec[32];
        snprintf(spec, sizeof spec, "window:%d", w);
        hy_plan *pl = plan_of(spec, 3e-6);
        HY_REQUIRE(pl);
        HY_CHECK(pl->cost_s > prev);
        HY_CHECK(pl->cost_s <= pl->dense_cost_s * (1 + 1e-12));
        prev = pl->cost_s;
        hy_plan_free(pl);
    }
}

/* A select unit refreshed every s steps costs (select + (s-1) reuse) / s; qsim as s = 1. */
HY_TEST(predict_refresh_averages_select_and_reuse) {
    hy_plan *r = plan_of("recycled:4,256", 0), *r1 = plan_of("recycled:1,256", 0);
    HY_REQUIRE(r && r1);
    hy_cost_model m = model(0);
    double sel, reu, c, ds;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SELECT, 4096, 256, &sel));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 4096, 256, &reu));
    HY_CHECK_NEAR(r->cost_s, 30 * (sel + 3 * reu) / 4, 1e-15);
    HY_CHECK_NEAR(r1->cost_s, 30 * sel, 1e-15);
    for (int32_t u = 0; u < hy_plan_n_units(r); u++)
        r->units[u].refresh = 0, r->units[u].qsim = 0.9f;
    HY_OK_OR_FAIL(hy_plan_predict_cost(&m, r, 4096, &c, &ds));
    HY_CHECK_NEAR(c, r1->cost_s, 1e-15);
    hy_plan_free(r);
    hy_plan_free(r1);
}

/* Tidal at launch 0: 2 dense + 2 select + 26 reuse layers of k + sink + window tokens. */
HY_TEST(predict_tidal_by_layers) {
    hy_plan *t = plan_of("tidal:2,13,256", 0);
    HY_REQUIRE(t);
    hy_cost_model m = model(0);
    double d, sel, reu;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_DENSE, 4096, 0, &d));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SELECT, 4096, 256, &sel));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 4096, 256, &reu));
    HY_CHECK_NEAR(t->cost_s, 2 * d + 2 * sel + 26 * reu, 1e-15);
    /* reuse of 256 + 68 of 4096 rows (+ 4-byte indices) */
    HY_CHECK_NEAR(reu / d, (768.0 + 12) * 324 / (768.0 * 4096), 1e-12);
    hy_plan_free(t);
}

/* Quest prices whole pages: k 500 and k 512 keep the same 32 pages. */
HY_TEST(predict_quest_counts_pages) {
    hy_plan *a = plan_of("quest:16,500", 0), *b = plan_of("quest:16,512", 0),
            *c = plan_of("quest:16,513", 0);
    HY_REQUIRE(a && b && c);
    HY_CHECK_NEAR(a->cost_s, b->cost_s, 1e-18);
    HY_CHECK(c->cost_s > b->cost_s);
    HY_CHECK(b->cost_s < b->dense_cost_s);
    hy_plan_free(a);
    hy_plan_free(b);
    hy_plan_free(c);
}

/* fit: the returned value fits the budget and the next one does not. */
static void check_fit(const char *spec, double budget, double launch_s) {
    hy_policy p = parsed(spec), next;
    hy_policy_shape s = shape();
    hy_cost_model m = model(launch_s);
    if (hy_policy_fit(&p, &s, &m, budget)) {
        HY_FAILF("fit %s at %g: %s", spec, budget, hy_last_error());
        return;
    }
    next = p;
    if (p.kind == HY_POLICY_WINDOW)
        next.window++;
    else
        next.k++;
    hy_plan *a = NULL, *b = NULL;
    if (hy_policy_plan(&p, &s, &m, &a) || hy_policy_plan(&next, &s, &m, &b)) {
        HY_FAILF("fit %s: plan: %s", spec, hy_last_error());
    } else {
        HY_CHECK(a->cost_s <= budget * a->dense_cost_s);
        if (!(b->cost_s > budget * b->dense_cost_s))
            HY_FAILF("fit %s at %g: value + 1 also fits (%g of dense)", spec, budget,
                     b->cost_s / b->dense_cost_s);
    }
    hy_plan_free(a);
    hy_plan_free(b);
}

HY_TEST(fit_returns_largest_fitting_value) {
    check_fit("window:0", 0.25, 0);
    check_fit("window:0", 0.85, 3e-6); /* at 4096 one launch alone is 0.76 of dense */
    check_fit("recycled:4,1", 0.3, 0);
    check_fit("tidal:2,13,1", 0.4, 0);
    check_fit("quest:16,16", 0.2, 0);
    hy_policy p = parsed("quest:16,16");
    hy_policy_shape s = shape();
    hy_cost_model m = model(0);
    HY_OK_OR_FAIL(hy_policy_fit(&p, &s, &m, 0.2));
    HY_CHECK_EQ_INT(p.k % 16, 0); /* whole pages: the largest k of the last page that fits */
    HY_CHECK_EQ_INT(p.page_size, 16);
    p = parsed("window:0");
    HY_OK_OR_FAIL(hy_policy_fit(&p, &s, &m, 1.0)); /* the whole context fits */
    HY_CHECK_EQ_INT(p.window, 4096);
}

/* Token sets are fitted within the runtimes' top-k limit: at 16K a 0.8 budget would buy
 * recycled sets of about 12K tokens, which hy_ctx_set_plan refuses; the fit stops at the
 * limit (found by `hylra sweep` on Gemma 3 at 16K). Quest counts pages, so it may exceed it. */
HY_TEST(fit_stays_within_the_top_k_limit) {
    HY_CHECK_EQ_INT(HY_POLICY_MAX_K, HY_TOPK_MAX_K);
    hy_policy_shape s = shape();
    s.context = 16384;
    hy_cost_model m = model(0);
    hy_policy p = parsed("recycled:8,16");
    HY_OK_OR_FAIL(hy_policy_fit(&p, &s, &m, 0.8));
    HY_CHECK_EQ_INT(p.k, HY_TOPK_MAX_K);
    p = parsed("tidal:2,13,16");
    HY_OK_OR_FAIL(hy_policy_fit(&p, &s, &m, 0.95));
    HY_CHECK(p.k <= HY_TOPK_MAX_K);
    p = parsed("quest:16,16");
    HY_OK_OR_FAIL(hy_policy_fit(&p, &s, &m, 0.8));
    HY_CHECK(p.k > HY_TOPK_MAX_K && p.k / 16 <= HY_TOPK_MAX_K);
}

HY_TEST(fit_unreachable_names_cheapest) {
    hy_policy p = parsed("tidal:2,13,1");
    hy_policy_shape s = shape();
    hy_cost_model m = model(0);
    HY_CHECK_EQ_INT(hy_policy_fit(&p, &s, &m, 0.05), HY_ESOLVER);
    HY_CHECK(strstr(hy_last_error(), "the cheapest reachable fraction is 0.1"));
    HY_CHECK(strstr(hy_last_error(), "tidal:2,13,1 at context 4096"));
    HY_CHECK_EQ_INT(p.k, 1); /* unchanged */
    HY_CHECK_EQ_INT(hy_policy_fit(&p, &s, &m, -1), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_policy_fit(&p, &s, &m, NAN), HY_EINVAL);
    /* dense and plan files have nothing to fit */
    p = parsed("dense");
    HY_OK_OR_FAIL(hy_policy_fit(&p, &s, &m, 0.05));
    HY_CHECK_EQ_INT(p.kind, HY_POLICY_DENSE);
}

HY_TEST(plan_file_round_trip_and_shape_mismatch) {
    hy_plan *t = plan_of("tidal:2,13,256", 3e-6), *back = NULL;
    HY_REQUIRE(t);
    char path[128], spec[160];
    snprintf(path, sizeof path, "/tmp/hy_test_policy_%d.json", (int)getpid());
    HY_OK_OR_FAIL(hy_plan_write(t, path));
    snprintf(spec, sizeof spec, "plan:%s", path);
    hy_policy p = parsed(spec);
    HY_CHECK_EQ_INT(p.kind, HY_POLICY_PLAN);
    hy_policy_shape s = shape();
    hy_cost_model m = model(3e-6);
    HY_OK_OR_FAIL(hy_policy_plan(&p, &s, &m, &back));
    HY_CHECK(!strcmp(back->solver, "policy:tidal"));
    for (int32_t u = 0; u < hy_plan_n_units(t); u++)
        HY_CHECK(back->units[u].mode == t->units[u].mode && back->units[u].src == t->units[u].src);
    HY_CHECK_NEAR(back->cost_s, t->cost_s, 1e-9 * t->cost_s);
    hy_plan_free(back);
    back = NULL;
    s.n_kv_heads = 1;
    HY_CHECK_EQ_INT(hy_policy_plan(&p, &s, &m, &back), HY_EMISMATCH);
    HY_CHECK(strstr(hy_last_error(), "n_kv_heads is 3, the model has 1"));
    HY_CHECK(back == NULL);
    s = shape();
    s.model_sha256 = "ab";
    snprintf(t->model_sha256, sizeof t->model_sha256, "%064d", 7);
    HY_OK_OR_FAIL(hy_plan_write(t, path));
    HY_CHECK_EQ_INT(hy_policy_plan(&p, &s, &m, &back), HY_EMISMATCH);
    HY_CHECK(strstr(hy_last_error(), "sha256"));
    remove(path);
    HY_CHECK_EQ_INT(hy_policy_plan(&p, &s, &m, &back), HY_EIO);
    hy_plan_free(t);
}

HY_TEST_MAIN()
