/* eval/report_read: reads a result back from its JSON (format "hylra-eval", version 1, as
 * report_json.c writes it), so that tables, pictures and the solver check can be redone from
 * a finished run (`hylra sweep --replot`) without hours of decoding. Plans are not restored
 * (methods keep their names, groups and predictions); generated outputs are not read. */
#include "hy_json_file.h"
#include "report_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number or null (NaN); anything else is an error naming the field. */
static hy_status get_num(const char *path, json_t *o, const char *key, const char *where,
                         double *v) {
    json_t *x = json_object_get(o, key);
    if (x && json_is_number(x)) {
        *v = json_number_value(x);
        return HY_OK;
    }
    if (x && json_is_null(x)) {
        *v = NAN;
        return HY_OK;
    }
    return hy_fail(HY_EFORMAT, "%s: %s.%s is %s, expected a number or null", path, where, key,
                   x ? "not a number" : "missing");
}

static hy_status get_str(const char *path, json_t *o, const char *key, const char *where, char *out,
                         size_t cap) {
    const char *s = json_string_value(json_object_get(o, key));
    if (!s) return hy_fail(HY_EFORMAT, "%s: %s.%s is missing or not a string", path, where, key);
    snprintf(out, cap, "%s", s);
    return HY_OK;
}

/* n numbers of array key in o into out (NaN for null). */
static hy_status get_array(const char *path, json_t *o, const char *key, const char *where,
                           int32_t n, double *out) {
    json_t *a = json_object_get(o, key);
    if (!json_is_array(a) || (int32_t)json_array_size(a) != n)
        return hy_fail(HY_EFORMAT, "%s: %s.%s has %zu entries, expected %d", path, where, key,
                       json_is_array(a) ? json_array_size(a) : (size_t)0, n);
    for (int32_t i = 0; i < n; i++) {
        json_t *x = json_array_get(a, (size_t)i);
        if (!json_is_number(x) && !json_is_null(x))
            return hy_fail(HY_EFORMAT, "%s: %s.%s[%d] is not a number", path, where, key, i);
        out[i] = json_is_number(x) ? json_number_value(x) : NAN;
    }
    return HY_OK;
}

static hy_status read_methods(const char *path, json_t *ms, hy_eval_result *r) {
    char where[64];
    hy_status st = HY_OK;
    for (int32_t m = 0; m < r->n_methods && !st; m++) {
        json_t *o = json_array_get(ms, (size_t)m);
        hy_eval_method *x = &r->methods[m];
        snprintf(where, sizeof where, "methods[%d]", m);
        *x = (hy_eval_method){0};
        st = get_str(path, o, "name", where, x->name, sizeof x->name);
        if (!st) st = get_str(path, o, "group", where, x->group, sizeof x->group);
        if (!st) st = get_num(path, o, "budget", where, &x->budget);
        if (!st) st = get_num(path, o, "pred_cost_frac", where, &x->pred_cost_frac);
        if (!st) st = get_num(path, o, "pred_loss", where, &x->pred_loss);
        if (!st) st = get_num(path, o, "kv_frac", where, &r->kv_frac[m]);
    }
    return st;
}

static hy_status read_task(const char *path, json_t *t, int32_t ti, hy_eval_result *r) {
    hy_eval_task_result *k = &r->tasks[ti];
    char where[96];
    snprintf(where, sizeof where, "tasks[%d]", ti);
    hy_status st = get_str(path, t, "task", where, k->task, sizeof k->task);
    json_t *n = json_object_get(t, "n"), *ms = json_object_get(t, "methods");
    if (!st &&
        (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > 1000000))
        st = hy_fail(HY_EFORMAT, "%s: %s.n is missing or outside 1..1000000", path, where);
    if (!st && (!json_is_array(ms) || (int32_t)json_array_size(ms) != r->n_methods))
        st = hy_fail(HY_EFORMAT, "%s: %s.methods has %zu entries, expected %d (the methods)", path,
                     where, json_is_array(ms) ? json_array_size(ms) : (size_t)0, r->n_methods);
    if (st) return st;
    k->n = (int32_t)json_integer_value(n);
    const size_t cells = (size_t)r->n_methods * (size_t)k->n;
    const int agree = hy_eval_task_kind(k->task) == HY_EVAL_KIND_AGREE;
    k->score = hy_malloc(cells * sizeof(double), "eval scores");
    if (agree) k->kl = hy_malloc(cells * sizeof(double), "eval KL");
    if (!k->score || (agree && !k->kl)) return HY_ENOMEM;
    for (int32_t m = 0; m < r->n_methods && !st; m++) {
        json_t *e = json_array_get(ms, (size_t)m);
        const char *name = json_string_value(json_object_get(e, "name"));
        snprintf(where, sizeof where, "tasks[%d].methods[%d]", ti, m);
        if (!name || strcmp(name, r->methods[m].name))
            st = hy_fail(HY_EFORMAT, "%s: %s.name is \"%s\", expected \"%s\" (method order)", path,
                         where, name ? name : "(missing)", r->methods[m].name);
        if (!st) st = get_array(path, e, "score", where, k->n, k->score + (size_t)m * k->n);
        if (!st && agree)
            st = get_array(path, e, "kl_samples", where, k->n, k->kl + (size_t)m * k->n);
    }
    return st;
}

hy_status hy_eval_read_json(const char *path, hy_eval_result **out) {
    if (!path || !out) return hy_fail(HY_EINVAL, "eval read: NULL argument");
    *out = NULL;
    json_t *root = NULL;
    hy_status st = hy_json_read_file(path, &root);
    if (st) return st;
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *ver = json_object_get(root, "version"), *op = json_object_get(root, "options");
    json_t *ms = json_object_get(root, "methods"), *ts = json_object_get(root, "tasks");
    if (!fmt || strcmp(fmt, "hylra-eval"))
        st = hy_fail(HY_EFORMAT, "%s: format is \"%s\", expected \"hylra-eval\"", path,
                     fmt ? fmt : "(missing)");
    else if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        st = hy_fail(HY_EUNSUPPORTED, "%s: version is %lld, expected 1", path,
                     json_is_integer(ver) ? (long long)json_integer_value(ver) : -1LL);
    else if (!json_is_object(op) || !json_is_integer(json_object_get(op, "ctx")))
        st = hy_fail(HY_EFORMAT, "%s: options.ctx is missing", path);
    else if (!json_is_array(ms) || json_array_size(ms) < 1 || json_array_size(ms) > 64)
        st = hy_fail(HY_EFORMAT, "%s: methods has %zu entries, expected 1..64", path,
                     json_is_array(ms) ? json_array_size(ms) : (size_t)0);
    else if (!json_is_array(ts) || json_array_size(ts) < 1 ||
             json_array_size(ts) > HY_EVAL_MAX_TASKS)
        st = hy_fail(HY_EFORMAT, "%s: tasks has %zu entries, expected 1..%d", path,
                     json_is_array(ts) ? json_array_size(ts) : (size_t)0, HY_EVAL_MAX_TASKS);
    hy_eval_result *r = st ? NULL : hy_calloc(1, sizeof *r, "eval result");
    if (!st && !r) st = HY_ENOMEM;
    if (!st) {
        r->ctx = json_integer_value(json_object_get(op, "ctx"));
        r->seed = (uint64_t)json_integer_value(json_object_get(op, "seed"));
        const char *src = json_string_value(json_object_get(op, "text_source"));
        snprintf(r->text_source, sizeof r->text_source, "%s", src ? src : "");
        json_t *sec = json_object_get(op, "seconds");
        r->seconds = json_is_number(sec) ? json_number_value(sec) : NAN;
        r->n_methods = (int32_t)json_array_size(ms);
        r->methods = hy_calloc((size_t)r->n_methods, sizeof *r->methods, "eval methods");
        r->kv_frac = hy_calloc((size_t)r->n_methods, sizeof(double), "eval kv fractions");
        r->tasks = hy_calloc(json_array_size(ts), sizeof *r->tasks, "eval tasks");
        st = r->methods && r->kv_frac && r->tasks ? HY_OK : HY_ENOMEM;
    }
    if (!st) st = read_methods(path, ms, r);
    for (size_t t = 0; !st && t < json_array_size(ts); t++) {
        r->n_tasks = (int32_t)t + 1; /* what is allocated so far, for the free on error */
        st = read_task(path, json_array_get(ts, t), (int32_t)t, r);
    }
    json_decref(root);
    if (st) {
        hy_eval_result_free(r);
        return st;
    }
    *out = r;
    return HY_OK;
}
