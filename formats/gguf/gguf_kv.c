/* GGUF metadata parsing: every typed KV (scalars, strings, arrays of either; nested arrays
 * refused), string arrays indexed so element lookup is O(1), duplicate keys rejected,
 * general.alignment read. Values stay in the mapping; the getters are in gguf_get.c. */
#include "gguf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t gguf_vtype_size(uint32_t t) {
    switch (t) {
    case HY_GGUF_U8:
    case HY_GGUF_I8:
    case HY_GGUF_BOOL:
        return 1;
    case HY_GGUF_U16:
    case HY_GGUF_I16:
        return 2;
    case HY_GGUF_U32:
    case HY_GGUF_I32:
    case HY_GGUF_F32:
        return 4;
    case HY_GGUF_U64:
    case HY_GGUF_I64:
    case HY_GGUF_F64:
        return 8;
    default:
        return 0;
    }
}

const char *gguf_vtype_name(uint32_t t) {
    static const char *names[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                  "bool", "string", "array", "u64", "i64", "f64"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* Reads one value of type t at the cursor. Arrays recurse once: elements may be scalars or
 * strings, never arrays. */
static hy_status parse_value(hy_gguf *g, gguf_cursor *c, gguf_kv *kv, const char *key) {
    char field[400];
    size_t at = c->pos;
    uint32_t t = kv->type;
    size_t sz = gguf_vtype_size(t);
    kv->arr_type = kv->type;
    kv->n = 1;
    kv->data = c->base + c->pos;
    if (sz) {
        snprintf(field, sizeof field, "value of key '%s'", key);
        hy_status st = gguf_need(c, sz, field);
        if (st) return st;
        if (t == HY_GGUF_BOOL && c->base[c->pos] > 1)
            return hy_fail(HY_EFORMAT,
                           "%s: key '%s': bool value at offset %zu is %u, expected 0 or 1", g->path,
                           key, at, c->base[c->pos]);
        c->pos += sz;
        return HY_OK;
    }
    if (t == HY_GGUF_STRING) {
        snprintf(field, sizeof field, "string value of key '%s'", key);
        hy_status st = gguf_rd_str(c, field, &kv->str);
        kv->data = (const uint8_t *)kv->str.ptr;
        return st;
    }
    if (t != HY_GGUF_ARRAY)
        return hy_fail(HY_EFORMAT, "%s: key '%s': value type at offset %zu is %u, expected 0..12",
                       g->path, key, at - 4, t);
    uint32_t et;
    uint64_t n;
    snprintf(field, sizeof field, "array element type of key '%s'", key);
    hy_status st = gguf_rd_u32(c, field, &et);
    if (st) return st;
    snprintf(field, sizeof field, "array length of key '%s'", key);
    if ((st = gguf_rd_u64(c, field, &n))) return st;
    if (et == HY_GGUF_ARRAY)
        return hy_fail(
            HY_EUNSUPPORTED,
            "%s: key '%s': array at offset %zu holds arrays; nested arrays are not supported",
            g->path, key, at);
    size_t esz = gguf_vtype_size(et);
    if (!esz && et != HY_GGUF_STRING)
        return hy_fail(
            HY_EFORMAT,
            "%s: key '%s': array element type at offset %zu is %u, expected 0..8 or 10..12",
            g->path, key, at, et);
    size_t left = c->size - c->pos;
    size_t min_elem = esz ? esz : 8; /* a string element is at least its length prefix */
    if (n > left / min_elem)
        return hy_fail(HY_EFORMAT,
                       "%s: key '%s': array length at offset %zu is %llu, but %zu bytes are left "
                       "(%zu per %s element at least)",
                       g->path, key, at + 4, (unsigned long long)n, left, min_elem,
                       gguf_vtype_name(et));
    kv->arr_type = (hy_gguf_vtype)et;
    kv->n = n;
    kv->data = c->base + c->pos;
    if (esz) {
        if (et == HY_GGUF_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (c->base[c->pos + i] > 1)
                    return hy_fail(
                        HY_EFORMAT,
                        "%s: key '%s': bool element %llu at offset %zu is %u, expected 0 or 1",
                        g->path, key, (unsigned long long)i, c->pos + (size_t)i,
                        c->base[c->pos + i]);
        c->pos += (size_t)(n * esz);
        return HY_OK;
    }
    kv->str_off = hy_malloc(n ? n * sizeof *kv->str_off : 1, "string array index");
    if (!kv->str_off) return HY_ENOMEM;
    for (uint64_t i = 0; i < n; i++) {
        kv->str_off[i] = c->pos;
        size_t left = c->size - c->pos;
        /* fast path for vocabularies of ~10^5 strings; the message is built only on failure */
        if (left >= 8 && gguf_ld64(c->base + c->pos) <= left - 8) {
            c->pos += 8 + (size_t)gguf_ld64(c->base + c->pos);
            continue;
        }
        hy_gguf_str s;
        snprintf(field, sizeof field, "string %llu of array '%s'", (unsigned long long)i, key);
        if ((st = gguf_rd_str(c, field, &s))) return st;
    }
    return HY_OK;
}

static int cmp_kv(const void *a, const void *b) {
    return gguf_str_cmp((*(gguf_kv *const *)a)->key, (*(gguf_kv *const *)b)->key);
}

static hy_status read_alignment(hy_gguf *g) {
    int64_t i = gguf_find_kv_index(g, "general.alignment");
    if (i < 0) return HY_OK;
    const gguf_kv *kv = &g->kv[i];
    if (kv->type != HY_GGUF_U32)
        return hy_fail(HY_EFORMAT,
                       "%s: key 'general.alignment' at offset %zu has type %s, expected u32",
                       g->path, kv->offset, gguf_vtype_name(kv->type));
    uint32_t a = gguf_ld32(kv->data);
    if (a == 0 || (a & (a - 1)) != 0)
        return hy_fail(
            HY_EFORMAT,
            "%s: key 'general.alignment' at offset %zu is %u, expected a non-zero power of two",
            g->path, kv->offset, a);
    g->alignment = a;
    return HY_OK;
}

hy_status gguf_parse_kvs(hy_gguf *g, gguf_cursor *c) {
    int64_t n = g->n_kv;
    g->kv = hy_calloc((size_t)(n ? n : 1), sizeof *g->kv, "KV table");
    g->kv_sorted = hy_malloc((size_t)(n ? n : 1) * sizeof *g->kv_sorted, "KV index");
    if (!g->kv || !g->kv_sorted) return HY_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        gguf_kv *kv = &g->kv[i];
        char field[64], kbuf[200];
        kv->offset = c->pos;
        snprintf(field, sizeof field, "key of KV %lld", (long long)i);
        hy_status st = gguf_rd_str(c, field, &kv->key);
        if (st) return st;
        gguf_printable(kv->key, kbuf, sizeof kbuf);
        uint32_t t;
        snprintf(field, sizeof field, "value type of key '%.40s'", kbuf);
        if ((st = gguf_rd_u32(c, field, &t))) return st;
        kv->type = (hy_gguf_vtype)t;
        if ((st = parse_value(g, c, kv, kbuf))) return st;
        g->kv_sorted[i] = kv;
    }
    qsort(g->kv_sorted, (size_t)n, sizeof *g->kv_sorted, cmp_kv);
    for (int64_t i = 1; i < n; i++) {
        const gguf_kv *a = g->kv_sorted[i - 1], *b = g->kv_sorted[i];
        if (!gguf_str_cmp(a->key, b->key)) {
            char kbuf[200];
            const gguf_kv *first = a->offset < b->offset ? a : b,
                          *second = a->offset < b->offset ? b : a;
            return hy_fail(HY_EFORMAT, "%s: duplicate key '%s' at offsets %zu and %zu", g->path,
                           gguf_printable(a->key, kbuf, sizeof kbuf), first->offset,
                           second->offset);
        }
    }
    return read_alignment(g);
}

void gguf_free_kvs(hy_gguf *g) {
    if (g->kv)
        for (int64_t i = 0; i < g->n_kv; i++)
            free(g->kv[i].str_off);
    free(g->kv);
    free(g->kv_sorted);
    g->kv = NULL;
    g->kv_sorted = NULL;
}

int64_t gguf_find_kv_index(const hy_gguf *g, const char *key) {
    hy_gguf_str k = {key, strlen(key)};
    int64_t lo = 0, hi = g->n_kv - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int r = gguf_str_cmp(g->kv_sorted[mid]->key, k);
        if (!r) return g->kv_sorted[mid] - g->kv;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}
