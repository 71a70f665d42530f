/* tests/dpsolver: the cost table format (round trip, named errors) and lookup (exact at
 * grid points, log-log between them, 2x extrapolation, refusal beyond), and the cost model
 * (analytic ordering of modes, sink + window read by sparse modes, window and bounds priced
 * by their bytes, table path, analytic table written as costs.json). */
#include "hy_dpsolver.h"
#include "hy_test.h"

#include <stdlib.h>
#include <unistd.h>

static const char *table_json =
    "{\"format\": \"hylra-costs\", \"version\": 1, \"device\": \"NVIDIA H100 80GB HBM3\",\n"
    " \"created\": \"2026-11-23T09:00:00Z\", \"tool\": \"hylra 0.1.0\", \"copy_bandwidth_GBps\": "
    "3000.0,\n"
    " \"dtype\": \"bf16\", \"head_dim\": 64, \"n_heads\": 9, \"n_kv_heads\": 3, \"page_size\": "
    "16,\n"
    " \"entries\": [\n"
    "  {\"op\": \"dense\", \"batch\": 1, \"n\": 1024, \"k\": 0, \"seconds\": 4e-6},\n"
    "  {\"op\": \"dense\", \"batch\": 1, \"n\": 4096, \"k\": 0, \"seconds\": 1.6e-5},\n"
    "  {\"op\": \"select\", \"batch\": 1, \"n\": 1024, \"k\": 256, \"seconds\": 6e-6},\n"
    "  {\"op\": \"select\", \"batch\": 1, \"n\": 4096, \"k\": 256, \"seconds\": 2e-5},\n"
    "  {\"op\": \"reuse\", \"batch\": 1, \"n\": 4096, \"k\": 64, \"seconds\": 1e-6},\n"
    "  {\"op\": \"reuse\", \"batch\": 1, \"n\": 4096, \"k\": 1024, \"seconds\": 1.6e-5},\n"
    "  {\"op\": \"topk\", \"batch\": 1, \"n\": 4096, \"k\": 256, \"seconds\": 3e-6}\n"
    " ],\n"
    " \"fixed\": {\"launch_overhead_s\": 3e-6, \"per_layer_other_s\": 0.0}}\n";

static hy_costs *load(void) {
    hy_costs *c = NULL;
    return hy_costs_from_json(table_json, strlen(table_json), "t.json", &c) ? NULL : c;
}

HY_TEST(read_fields) {
    hy_costs *c = load();
    HY_REQUIRE(c);
    HY_CHECK(!strcmp(c->device, "NVIDIA H100 80GB HBM3"));
    HY_CHECK_EQ_INT(c->n_entries, 7);
    HY_CHECK_EQ_INT(c->n_kv_heads, 3);
    HY_CHECK_NEAR(c->copy_bandwidth_GBps, 3000.0, 0);
    HY_CHECK_NEAR(c->launch_overhead_s, 3e-6, 0);
    HY_CHECK_EQ_INT(c->entries[4].op, HY_OP_REUSE);
    HY_CHECK_EQ_INT(c->entries[4].k, 64);
    hy_costs_free(c);
}

HY_TEST(round_trip_file) {
    hy_costs *c = load(), *d = NULL;
    HY_REQUIRE(c);
    char path[96];
    snprintf(path, sizeof path, "/tmp/hy_test_costs_%d.json", (int)getpid());
    HY_OK_OR_FAIL(hy_costs_write(c, path));
    HY_OK_OR_FAIL(hy_costs_read(path, &d));
    HY_CHECK_EQ_INT(d->n_entries, c->n_entries);
    for (int32_t i = 0; i < c->n_entries; i++) {
        HY_CHECK(c->entries[i].op == d->entries[i].op && c->entries[i].n == d->entries[i].n &&
                 c->entries[i].k == d->entries[i].k && c->entries[i].batch == d->entries[i].batch);
        HY_CHECK(c->entries[i].seconds == d->entries[i].seconds);
    }
    HY_CHECK(!strcmp(c->device, d->device) && c->page_size == d->page_size);
    remove(path);
    hy_costs_free(c);
    hy_costs_free(d);
}

static hy_status edited(const char *from, const char *to) {
    char buf[4096];
    const char *at = strstr(table_json, from);
    if (!at) return HY_EINVAL;
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - table_json), table_json, to,
             at + strlen(from));
    hy_costs *c = NULL;
    hy_status st = hy_costs_from_json(buf, strlen(buf), "e.json", &c);
    hy_costs_free(c);
    return st;
}

HY_TEST(named_errors) {
    HY_CHECK_EQ_INT(edited("\"topk\"", "\"flash\""), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(),
                    "entries[6].op is \"flash\", expected dense|select|reuse|topk|score"));
    HY_CHECK_EQ_INT(edited("\"version\": 1", "\"version\": 3"), HY_EUNSUPPORTED);
    HY_CHECK(strstr(hy_last_error(), "version is 3, expected 1"));
    HY_CHECK_EQ_INT(edited("\"seconds\": 3e-6}", "\"seconds\": -1}"), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "entries[6].seconds"));
    HY_CHECK_EQ_INT(edited("\"k\": 64", "\"k\": 1024"), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "entries[5] repeats entries[4]"));
    HY_CHECK_EQ_INT(edited("\"n\": 4096, \"k\": 64", "\"n\": 32, \"k\": 64"), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "k 64 is larger than n 32"));
    HY_CHECK_EQ_INT(edited("hylra-costs", "hylra-plan"), HY_EUNSUPPORTED);
    HY_CHECK_EQ_INT(
        edited("\"batch\": 1, \"n\": 1024, \"k\": 0", "\"batch\": \"1\", \"n\": 1024, \"k\": 0"),
        HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "entries[0].batch is not an integer"));
}

HY_TEST(lookup_exact_at_grid_points) {
    hy_costs *c = load();
    HY_REQUIRE(c);
    double s;
    HY_OK_OR_FAIL(hy_costs_lookup(c, HY_OP_DENSE, 1, 4096, 0, &s));
    HY_CHECK_NEAR(s, 1.6e-5, 1e-18);
    HY_OK_OR_FAIL(hy_costs_lookup(c, HY_OP_REUSE, 1, 4096, 1024, &s));
    HY_CHECK_NEAR(s, 1.6e-5, 1e-18);
    HY_OK_OR_FAIL(hy_costs_lookup(c, HY_OP_DENSE, 1, 4096, 777, &s)); /* k ignored for dense */
    HY_CHECK_NEAR(s, 1.6e-5, 1e-18);
    hy_costs_free(c);
}

HY_TEST(lookup_interpolates_log_log) {
    hy_costs *c = load();
    HY_REQUIRE(c);
    double s;
    /* dense is linear in n on this grid (4e-6 at 1024, 1.6e-5 at 4096): 2048 -> 8e-6 */
    HY_OK_OR_FAIL(hy_costs_lookup(c, HY_OP_DENSE, 1, 2048, 0, &s));
    HY_CHECK_NEAR(s, 8e-6, 1e-15);
    /* reuse goes as k: 1e-6 at 64, 1.6e-5 at 1024 -> 4e-6 at 256 */
    HY_OK_OR_FAIL(hy_costs_lookup(c, HY_OP_REUSE, 1, 4096, 256, &s));
    HY_CHECK_NEAR(s, 4e-6, 1e-15);
    /* extrapolation within 2x continues the segment */
    HY_OK_OR_FAIL(hy_costs_lookup(c, HY_OP_DENSE, 1, 8192, 0, &s));
    HY_CHECK_NEAR(s, 3.2e-5, 1e-15);
    hy_costs_free(c);
}

HY_TEST(lookup_refuses_beyond_2x_and_missing_ops) {
    hy_costs *c = load();
    HY_REQUIRE(c);
    double s;
    HY_CHECK_EQ_INT(hy_costs_lookup(c, HY_OP_DENSE, 1, 8193 * 2, 0, &s), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(),
                    "op dense: n 16386 is more than 2x outside the measured grid 1024..4096"));
    HY_CHECK_EQ_INT(hy_costs_lookup(c, HY_OP_REUSE, 1, 4096, 16, &s), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "k 16"));
    HY_CHECK_EQ_INT(hy_costs_lookup(c, HY_OP_DENSE, 8, 4096, 0, &s), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "batch 8"));
    c->entries[6].op = HY_OP_DENSE, c->entries[6].k = 0, c->entries[6].n = 2048;
    HY_CHECK_EQ_INT(hy_costs_lookup(c, HY_OP_TOPK, 1, 4096, 256, &s), HY_ENOTFOUND);
    hy_costs_free(c);
}

HY_TEST(analytic_model_orders_modes) {
    hy_cost_model m;
    hy_cost_model_init(&m, 128, 32, 8, NULL);
    double d, s, r, r2;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_DENSE, 32768, 256, &d));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SELECT, 32768, 256, &s));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 32768, 256, &r));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 32768, 2048, &r2));
    HY_CHECK(s > d && d > r2 && r2 > r);
    /* dense: 2 (K,V) * 8 heads * 128 * 2 bytes * 32768 tokens / 3.35e12 + one launch */
    HY_CHECK_NEAR(d, 2.0 * 8 * 128 * 2 * 32768 / 3.35e12 + 3e-6, 1e-12);
    HY_CHECK_EQ_INT(hy_cost_layer(&m, HY_MODE_REUSE, 100, 256, &r), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "expected 0 < k <= n"));
}

/* Reuse reads k + sink + window tokens (capped at n): the bytes of 256 + 68 rows. */
HY_TEST(reuse_reads_sink_and_window) {
    hy_cost_model m;
    hy_cost_model_init(&m, 128, 32, 8, NULL);
    HY_CHECK_EQ_INT(m.sink, 4);
    HY_CHECK_EQ_INT(m.window, 64);
    HY_CHECK_EQ_INT(m.page_size, 16);
    double r, row = 2.0 * 8 * 128 * 2;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 32768, 256, &r));
    HY_CHECK_NEAR(r, (row + 4.0 * 8) * (256 + 68) / 3.35e12 + 3e-6, 1e-15);
    /* capped at the context: k 300 + 68 > n 320 reads 320 tokens */
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 320, 300, &r));
    HY_CHECK_NEAR(r, (row + 4.0 * 8) * 320 / 3.35e12 + 3e-6, 1e-15);
    m.sink = 0, m.window = 0;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 32768, 256, &r));
    HY_CHECK_NEAR(r, (row + 4.0 * 8) * 256 / 3.35e12 + 3e-6, 1e-15);
    m.window = -1;
    HY_CHECK_EQ_INT(hy_cost_layer(&m, HY_MODE_REUSE, 32768, 256, &r), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "window -1"));
}

HY_TEST(window_prices_sink_and_window_rows) {
    hy_cost_model m;
    hy_cost_model_init(&m, 64, 9, 3, NULL);
    double w, w2, d, row = 2.0 * 3 * 64 * 2;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_WINDOW, 8192, 0, &w)); /* k is not used */
    HY_CHECK_NEAR(w, row * 68 / 3.35e12 + 3e-6, 1e-15);
    m.window = 1000;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_WINDOW, 8192, 0, &w2));
    HY_CHECK(w2 > w);
    /* a window longer than the context reads the context, like dense */
    m.window = 100000;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_WINDOW, 8192, 0, &w));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_DENSE, 8192, 0, &d));
    HY_CHECK_NEAR(w, d, 1e-18);
}

HY_TEST(bounds_prices_metadata_scores_and_pages) {
    hy_cost_model m;
    hy_cost_model_init(&m, 64, 9, 3, NULL);
    m.launch_s = 0;
    double b, kvh = 3, row = 2.0 * kvh * 64 * 2;
    /* n 4096, P 16: 256 pages; k 256 = 16 pages + sink 1 page + window 4 pages = 21 kept */
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_BOUNDS, 4096, 256, &b));
    double want = (2.0 * kvh * 64 * 2 * 256 + 8.0 * kvh * 256 + 8.0 * kvh * 21 + row * 21 * 16);
    HY_CHECK_NEAR(b, want / 3.35e12, 1e-18);
    m.launch_s = 1e-6;
    double b3;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_BOUNDS, 4096, 256, &b3));
    HY_CHECK_NEAR(b3 - b, 3e-6, 1e-15); /* three kernels */
    /* k 250 keeps ceil(250/16) = 16 pages too */
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_BOUNDS, 4096, 250, &b));
    HY_CHECK_NEAR(b, b3, 1e-18);
    m.page_size = 0;
    HY_CHECK_EQ_INT(hy_cost_layer(&m, HY_MODE_BOUNDS, 4096, 256, &b), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "page_size 0"));
    HY_CHECK_EQ_INT(hy_cost_layer(&m, HY_MODE_COUNT, 4096, 256, &b), HY_EINVAL);
}

/* The cheap selectors: K only (score), an int8 or int4 sketch plus a scale, then the sparse
 * pass; at long contexts score < dense < select and sketch4 < sketch8 < score. */
HY_TEST(selectors_price_keys_or_sketch_then_the_set) {
    hy_cost_model m;
    hy_cost_model_init(&m, 128, 32, 8, NULL);
    m.launch_s = 0;
    const int64_t n = 131072, k = 2048;
    double d, s, sc, s8, s4;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_DENSE, n, 0, &d));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SELECT, n, k, &s));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SCORE, n, k, &sc));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SKETCH8, n, k, &s8));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SKETCH4, n, k, &s4));
    HY_CHECK(s4 < s8 && s8 < sc && sc < d && d < s);
    /* score: K (8 heads x 128 x 2 bytes), scores written and read, k indices, the set of
     * k + sink + window rows with their indices */
    const double kvh = 8, set = 2048 + 4 + 64, row = 2.0 * kvh * 128 * 2;
    const double want = kvh * 256 * n + 8.0 * kvh * n + 4.0 * kvh * k + row * set + 4.0 * kvh * set;
    HY_CHECK_NEAR(sc, want / 3.35e12, 1e-15);
    HY_CHECK(sc / d < 0.6 && s8 / d < 0.35 && s4 / d < 0.25);
    HY_CHECK_EQ_INT(hy_cost_layer(&m, HY_MODE_SKETCH4, n, 0, &s4), HY_ERANGE); /* needs k */
}

/* With a launch overhead of 0 the model counts bytes only: reuse / dense = rows ratio. */
HY_TEST(byte_only_model) {
    hy_cost_model m;
    hy_cost_model_init(&m, 64, 9, 3, NULL);
    m.launch_s = 0;
    double d, r;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_DENSE, 4096, 0, &d));
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 4096, 956, &r));
    double row = 2.0 * 3 * 64 * 2;
    HY_CHECK_NEAR(r / d, (row + 12.0) * 1024 / (row * 4096), 1e-12);
}

HY_TEST(table_model_uses_measurements_and_bandwidth) {
    hy_costs *c = load();
    HY_REQUIRE(c);
    hy_cost_model m;
    hy_cost_model_init(&m, 64, 9, 3, c);
    HY_CHECK_NEAR(m.bandwidth_Bps, 3e12, 1);
    double s;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SELECT, 1024, 256, &s));
    HY_CHECK_NEAR(s, 6e-6, 1e-18);
    HY_CHECK_EQ_INT(hy_cost_layer(&m, HY_MODE_SELECT, 100000, 256, &s), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "cost table (device NVIDIA H100 80GB HBM3)"));
    /* reuse is looked up at the tokens gathered: k 956 + 68 = 1024, a grid point */
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 4096, 956, &s));
    HY_CHECK_NEAR(s, 1.6e-5, 1e-18);
    /* window has no table op: bytes at the table's 3000 GB/s plus its 3 us launch */
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_WINDOW, 4096, 0, &s));
    HY_CHECK_NEAR(s, 2.0 * 3 * 64 * 2 * 68 / 3e12 + 3e-6, 1e-15);
    hy_costs_free(c);
}

/* The newer ops (score, sketch8, sketch4, bounds) are read from a table that has them and
 * priced analytically (with the table's bandwidth) when it does not. */
HY_TEST(table_selector_ops_measured_or_analytic) {
    hy_costs *c = load();
    HY_REQUIRE(c);
    hy_cost_model m;
    hy_cost_model_init(&m, 64, 9, 3, c);
    double a8, s8;
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SKETCH8, 4096, 256, &a8)); /* not in the table */
    hy_costs_free(c);
    const char *js = "{\"format\": \"hylra-costs\", \"version\": 1, \"device\": \"x\", "
                     "\"copy_bandwidth_GBps\": 3000, \"n_kv_heads\": 3, \"head_dim\": 64, "
                     "\"entries\": [{\"op\": \"dense\", \"batch\": 1, \"n\": 4096, \"k\": 0, "
                     "\"seconds\": 1e-5}, {\"op\": \"sketch8\", \"batch\": 1, \"n\": 4096, "
                     "\"k\": 256, \"seconds\": 2.5e-6}], \"fixed\": {\"launch_overhead_s\": 3e-6}}";
    HY_OK_OR_FAIL(hy_costs_from_json(js, strlen(js), "sel.json", &c));
    HY_CHECK(hy_costs_has_op(c, HY_OP_SKETCH8) && !hy_costs_has_op(c, HY_OP_SCORE));
    hy_cost_model_init(&m, 64, 9, 3, c);
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SKETCH8, 4096, 256, &s8));
    HY_CHECK_NEAR(s8, 2.5e-6, 1e-18);
    HY_CHECK(fabs(a8 - s8) > 1e-7); /* the analytic price was another number */
    /* a v1 op missing from a table is still an error, not a silent analytic price */
    HY_CHECK_EQ_INT(hy_cost_layer(&m, HY_MODE_SELECT, 4096, 256, &s8), HY_ENOTFOUND);
    hy_costs_free(c);
}

/* The analytic model written as a table and read back prices like the model itself. */
HY_TEST(analytic_table_round_trips_through_json) {
    hy_cost_model m, t;
    hy_cost_model_init(&m, 64, 9, 3, NULL);
    hy_costs *c = NULL, *d = NULL;
    HY_OK_OR_FAIL(hy_cost_analytic_table(&m, &c));
    char *js = NULL;
    HY_OK_OR_FAIL(hy_costs_to_json(c, &js));
    HY_OK_OR_FAIL(hy_costs_from_json(js, strlen(js), "analytic", &d));
    hy_cost_model_init(&t, 64, 9, 3, d);
    double a, b;
    /* k 956 + sink 4 + window 64 = 1024 gathered tokens, a grid point of the table */
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_REUSE, 16384, 956, &a));
    HY_OK_OR_FAIL(hy_cost_layer(&t, HY_MODE_REUSE, 16384, 956, &b));
    HY_CHECK_NEAR(a, b, 1e-15);
    HY_OK_OR_FAIL(hy_cost_layer(&m, HY_MODE_SELECT, 16384, 1024, &a));
    HY_OK_OR_FAIL(hy_cost_layer(&t, HY_MODE_SELECT, 16384, 1024, &b));
    HY_CHECK_NEAR(a, b, 1e-15);
    free(js);
    hy_costs_free(c);
    hy_costs_free(d);
}

HY_TEST_MAIN()
