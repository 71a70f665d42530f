/* tests/eval_stats/test_report: the eval report (cells, measured loss, Spearman check, table,
 * JSON, sweep SVG) on hy_eval_results built by hand here, so no model or engine is needed.
 * Expected numbers are recomputed in the test from the raw arrays. */
#include "hy_eval.h"
#include "hy_test.h"
#include "svg_check.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

enum { NM = 3, NS = 4 };

/* 3 methods (dense, dp@0.30, window:64) x tasks agree, ppl, passkey, 4 samples each. */
static const double agree[NM][NS] = {{1, 1, 1, 1}, {0.95, 0.9, 1, 0.85}, {0.7, 0.8, 0.6, 0.9}};
static const double kl[NM][NS] = {{0, 0, 0, 0}, {0.01, 0.02, 0.0, 0.03}, {0.2, 0.1, 0.3, 0.15}};
static const double nll[NM][NS] = {
    {2.0, 2.5, 1.8, 3.0}, {2.02, 2.55, 1.81, 3.06}, {2.3, 2.9, 2.0, 3.4}};
static const double pass[NM][NS] = {{1, 1, 1, 0}, {1, 0, 1, 0}, {0, 0, 1, 0}};

static double *copy(const double (*a)[NS]) {
    double *p = malloc(sizeof(double) * NM * NS);
    memcpy(p, a, sizeof(double) * NM * NS);
    return p;
}

static hy_eval_result *build(int64_t ctx) {
    hy_eval_result *r = calloc(1, sizeof *r);
    r->ctx = ctx, r->seed = 11, r->seconds = 1.5, r->n_methods = NM, r->n_tasks = 3;
    snprintf(r->text_source, sizeof r->text_source, "test <text> & more");
    r->methods = calloc(NM, sizeof *r->methods);
    const char *names[NM] = {"dense", "dp@0.30", "window:64"},
               *groups[NM] = {"dense", "dp", "window"};
    const double cost[NM] = {1.0, 0.3, NAN}, loss[NM] = {0, 0.12, NAN};
    for (int m = 0; m < NM; m++) {
        snprintf(r->methods[m].name, sizeof r->methods[m].name, "%s", names[m]);
        snprintf(r->methods[m].group, sizeof r->methods[m].group, "%s", groups[m]);
        r->methods[m].budget = m == 1 ? 0.3 : NAN;
        r->methods[m].pred_cost_frac = cost[m];
        r->methods[m].pred_loss = loss[m];
    }
    r->kv_frac = malloc(NM * sizeof(double));
    r->kv_frac[0] = 1, r->kv_frac[1] = 0.33, r->kv_frac[2] = 0.05;
    r->tasks = calloc(3, sizeof *r->tasks);
    const char *tasks[3] = {"agree", "ppl", "passkey"};
    const double(*scores[3])[NS] = {agree, nll, pass};
    for (int t = 0; t < 3; t++) {
        snprintf(r->tasks[t].task, sizeof r->tasks[t].task, "%s", tasks[t]);
        r->tasks[t].n = NS;
        r->tasks[t].score = copy(scores[t]);
    }
    r->tasks[0].kl = copy(kl);
    r->tasks[2].output = calloc(NM * NS, sizeof(char *));
    for (int i = 0; i < NM * NS; i++)
        r->tasks[2].output[i] = strdup(i == 5 ? "The passkey is \xff<12345>" : "The passkey is 1");
    return r;
}

static void destroy(hy_eval_result *r) {
    for (int t = 0; t < 3; t++) {
        free(r->tasks[t].score), free(r->tasks[t].kl);
        for (int i = 0; r->tasks[t].output && i < NM * NS; i++)
            free(r->tasks[t].output[i]);
        free(r->tasks[t].output);
    }
    free(r->tasks), free(r->methods), free(r->kv_frac), free(r);
}

static double mean(const double *x) {
    double s = 0;
    for (int i = 0; i < NS; i++)
        s += x[i];
    return s / NS;
}

static char *temp_path(const char *tag) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/hy_eval_%sXXXXXX", tag);
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    return path;
}

HY_TEST(ppl_cell_is_exp_of_nll) {
    hy_eval_result *r = build(2048);
    hy_eval_cell c, d;
    HY_OK_OR_FAIL(hy_eval_cell_get(r, 1, 2, &c));
    double diff[NS];
    for (int i = 0; i < NS; i++)
        diff[i] = nll[2][i] - nll[0][i];
    HY_CHECK_NEAR(c.value.mean, exp(mean(nll[2])), 1e-12);
    HY_CHECK_NEAR(c.delta.mean, exp(mean(diff)), 1e-12);
    HY_CHECK_NEAR(c.delta.mean, exp(mean(nll[2])) / exp(mean(nll[0])), 1e-12);
    HY_CHECK(c.delta.lo <= c.delta.mean && c.delta.mean <= c.delta.hi && c.delta.lo > 1);
    HY_CHECK(c.value.lo <= c.value.mean && c.value.mean <= c.value.hi);
    HY_CHECK_EQ_INT(c.kl.n, 0);
    HY_OK_OR_FAIL(hy_eval_cell_get(r, 1, 0, &d)); /* dense vs itself: ratio exactly 1 */
    HY_CHECK(d.delta.mean == 1 && d.delta.lo == 1 && d.delta.hi == 1);
    destroy(r);
}

HY_TEST(agree_and_task_cells) {
    hy_eval_result *r = build(2048);
    hy_eval_cell a, p;
    HY_OK_OR_FAIL(hy_eval_cell_get(r, 0, 1, &a));
    HY_CHECK_NEAR(a.value.mean, mean(agree[1]), 1e-12);
    HY_CHECK_NEAR(a.delta.mean, mean(agree[1]) - 1, 1e-12);
    HY_CHECK_NEAR(a.kl.mean, mean(kl[1]), 1e-12);
    HY_CHECK_EQ_INT(a.kl.n, NS);
    HY_CHECK(a.value.lo >= 0.85 - 1e-12 && a.value.hi <= 1 + 1e-12);
    HY_OK_OR_FAIL(hy_eval_cell_get(r, 2, 2, &p));
    HY_CHECK_NEAR(p.value.mean, 0.25, 1e-12);
    HY_CHECK_NEAR(p.delta.mean, 0.25 - 0.75, 1e-12);
    HY_CHECK(p.delta.lo <= p.delta.mean && p.delta.mean <= p.delta.hi);
    destroy(r);
}

HY_TEST(cell_errors) {
    hy_eval_result *r = build(2048);
    hy_eval_cell c;
    HY_CHECK_EQ_INT(hy_eval_cell_get(r, 3, 0, &c), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_eval_cell_get(r, 0, -1, &c), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_eval_cell_get(NULL, 0, 0, &c), HY_EINVAL);
    r->tasks[1].score[NS + 2] = NAN;
    HY_CHECK_EQ_INT(hy_eval_cell_get(r, 1, 1, &c), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "ppl") && strstr(hy_last_error(), "dp@0.30"));
    FILE *f = tmpfile();
    HY_CHECK_EQ_INT(hy_eval_write_table(r, f), HY_EINVAL); /* propagated, not printed as nan */
    fclose(f);
    r->tasks[2].n = 0;
    HY_CHECK_EQ_INT(hy_eval_cell_get(r, 2, 1, &c), HY_EINVAL);
    destroy(r);
}

HY_TEST(measured_loss_and_spearman) {
    hy_eval_result *r = build(2048);
    HY_CHECK_NEAR(hy_eval_measured_loss(r, 1), mean(kl[1]), 1e-12); /* agree present: KL */
    HY_CHECK_NEAR(hy_eval_measured_loss(r, 0), 0, 1e-12);
    HY_CHECK(isnan(hy_eval_measured_loss(r, 3)));
    hy_eval_task_result *all = r->tasks;
    r->tasks = all + 1, r->n_tasks = 2; /* ppl, passkey: the NLL increase */
    double d[NS];
    for (int i = 0; i < NS; i++)
        d[i] = nll[2][i] - nll[0][i];
    HY_CHECK_NEAR(hy_eval_measured_loss(r, 2), mean(d), 1e-12);
    r->tasks = all + 2, r->n_tasks = 1; /* passkey only: no loss defined */
    HY_CHECK(isnan(hy_eval_measured_loss(r, 1)));
    r->tasks = all, r->n_tasks = 3;
    int32_t n = -1;
    HY_CHECK(isnan(hy_eval_spearman(r, &n))); /* one dp method only */
    HY_CHECK_EQ_INT(n, 1);
    /* make all three methods dp with predicted losses in the measured order */
    for (int m = 0; m < NM; m++)
        snprintf(r->methods[m].group, sizeof r->methods[m].group, "%s", m == 2 ? "ilp" : "dp");
    r->methods[0].pred_loss = 0, r->methods[1].pred_loss = 0.1, r->methods[2].pred_loss = 0.5;
    HY_CHECK_NEAR(hy_eval_spearman(r, &n), 1.0, 1e-12);
    HY_CHECK_EQ_INT(n, 3);
    r->methods[0].pred_loss = 0.9;
    HY_CHECK_NEAR(hy_eval_spearman(r, &n), -0.5, 1e-12);
    destroy(r);
}

HY_TEST(table_names_methods_and_aligns) {
    hy_eval_result *r = build(2048);
    FILE *f = tmpfile();
    HY_REQUIRE(f);
    HY_OK_OR_FAIL(hy_eval_write_table(r, f));
    rewind(f);
    char buf[8192] = {0};
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    HY_REQUIRE(len > 0);
    fputs(buf, stdout);
    const char *want[] = {"ctx 2048",     "seed 11",           "test <text> & more",
                          "agree 4 docs", "passkey 4 samples", "dense",
                          "dp@0.30",      "window:64",         "kv_frac",
                          "pred_cost",    "ppl (ratio)",       "(x1.0000 [1.0000, 1.0000])",
                          "0.330"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(buf, want[i])) HY_FAILF("table lacks \"%s\"", want[i]);
    int rows = 0;
    size_t width = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        if (rows++ == 0)
            width = strlen(line);
        else if (strlen(line) != width)
            HY_FAILF("row %d is %zu wide, header %zu", rows, strlen(line), width);
    }
    HY_CHECK_EQ_INT(rows, NM + 1);
    destroy(r);
}

static double real_at(json_t *root, const char *path) {
    json_t *v = json_object_get(root, path);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

HY_TEST(json_reads_back_to_the_same_cells) {
    hy_eval_result *r = build(4096), *back = NULL;
    const char *path = temp_path("json");
    HY_OK_OR_FAIL(hy_eval_write_json(r, path));
    HY_OK_OR_FAIL(hy_eval_read_json(path, &back));
    HY_CHECK_EQ_INT(back->ctx, 4096);
    HY_CHECK_EQ_INT(back->n_methods, r->n_methods);
    HY_CHECK_EQ_INT(back->n_tasks, r->n_tasks);
    for (int32_t t = 0; t < r->n_tasks; t++)
        for (int32_t m = 0; m < r->n_methods; m++) {
            hy_eval_cell a, b;
            HY_OK_OR_FAIL(hy_eval_cell_get(r, t, m, &a));
            HY_OK_OR_FAIL(hy_eval_cell_get(back, t, m, &b));
            HY_CHECK_NEAR(a.value.mean, b.value.mean, 1e-9);
            HY_CHECK_NEAR(a.delta.lo, b.delta.lo, 1e-9);
            HY_CHECK_NEAR(a.kl.mean, b.kl.mean, 1e-9);
        }
    for (int32_t m = 0; m < r->n_methods; m++) {
        HY_CHECK(!strcmp(back->methods[m].name, r->methods[m].name));
        HY_CHECK_NEAR(hy_eval_measured_loss(back, m), hy_eval_measured_loss(r, m), 1e-9);
    }
    hy_eval_result_free(back);
    /* a damaged file is refused naming the field */
    FILE *f = fopen(path, "w");
    fputs("{\"format\": \"hylra-eval\", \"version\": 1, \"options\": {\"ctx\": 8}, "
          "\"methods\": [{\"name\": \"dense\"}], \"tasks\": [{}]}",
          f);
    fclose(f);
    HY_CHECK(hy_eval_read_json(path, &back) == HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "methods[0].group") != NULL);
    remove(path);
    destroy(r);
}

HY_TEST(json_parses_back_with_fields) {
    hy_eval_result *r = build(4096);
    const char *path = temp_path("json");
    HY_OK_OR_FAIL(hy_eval_write_json(r, path));
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    remove(path);
    if (!root) HY_FAILF("json: %s line %d", err.text, err.line);
    HY_REQUIRE(root);
    HY_CHECK(!strcmp(json_string_value(json_object_get(root, "format")), "hylra-eval"));
    HY_CHECK_EQ_INT(json_integer_value(json_object_get(root, "version")), 1);
    json_t *op = json_object_get(root, "options");
    HY_CHECK_EQ_INT(json_integer_value(json_object_get(op, "ctx")), 4096);
    HY_CHECK_EQ_INT(json_integer_value(json_object_get(op, "seed")), 11);
    HY_CHECK(!strcmp(json_string_value(json_object_get(op, "text_source")), r->text_source));
    json_t *ms = json_object_get(root, "methods");
    HY_REQUIRE(json_array_size(ms) == NM);
    HY_CHECK_NEAR(real_at(json_array_get(ms, 1), "pred_cost_frac"), 0.3, 1e-9);
    HY_CHECK_NEAR(real_at(json_array_get(ms, 1), "kv_frac"), 0.33, 1e-9);
    HY_CHECK(json_is_null(json_object_get(json_array_get(ms, 2), "pred_cost_frac")));
    HY_CHECK(json_is_null(json_object_get(json_array_get(ms, 0), "plan")));
    HY_CHECK_NEAR(real_at(json_array_get(ms, 1), "measured_loss"), mean(kl[1]), 1e-9);
    json_t *ts = json_object_get(root, "tasks");
    HY_REQUIRE(json_array_size(ts) == 3);
    json_t *ppl = json_array_get(ts, 1);
    HY_CHECK(!strcmp(json_string_value(json_object_get(ppl, "kind")), "ppl"));
    json_t *pm = json_array_get(json_object_get(ppl, "methods"), 2);
    HY_CHECK(!strcmp(json_string_value(json_object_get(pm, "name")), "window:64"));
    HY_CHECK_NEAR(real_at(json_object_get(pm, "value"), "mean"), exp(mean(nll[2])), 1e-8);
    json_t *sc = json_object_get(pm, "score");
    HY_REQUIRE(json_array_size(sc) == NS);
    HY_CHECK_NEAR(json_number_value(json_array_get(sc, 3)), nll[2][3], 1e-9);
    json_t *am = json_array_get(json_object_get(json_array_get(ts, 0), "methods"), 1);
    HY_CHECK(json_object_get(am, "kl") && json_array_size(json_object_get(am, "kl_samples")) == NS);
    json_t *km = json_array_get(json_object_get(json_array_get(ts, 2), "methods"), 1);
    json_t *outs = json_object_get(km, "outputs");
    HY_REQUIRE(json_array_size(outs) == NS);
    HY_CHECK(!strcmp(json_string_value(json_array_get(outs, 1)), "The passkey is ?<12345>"));
    HY_CHECK(json_object_get(root, "spearman") && json_object_get(root, "bootstrap"));
    json_decref(root);
    destroy(r);
}

HY_TEST(svg_is_wellformed) {
    hy_eval_result *a = build(2048), *b = build(8192);
    const hy_eval_result *rs[2] = {a, b};
    const char *tasks[3] = {"agree", "ppl", "passkey"};
    for (int t = 0; t < 3; t++) {
        const char *path = temp_path("svg");
        HY_OK_OR_FAIL(hy_eval_write_svg(rs, 2, tasks[t], t ? NULL : "sweep <1> & 2", path));
        char *svg = svg_read(path);
        HY_REQUIRE(svg);
        char msg[256];
        if (svg_check(svg, "svg", msg, sizeof msg)) HY_FAILF("%s: %s", tasks[t], msg);
        int ran = 0, lint = svg_xmllint(path, &ran);
        if (ran && lint) HY_FAILF("xmllint rejected %s", path);
        HY_CHECK(strstr(svg, "ctx 2048") && strstr(svg, "ctx 8192"));
        HY_CHECK(strstr(svg, ">dp<") && strstr(svg, "window (x: measured)"));
        HY_CHECK(strstr(svg, "predicted attention cost"));
        if (t == 0) HY_CHECK(strstr(svg, "sweep &lt;1&gt; &amp; 2") != NULL);
        if (t == 1) HY_CHECK(strstr(svg, "perplexity / dense perplexity") != NULL);
        HY_CHECK(strstr(svg, "nan") == NULL);
        free(svg);
        remove(path);
    }
    const char *none = temp_path("svg");
    HY_CHECK_EQ_INT(hy_eval_write_svg(rs, 2, "vt", NULL, none), HY_ENOTFOUND);
    remove(none);
    HY_CHECK(strstr(hy_last_error(), "vt") != NULL);
    HY_CHECK_EQ_INT(hy_eval_write_svg(rs, 0, "agree", NULL, "/tmp/x.svg"), HY_EINVAL);
    destroy(a), destroy(b);
}

/* Thin results (no kv_frac, no tasks, dense only) still give a table and a picture. */
HY_TEST(thin_results_still_report) {
    hy_eval_result *r = build(1024);
    free(r->kv_frac);
    r->kv_frac = NULL;
    FILE *f = tmpfile();
    HY_REQUIRE(f);
    HY_OK_OR_FAIL(hy_eval_write_table(r, f));
    int32_t nt = r->n_tasks;
    r->n_tasks = 0;
    HY_OK_OR_FAIL(hy_eval_write_table(r, f));
    r->n_tasks = nt;
    fclose(f);
    int32_t nm = r->n_methods;
    r->n_methods = 1; /* only dense: a panel with just the reference line */
    const hy_eval_result *rs[1] = {r};
    const char *path = temp_path("svg");
    HY_OK_OR_FAIL(hy_eval_write_svg(rs, 1, "agree", NULL, path));
    char *svg = svg_read(path), msg[256];
    HY_REQUIRE(svg);
    if (svg_check(svg, "svg", msg, sizeof msg)) HY_FAILF("%s", msg);
    free(svg);
    remove(path);
    r->n_methods = nm;
    HY_CHECK(isnan(hy_eval_spearman(NULL, NULL)));
    HY_CHECK_EQ_INT(hy_eval_write_table(NULL, stdout), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_eval_write_json(r, "/nonexistent-dir/x.json"), HY_EIO);
    destroy(r);
}

HY_TEST_MAIN()
