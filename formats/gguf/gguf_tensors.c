/* GGUF tensor infos: name, dims, type and offset of every tensor, validated at open (dims
 * 1..4 and >= 1, element count without overflow, rows whole blocks, type known), then the
 * data section: offsets aligned, every tensor inside the file, no two overlapping, no
 * duplicate names. Also tensor lookup by name. */
#include "gguf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hy_status parse_dims(hy_gguf *g, gguf_cursor *c, hy_gguf_tensor *t, const char *nm,
                            size_t ti_at) {
    char field[300];
    size_t at = c->pos;
    snprintf(field, sizeof field, "n_dims of tensor '%s'", nm);
    hy_status st = gguf_rd_u32(c, field, &t->n_dims);
    if (st) return st;
    if (t->n_dims < 1 || t->n_dims > HY_GGUF_MAX_DIMS)
        return hy_fail(HY_EFORMAT, "%s: tensor '%s': n_dims at offset %zu is %u, expected 1..%d",
                       g->path, nm, at, t->n_dims, HY_GGUF_MAX_DIMS);
    int64_t n = 1;
    for (uint32_t d = 0; d < HY_GGUF_MAX_DIMS; d++)
        t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne;
        at = c->pos;
        snprintf(field, sizeof field, "ne[%u] of tensor '%s'", d, nm);
        if ((st = gguf_rd_u64(c, field, &ne))) return st;
        if (ne < 1 || ne > (uint64_t)INT64_MAX)
            return hy_fail(HY_EFORMAT,
                           "%s: tensor '%s': ne[%u] at offset %zu is %llu, expected >= 1", g->path,
                           nm, d, at, (unsigned long long)ne);
        if ((int64_t)ne > INT64_MAX / n)
            return hy_fail(HY_EFORMAT,
                           "%s: tensor '%s' (info at offset %zu): element count overflows int64 at "
                           "ne[%u] = %llu",
                           g->path, nm, ti_at, d, (unsigned long long)ne);
        t->ne[d] = (int64_t)ne;
        n *= (int64_t)ne;
    }
    t->n_elements = n;
    return HY_OK;
}

static hy_status parse_type(hy_gguf *g, gguf_cursor *c, hy_gguf_tensor *t, const char *nm,
                            size_t ti_at) {
    char field[300];
    size_t at = c->pos;
    uint32_t type;
    snprintf(field, sizeof field, "type of tensor '%s'", nm);
    hy_status st = gguf_rd_u32(c, field, &type);
    if (st) return st;
    t->type = (hy_ggml_type)type;
    int64_t be = hy_ggml_block_elems(t->type);
    if (!be)
        return hy_fail(
            HY_EUNSUPPORTED,
            "%s: tensor '%s': type at offset %zu is %u, expected a ggml type id (0-3, 6-30, "
            "34, 35, 39-41)",
            g->path, nm, at, type);
    if (t->ne[0] % be)
        return hy_fail(
            HY_EFORMAT,
            "%s: tensor '%s' (info at offset %zu): ne[0] = %lld is not a multiple of the %s "
            "block size %lld",
            g->path, nm, ti_at, (long long)t->ne[0], hy_ggml_type_name(t->type), (long long)be);
    /* bytes = blocks * block_bytes; blocks <= n_elements < 2^63, checked against overflow */
    uint64_t blocks = (uint64_t)(t->n_elements / be);
    uint64_t bb = hy_ggml_block_bytes(t->type);
    if (blocks > UINT64_MAX / bb)
        return hy_fail(
            HY_EFORMAT,
            "%s: tensor '%s' (info at offset %zu): byte size overflows (%llu blocks of %llu bytes)",
            g->path, nm, ti_at, (unsigned long long)blocks, (unsigned long long)bb);
    t->nbytes = blocks * bb;
    return HY_OK;
}

static int cmp_name(const void *a, const void *b) {
    return gguf_str_cmp((*(hy_gguf_tensor *const *)a)->name, (*(hy_gguf_tensor *const *)b)->name);
}

hy_status gguf_parse_tensor_infos(hy_gguf *g, gguf_cursor *c) {
    int64_t n = g->n_tensors;
    size_t cnt = (size_t)(n ? n : 1);
    g->tensors = hy_calloc(cnt, sizeof *g->tensors, "tensor infos");
    g->ti_offset = hy_calloc(cnt, sizeof *g->ti_offset, "tensor info offsets");
    g->tensor_sorted = hy_calloc(cnt, sizeof *g->tensor_sorted, "tensor index");
    if (!g->tensors || !g->ti_offset || !g->tensor_sorted) return HY_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        hy_gguf_tensor *t = &g->tensors[i];
        char field[64], nm[200];
        g->ti_offset[i] = c->pos;
        snprintf(field, sizeof field, "name of tensor %lld", (long long)i);
        hy_status st = gguf_rd_str(c, field, &t->name);
        if (st) return st;
        gguf_printable(t->name, nm, sizeof nm);
        if ((st = parse_dims(g, c, t, nm, g->ti_offset[i]))) return st;
        if ((st = parse_type(g, c, t, nm, g->ti_offset[i]))) return st;
        snprintf(field, sizeof field, "offset of tensor %lld", (long long)i);
        if ((st = gguf_rd_u64(c, field, &t->offset))) return st;
        g->tensor_sorted[i] = t;
    }
    qsort(g->tensor_sorted, (size_t)n, sizeof *g->tensor_sorted, cmp_name);
    for (int64_t i = 1; i < n; i++) {
        hy_gguf_tensor *a = g->tensor_sorted[i - 1], *b = g->tensor_sorted[i];
        if (!gguf_str_cmp(a->name, b->name)) {
            char nm[200];
            size_t oa = g->ti_offset[a - g->tensors], ob = g->ti_offset[b - g->tensors];
            return hy_fail(HY_EFORMAT,
                           "%s: duplicate tensor name '%s' (infos at offsets %zu and %zu)", g->path,
                           gguf_printable(a->name, nm, sizeof nm), oa < ob ? oa : ob,
                           oa < ob ? ob : oa);
        }
    }
    /* The data section starts at the next multiple of the alignment. */
    uint64_t pos = c->pos, a = g->alignment;
    g->data_offset = pos % a ? pos + (a - pos % a) : pos;
    return HY_OK;
}

static int cmp_offset(const void *a, const void *b) {
    const hy_gguf_tensor *x = *(hy_gguf_tensor *const *)a, *y = *(hy_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

hy_status gguf_check_tensor_data(hy_gguf *g) {
    int64_t n = g->n_tensors;
    uint64_t data_len = g->data_offset <= g->size ? g->size - g->data_offset : 0;
    for (int64_t i = 0; i < n; i++) {
        hy_gguf_tensor *t = &g->tensors[i];
        char nm[200];
        gguf_printable(t->name, nm, sizeof nm);
        size_t ti_off = g->ti_offset[i]; /* messages point at the tensor's info */
        if (t->offset % g->alignment)
            return hy_fail(
                HY_EFORMAT,
                "%s: tensor '%s' (info at offset %zu): data offset %llu is not a multiple "
                "of the alignment %llu",
                g->path, nm, ti_off, (unsigned long long)t->offset,
                (unsigned long long)g->alignment);
        if (t->offset > data_len || t->nbytes > data_len - t->offset)
            return hy_fail(
                HY_EFORMAT,
                "%s: tensor '%s' (info at offset %zu): data [%llu, +%llu) relative to the "
                "data section at %llu ends past the end of the file (%zu bytes; %llu "
                "bytes of data)",
                g->path, nm, ti_off, (unsigned long long)t->offset, (unsigned long long)t->nbytes,
                (unsigned long long)g->data_offset, g->size, (unsigned long long)data_len);
        t->data = g->base + g->data_offset + t->offset;
    }
    /* Overlap check on a copy sorted by offset: adjacent pairs suffice. */
    hy_gguf_tensor **by_off =
        hy_malloc((size_t)(n ? n : 1) * sizeof *by_off, "tensor offset index");
    if (!by_off) return HY_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        by_off[i] = &g->tensors[i];
    qsort(by_off, (size_t)n, sizeof *by_off, cmp_offset);
    hy_status st = HY_OK;
    for (int64_t i = 1; i < n && !st; i++) {
        const hy_gguf_tensor *a = by_off[i - 1], *b = by_off[i];
        if (b->offset < a->offset + a->nbytes) {
            char na[200], nb[200];
            st = hy_fail(HY_EFORMAT,
                         "%s: tensors '%s' (data offset %llu, %llu bytes) and '%s' (data offset "
                         "%llu) overlap: expected '%s' to start at %llu or later",
                         g->path, gguf_printable(a->name, na, sizeof na),
                         (unsigned long long)a->offset, (unsigned long long)a->nbytes,
                         gguf_printable(b->name, nb, sizeof nb), (unsigned long long)b->offset, nb,
                         (unsigned long long)(a->offset + a->nbytes));
        }
    }
    free(by_off);
    return st;
}

int64_t hy_gguf_n_tensors(const hy_gguf *g) {
    return g ? g->n_tensors : 0;
}

const hy_gguf_tensor *hy_gguf_tensor_at(const hy_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

hy_status hy_gguf_find_tensor(const hy_gguf *g, const char *name, const hy_gguf_tensor **out) {
    if (!g || !name || !out) return hy_fail(HY_EINVAL, "hy_gguf_find_tensor: NULL argument");
    hy_gguf_str k = {name, strlen(name)};
    int64_t lo = 0, hi = g->n_tensors - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int r = gguf_str_cmp(g->tensor_sorted[mid]->name, k);
        if (!r) {
            *out = g->tensor_sorted[mid];
            return HY_OK;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    *out = NULL;
    return hy_fail(HY_ENOTFOUND, "%s: tensor '%s' not found (%lld tensors)", g->path, name,
                   (long long)g->n_tensors);
}
