/* formats/costs: JSON reader and writer of the cost table (format agreed with the kernels
 * side, docs/costs-format.md). The reader refuses anything it would have to guess. */
#include "hy_costs.h"
#include "hy_json_file.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *op_names[HY_OP_COUNT] = {"dense", "select",  "reuse",   "topk",
                                            "score", "sketch8", "sketch4", "bounds"};

int hy_costs_has_op(const hy_costs *c, hy_cost_op op) {
    for (int32_t i = 0; c && i < c->n_entries; i++)
        if (c->entries[i].op == op) return 1;
    return 0;
}

const char *hy_cost_op_name(hy_cost_op op) {
    return op >= 0 && op < HY_OP_COUNT ? op_names[op] : "unknown";
}

hy_status hy_costs_create(int32_t n_entries, hy_costs **out) {
    *out = NULL;
    if (n_entries < 0 || n_entries > 1000000)
        return hy_fail(HY_EINVAL, "costs: %d entries, expected 0..1000000", n_entries);
    hy_costs *c = hy_calloc(1, sizeof *c, "cost table");
    if (!c) return HY_ENOMEM;
    c->entries = hy_calloc((size_t)n_entries, sizeof *c->entries, "cost entries");
    if (!c->entries) {
        free(c);
        return HY_ENOMEM;
    }
    c->n_entries = n_entries;
    c->copy_bandwidth_GBps = NAN;
    snprintf(c->dtype, sizeof c->dtype, "bf16");
    *out = c;
    return HY_OK;
}

void hy_costs_free(hy_costs *c) {
    if (!c) return;
    free(c->entries);
    free(c);
}

/* ---------- writer ---------- */

hy_status hy_costs_to_json(const hy_costs *c, char **json) {
    json_t *r = json_object(), *e = json_array(), *fx = json_object();
    json_object_set_new(r, "format", json_string(HY_COSTS_FORMAT));
    json_object_set_new(r, "version", json_integer(HY_COSTS_VERSION));
    json_object_set_new(r, "device", json_string(c->device));
    json_object_set_new(r, "created", json_string(c->created));
    json_object_set_new(r, "tool", json_string(c->tool));
    json_object_set_new(r, "copy_bandwidth_GBps",
                        isfinite(c->copy_bandwidth_GBps) ? json_real(c->copy_bandwidth_GBps)
                                                         : json_null());
    json_object_set_new(r, "dtype", json_string(c->dtype));
    json_object_set_new(r, "head_dim", json_integer(c->head_dim));
    json_object_set_new(r, "n_heads", json_integer(c->n_heads));
    json_object_set_new(r, "n_kv_heads", json_integer(c->n_kv_heads));
    json_object_set_new(r, "page_size", json_integer(c->page_size));
    for (int32_t i = 0; i < c->n_entries; i++) {
        const hy_cost_entry *x = &c->entries[i];
        json_t *o = json_object();
        json_object_set_new(o, "op", json_string(hy_cost_op_name(x->op)));
        json_object_set_new(o, "batch", json_integer(x->batch));
        json_object_set_new(o, "n", json_integer(x->n));
        json_object_set_new(o, "k", json_integer(x->k));
        json_object_set_new(o, "seconds", json_real(x->seconds));
        json_array_append_new(e, o);
    }
    json_object_set_new(r, "entries", e);
    json_object_set_new(fx, "launch_overhead_s", json_real(c->launch_overhead_s));
    json_object_set_new(fx, "per_layer_other_s", json_real(c->per_layer_other_s));
    json_object_set_new(r, "fixed", fx);
    *json = json_dumps(r, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(r);
    return *json ? HY_OK : hy_fail(HY_ENOMEM, "costs: JSON encoding failed");
}

hy_status hy_costs_write(const hy_costs *c, const char *path) {
    char *text = NULL;
    hy_status st = hy_costs_to_json(c, &text);
    if (st) return st;
    st = hy_write_text_atomic(path, text);
    free(text);
    return st;
}

/* ---------- reader ---------- */

static hy_status get_str(const char *name, json_t *o, const char *key, int req, char *out,
                         size_t cap) {
    json_t *v = json_object_get(o, key);
    if (!v)
        return req ? hy_fail(HY_EFORMAT, "%s: %s missing, expected a string", name, key) : HY_OK;
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return hy_fail(HY_EFORMAT, "%s: %s is not a string of < %zu bytes", name, key, cap);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return HY_OK;
}

static hy_status get_i64(const char *name, const char *ctx, json_t *o, const char *key, int req,
                         int64_t lo, int64_t hi, int64_t *out) {
    json_t *v = json_object_get(o, key);
    if (!v)
        return req ? hy_fail(HY_EFORMAT, "%s: %s%s missing, expected an integer", name, ctx, key)
                   : HY_OK;
    if (!json_is_integer(v))
        return hy_fail(HY_EFORMAT, "%s: %s%s is not an integer", name, ctx, key);
    int64_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return hy_fail(HY_ERANGE, "%s: %s%s is %lld, expected %lld..%lld", name, ctx, key,
                       (long long)x, (long long)lo, (long long)hi);
    *out = x;
    return HY_OK;
}

static hy_status get_f64(const char *name, const char *ctx, json_t *o, const char *key, int req,
                         double lo, double *out) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return req ? hy_fail(HY_EFORMAT, "%s: %s%s missing, expected a number", name, ctx, key)
                   : HY_OK;
    if (!json_is_number(v)) return hy_fail(HY_EFORMAT, "%s: %s%s is not a number", name, ctx, key);
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo)
        return hy_fail(HY_ERANGE, "%s: %s%s is %g, expected a finite number >= %g", name, ctx, key,
                       x, lo);
    *out = x;
    return HY_OK;
}

static hy_status read_entry(const char *name, json_t *o, int32_t i, hy_cost_entry *e) {
    char ctx[48], op[16];
    snprintf(ctx, sizeof ctx, "entries[%d].", i);
    if (!json_is_object(o)) return hy_fail(HY_EFORMAT, "%s: entries[%d] is not an object", name, i);
    json_t *v = json_object_get(o, "op");
    if (!json_is_string(v) || json_string_length(v) >= sizeof op)
        return hy_fail(HY_EFORMAT, "%s: entries[%d].op missing or not a short string", name, i);
    memcpy(op, json_string_value(v), json_string_length(v) + 1);
    e->op = HY_OP_COUNT;
    for (int j = 0; j < HY_OP_COUNT; j++)
        if (!strcmp(op, op_names[j])) e->op = (hy_cost_op)j;
    if (e->op == HY_OP_COUNT)
        return hy_fail(HY_EFORMAT,
                       "%s: entries[%d].op is \"%s\", expected "
                       "dense|select|reuse|topk|score|sketch8|sketch4|bounds",
                       name, i, op);
    int64_t b = 0;
    hy_status st = get_i64(name, ctx, o, "batch", 1, 1, 1 << 20, &b);
    if (!st) st = get_i64(name, ctx, o, "n", 1, 1, INT64_C(1) << 40, &e->n);
    if (!st) st = get_i64(name, ctx, o, "k", 1, 0, INT64_C(1) << 40, &e->k);
    if (!st) st = get_f64(name, ctx, o, "seconds", 1, 0.0, &e->seconds);
    if (!st && e->seconds <= 0)
        st = hy_fail(HY_ERANGE, "%s: entries[%d].seconds is %g, expected > 0", name, i, e->seconds);
    if (!st && e->k > e->n)
        st = hy_fail(HY_ERANGE, "%s: entries[%d].k %lld is larger than n %lld", name, i,
                     (long long)e->k, (long long)e->n);
    e->batch = (int32_t)b;
    return st;
}

static hy_status read_root(const char *name, json_t *r, hy_costs **out) {
    char fmt[32];
    int64_t ver = 0, hd = 0, nh = 0, nkv = 0, ps = 0;
    if (!json_is_object(r)) return hy_fail(HY_EFORMAT, "%s: top level is not an object", name);
    hy_status st = get_str(name, r, "format", 1, fmt, sizeof fmt);
    if (!st && strcmp(fmt, HY_COSTS_FORMAT))
        st = hy_fail(HY_EUNSUPPORTED, "%s: format is \"%s\", expected \"%s\"", name, fmt,
                     HY_COSTS_FORMAT);
    if (!st) st = get_i64(name, "", r, "version", 1, INT32_MIN, INT32_MAX, &ver);
    if (!st && ver != HY_COSTS_VERSION)
        st = hy_fail(HY_EUNSUPPORTED, "%s: version is %lld, expected %d", name, (long long)ver,
                     HY_COSTS_VERSION);
    json_t *e = json_object_get(r, "entries");
    if (!st && (!json_is_array(e) || json_array_size(e) == 0))
        st = hy_fail(HY_EFORMAT, "%s: entries missing or empty, expected an array of measurements",
                     name);
    if (st) return st;
    hy_costs *c = NULL;
    st = hy_costs_create((int32_t)json_array_size(e), &c);
    if (st) return st;
    if (!st) st = get_str(name, r, "device", 1, c->device, sizeof c->device);
    if (!st) st = get_str(name, r, "created", 0, c->created, sizeof c->created);
    if (!st) st = get_str(name, r, "tool", 0, c->tool, sizeof c->tool);
    if (!st) st = get_str(name, r, "dtype", 0, c->dtype, sizeof c->dtype);
    if (!st) st = get_f64(name, "", r, "copy_bandwidth_GBps", 0, 0.0, &c->copy_bandwidth_GBps);
    if (!st) st = get_i64(name, "", r, "head_dim", 0, 0, 65536, &hd);
    if (!st) st = get_i64(name, "", r, "n_heads", 0, 0, 65536, &nh);
    if (!st) st = get_i64(name, "", r, "n_kv_heads", 0, 0, 65536, &nkv);
    if (!st) st = get_i64(name, "", r, "page_size", 0, 0, 1 << 20, &ps);
    c->head_dim = (int32_t)hd, c->n_heads = (int32_t)nh, c->n_kv_heads = (int32_t)nkv;
    c->page_size = (int32_t)ps;
    json_t *fx = json_object_get(r, "fixed");
    if (!st && fx && !json_is_object(fx))
        st = hy_fail(HY_EFORMAT, "%s: fixed is not an object", name);
    if (!st && fx)
        st = get_f64(name, "fixed.", fx, "launch_overhead_s", 0, 0.0, &c->launch_overhead_s);
    if (!st && fx)
        st = get_f64(name, "fixed.", fx, "per_layer_other_s", 0, 0.0, &c->per_layer_other_s);
    for (int32_t i = 0; !st && i < c->n_entries; i++) {
        st = read_entry(name, json_array_get(e, (size_t)i), i, &c->entries[i]);
        for (int32_t j = 0; !st && j < i; j++) {
            const hy_cost_entry *a = &c->entries[i], *b = &c->entries[j];
            if (a->op == b->op && a->batch == b->batch && a->n == b->n && a->k == b->k)
                st = hy_fail(HY_EFORMAT,
                             "%s: entries[%d] repeats entries[%d] (op %s batch %d n %lld k %lld)",
                             name, i, j, hy_cost_op_name(a->op), a->batch, (long long)a->n,
                             (long long)a->k);
        }
    }
    if (st) {
        hy_costs_free(c);
        return st;
    }
    *out = c;
    return HY_OK;
}

hy_status hy_costs_from_json(const char *json, size_t len, const char *name, hy_costs **out) {
    *out = NULL;
    json_t *r = NULL;
    hy_status st = hy_json_parse(json, len, name, &r);
    if (st) return st;
    st = read_root(name, r, out);
    json_decref(r);
    return st;
}

hy_status hy_costs_read(const char *path, hy_costs **out) {
    *out = NULL;
    json_t *r = NULL;
    hy_status st = hy_json_read_file(path, &r);
    if (st) return st;
    st = read_root(path, r, out);
    json_decref(r);
    return st;
}
