/* GGUF v3 writer: collects typed KVs and tensors (quantised from fp32, or raw block bytes),
 * then lays the file out as header, KVs, tensor infos, padding, aligned tensor data. Used by
 * tests and the fuzz corpus to build tiny models of any shape; refuses what the reader
 * would refuse (duplicate names, bad dims, alignment not a power of two). */
#include "gguf_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;
    uint32_t type;
    uint8_t *val; /* encoded value: scalar bytes, string record, or array header + elements */
    size_t len;
} wkv;

typedef struct {
    char *name;
    hy_ggml_type type;
    uint32_t n_dims;
    int64_t ne[HY_GGUF_MAX_DIMS];
    uint8_t *data;
    size_t nbytes;
} wtensor;

struct hy_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
};

hy_status hy_gguf_writer_create(hy_gguf_writer **out) {
    if (!out) return hy_fail(HY_EINVAL, "hy_gguf_writer_create: out is NULL");
    *out = hy_calloc(1, sizeof **out, "gguf writer");
    return *out ? HY_OK : HY_ENOMEM;
}

void hy_gguf_writer_free(hy_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].val);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    free(w->kv);
    free(w->t);
    free(w);
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Takes ownership of val (freed on failure). */
static hy_status add_kv(hy_gguf_writer *w, const char *key, uint32_t type, uint8_t *val,
                        size_t len) {
    if (!w || !key) {
        free(val);
        return hy_fail(HY_EINVAL, "gguf writer: NULL writer or key");
    }
    hy_status st = HY_OK;
    for (size_t i = 0; !st && i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key))
            st = hy_fail(HY_EINVAL, "gguf writer: duplicate key '%s'", key);
    if (!st && w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        wkv *p = realloc(w->kv, cap * sizeof *p);
        if (!p)
            st = hy_fail(HY_ENOMEM, "gguf writer: out of memory for %zu KVs", cap);
        else {
            w->kv = p;
            w->cap_kv = cap;
        }
    }
    char *k = st ? NULL : strdup(key);
    if (!st && !k) st = hy_fail(HY_ENOMEM, "gguf writer: out of memory copying key '%s'", key);
    if (st) {
        free(val);
        return st;
    }
    w->kv[w->n_kv++] = (wkv){k, type, val, len};
    return HY_OK;
}

hy_status hy_gguf_writer_set_scalar(hy_gguf_writer *w, const char *key, hy_gguf_vtype type,
                                    const void *value) {
    size_t sz = gguf_vtype_size(type);
    if (!sz || !value)
        return hy_fail(HY_EINVAL, "gguf writer: key '%s': type %d is not a scalar type",
                       key ? key : "?", (int)type);
    uint8_t *v = hy_malloc(sz, "gguf writer value");
    if (!v) return HY_ENOMEM;
    memcpy(v, value, sz); /* host is little-endian, as the format */
    return add_kv(w, key, type, v, sz);
}

hy_status hy_gguf_writer_set_u32(hy_gguf_writer *w, const char *key, uint32_t v) {
    return hy_gguf_writer_set_scalar(w, key, HY_GGUF_U32, &v);
}
hy_status hy_gguf_writer_set_i32(hy_gguf_writer *w, const char *key, int32_t v) {
    return hy_gguf_writer_set_scalar(w, key, HY_GGUF_I32, &v);
}
hy_status hy_gguf_writer_set_f32(hy_gguf_writer *w, const char *key, float v) {
    return hy_gguf_writer_set_scalar(w, key, HY_GGUF_F32, &v);
}
hy_status hy_gguf_writer_set_bool(hy_gguf_writer *w, const char *key, bool v) {
    uint8_t b = v ? 1 : 0;
    return hy_gguf_writer_set_scalar(w, key, HY_GGUF_BOOL, &b);
}

static uint8_t *encode_str(const char *s, size_t n, uint8_t *p) {
    put64(p, n);
    memcpy(p + 8, s, n);
    return p + 8 + n;
}

hy_status hy_gguf_writer_set_str(hy_gguf_writer *w, const char *key, const char *v) {
    if (!v) return hy_fail(HY_EINVAL, "gguf writer: key '%s': NULL string", key ? key : "?");
    size_t n = strlen(v);
    uint8_t *val = hy_malloc(8 + n, "gguf writer string");
    if (!val) return HY_ENOMEM;
    encode_str(v, n, val);
    return add_kv(w, key, HY_GGUF_STRING, val, 8 + n);
}

hy_status hy_gguf_writer_set_arr(hy_gguf_writer *w, const char *key, hy_gguf_vtype elem_type,
                                 const void *data, uint64_t n) {
    size_t es = gguf_vtype_size(elem_type);
    if (!es)
        return hy_fail(HY_EINVAL,
                       "gguf writer: key '%s': array element type %d is not numeric/bool",
                       key ? key : "?", (int)elem_type);
    if (n && !data)
        return hy_fail(HY_EINVAL, "gguf writer: key '%s': NULL array data", key ? key : "?");
    if (n > (SIZE_MAX - 12) / es)
        return hy_fail(HY_EINVAL, "gguf writer: key '%s': array of %llu elements too large",
                       key ? key : "?", (unsigned long long)n);
    size_t len = 12 + (size_t)n * es;
    uint8_t *val = hy_malloc(len, "gguf writer array");
    if (!val) return HY_ENOMEM;
    put32(val, (uint32_t)elem_type);
    put64(val + 4, n);
    if (n) memcpy(val + 12, data, (size_t)n * es);
    return add_kv(w, key, HY_GGUF_ARRAY, val, len);
}

hy_status hy_gguf_writer_set_arr_str(hy_gguf_writer *w, const char *key, const char *const *strs,
                                     uint64_t n) {
    if (n && !strs)
        return hy_fail(HY_EINVAL, "gguf writer: key '%s': NULL strings", key ? key : "?");
    size_t len = 12;
    for (uint64_t i = 0; i < n; i++) {
        if (!strs[i])
            return hy_fail(HY_EINVAL, "gguf writer: key '%s': string %llu is NULL", key ? key : "?",
                           (unsigned long long)i);
        len += 8 + strlen(strs[i]);
    }
    uint8_t *val = hy_malloc(len, "gguf writer string array");
    if (!val) return HY_ENOMEM;
    put32(val, HY_GGUF_STRING);
    put64(val + 4, n);
    uint8_t *p = val + 12;
    for (uint64_t i = 0; i < n; i++)
        p = encode_str(strs[i], strlen(strs[i]), p);
    return add_kv(w, key, HY_GGUF_ARRAY, val, len);
}

static hy_status check_shape(const char *name, hy_ggml_type type, uint32_t n_dims,
                             const int64_t *ne, int64_t *n_el, size_t *nbytes) {
    int64_t be = hy_ggml_block_elems(type);
    if (!be)
        return hy_fail(HY_EINVAL, "gguf writer: tensor '%s': unknown type id %d", name, (int)type);
    if (n_dims < 1 || n_dims > HY_GGUF_MAX_DIMS || !ne)
        return hy_fail(HY_EINVAL, "gguf writer: tensor '%s': n_dims %u, expected 1..%d", name,
                       n_dims, HY_GGUF_MAX_DIMS);
    int64_t n = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] < 1 || ne[d] > INT64_MAX / n)
            return hy_fail(HY_EINVAL,
                           "gguf writer: tensor '%s': ne[%u] = %lld invalid or too large", name, d,
                           (long long)ne[d]);
        n *= ne[d];
    }
    if (ne[0] % be)
        return hy_fail(HY_EINVAL,
                       "gguf writer: tensor '%s': ne[0] = %lld not a multiple of the %s block %lld",
                       name, (long long)ne[0], hy_ggml_type_name(type), (long long)be);
    uint64_t bytes = (uint64_t)(n / be) * hy_ggml_block_bytes(type);
    if (bytes > SIZE_MAX / 2) return hy_fail(HY_EINVAL, "gguf writer: tensor '%s' too large", name);
    *n_el = n;
    *nbytes = (size_t)bytes;
    return HY_OK;
}

hy_status hy_gguf_writer_add_tensor_raw(hy_gguf_writer *w, const char *name, hy_ggml_type type,
                                        uint32_t n_dims, const int64_t *ne, const void *data,
                                        size_t nbytes) {
    if (!w || !name) return hy_fail(HY_EINVAL, "gguf writer: NULL writer or tensor name");
    int64_t n_el = 0;
    size_t want = 0;
    hy_status st = check_shape(name, type, n_dims, ne, &n_el, &want);
    if (st) return st;
    if (nbytes != want || (want && !data))
        return hy_fail(HY_EINVAL, "gguf writer: tensor '%s': %zu data bytes, expected %zu", name,
                       nbytes, want);
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name))
            return hy_fail(HY_EINVAL, "gguf writer: duplicate tensor name '%s'", name);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 16;
        wtensor *p = realloc(w->t, cap * sizeof *p);
        if (!p) return hy_fail(HY_ENOMEM, "gguf writer: out of memory for %zu tensors", cap);
        w->t = p;
        w->cap_t = cap;
    }
    wtensor t = {strdup(name), type, n_dims, {1, 1, 1, 1}, hy_malloc(want, "gguf writer tensor"),
                 want};
    if (!t.name || !t.data) {
        free(t.name);
        free(t.data);
        return hy_fail(HY_ENOMEM, "gguf writer: out of memory for tensor '%s' (%zu bytes)", name,
                       want);
    }
    for (uint32_t d = 0; d < n_dims; d++)
        t.ne[d] = ne[d];
    if (want) memcpy(t.data, data, want);
    w->t[w->n_t++] = t;
    return HY_OK;
}

hy_status hy_gguf_writer_add_tensor_f32(hy_gguf_writer *w, const char *name, hy_ggml_type type,
                                        uint32_t n_dims, const int64_t *ne, const float *values) {
    if (!w || !name) return hy_fail(HY_EINVAL, "gguf writer: NULL writer or tensor name");
    int64_t n_el = 0;
    size_t nbytes = 0;
    hy_status st = check_shape(name, type, n_dims, ne, &n_el, &nbytes);
    if (st) return st;
    if (!values) return hy_fail(HY_EINVAL, "gguf writer: tensor '%s': NULL values", name);
    void *buf = hy_malloc(nbytes, "quantised tensor");
    if (!buf) return HY_ENOMEM;
    st = hy_ggml_quantize(type, values, buf, n_el);
    if (st)
        st = hy_fail_ctx(st, "gguf writer: tensor '%s'", name);
    else
        st = hy_gguf_writer_add_tensor_raw(w, name, type, n_dims, ne, buf, nbytes);
    free(buf);
    return st;
}

static size_t align_up(size_t x, size_t a) {
    return (x + a - 1) / a * a;
}

hy_status hy_gguf_writer_write_memory(hy_gguf_writer *w, uint32_t alignment, void **buf,
                                      size_t *size) {
    if (!w || !buf || !size) return hy_fail(HY_EINVAL, "gguf writer: NULL argument");
    if (alignment == 0 || (alignment & (alignment - 1)))
        return hy_fail(HY_EINVAL, "gguf writer: alignment %u, expected a power of two", alignment);
    /* A non-default alignment must be recorded in the file for readers to find the data. */
    int have_align = 0;
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, "general.alignment")) {
            uint32_t a = 0;
            if (w->kv[i].type == HY_GGUF_U32) memcpy(&a, w->kv[i].val, 4);
            if (a != alignment)
                return hy_fail(HY_EINVAL,
                               "gguf writer: general.alignment KV disagrees with alignment %u",
                               alignment);
            have_align = 1;
        }
    if (!have_align && alignment != 32) {
        hy_status st = hy_gguf_writer_set_u32(w, "general.alignment", alignment);
        if (st) return st;
    }
    size_t total = 24;
    for (size_t i = 0; i < w->n_kv; i++)
        total += 8 + strlen(w->kv[i].key) + 4 + w->kv[i].len;
    for (size_t i = 0; i < w->n_t; i++)
        total += 8 + strlen(w->t[i].name) + 4 + 8 * (size_t)w->t[i].n_dims + 4 + 8;
    size_t data_start = align_up(total, alignment), data_len = 0;
    size_t *offs = hy_malloc((w->n_t ? w->n_t : 1) * sizeof *offs, "tensor offsets");
    if (!offs) return HY_ENOMEM;
    for (size_t i = 0; i < w->n_t; i++) {
        offs[i] = data_len;
        data_len = align_up(data_len + w->t[i].nbytes, alignment);
    }
    size_t fsize = data_start + data_len;
    uint8_t *out = hy_calloc(1, fsize, "gguf file image");
    if (!out) {
        free(offs);
        return HY_ENOMEM;
    }
    uint8_t *p = out;
    memcpy(p, "GGUF", 4);
    put32(p + 4, 3);
    put64(p + 8, w->n_t);
    put64(p + 16, w->n_kv);
    p += 24;
    for (size_t i = 0; i < w->n_kv; i++) {
        p = encode_str(w->kv[i].key, strlen(w->kv[i].key), p);
        put32(p, w->kv[i].type);
        memcpy(p + 4, w->kv[i].val, w->kv[i].len);
        p += 4 + w->kv[i].len;
    }
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        p = encode_str(t->name, strlen(t->name), p);
        put32(p, t->n_dims);
        p += 4;
        for (uint32_t d = 0; d < t->n_dims; d++, p += 8)
            put64(p, (uint64_t)t->ne[d]);
        put32(p, (uint32_t)t->type);
        put64(p + 4, offs[i]);
        p += 12;
        memcpy(out + data_start + offs[i], t->data, t->nbytes);
    }
    free(offs);
    *buf = out;
    *size = fsize;
    return HY_OK;
}

hy_status hy_gguf_writer_write(hy_gguf_writer *w, const char *path, uint32_t alignment) {
    if (!path) return hy_fail(HY_EINVAL, "gguf writer: NULL path");
    void *buf = NULL;
    size_t size = 0;
    hy_status st = hy_gguf_writer_write_memory(w, alignment, &buf, &size);
    if (st) return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(buf);
        return hy_fail(HY_EIO, "%s: cannot create: %s", path, strerror(errno));
    }
    size_t wr = fwrite(buf, 1, size, f);
    int err = ferror(f);
    int cl = fclose(f);
    free(buf);
    if (wr != size || err || cl)
        return hy_fail(HY_EIO, "%s: write failed after %zu of %zu bytes: %s", path, wr, size,
                       strerror(errno));
    return HY_OK;
}
