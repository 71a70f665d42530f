/* GGUF metadata access: KVs by index (for listing) and the typed getters by key, which
 * convert between integer widths when the value fits and name the key, the type found and
 * the type expected when it does not. */
#include "gguf_internal.h"

#include <string.h>

/* ---- index-based access ---- */

int64_t hy_gguf_n_kv(const hy_gguf *g) {
    return g ? g->n_kv : 0;
}
int64_t hy_gguf_find_kv(const hy_gguf *g, const char *key) {
    return g && key ? gguf_find_kv_index(g, key) : -1;
}
static const gguf_kv *kv_at(const hy_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_kv ? &g->kv[i] : NULL;
}
hy_gguf_str hy_gguf_kv_key(const hy_gguf *g, int64_t i) {
    const gguf_kv *kv = kv_at(g, i);
    return kv ? kv->key : (hy_gguf_str){NULL, 0};
}
hy_gguf_vtype hy_gguf_kv_type(const hy_gguf *g, int64_t i) {
    const gguf_kv *kv = kv_at(g, i);
    return kv ? kv->type : (hy_gguf_vtype)-1;
}
hy_gguf_vtype hy_gguf_kv_arr_type(const hy_gguf *g, int64_t i) {
    const gguf_kv *kv = kv_at(g, i);
    return kv ? kv->arr_type : (hy_gguf_vtype)-1;
}
uint64_t hy_gguf_kv_arr_len(const hy_gguf *g, int64_t i) {
    const gguf_kv *kv = kv_at(g, i);
    return kv ? kv->n : 0;
}

/* ---- typed getters ---- */

/* NULL (with *st and the message set) when the handle, key or KV is missing. */
static const gguf_kv *lookup(const hy_gguf *g, const char *key, hy_status *st) {
    if (!g || !key) {
        *st = hy_fail(HY_EINVAL, "gguf getter: NULL handle or key");
        return NULL;
    }
    int64_t i = gguf_find_kv_index(g, key);
    if (i < 0) {
        *st = hy_fail(HY_ENOTFOUND, "%s: key '%s' not found", g->path, key);
        return NULL;
    }
    *st = HY_OK;
    return &g->kv[i];
}

static hy_status wrong_type(const hy_gguf *g, const char *key, const gguf_kv *kv,
                            const char *want) {
    return hy_fail(HY_EFORMAT, "%s: key '%s' at offset %zu has type %s, expected %s", g->path, key,
                   kv->offset, gguf_vtype_name(kv->type), want);
}

/* Any integer scalar as a signed/unsigned pair; returns 0 when the type is not integral. */
static int load_int(const gguf_kv *kv, int64_t *s, uint64_t *u, int *is_unsigned) {
    const uint8_t *p = kv->data;
    *is_unsigned = 0;
    switch (kv->type) {
    case HY_GGUF_U8:
    case HY_GGUF_BOOL:
        *u = p[0];
        *is_unsigned = 1;
        return 1;
    case HY_GGUF_U16:
        *u = gguf_ld16(p);
        *is_unsigned = 1;
        return 1;
    case HY_GGUF_U32:
        *u = gguf_ld32(p);
        *is_unsigned = 1;
        return 1;
    case HY_GGUF_U64:
        *u = gguf_ld64(p);
        *is_unsigned = 1;
        return 1;
    case HY_GGUF_I8:
        *s = (int8_t)p[0];
        return 1;
    case HY_GGUF_I16:
        *s = (int16_t)gguf_ld16(p);
        return 1;
    case HY_GGUF_I32:
        *s = (int32_t)gguf_ld32(p);
        return 1;
    case HY_GGUF_I64:
        *s = (int64_t)gguf_ld64(p);
        return 1;
    default:
        return 0;
    }
}

hy_status hy_gguf_get_u32(const hy_gguf *g, const char *key, uint32_t *out) {
    hy_status st;
    const gguf_kv *kv = lookup(g, key, &st);
    if (!kv) return st;
    int64_t s = 0;
    uint64_t u = 0;
    int is_u;
    if (!load_int(kv, &s, &u, &is_u)) return wrong_type(g, key, kv, "an integer fitting u32");
    if (is_u ? u > UINT32_MAX : (s < 0 || s > (int64_t)UINT32_MAX))
        return hy_fail(HY_EFORMAT, "%s: key '%s' at offset %zu: value %s%llu does not fit u32",
                       g->path, key, kv->offset, !is_u && s < 0 ? "-" : "",
                       is_u ? (unsigned long long)u
                            : (unsigned long long)(s < 0 ? -(uint64_t)s : (uint64_t)s));
    *out = is_u ? (uint32_t)u : (uint32_t)s;
    return HY_OK;
}

hy_status hy_gguf_get_i64(const hy_gguf *g, const char *key, int64_t *out) {
    hy_status st;
    const gguf_kv *kv = lookup(g, key, &st);
    if (!kv) return st;
    int64_t s = 0;
    uint64_t u = 0;
    int is_u;
    if (kv->type == HY_GGUF_BOOL || !load_int(kv, &s, &u, &is_u))
        return wrong_type(g, key, kv, "an integer type");
    if (is_u && u > (uint64_t)INT64_MAX)
        return hy_fail(HY_EFORMAT, "%s: key '%s' at offset %zu: value %llu does not fit i64",
                       g->path, key, kv->offset, (unsigned long long)u);
    *out = is_u ? (int64_t)u : s;
    return HY_OK;
}

hy_status hy_gguf_get_u64(const hy_gguf *g, const char *key, uint64_t *out) {
    hy_status st;
    const gguf_kv *kv = lookup(g, key, &st);
    if (!kv) return st;
    int64_t s = 0;
    uint64_t u = 0;
    int is_u;
    if (kv->type == HY_GGUF_BOOL || !load_int(kv, &s, &u, &is_u))
        return wrong_type(g, key, kv, "an integer type");
    if (!is_u && s < 0)
        return hy_fail(HY_EFORMAT, "%s: key '%s' at offset %zu: value %lld does not fit u64",
                       g->path, key, kv->offset, (long long)s);
    *out = is_u ? u : (uint64_t)s;
    return HY_OK;
}

hy_status hy_gguf_get_f64(const hy_gguf *g, const char *key, double *out) {
    hy_status st;
    const gguf_kv *kv = lookup(g, key, &st);
    if (!kv) return st;
    if (kv->type == HY_GGUF_F32) {
        uint32_t b = gguf_ld32(kv->data);
        float f;
        memcpy(&f, &b, 4);
        *out = f;
    } else if (kv->type == HY_GGUF_F64) {
        uint64_t b = gguf_ld64(kv->data);
        memcpy(out, &b, 8);
    } else {
        return wrong_type(g, key, kv, "f32 or f64");
    }
    return HY_OK;
}

hy_status hy_gguf_get_f32(const hy_gguf *g, const char *key, float *out) {
    double d = 0;
    hy_status st = hy_gguf_get_f64(g, key, &d);
    if (!st) *out = (float)d;
    return st;
}

hy_status hy_gguf_get_bool(const hy_gguf *g, const char *key, bool *out) {
    hy_status st;
    const gguf_kv *kv = lookup(g, key, &st);
    if (!kv) return st;
    if (kv->type != HY_GGUF_BOOL) return wrong_type(g, key, kv, "bool");
    *out = kv->data[0] != 0;
    return HY_OK;
}

hy_status hy_gguf_get_str(const hy_gguf *g, const char *key, hy_gguf_str *out) {
    hy_status st;
    const gguf_kv *kv = lookup(g, key, &st);
    if (!kv) return st;
    if (kv->type != HY_GGUF_STRING) return wrong_type(g, key, kv, "string");
    *out = kv->str;
    return HY_OK;
}

hy_status hy_gguf_get_arr(const hy_gguf *g, const char *key, hy_gguf_vtype *elem_type, uint64_t *n,
                          const void **data) {
    hy_status st;
    const gguf_kv *kv = lookup(g, key, &st);
    if (!kv) return st;
    if (kv->type != HY_GGUF_ARRAY) return wrong_type(g, key, kv, "array");
    if (elem_type) *elem_type = kv->arr_type;
    if (n) *n = kv->n;
    if (data) *data = kv->data;
    return HY_OK;
}

hy_status hy_gguf_get_arr_str(const hy_gguf *g, const char *key, uint64_t idx, hy_gguf_str *out) {
    hy_status st;
    const gguf_kv *kv = lookup(g, key, &st);
    if (!kv) return st;
    if (kv->type != HY_GGUF_ARRAY || kv->arr_type != HY_GGUF_STRING)
        return hy_fail(
            HY_EFORMAT, "%s: key '%s' at offset %zu has type %s of %s, expected array of string",
            g->path, key, kv->offset, gguf_vtype_name(kv->type), gguf_vtype_name(kv->arr_type));
    if (idx >= kv->n)
        return hy_fail(HY_ERANGE, "%s: key '%s': index %llu out of range (array length %llu)",
                       g->path, key, (unsigned long long)idx, (unsigned long long)kv->n);
    const uint8_t *p = g->base + kv->str_off[idx];
    out->len = gguf_ld64(p);
    out->ptr = (const char *)p + 8;
    return HY_OK;
}
