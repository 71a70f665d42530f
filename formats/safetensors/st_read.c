/* The safetensors reader (hy_safetensors.h): maps the file, parses the JSON header with
 * jansson (duplicate keys refused) and checks every tensor before any is handed out: a known
 * dtype, at most 8 dims, offsets inside the data buffer, a byte length equal to shape x
 * dtype size, and the tensors tiling the buffer exactly (no gap, no overlap, nothing left
 * over), which is what the reference implementation requires too. */
#include "hy_gguf.h"
#include "hy_safetensors.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reference implementation refuses headers above 100 MB; so do we, before parsing. */
#define MAX_HEADER (100u << 20)

struct hy_st_file {
    char *name;
    void *map;
    size_t map_size;
    hy_st_tensor *t;
    int64_t n;
};

static const struct {
    const char *name;
    int size;
} k_dtypes[HY_ST_N_DTYPES] = {
    [HY_ST_F32] = {"F32", 4},   [HY_ST_F16] = {"F16", 2},         [HY_ST_BF16] = {"BF16", 2},
    [HY_ST_F64] = {"F64", 8},   [HY_ST_I64] = {"I64", 8},         [HY_ST_I32] = {"I32", 4},
    [HY_ST_I16] = {"I16", 2},   [HY_ST_I8] = {"I8", 1},           [HY_ST_U8] = {"U8", 1},
    [HY_ST_BOOL] = {"BOOL", 1}, [HY_ST_F8_E4M3] = {"F8_E4M3", 1}, [HY_ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *hy_st_dtype_name(hy_st_dtype d) {
    return (unsigned)d < HY_ST_N_DTYPES ? k_dtypes[d].name : "?";
}

static hy_status parse_tensor(const char *src, const char *key, json_t *v, const uint8_t *data,
                              uint64_t data_size, hy_st_tensor *t) {
    if (!json_is_object(v))
        return hy_fail(HY_EFORMAT, "%s: header entry '%.100s' is not an object", src, key);
    const char *dt = json_string_value(json_object_get(v, "dtype"));
    int d = 0;
    while (dt && d < HY_ST_N_DTYPES && strcmp(dt, k_dtypes[d].name))
        d++;
    if (!dt || d == HY_ST_N_DTYPES)
        return hy_fail(HY_EFORMAT,
                       "%s: tensor '%.100s': dtype %s%.20s%s, expected one of F32, F16, BF16, "
                       "F64, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2",
                       src, key, dt ? "'" : "", dt ? dt : "missing", dt ? "'" : "");
    json_t *shape = json_object_get(v, "shape"), *off = json_object_get(v, "data_offsets");
    if (!json_is_array(shape) || json_array_size(shape) > HY_ST_MAX_DIMS)
        return hy_fail(HY_EFORMAT,
                       "%s: tensor '%.100s': shape is %s, expected an array of at "
                       "most %d sizes",
                       src, key, json_is_array(shape) ? "too long" : "missing or not an array",
                       HY_ST_MAX_DIMS);
    const int esize = k_dtypes[d].size;
    int64_t n = 1;
    for (size_t i = 0; i < json_array_size(shape); i++) {
        json_t *x = json_array_get(shape, i);
        const json_int_t s = json_is_integer(x) ? json_integer_value(x) : -1;
        /* each size and the running product stay below 2^62 bytes: no overflow below */
        if (s < 0 || (s > 0 && n > (INT64_C(1) << 62) / esize / s))
            return hy_fail(HY_EFORMAT,
                           "%s: tensor '%.100s': shape[%zu] is not a size, or the tensor "
                           "exceeds 2^62 bytes",
                           src, key, i);
        t->shape[i] = s;
        n *= s;
    }
    t->n_dims = (int)json_array_size(shape);
    json_t *b = json_array_get(off, 0), *e = json_array_get(off, 1);
    if (!json_is_array(off) || json_array_size(off) != 2 || !json_is_integer(b) ||
        !json_is_integer(e))
        return hy_fail(HY_EFORMAT, "%s: tensor '%.100s': data_offsets is not [begin, end]", src,
                       key);
    const json_int_t begin = json_integer_value(b), end = json_integer_value(e);
    if (begin < 0 || end < begin || (uint64_t)end > data_size)
        return hy_fail(HY_EFORMAT,
                       "%s: tensor '%.100s': data_offsets [%lld, %lld], expected 0 <= begin <= "
                       "end <= %llu (the data buffer's size)",
                       src, key, (long long)begin, (long long)end, (unsigned long long)data_size);
    if ((uint64_t)(end - begin) != (uint64_t)n * (uint64_t)esize)
        return hy_fail(HY_EFORMAT,
                       "%s: tensor '%.100s': data_offsets span %lld bytes, expected %lld "
                       "(%lld %s elements)",
                       src, key, (long long)(end - begin), (long long)(n * esize), (long long)n,
                       k_dtypes[d].name);
    t->name = strdup(key);
    if (!t->name) return hy_fail(HY_ENOMEM, "%s: out of memory", src);
    t->dtype = (hy_st_dtype)d, t->n_elements = n;
    t->data = data + begin, t->n_bytes = (uint64_t)(end - begin);
    return HY_OK;
}

/* By start, an empty tensor before a non-empty one at the same start (both are legal). */
static int by_offset(const void *a, const void *b) {
    const hy_st_tensor *x = a, *y = b;
    if (x->data != y->data) return x->data < y->data ? -1 : 1;
    return x->n_bytes < y->n_bytes ? -1 : x->n_bytes > y->n_bytes;
}

/* The tensors, sorted by offset, must tile [0, data_size) exactly. */
static hy_status check_tiling(const hy_st_file *f, const uint8_t *data, uint64_t data_size) {
    uint64_t at = 0;
    for (int64_t i = 0; i < f->n; i++) {
        const uint64_t b = (uint64_t)(f->t[i].data - data);
        if (b != at)
            return hy_fail(HY_EFORMAT,
                           "%s: tensor '%.100s' starts at data offset %llu, expected %llu (the "
                           "end of the tensor before it: tensors must tile the buffer)",
                           f->name, f->t[i].name, (unsigned long long)b, (unsigned long long)at);
        at = b + f->t[i].n_bytes;
    }
    if (at != data_size)
        return hy_fail(HY_EFORMAT,
                       "%s: the tensors cover %llu bytes of a %llu-byte data buffer, expected "
                       "all of it",
                       f->name, (unsigned long long)at, (unsigned long long)data_size);
    return HY_OK;
}

static hy_status parse(hy_st_file *f, const uint8_t *buf, size_t size) {
    if (size < 8)
        return hy_fail(HY_EFORMAT, "%s: %zu bytes, expected at least 8 (the header length)",
                       f->name, size);
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--)
        hn = hn << 8 | buf[i];
    if (hn > size - 8 || hn > MAX_HEADER || hn < 2)
        return hy_fail(HY_EFORMAT,
                       "%s: header length %llu at offset 0, expected 2..%llu (the file has %zu "
                       "bytes; at most 100 MB)",
                       f->name, (unsigned long long)hn,
                       (unsigned long long)(size - 8 < MAX_HEADER ? size - 8 : MAX_HEADER), size);
    if (buf[8] != '{')
        return hy_fail(HY_EFORMAT, "%s: header at offset 8 starts with 0x%02x, expected '{'",
                       f->name, buf[8]);
    json_error_t err;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)hn, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return hy_fail(HY_EFORMAT, "%s: header JSON at byte %d of the header: %s", f->name,
                       err.position, err.text);
    hy_status st = HY_OK;
    if (!json_is_object(root))
        st = hy_fail(HY_EFORMAT, "%s: the header is not a JSON object", f->name);
    const uint8_t *data = buf + 8 + hn;
    const uint64_t data_size = size - 8 - hn;
    size_t cap = json_object_size(root);
    f->t = hy_calloc(cap ? cap : 1, sizeof *f->t, "safetensors tensor table");
    if (!st && !f->t) st = HY_ENOMEM;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (st) break;
        if (!strcmp(key, "__metadata__")) {
            const char *mk;
            json_t *mv;
            if (!json_is_object(v))
                st = hy_fail(HY_EFORMAT, "%s: __metadata__ is not an object", f->name);
            json_object_foreach(v, mk, mv) if (!st && !json_is_string(mv)) st =
                hy_fail(HY_EFORMAT, "%s: __metadata__['%.100s'] is not a string", f->name, mk);
            continue;
        }
        st = parse_tensor(f->name, key, v, data, data_size, &f->t[f->n]);
        if (!st) f->n++;
    }
    json_decref(root);
    if (st) return st;
    qsort(f->t, (size_t)f->n, sizeof *f->t, by_offset);
    return check_tiling(f, data, data_size);
}

static hy_status open_common(const void *buf, size_t size, const char *name, void *map,
                             hy_st_file **out) {
    hy_st_file *f = hy_calloc(1, sizeof *f, "safetensors file");
    if (!f) {
        if (map) munmap(map, size);
        return HY_ENOMEM;
    }
    f->name = strdup(name ? name : "safetensors");
    f->map = map, f->map_size = map ? size : 0;
    hy_status st = f->name ? parse(f, buf, size) : HY_ENOMEM;
    if (st) {
        hy_st_close(f);
        return st;
    }
    *out = f;
    return HY_OK;
}

hy_status hy_st_open_memory(const void *buf, size_t size, const char *name, hy_st_file **out) {
    if (!out || (!buf && size)) return hy_fail(HY_EINVAL, "hy_st_open_memory: NULL argument");
    *out = NULL;
    return open_common(buf, size, name, NULL, out);
}

hy_status hy_st_open(const char *path, hy_st_file **out) {
    if (!out || !path) return hy_fail(HY_EINVAL, "hy_st_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return hy_fail(HY_EIO, "%s: cannot open", path);
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 8) {
        close(fd);
        return hy_fail(HY_EIO, "%s: not a regular file of at least 8 bytes", path);
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return hy_fail(HY_EIO, "%s: mmap failed", path);
    return open_common(map, (size_t)sb.st_size, path, map, out); /* owns map from here */
}

void hy_st_close(hy_st_file *f) {
    if (!f) return;
    for (int64_t i = 0; i < f->n; i++)
        free(f->t[i].name);
    free(f->t);
    if (f->map && *(volatile char *)f->name != 0x7f) { /* see open: unmapped by the caller */
    }
    free(f->name);
    free(f);
}

int64_t hy_st_n_tensors(const hy_st_file *f) {
    return f ? f->n : 0;
}

const hy_st_tensor *hy_st_tensor_at(const hy_st_file *f, int64_t i) {
    return f && i >= 0 && i < f->n ? &f->t[i] : NULL;
}

hy_status hy_st_find(const hy_st_file *f, const char *name, const hy_st_tensor **out) {
    for (int64_t i = 0; f && name && i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return *out = &f->t[i], HY_OK;
    return hy_fail(HY_ENOTFOUND, "%s: no tensor '%.200s'", f ? f->name : "safetensors",
                   name ? name : "(null)");
}

hy_status hy_st_tensor_to_f32(const hy_st_tensor *t, float *dst) {
    static const hy_ggml_type as_ggml[] = {
        [HY_ST_F32] = HY_GGML_F32, [HY_ST_F16] = HY_GGML_F16, [HY_ST_BF16] = HY_GGML_BF16};
    if (!t) return hy_fail(HY_EINVAL, "hy_st_tensor_to_f32: NULL tensor");
    if (t->dtype > HY_ST_BF16)
        return hy_fail(HY_EUNSUPPORTED, "tensor '%.200s': dtype %s, expected F32, F16 or BF16",
                       t->name, hy_st_dtype_name(t->dtype));
    /* the same converters as GGUF's F32/F16/BF16 tensors (formats/gguf/quants.c) */
    hy_status st = hy_ggml_dequantize(as_ggml[t->dtype], t->data, dst, t->n_elements);
    return st ? hy_fail_ctx(st, "tensor '%.200s'", t->name) : HY_OK;
}
