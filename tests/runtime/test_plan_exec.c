/* Plan execution on a tiny random Llama: with k >= context every sparse mode gives dense
 * logits; with small k each unit's output equals attention restricted to the set the plan
 * semantics (docs/design.md, hy_plan.h) say it attends to, recomputed here from the observer's
 * dense probabilities with a top-k, merge and page-bound scoring written independently of
 * the runtime; plans for another model or too large a k are refused. */
#include "hy_observer.h"
#include "hy_test.h"
#include "runtime_test_util.h"
#include "sketch.h"

#include <math.h>
#include <string.h>

enum { PROMPT = 21, STEPS = 9, CTX = 64 };

static hy_model *load_tiny(int n_layers, tiny_cfg *cfg) {
    tiny_default(cfg);
    cfg->n_layers = n_layers;
    hy_model *m = NULL;
    if (rt_load(cfg, NULL, &m) != HY_OK) return NULL;
    return m;
}

/* Decodes PROMPT + STEPS tokens with plan (NULL = dense); logits of every decode step. */
static float *decode_logits(hy_model *m, const hy_plan *plan) {
    const int V = hy_model_info_borrow(m)->n_vocab;
    hy_ctx *c;
    if (hy_ctx_create(m, CTX, 1, &c)) return NULL;
    float *lg = malloc((size_t)STEPS * V * sizeof *lg);
    int32_t *tok = rt_tokens(PROMPT + STEPS, V, 77u);
    int ok =
        hy_ctx_set_plan(c, 0, plan) == HY_OK && hy_forward(c, 0, tok, PROMPT, NULL, 0) == HY_OK;
    for (int t = 0; ok && t < STEPS; t++)
        ok = hy_forward(c, 0, tok + PROMPT + t, 1, lg + (int64_t)t * V, 1) == HY_OK;
    free(tok);
    hy_ctx_free(c);
    if (!ok) {
        fprintf(stderr, "decode: %s\n", hy_last_error());
        free(lg);
        return NULL;
    }
    return lg;
}

static void check_equals_dense(hy_model *m, const hy_plan *plan, const char *what) {
    const int V = hy_model_info_borrow(m)->n_vocab;
    float *dense = decode_logits(m, NULL), *sparse = decode_logits(m, plan);
    HY_REQUIRE(dense && sparse);
    double e = rt_err_ff(sparse, dense, (int64_t)STEPS * V);
    if (!(e < 1e-4)) HY_FAILF("%s: max |dlogit| %.3g vs dense", what, e);
    free(dense), free(sparse);
}

HY_TEST(k_at_least_context_equals_dense_in_every_mode) {
    tiny_cfg cfg;
    hy_model *m = load_tiny(3, &cfg);
    HY_REQUIRE(m);
    /* chain: layer 0 selects, layers 1-2 reuse it; head reuse inside layer 1 */
    hy_plan *p = rt_new_plan(m, CTX, 2, 4);
    rt_set_unit(p, 0, 0, HY_MODE_SELECT, 0, 0, 1);
    rt_set_unit(p, 0, 1, HY_MODE_SELECT, 0, 0, 3);
    rt_set_unit(p, 1, 0, HY_MODE_SELECT, 0, 0, 1);
    rt_set_unit(p, 1, 1, HY_MODE_REUSE, 1, 0, 1);
    rt_set_unit(p, 2, 0, HY_MODE_REUSE, 0, 1, 1);
    rt_set_unit(p, 2, 1, HY_MODE_REUSE, 0, 0, 1);
    check_equals_dense(m, p, "select/reuse/temporal, token");
    p->granularity = HY_GRAN_PAGE, p->page_size = 4;
    check_equals_dense(m, p, "select/reuse/temporal, pages of 4");
    for (int u = 0; u < hy_plan_n_units(p); u++)
        rt_set_unit(p, u / 2, u % 2, HY_MODE_BOUNDS, 0, 0, u % 2 ? 2 : 1);
    check_equals_dense(m, p, "bounds, pages of 4");
    p->granularity = HY_GRAN_TOKEN, p->window = CTX;
    for (int u = 0; u < hy_plan_n_units(p); u++)
        rt_set_unit(p, u / 2, u % 2, HY_MODE_WINDOW, 0, 0, 1);
    check_equals_dense(m, p, "window >= context");
    hy_plan_free(p);
    hy_model_free(m);
}

/* ---- the independent reference for small k ---- */

typedef struct {
    int n_units, g, hd;
    float *out, *q, *psum; /* [unit][step][g*hd], [unit][step][g*hd], [unit][step][CTX] */
    const float *k[8], *v[8];
    int seen;
} record;

static void observe(void *user, const hy_observation *o) {
    record *r = user;
    const int u = o->layer * 2 + o->kv_head, s = (int)(o->pos - PROMPT);
    if (s < 0 || s >= STEPS) return;
    const size_t gd = (size_t)r->g * r->hd;
    memcpy(r->out + ((size_t)u * STEPS + s) * gd, o->out, gd * sizeof(float));
    memcpy(r->q + ((size_t)u * STEPS + s) * gd, o->q, gd * sizeof(float));
    float *ps = r->psum + ((size_t)u * STEPS + s) * CTX;
    for (int64_t j = 0; j < o->n_keys; j++) {
        double a = 0;
        for (int h = 0; h < o->n_heads; h++)
            a += o->probs[h * o->n_keys + j];
        ps[j] = (float)a;
    }
    r->k[u] = o->k, r->v[u] = o->v;
}

/* Top-kk of score[0..units) among units outside [0, lo) and [hi, units): higher first, lower
 * index on ties. Marks chosen units in take[]. */
static void ref_topk(const double *score, int units, int lo, int hi, int kk, unsigned char *take) {
    for (int t = 0; t < units; t++)
        take[t] = t < lo || t >= hi;
    for (int c = 0; c < kk; c++) {
        int best = -1;
        for (int t = lo; t < hi; t++)
            if (!take[t] && (best < 0 || score[t] > score[best])) best = t;
        if (best < 0) break;
        take[best] = 1;
    }
}

/* Expected output of a unit attending to the token units marked in in_set (P tokens each). */
static void ref_out(const record *r, int u, int s, const unsigned char *in_set, int P,
                    double *out) {
    const int n = PROMPT + s + 1, g = r->g, hd = r->hd;
    const float *q = r->q + ((size_t)u * STEPS + s) * g * hd;
    for (int h = 0; h < g; h++) {
        double mx = -INFINITY, z = 0, acc[64] = {0};
        double lg[CTX];
        for (int j = 0; j < n; j++) {
            if (!in_set[j / P]) continue;
            double d = 0;
            for (int i = 0; i < hd; i++)
                d += (double)q[h * hd + i] * r->k[u][j * hd + i];
            lg[j] = d / sqrt((double)hd);
            mx = lg[j] > mx ? lg[j] : mx;
        }
        for (int j = 0; j < n; j++) {
            if (!in_set[j / P]) continue;
            double e = exp(lg[j] - mx);
            z += e;
            for (int i = 0; i < hd; i++)
                acc[i] += e * r->v[u][j * hd + i];
        }
        for (int i = 0; i < hd; i++)
            out[h * hd + i] = acc[i] / z;
    }
}

static double max_rel_diff(const float *a, const double *b, int n) {
    double worst = 0, scale = 1e-3;
    for (int i = 0; i < n; i++)
        scale = fabs(b[i]) > scale ? fabs(b[i]) : scale;
    for (int i = 0; i < n; i++)
        worst = fmax(worst, fabs(a[i] - b[i]));
    return worst / scale;
}

/* Replays the plan's semantics over the recorded steps and compares every unit's output.
 * Returns the worst relative difference; also the difference obtained with a corrupted set
 * (one selected unit dropped) so the test shows the comparison can fail. */
static double replay(const record *r, const hy_plan *p, double *corrupt_diff) {
    const int P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1, U = r->n_units;
    unsigned char stored[8][CTX], cur[8][CTX];
    int sel_step[8];
    for (int u = 0; u < U; u++)
        sel_step[u] = -1000;
    double worst = 0, worst_bad = 0, ref[64 * 8];
    for (int s = 0; s < STEPS; s++) {
        const int n = PROMPT + s + 1, units = (n + P - 1) / P;
        const int sink_u = (p->sink + P - 1) / P,
                  win_u = (n - p->window > 0 ? n - p->window : 0) / P;
        for (int phase = 0; phase < 2; phase++)
            for (int u = 0; u < U; u++) {
                const hy_plan_unit *pu = &p->units[u];
                if ((pu->mode == HY_MODE_REUSE) != phase) continue;
                unsigned char take[CTX] = {0};
                int dense = pu->mode == HY_MODE_DENSE;
                if (hy_mode_publishes(pu->mode)) {
                    if (s - sel_step[u] >= pu->refresh) {
                        double sc[CTX] = {0};
                        const float *ps = r->psum + ((size_t)u * STEPS + s) * CTX;
                        const float *q = r->q + ((size_t)u * STEPS + s) * r->g * r->hd;
                        float sk[CTX];
                        if (pu->mode == HY_MODE_SKETCH8 || pu->mode == HY_MODE_SKETCH4) {
                            /* the sketch's probabilities (kernels/sketch.h's reference) */
                            int8_t kq[CTX * 64];
                            float ks[CTX];
                            hy_sketch_quantize(kq, ks, r->k[u], n, r->hd,
                                               pu->mode == HY_MODE_SKETCH8 ? 8 : 4);
                            hy_sketch_scores(sk, q, r->g, kq, ks, n, r->hd,
                                             1.0f / sqrtf((float)r->hd));
                            ps = sk;
                        }
                        for (int t = 0; t < units; t++) {
                            if (pu->mode != HY_MODE_BOUNDS) { /* page max of the summed probs */
                                sc[t] = -INFINITY;
                                for (int j = t * P; j < (t + 1) * P && j < n; j++)
                                    sc[t] = fmax(sc[t], ps[j]);
                                continue;
                            }
                            for (int h = 0; h < r->g; h++)
                                for (int i = 0; i < r->hd; i++) {
                                    double lo = INFINITY, hi = -INFINITY;
                                    for (int j = t * P; j < (t + 1) * P && j < n; j++) {
                                        lo = fmin(lo, r->k[u][j * r->hd + i]);
                                        hi = fmax(hi, r->k[u][j * r->hd + i]);
                                    }
                                    const double qq = q[h * r->hd + i];
                                    sc[t] += fmax(qq * lo, qq * hi);
                                }
                        }
                        ref_topk(sc, units, sink_u < units ? sink_u : units,
                                 p->window > 0 ? win_u : units, (p->k + P - 1) / P, stored[u]);
                        sel_step[u] = s;
                        dense = pu->mode == HY_MODE_SELECT; /* the others attend to the set */
                    }
                    memcpy(take, stored[u], sizeof take);
                } else if (pu->mode == HY_MODE_REUSE) {
                    memcpy(take, cur[pu->src], sizeof take);
                }
                for (int t = 0; t < units; t++) /* sink and the current window always */
                    if (t < sink_u || (p->window > 0 && t >= win_u)) take[t] = 1;
                if (hy_mode_publishes(pu->mode))
                    memcpy(cur[u], take, sizeof take); /* what a reuse unit gets */
                if (dense)
                    for (int t = 0; t < units; t++)
                        take[t] = 1;
                ref_out(r, u, s, take, P, ref);
                const float *got = r->out + ((size_t)u * STEPS + s) * r->g * r->hd;
                worst = fmax(worst, max_rel_diff(got, ref, r->g * r->hd));
                if (!dense) { /* drop the first non-sink unit of the set: must show up */
                    for (int t = sink_u; t < units; t++)
                        if (take[t]) {
                            take[t] = 0;
                            break;
                        }
                    ref_out(r, u, s, take, P, ref);
                    worst_bad = fmax(worst_bad, max_rel_diff(got, ref, r->g * r->hd));
                }
            }
    }
    *corrupt_diff = worst_bad;
    return worst;
}

static void check_against_reference(hy_model *m, const hy_plan *p, const char *what) {
    const hy_model_info *mi = hy_model_info_borrow(m);
    record r = {.n_units = mi->n_layers * mi->n_kv_heads,
                .g = mi->n_heads / mi->n_kv_heads,
                .hd = mi->head_dim};
    const size_t gd = (size_t)r.g * r.hd;
    r.out = calloc((size_t)r.n_units * STEPS * gd, sizeof(float));
    r.q = calloc((size_t)r.n_units * STEPS * gd, sizeof(float));
    r.psum = calloc((size_t)r.n_units * STEPS * CTX, sizeof(float));
    hy_observer ob = {observe, &r, PROMPT, PROMPT + STEPS};
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, CTX, 1, &c));
    HY_OK_OR_FAIL(hy_ctx_set_plan(c, 0, p));
    HY_OK_OR_FAIL(hy_ctx_set_observer(c, &ob));
    int32_t *tok = rt_tokens(PROMPT + STEPS, mi->n_vocab, 5u);
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, PROMPT, NULL, 0));
    for (int t = 0; t < STEPS; t++)
        HY_OK_OR_FAIL(hy_forward(c, 0, tok + PROMPT + t, 1, NULL, 0));
    hy_attn_counters ac;
    HY_OK_OR_FAIL(hy_ctx_attn_counters(c, 0, &ac));
    HY_CHECK_EQ_INT(ac.steps, STEPS);
    HY_CHECK(ac.kv_tokens < ac.kv_tokens_dense);
    /* every unit counts its rows, dense ones included: the denominator is all units */
    double dense_rows = 0;
    for (int t = 0; t < STEPS; t++)
        dense_rows += (double)(PROMPT + t + 1) * r.n_units;
    HY_CHECK_NEAR(ac.kv_tokens_dense, dense_rows, 0.5);
    double bad = 0, e = replay(&r, p, &bad);
    if (!(e < 1e-4)) HY_FAILF("%s: unit outputs differ from the reference by %.3g", what, e);
    if (!(bad > 1e-3)) HY_FAILF("%s: a corrupted set changes the output by only %.3g", what, bad);
    free(tok), free(r.out), free(r.q), free(r.psum);
    hy_ctx_free(c);
}

HY_TEST(small_k_units_attend_to_exactly_their_sets) {
    tiny_cfg cfg;
    hy_model *m = load_tiny(3, &cfg);
    HY_REQUIRE(m);
    hy_plan *p = rt_new_plan(m, 5, 1, 3);
    rt_set_unit(p, 0, 0, HY_MODE_SELECT, 0, 0, 1);
    rt_set_unit(p, 0, 1, HY_MODE_SELECT, 0, 0, 3); /* temporal: own set for 2 steps of 3 */
    rt_set_unit(p, 1, 0, HY_MODE_SELECT, 0, 0, 1);
    rt_set_unit(p, 1, 1, HY_MODE_REUSE, 1, 0, 1); /* head reuse in the same layer */
    rt_set_unit(p, 2, 0, HY_MODE_REUSE, 0, 1, 1); /* reuse of a temporal source */
    rt_set_unit(p, 2, 1, HY_MODE_WINDOW, 0, 0, 1);
    check_against_reference(m, p, "token granularity");
    p->granularity = HY_GRAN_PAGE, p->page_size = 3, p->k = 7;
    rt_set_unit(p, 1, 0, HY_MODE_BOUNDS, 0, 0, 1);
    rt_set_unit(p, 2, 1, HY_MODE_BOUNDS, 0, 0, 2);
    check_against_reference(m, p, "pages of 3 with bounds units");
    rt_set_unit(p, 0, 0, HY_MODE_DENSE, 0, 0, 1); /* nobody reuses it */
    check_against_reference(m, p, "pages of 3 with a dense unit");
    hy_plan_free(p);
    hy_model_free(m);
}

/* The cheap selectors (score, sketch8, sketch4): sets from exact K-only scores or from the
 * key sketches, outputs sparse over the sets, reusable, refreshable, tokens and pages. */
HY_TEST(selector_units_attend_to_their_sets) {
    tiny_cfg cfg;
    hy_model *m = load_tiny(3, &cfg);
    HY_REQUIRE(m);
    hy_plan *p = rt_new_plan(m, 5, 1, 3);
    rt_set_unit(p, 0, 0, HY_MODE_SCORE, 0, 0, 1);
    rt_set_unit(p, 0, 1, HY_MODE_SKETCH8, 0, 0, 2);
    rt_set_unit(p, 1, 0, HY_MODE_SKETCH4, 0, 0, 1);
    rt_set_unit(p, 1, 1, HY_MODE_REUSE, 1, 0, 1); /* head reuse of a sketch unit */
    rt_set_unit(p, 2, 0, HY_MODE_REUSE, 0, 0, 1); /* layer reuse of a score unit */
    rt_set_unit(p, 2, 1, HY_MODE_REUSE, 0, 1, 1);
    check_against_reference(m, p, "selectors, tokens");
    p->granularity = HY_GRAN_PAGE, p->page_size = 3, p->k = 7;
    check_against_reference(m, p, "selectors, pages of 3");
    hy_plan_free(p);
    hy_model_free(m);
}

HY_TEST(qsim_refresh_reselects_only_on_query_drift) {
    tiny_cfg cfg;
    hy_model *m = load_tiny(2, &cfg);
    HY_REQUIRE(m);
    hy_plan *p = rt_new_plan(m, 4, 1, 2);
    for (int u = 0; u < 4; u++) {
        rt_set_unit(p, u / 2, u % 2, HY_MODE_SELECT, 0, 0, 0);
        p->units[u].qsim = -0.99f; /* random queries never drift that far: select once */
    }
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, CTX, 1, &c));
    HY_OK_OR_FAIL(hy_ctx_set_plan(c, 0, p));
    int32_t *tok = rt_tokens(PROMPT + STEPS, cfg.n_vocab, 9u);
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, PROMPT, NULL, 0));
    for (int t = 0; t < STEPS; t++)
        HY_OK_OR_FAIL(hy_forward(c, 0, tok + PROMPT + t, 1, NULL, 0));
    hy_attn_counters ac;
    HY_OK_OR_FAIL(hy_ctx_attn_counters(c, 0, &ac));
    HY_CHECK_EQ_INT(ac.refreshes, 4); /* the first step only */
    for (int u = 0; u < 4; u++)
        p->units[u].qsim = 1.0f; /* cosine < 1 always after a new token: every step */
    HY_OK_OR_FAIL(hy_ctx_set_plan(c, 0, p));
    hy_ctx_seq_reset(c, 0);
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, PROMPT, NULL, 0));
    for (int t = 0; t < STEPS; t++)
        HY_OK_OR_FAIL(hy_forward(c, 0, tok + PROMPT + t, 1, NULL, 0));
    HY_OK_OR_FAIL(hy_ctx_attn_counters(c, 0, &ac));
    HY_CHECK(ac.refreshes >= 4 * (STEPS - 1));
    free(tok);
    hy_plan_free(p);
    hy_ctx_free(c);
    hy_model_free(m);
}

HY_TEST(copied_sequence_decodes_like_its_source) {
    tiny_cfg cfg;
    hy_model *m = load_tiny(2, &cfg);
    HY_REQUIRE(m);
    const int V = cfg.n_vocab;
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, CTX, 3, &c));
    int32_t *tok = rt_tokens(PROMPT + 2, V, 3u);
    HY_OK_OR_FAIL(hy_forward(c, 0, tok, PROMPT, NULL, 0));
    HY_OK_OR_FAIL(hy_forward(c, 2, tok + 5, 9, NULL, 0)); /* overwritten by the copy */
    HY_OK_OR_FAIL(hy_ctx_seq_copy(c, 2, 0));
    HY_CHECK_EQ_INT(hy_ctx_seq_len(c, 2), PROMPT);
    float *a = malloc((size_t)2 * V * sizeof *a);
    int seqs[2] = {0, 2};
    int32_t next[2] = {tok[PROMPT], tok[PROMPT]};
    HY_OK_OR_FAIL(hy_forward_batch(c, seqs, next, 2, a));
    HY_CHECK(rt_err_ff(a, a + V, V) < 1e-6);
    HY_CHECK(hy_ctx_seq_copy(c, 3, 0) == HY_ERANGE);
    free(a), free(tok);
    hy_ctx_free(c);
    hy_model_free(m);
}

HY_TEST(plans_for_another_model_or_too_large_k_are_refused) {
    tiny_cfg cfg;
    hy_model *m = load_tiny(2, &cfg);
    HY_REQUIRE(m);
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, CTX, 1, &c));
    hy_plan *p = NULL;
    HY_OK_OR_FAIL(hy_plan_create(3, 4, 2, 8, &p)); /* one layer too many */
    p->k = 8;
    HY_CHECK(hy_ctx_set_plan(c, 0, p) == HY_EMISMATCH);
    HY_CHECK(strstr(hy_last_error(), "n_layers") != NULL);
    hy_plan_free(p);
    p = rt_new_plan(m, CTX + 1, 4, 8);
    HY_CHECK(hy_ctx_set_plan(c, 0, p) == HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "k 65") != NULL);
    p->k = 8;
    snprintf(p->model_sha256, sizeof p->model_sha256, "%064d", 7);
    HY_CHECK(hy_ctx_set_plan(c, 0, p) == HY_EMISMATCH);
    p->model_sha256[0] = 0;
    HY_OK_OR_FAIL(hy_ctx_set_plan(c, 0, p));
    HY_OK_OR_FAIL(hy_ctx_set_plan(c, 0, NULL));
    HY_CHECK(hy_ctx_set_plan(c, 1, p) == HY_ERANGE);
    hy_plan_free(p);
    hy_ctx_free(c);
    hy_model_free(m);
}

HY_TEST_MAIN()
