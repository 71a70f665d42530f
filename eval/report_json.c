/* eval/report_json: the machine-readable result of `hylra eval` (format "hylra-eval",
 * version 1; schema in docs/eval.md `## Output`). It keeps the raw per-sample numbers next
 * to the summarised cells, so any other statistic can be recomputed without a rerun. */
#include "report_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HY_EVAL_FORMAT "hylra-eval"
#define HY_EVAL_VERSION 1

/* JSON has no NaN/inf: non-finite numbers are written as null. */
static json_t *num(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *ci_json(hy_ci c) {
    json_t *o = json_object();
    json_object_set_new(o, "mean", num(c.mean));
    json_object_set_new(o, "lo", num(c.lo));
    json_object_set_new(o, "hi", num(c.hi));
    json_object_set_new(o, "n", json_integer(c.n));
    return o;
}

static json_t *array(const double *x, int32_t n) {
    json_t *a = json_array();
    for (int32_t i = 0; i < n; i++)
        json_array_append_new(a, num(x[i]));
    return a;
}

/* Decoded text may hold invalid UTF-8 (a multi-byte character cut by the last token), which
 * JSON cannot carry: then every non-ASCII byte becomes '?'. */
static json_t *text_json(const char *s) {
    json_t *v = json_string(s);
    if (v) return v;
    char *c = strdup(s);
    if (!c) return json_null();
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    v = json_string(c);
    free(c);
    return v ? v : json_null();
}

static json_t *plan_json(const hy_plan *p) {
    if (!p) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "solver", json_string(p->solver));
    json_object_set_new(o, "status", json_string(p->status));
    json_object_set_new(o, "gap", num(p->gap));
    json_object_set_new(o, "budget_kind", json_string(p->budget_kind));
    json_object_set_new(o, "budget_value", num(p->budget_value));
    json_object_set_new(o, "k", json_integer(p->k));
    json_object_set_new(o, "sink", json_integer(p->sink));
    json_object_set_new(o, "window", json_integer(p->window));
    json_object_set_new(o, "cost_s", num(p->cost_s));
    json_object_set_new(o, "dense_cost_s", num(p->dense_cost_s));
    json_object_set_new(o, "loss", num(p->loss));
    return o;
}

static json_t *method_json(const hy_eval_result *r, int32_t m) {
    const hy_eval_method *x = &r->methods[m];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(x->name));
    json_object_set_new(o, "group", json_string(x->group));
    json_object_set_new(o, "budget", num(x->budget));
    json_object_set_new(o, "pred_cost_frac", num(x->pred_cost_frac));
    json_object_set_new(o, "pred_loss", num(x->pred_loss));
    json_object_set_new(o, "kv_frac", num(r->kv_frac ? r->kv_frac[m] : NAN));
    json_object_set_new(o, "measured_loss", num(hy_eval_measured_loss(r, m)));
    json_object_set_new(o, "plan", plan_json(x->plan));
    return o;
}

static hy_status task_json(const hy_eval_result *r, int32_t t, json_t **out) {
    const hy_eval_task_result *k = &r->tasks[t];
    hy_eval_kind kind = hy_eval_task_kind(k->task);
    static const char *kinds[] = {"agree", "ppl", "generated"};
    json_t *o = json_object(), *ms = json_array();
    *out = o;
    json_object_set_new(o, "task", json_string(k->task));
    json_object_set_new(o, "kind", json_string(kinds[kind]));
    json_object_set_new(o, "n", json_integer(k->n));
    json_object_set_new(o, "methods", ms);
    for (int32_t m = 0; m < r->n_methods; m++) {
        hy_eval_cell c;
        hy_status st = hy_eval_cell_get(r, t, m, &c);
        if (st) return st;
        size_t off = (size_t)m * (size_t)k->n;
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(r->methods[m].name));
        json_object_set_new(e, "value", ci_json(c.value));
        json_object_set_new(e, "delta", ci_json(c.delta));
        if (c.kl.n > 0) json_object_set_new(e, "kl", ci_json(c.kl));
        json_object_set_new(e, "score", array(k->score + off, k->n));
        if (k->kl) json_object_set_new(e, "kl_samples", array(k->kl + off, k->n));
        if (k->output) {
            json_t *a = json_array();
            for (int32_t i = 0; i < k->n; i++) {
                const char *s = k->output[off + (size_t)i];
                json_array_append_new(a, s ? text_json(s) : json_null());
            }
            json_object_set_new(e, "outputs", a);
        }
        json_array_append_new(ms, e);
    }
    return HY_OK;
}

static hy_status build(const hy_eval_result *r, json_t *root) {
    json_object_set_new(root, "format", json_string(HY_EVAL_FORMAT));
    json_object_set_new(root, "version", json_integer(HY_EVAL_VERSION));
    json_t *op = json_object(), *bs = json_object(), *ms = json_array(), *ts = json_array();
    json_object_set_new(op, "ctx", json_integer(r->ctx));
    json_object_set_new(op, "seed", json_integer((json_int_t)r->seed));
    json_object_set_new(op, "text_source", json_string(r->text_source));
    json_object_set_new(op, "seconds", num(r->seconds));
    json_object_set_new(root, "options", op);
    json_object_set_new(bs, "method", json_string("percentile"));
    json_object_set_new(bs, "resamples", json_integer(HY_EVAL_REPORT_B));
    json_object_set_new(bs, "level", json_real(0.95));
    json_object_set_new(bs, "unit", json_string("sample"));
    json_object_set_new(root, "bootstrap", bs);
    json_object_set_new(root, "methods", ms);
    for (int32_t m = 0; m < r->n_methods; m++)
        json_array_append_new(ms, method_json(r, m));
    json_object_set_new(root, "tasks", ts);
    for (int32_t t = 0; t < r->n_tasks; t++) {
        json_t *o = NULL;
        hy_status st = task_json(r, t, &o);
        json_array_append_new(ts, o);
        if (st) return st;
    }
    int32_t n = 0;
    double rho = hy_eval_spearman(r, &n);
    json_t *sp = json_object();
    json_object_set_new(sp, "rho", num(rho));
    json_object_set_new(sp, "n", json_integer(n));
    json_object_set_new(sp, "groups", json_string("dp,ilp"));
    json_object_set_new(root, "spearman", sp);
    return HY_OK;
}

hy_status hy_eval_write_json(const hy_eval_result *r, const char *path) {
    if (!r || !path) return hy_fail(HY_EINVAL, "eval json: result or path is NULL");
    if (r->n_methods <= 0 || !r->methods || (r->n_tasks > 0 && !r->tasks))
        return hy_fail(HY_EINVAL, "eval json: %d methods, %d tasks: nothing consistent to write",
                       (int)r->n_methods, (int)r->n_tasks);
    json_t *root = json_object();
    hy_status st = build(r, root);
    char *text =
        st ? NULL
           : json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (st) return hy_fail_ctx(st, "%s", path);
    if (!text) return hy_fail(HY_ENOMEM, "%s: JSON encoding failed", path);
    st = hy_write_text_atomic(path, text);
    free(text);
    return st;
}
