/* The eval engine on the real model at small sizes: a plan whose sets cover the whole context
 * agrees with dense on every step (KL ~ 0, same perplexity) while a narrow window does not;
 * the same seed gives the same numbers; bad methods and options are refused by name. */
#include "hy_eval.h"
#include "hy_gguf.h"
#include "hy_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hy_gguf *g;
    hy_tokenizer *tok;
    hy_model *m;
    char *text;
} env;

static int open_env(env *e) {
    memset(e, 0, sizeof *e);
    const char *tp = getenv("HY_EVALTEXT") ? getenv("HY_EVALTEXT") : ".cache/evaltext/devil.txt";
    FILE *f = fopen(tp, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s (scripts/fetch-evaltext)\n", tp);
        return 0;
    }
    e->text = calloc(1 << 20, 1);
    size_t n = fread(e->text, 1, (1 << 20) - 1, f);
    fclose(f);
    if (n < 100000) return 0;
    /* fp32 weights: a plan whose sets hold every token must equal dense exactly; int8
     * activations would turn last-bit differences in attention into rounding flips */
    const hy_model_opts f32 = {HY_WEIGHTS_F32};
    return hy_gguf_open(hy_test_model_path(), &e->g) == HY_OK &&
           hy_tokenizer_from_gguf(e->g, &e->tok) == HY_OK &&
           hy_model_load_opts(hy_test_model_path(), &f32, &e->m) == HY_OK;
}

static void close_env(env *e) {
    hy_model_free(e->m), hy_tokenizer_free(e->tok), hy_gguf_close(e->g), free(e->text);
}

static hy_plan *uniform_plan(const hy_model *m, hy_unit_mode mode, int k, int window) {
    const hy_model_info *mi = hy_model_info_borrow(m);
    hy_plan *p = NULL;
    if (hy_plan_create(mi->n_layers, mi->n_heads, mi->n_kv_heads, mi->head_dim, &p)) return NULL;
    p->k = k, p->sink = 4, p->window = window;
    for (int32_t u = 0; u < hy_plan_n_units(p); u++) {
        /* layer 0 selects, every later unit reuses the same head of layer 0 */
        const int l = u / mi->n_kv_heads, h = u % mi->n_kv_heads;
        p->units[u].mode = mode == HY_MODE_REUSE && l == 0 ? HY_MODE_SELECT : mode;
        p->units[u].src = mode == HY_MODE_REUSE && l > 0 ? h : -1;
    }
    return p;
}

static hy_eval_method method(const char *name, hy_plan *p) {
    hy_eval_method x = {.plan = p, .budget = NAN, .pred_cost_frac = NAN, .pred_loss = NAN};
    snprintf(x.name, sizeof x.name, "%s", name);
    snprintf(x.group, sizeof x.group, "%s", p ? "plan" : "dense");
    return x;
}

static void small_opts(hy_eval_opts *o, const char *text) {
    hy_eval_opts_default(o);
    o->ctx = 256, o->n_docs = 2, o->tf_tokens = 8, o->n_samples = 1, o->progress = false;
    o->text = text, o->text_source = "devil";
    o->n_tasks = 2;
    snprintf(o->tasks[0], sizeof o->tasks[0], "agree");
    snprintf(o->tasks[1], sizeof o->tasks[1], "ppl");
}

HY_TEST(full_sets_agree_with_dense_and_a_narrow_window_does_not) {
    env e;
    HY_REQUIRE(open_env(&e));
    hy_plan *full = uniform_plan(e.m, HY_MODE_REUSE, 256, 64),
            *win = uniform_plan(e.m, HY_MODE_WINDOW, 8, 8);
    hy_eval_method ms[3] = {method("dense", NULL), method("full", full), method("window8", win)};
    hy_eval_opts o;
    small_opts(&o, e.text);
    hy_eval_result *r = NULL, *again = NULL;
    HY_OK_OR_FAIL(hy_eval_run(e.m, e.tok, ms, 3, &o, &r));
    const hy_eval_task_result *ag = &r->tasks[0], *pp = &r->tasks[1];
    for (int d = 0; d < 2; d++) {
        HY_CHECK_NEAR(ag->score[0 * 2 + d], 1.0, 0);
        HY_CHECK_NEAR(ag->score[1 * 2 + d], 1.0, 0);
        HY_CHECK(ag->kl[1 * 2 + d] < 1e-6);
        HY_CHECK_NEAR(pp->score[1 * 2 + d], pp->score[d], 1e-4);
        HY_CHECK(ag->kl[2 * 2 + d] > 1e-3); /* 12 of 248+ tokens is not dense */
    }
    HY_CHECK(r->kv_frac[1] > 0.99);
    HY_CHECK(r->kv_frac[2] < 0.1);
    /* same seed, same numbers; another seed, other documents */
    HY_OK_OR_FAIL(hy_eval_run(e.m, e.tok, ms, 3, &o, &again));
    for (int i = 0; i < 6; i++)
        HY_CHECK(again->tasks[1].score[i] == pp->score[i]);
    hy_eval_result_free(again);
    o.seed = 7;
    HY_OK_OR_FAIL(hy_eval_run(e.m, e.tok, ms, 1, &o, &again));
    HY_CHECK(again->tasks[1].score[0] != pp->score[0]);
    hy_eval_result_free(again);
    hy_eval_result_free(r);
    hy_plan_free(full), hy_plan_free(win);
    close_env(&e);
}

HY_TEST(a_generated_task_runs_for_every_method) {
    env e;
    HY_REQUIRE(open_env(&e));
    hy_plan *full = uniform_plan(e.m, HY_MODE_REUSE, 512, 64);
    hy_eval_method ms[2] = {method("dense", NULL), method("full", full)};
    hy_eval_opts o;
    small_opts(&o, e.text);
    o.ctx = 512, o.n_tasks = 1;
    snprintf(o.tasks[0], sizeof o.tasks[0], "niah");
    hy_eval_result *r = NULL;
    HY_OK_OR_FAIL(hy_eval_run(e.m, e.tok, ms, 2, &o, &r));
    /* full sets decode exactly like dense: same text, same score */
    HY_REQUIRE(r->tasks[0].output[0] && r->tasks[0].output[1]);
    HY_CHECK(!strcmp(r->tasks[0].output[0], r->tasks[0].output[1]));
    HY_CHECK(r->tasks[0].score[0] == r->tasks[0].score[1]);
    hy_eval_result_free(r);
    hy_plan_free(full);
    close_env(&e);
}

HY_TEST(bad_methods_and_options_are_refused_by_name) {
    env e;
    HY_REQUIRE(open_env(&e));
    hy_plan *p = uniform_plan(e.m, HY_MODE_WINDOW, 8, 8);
    hy_eval_opts o;
    small_opts(&o, e.text);
    hy_eval_result *r = NULL;
    hy_eval_method first_not_dense[1] = {method("w", p)};
    HY_CHECK(hy_eval_run(e.m, e.tok, first_not_dense, 1, &o, &r) == HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "must be dense") != NULL);
    hy_eval_method ms[2] = {method("dense", NULL), method("w", p)};
    p->n_layers = 29; /* a plan for another shape */
    HY_CHECK(hy_eval_run(e.m, e.tok, ms, 2, &o, &r) == HY_EMISMATCH);
    HY_CHECK(strstr(hy_last_error(), "method w") != NULL);
    p->n_layers = 30;
    o.ctx = 9000;
    HY_CHECK(hy_eval_run(e.m, e.tok, ms, 2, &o, &r) == HY_ERANGE);
    o.ctx = 256;
    snprintf(o.tasks[1], sizeof o.tasks[1], "haystack");
    HY_CHECK(hy_eval_run(e.m, e.tok, ms, 2, &o, &r) == HY_EINVAL);
    snprintf(o.tasks[1], sizeof o.tasks[1], "ppl");
    o.n_docs = 1000; /* more documents than the text holds */
    HY_CHECK(hy_eval_run(e.m, e.tok, ms, 2, &o, &r) == HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "documents asked") != NULL);
    HY_CHECK(r == NULL);
    hy_plan_free(p);
    close_env(&e);
}

HY_TEST_MAIN()
