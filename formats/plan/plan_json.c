/* formats/plan: JSON reader and writer (jansson). Keys are written in a fixed order so
 * plans diff well; the reader checks every field's type and range, naming the key path,
 * then runs hy_plan_validate. Version 3 is written; older files are read as long as they use
 * only their version's modes (1: dense, select, reuse; 2: + window, bounds; 3: + score,
 * sketch8, sketch4). */
#include "hy_json_file.h"
#include "hy_plan.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- writer ---------- */

static json_t *unit_json(const hy_plan *p, int32_t u) {
    const hy_plan_unit *x = &p->units[u];
    int32_t H = p->n_kv_heads;
    json_t *o = json_object();
    json_object_set_new(o, "layer", json_integer(u / H));
    json_object_set_new(o, "head", json_integer(u % H));
    json_object_set_new(o, "mode", json_string(hy_unit_mode_name(x->mode)));
    if (hy_mode_publishes(x->mode)) {
        if (x->refresh >= 1) {
            json_object_set_new(o, "refresh", json_integer(x->refresh));
        } else {
            char buf[48];
            snprintf(buf, sizeof buf, "qsim:%.9g", (double)x->qsim);
            json_object_set_new(o, "refresh", json_string(buf));
        }
    } else if (x->mode == HY_MODE_REUSE) {
        json_t *s = json_object();
        json_object_set_new(s, "layer", json_integer(x->src / H));
        json_object_set_new(s, "head", json_integer(x->src % H));
        json_object_set_new(o, "src", s);
    }
    return o;
}

/* JSON has no NaN/inf: non-finite numbers are written as null. */
static json_t *num(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *plan_json(const hy_plan *p) {
    json_t *root = json_object(), *m = json_object(), *units = json_array();
    json_object_set_new(root, "format", json_string(HY_PLAN_FORMAT));
    json_object_set_new(root, "version", json_integer(HY_PLAN_VERSION));
    json_object_set_new(m, "name", json_string(p->model_name));
    json_object_set_new(m, "sha256", json_string(p->model_sha256));
    json_object_set_new(m, "n_layers", json_integer(p->n_layers));
    json_object_set_new(m, "n_heads", json_integer(p->n_heads));
    json_object_set_new(m, "n_kv_heads", json_integer(p->n_kv_heads));
    json_object_set_new(m, "head_dim", json_integer(p->head_dim));
    if (p->model_ctx_train > 0)
        json_object_set_new(m, "ctx_train", json_integer(p->model_ctx_train));
    json_object_set_new(root, "model", m);
    json_object_set_new(root, "profile_sha256", json_string(p->profile_sha256));
    json_object_set_new(root, "k", json_integer(p->k));
    json_object_set_new(root, "sink", json_integer(p->sink));
    json_object_set_new(root, "window", json_integer(p->window));
    json_object_set_new(root, "context", json_integer(p->context));
    json_object_set_new(root, "granularity",
                        json_string(p->granularity == HY_GRAN_PAGE ? "page" : "token"));
    if (p->granularity == HY_GRAN_PAGE)
        json_object_set_new(root, "page_size", json_integer(p->page_size));
    json_t *b = json_object();
    json_object_set_new(b, "kind", json_string(p->budget_kind));
    json_object_set_new(b, "value", num(p->budget_value));
    json_object_set_new(b, "seconds", num(p->budget_seconds));
    json_object_set_new(root, "budget", b);
    json_t *s = json_object();
    json_object_set_new(s, "method", json_string(p->solver));
    json_object_set_new(s, "loss", json_string(p->loss_kind));
    json_object_set_new(s, "status", json_string(p->status));
    json_object_set_new(s, "gap", num(p->gap));
    json_object_set_new(s, "seconds", num(p->solve_seconds));
    json_object_set_new(root, "solver", s);
    json_t *pr = json_object();
    json_object_set_new(pr, "cost_s", num(p->cost_s));
    json_object_set_new(pr, "dense_cost_s", num(p->dense_cost_s));
    json_object_set_new(pr, "speedup", num(p->cost_s > 0 ? p->dense_cost_s / p->cost_s : NAN));
    json_object_set_new(pr, "loss", num(p->loss));
    json_object_set_new(root, "predicted", pr);
    for (int32_t u = 0; u < hy_plan_n_units(p); u++)
        json_array_append_new(units, unit_json(p, u));
    json_object_set_new(root, "units", units);
    return root;
}

hy_status hy_plan_to_json(const hy_plan *p, char **json) {
    hy_status st = hy_plan_validate(p);
    if (st) return hy_fail_ctx(st, "refusing to write an invalid plan");
    json_t *root = plan_json(p);
    *json = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    return *json ? HY_OK : hy_fail(HY_ENOMEM, "plan: JSON encoding failed");
}

hy_status hy_plan_write(const hy_plan *p, const char *path) {
    char *text = NULL;
    hy_status st = hy_plan_to_json(p, &text);
    if (st) return st;
    st = hy_write_text_atomic(path, text);
    free(text);
    return st;
}

/* ---------- reader ---------- */

typedef struct {
    const char *name;
    int32_t version; /* of the file being read: v1 files may not use the v2 modes */
} rd;

static hy_status get_int(const rd *r, json_t *o, const char *ctx, const char *key, int required,
                         int64_t lo, int64_t hi, int32_t *out) {
    json_t *v = json_object_get(o, key);
    if (!v)
        return required
                   ? hy_fail(HY_EFORMAT, "%s: %s%s missing, expected an integer", r->name, ctx, key)
                   : HY_OK;
    if (!json_is_integer(v))
        return hy_fail(HY_EFORMAT, "%s: %s%s is not an integer", r->name, ctx, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return hy_fail(HY_ERANGE, "%s: %s%s is %lld, expected %lld..%lld", r->name, ctx, key,
                       (long long)x, (long long)lo, (long long)hi);
    *out = (int32_t)x;
    return HY_OK;
}

static hy_status get_str(const rd *r, json_t *o, const char *ctx, const char *key, int required,
                         char *out, size_t cap) {
    json_t *v = json_object_get(o, key);
    if (!v)
        return required
                   ? hy_fail(HY_EFORMAT, "%s: %s%s missing, expected a string", r->name, ctx, key)
                   : HY_OK;
    if (!json_is_string(v))
        return hy_fail(HY_EFORMAT, "%s: %s%s is not a string", r->name, ctx, key);
    if (json_string_length(v) >= cap)
        return hy_fail(HY_EFORMAT, "%s: %s%s is %zu bytes long, expected < %zu", r->name, ctx, key,
                       json_string_length(v), cap);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return HY_OK;
}

/* Optional number: null or absent leaves NaN. */
static hy_status get_num(const rd *r, json_t *o, const char *ctx, const char *key, double *out) {
    *out = NAN;
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (!v || json_is_null(v)) return HY_OK;
    if (!json_is_number(v))
        return hy_fail(HY_EFORMAT, "%s: %s%s is not a number", r->name, ctx, key);
    *out = json_number_value(v);
    return HY_OK;
}

static hy_status read_src(const rd *r, const hy_plan *p, json_t *u, int32_t i, int32_t *src) {
    char ctx[64];
    snprintf(ctx, sizeof ctx, "units[%d].src.", i);
    json_t *s = json_object_get(u, "src");
    if (!json_is_object(s))
        return hy_fail(HY_EFORMAT,
                       "%s: units[%d].src missing or not an object, expected "
                       "{\"layer\", \"head\"} for mode reuse",
                       r->name, i);
    int32_t l = 0, h = 0;
    hy_status st = get_int(r, s, ctx, "layer", 1, 0, p->n_layers - 1, &l);
    if (!st) st = get_int(r, s, ctx, "head", 1, 0, p->n_kv_heads - 1, &h);
    *src = l * p->n_kv_heads + h;
    return st;
}

static hy_status read_refresh(const rd *r, json_t *u, int32_t i, hy_plan_unit *x) {
    json_t *v = json_object_get(u, "refresh");
    if (!v) return HY_OK;
    if (json_is_integer(v)) {
        json_int_t s = json_integer_value(v);
        if (s < 1 || s > 1000000)
            return hy_fail(HY_ERANGE, "%s: units[%d].refresh is %lld, expected 1..1000000", r->name,
                           i, (long long)s);
        x->refresh = (int32_t)s;
        return HY_OK;
    }
    const char *t = json_is_string(v) ? json_string_value(v) : NULL;
    char *end = NULL;
    double q = t && !strncmp(t, "qsim:", 5) ? strtod(t + 5, &end) : NAN;
    if (!t || !end || end == t + 5 || *end || !(q > -1.0 && q <= 1.0))
        return hy_fail(HY_EFORMAT,
                       "%s: units[%d].refresh is %s%s%s, expected an integer >= 1 or "
                       "\"qsim:<t>\" with t in (-1, 1]",
                       r->name, i, t ? "\"" : "", t ? t : "not a string", t ? "\"" : "");
    x->refresh = 0;
    x->qsim = (float)q;
    return HY_OK;
}

#define MODE_NAMES "dense|select|reuse|window|bounds|score|sketch8|sketch4"

/* The hy_unit_mode spelled name, or -1. */
static int mode_from_name(const char *name) {
    for (int m = 0; m < HY_MODE_COUNT; m++)
        if (!strcmp(name, hy_unit_mode_name((hy_unit_mode)m))) return m;
    return -1;
}

static hy_status read_units(const rd *r, hy_plan *p, json_t *units) {
    if (!json_is_array(units))
        return hy_fail(HY_EFORMAT, "%s: units missing or not an array", r->name);
    if ((int64_t)json_array_size(units) != hy_plan_n_units(p))
        return hy_fail(HY_EMISMATCH,
                       "%s: units has %zu entries, expected n_layers*n_kv_heads = %d "
                       "(shape mismatch)",
                       r->name, json_array_size(units), hy_plan_n_units(p));
    for (int32_t i = 0; i < hy_plan_n_units(p); i++) {
        json_t *u = json_array_get(units, (size_t)i);
        char ctx[48], mode[16];
        snprintf(ctx, sizeof ctx, "units[%d].", i);
        if (!json_is_object(u))
            return hy_fail(HY_EFORMAT, "%s: units[%d] is not an object", r->name, i);
        int32_t l = -1, h = -1;
        hy_status st = get_int(r, u, ctx, "layer", 1, 0, INT32_MAX, &l);
        if (!st) st = get_int(r, u, ctx, "head", 1, 0, INT32_MAX, &h);
        if (st) return st;
        if (l != i / p->n_kv_heads || h != i % p->n_kv_heads)
            return hy_fail(HY_EFORMAT,
                           "%s: units[%d] is layer %d head %d, expected layer %d head %d "
                           "(units in layer, head order)",
                           r->name, i, l, h, i / p->n_kv_heads, i % p->n_kv_heads);
        st = get_str(r, u, ctx, "mode", 1, mode, sizeof mode);
        if (st)
            return hy_fail(HY_EFORMAT,
                           "%s: units[%d].mode missing, not a string or unknown; "
                           "expected " MODE_NAMES,
                           r->name, i);
        hy_plan_unit *x = &p->units[i];
        int m = mode_from_name(mode);
        if (m < 0)
            return hy_fail(HY_EFORMAT, "%s: units[%d].mode is \"%s\", expected " MODE_NAMES,
                           r->name, i, mode);
        const int needs = m >= HY_MODE_SCORE                             ? 3
                          : (m == HY_MODE_WINDOW || m == HY_MODE_BOUNDS) ? 2
                                                                         : 1;
        if (r->version < needs)
            return hy_fail(HY_EFORMAT,
                           "%s: units[%d].mode \"%s\" needs plan version %d (the file says "
                           "version %d)",
                           r->name, i, mode, needs, r->version);
        x->mode = (hy_unit_mode)m;
        if (x->mode == HY_MODE_REUSE)
            st = read_src(r, p, u, i, &x->src);
        else if (hy_mode_publishes(x->mode))
            st = read_refresh(r, u, i, x);
        if (st) return st;
    }
    return HY_OK;
}

static hy_status read_root(rd *r, json_t *root, hy_plan **out) {
    char fmt[32] = "", gran[16] = "token";
    int32_t version = 0, L = 0, H = 0, Hkv = 0, D = 0;
    if (!json_is_object(root))
        return hy_fail(HY_EFORMAT, "%s: top level is not an object", r->name);
    hy_status st = get_str(r, root, "", "format", 1, fmt, sizeof fmt);
    if (!st && strcmp(fmt, HY_PLAN_FORMAT))
        st = hy_fail(HY_EUNSUPPORTED, "%s: format is \"%s\", expected \"%s\"", r->name, fmt,
                     HY_PLAN_FORMAT);
    if (!st) st = get_int(r, root, "", "version", 1, INT32_MIN, INT32_MAX, &version);
    if (!st && (version < 1 || version > HY_PLAN_VERSION))
        st = hy_fail(HY_EUNSUPPORTED, "%s: version is %d, expected 1..%d", r->name, version,
                     HY_PLAN_VERSION);
    r->version = version;
    json_t *m = json_object_get(root, "model");
    if (!st && !json_is_object(m))
        st = hy_fail(HY_EFORMAT, "%s: model missing or not an object", r->name);
    if (!st) st = get_int(r, m, "model.", "n_layers", 1, 1, 65536, &L);
    if (!st) st = get_int(r, m, "model.", "n_heads", 1, 1, 4096, &H);
    if (!st) st = get_int(r, m, "model.", "n_kv_heads", 1, 1, 4096, &Hkv);
    if (!st) st = get_int(r, m, "model.", "head_dim", 1, 1, 65536, &D);
    if (st) return st;
    hy_plan *p = NULL;
    st = hy_plan_create(L, H, Hkv, D, &p);
    if (st) return hy_fail_ctx(HY_EFORMAT, "%s", r->name);
    st = get_str(r, m, "model.", "name", 0, p->model_name, sizeof p->model_name);
    if (!st) st = get_str(r, m, "model.", "sha256", 0, p->model_sha256, sizeof p->model_sha256);
    if (!st) st = get_int(r, m, "model.", "ctx_train", 0, 0, INT32_MAX, &p->model_ctx_train);
    if (!st)
        st = get_str(r, root, "", "profile_sha256", 0, p->profile_sha256, sizeof p->profile_sha256);
    if (!st) st = get_int(r, root, "", "k", 1, INT32_MIN, INT32_MAX, &p->k);
    if (!st) st = get_int(r, root, "", "sink", 1, 0, INT32_MAX, &p->sink);
    if (!st) st = get_int(r, root, "", "window", 1, 0, INT32_MAX, &p->window);
    if (!st) st = get_int(r, root, "", "context", 0, 0, INT32_MAX, &p->context);
    if (!st) st = get_str(r, root, "", "granularity", 1, gran, sizeof gran);
    if (!st) {
        if (!strcmp(gran, "page"))
            p->granularity = HY_GRAN_PAGE;
        else if (strcmp(gran, "token"))
            st = hy_fail(HY_EFORMAT, "%s: granularity is \"%s\", expected token|page", r->name,
                         gran);
    }
    if (!st && p->granularity == HY_GRAN_PAGE)
        st = get_int(r, root, "", "page_size", 1, 1, 1 << 20, &p->page_size);
    json_t *b = json_object_get(root, "budget"), *s = json_object_get(root, "solver"),
           *pr = json_object_get(root, "predicted");
    if (!st && json_is_object(b)) {
        st = get_str(r, b, "budget.", "kind", 0, p->budget_kind, sizeof p->budget_kind);
        if (!st) st = get_num(r, b, "budget.", "value", &p->budget_value);
        if (!st) st = get_num(r, b, "budget.", "seconds", &p->budget_seconds);
    }
    if (!st && json_is_object(s)) {
        st = get_str(r, s, "solver.", "method", 0, p->solver, sizeof p->solver);
        if (!st) st = get_str(r, s, "solver.", "loss", 0, p->loss_kind, sizeof p->loss_kind);
        if (!st) st = get_str(r, s, "solver.", "status", 0, p->status, sizeof p->status);
        if (!st) st = get_num(r, s, "solver.", "gap", &p->gap);
        if (!st) st = get_num(r, s, "solver.", "seconds", &p->solve_seconds);
    }
    if (!st && json_is_object(pr)) {
        st = get_num(r, pr, "predicted.", "cost_s", &p->cost_s);
        if (!st) st = get_num(r, pr, "predicted.", "dense_cost_s", &p->dense_cost_s);
        if (!st) st = get_num(r, pr, "predicted.", "loss", &p->loss);
    }
    if (!st) st = read_units(r, p, json_object_get(root, "units"));
    if (!st) st = hy_plan_validate(p);
    if (st) {
        hy_plan_free(p);
        return st;
    }
    *out = p;
    return HY_OK;
}

/* The fields of a parsed plan; errors are prefixed with name. */
static hy_status plan_from_tree(json_t *root, const char *name, hy_plan **out) {
    rd r = {name, 0};
    hy_status st = read_root(&r, root, out);
    json_decref(root);
    if (st && strncmp(hy_last_error(), name, strlen(name))) hy_fail_ctx(st, "%s", name);
    return st;
}

hy_status hy_plan_from_json(const char *json, size_t len, const char *name, hy_plan **out) {
    *out = NULL;
    json_t *root = NULL;
    hy_status st = hy_json_parse(json, len, name, &root);
    return st ? st : plan_from_tree(root, name, out);
}

hy_status hy_plan_read(const char *path, hy_plan **out) {
    *out = NULL;
    json_t *root = NULL;
    hy_status st = hy_json_read_file(path, &root);
    return st ? st : plan_from_tree(root, path, out);
}
