/* GGUF reader entry points: maps the file, parses the fixed header (magic, version, counts),
 * then hands the KV section to gguf_kv.c and the tensor infos to gguf_tensors.c. Counts are
 * checked against the bytes left before anything is allocated, so a corrupt header cannot
 * ask for a huge malloc. */
#include "gguf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

hy_status gguf_need(gguf_cursor *c, uint64_t n, const char *field) {
    size_t left = c->size - c->pos;
    if (n > left)
        return hy_fail(
            HY_EFORMAT,
            "%s: truncated: %s at offset %zu needs %llu bytes, only %zu left (file size %zu)",
            c->file, field, c->pos, (unsigned long long)n, left, c->size);
    return HY_OK;
}

hy_status gguf_rd_u32(gguf_cursor *c, const char *field, uint32_t *out) {
    hy_status st = gguf_need(c, 4, field);
    if (st) return st;
    *out = gguf_ld32(c->base + c->pos);
    c->pos += 4;
    return HY_OK;
}

hy_status gguf_rd_u64(gguf_cursor *c, const char *field, uint64_t *out) {
    hy_status st = gguf_need(c, 8, field);
    if (st) return st;
    *out = gguf_ld64(c->base + c->pos);
    c->pos += 8;
    return HY_OK;
}

hy_status gguf_rd_str(gguf_cursor *c, const char *field, hy_gguf_str *out) {
    size_t at = c->pos;
    uint64_t len;
    hy_status st = gguf_rd_u64(c, field, &len);
    if (st) return st;
    size_t left = c->size - c->pos;
    if (len > left)
        return hy_fail(
            HY_EFORMAT,
            "%s: %s at offset %zu: string length %llu exceeds the %zu bytes left in the file",
            c->file, field, at, (unsigned long long)len, left);
    out->ptr = (const char *)(c->base + c->pos);
    out->len = len;
    c->pos += (size_t)len;
    return HY_OK;
}

const char *gguf_printable(hy_gguf_str s, char *buf, size_t cap) {
    size_t n = 0;
    for (uint64_t i = 0; i < s.len && n + 4 < cap; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        buf[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    if (s.len > n && cap > 4) {
        n = n + 3 < cap ? n : cap - 4;
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = 0;
    return buf;
}

/* Magic, version and the two counts. v1 (32-bit counts) and big-endian files are refused
 * by name rather than misparsed. */
static hy_status parse_header(hy_gguf *g, gguf_cursor *c, uint64_t *n_tensors, uint64_t *n_kv) {
    hy_status st = gguf_need(c, 4, "magic");
    if (st) return st;
    if (memcmp(c->base, "GGUF", 4) != 0) {
        const uint8_t *m = c->base;
        return hy_fail(HY_EFORMAT,
                       "%s: bad magic at offset 0: found %02x %02x %02x %02x, expected 47 47 55 46 "
                       "('GGUF')",
                       c->file, m[0], m[1], m[2], m[3]);
    }
    c->pos = 4;
    if ((st = gguf_rd_u32(c, "version", &g->version))) return st;
    uint32_t v = g->version;
    if (v == 1)
        return hy_fail(
            HY_EUNSUPPORTED,
            "%s: version at offset 4: GGUF v1 is not supported (found 1, expected 2 or 3)",
            c->file);
    if (v != 2 && v != 3) {
        uint32_t swapped = __builtin_bswap32(v);
        if (swapped == 2 || swapped == 3)
            return hy_fail(HY_EUNSUPPORTED,
                           "%s: version at offset 4: found 0x%08x, which is version %u stored "
                           "big-endian; only little-endian GGUF is supported",
                           c->file, v, swapped);
        return hy_fail(v == 0 ? HY_EFORMAT : HY_EUNSUPPORTED,
                       "%s: version at offset 4: found %u, expected 2 or 3", c->file, v);
    }
    if ((st = gguf_rd_u64(c, "tensor count", n_tensors))) return st;
    if ((st = gguf_rd_u64(c, "KV count", n_kv))) return st;
    size_t left = c->size - c->pos;
    if (*n_kv > left / GGUF_MIN_KV_BYTES)
        return hy_fail(HY_EFORMAT,
                       "%s: KV count at offset 16: found %llu, but the %zu bytes left hold at most "
                       "%zu KVs (%u bytes each at least): truncated file or corrupt count",
                       c->file, (unsigned long long)*n_kv, left, left / GGUF_MIN_KV_BYTES,
                       GGUF_MIN_KV_BYTES);
    if (*n_tensors > left / GGUF_MIN_TI_BYTES ||
        *n_kv * GGUF_MIN_KV_BYTES + *n_tensors * GGUF_MIN_TI_BYTES > left)
        return hy_fail(HY_EFORMAT,
                       "%s: tensor count at offset 8: found %llu, but the %zu bytes left after the "
                       "header cannot hold that many tensor infos (%u bytes each at least) besides "
                       "%llu KVs: truncated file or corrupt count",
                       c->file, (unsigned long long)*n_tensors, left, GGUF_MIN_TI_BYTES,
                       (unsigned long long)*n_kv);
    return HY_OK;
}

hy_status hy_gguf_open_memory(const void *data, size_t size, const char *name, hy_gguf **out) {
    if (!out) return hy_fail(HY_EINVAL, "hy_gguf_open_memory: out is NULL");
    *out = NULL;
    if (!data && size) return hy_fail(HY_EINVAL, "hy_gguf_open_memory: data is NULL");
    hy_gguf *g = hy_calloc(1, sizeof *g, "gguf handle");
    if (!g) return HY_ENOMEM;
    const char *nm = name ? name : "<memory>";
    g->path = strdup(nm);
    if (!g->path) {
        free(g);
        return hy_fail(HY_ENOMEM, "out of memory copying the name %s", nm);
    }
    static const uint8_t empty[1];
    g->base = data ? data : empty;
    g->size = size;
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    gguf_cursor c = {g->base, size, 0, g->path};
    uint64_t n_tensors = 0, n_kv = 0;
    hy_status st = parse_header(g, &c, &n_tensors, &n_kv);
    if (!st) {
        g->n_kv = (int64_t)n_kv;
        st = gguf_parse_kvs(g, &c);
    }
    if (!st) {
        g->n_tensors = (int64_t)n_tensors;
        st = gguf_parse_tensor_infos(g, &c);
    }
    if (!st) st = gguf_check_tensor_data(g);
    if (st) {
        hy_gguf_close(g);
        return st;
    }
    *out = g;
    return HY_OK;
}

hy_status hy_gguf_open(const char *path, hy_gguf **out) {
    if (!path || !out) return hy_fail(HY_EINVAL, "hy_gguf_open: path or out is NULL");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hy_fail(HY_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return hy_fail(HY_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return hy_fail(HY_EIO, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    void *map = NULL;
    if (size > 0) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return hy_fail(HY_EIO, "%s: cannot mmap %zu bytes: %s", path, size, strerror(e));
        }
    }
    close(fd);
    hy_gguf *g = NULL;
    hy_status st = hy_gguf_open_memory(map, size, path, &g);
    if (st != HY_OK || !g) {
        if (map) munmap(map, size);
        return st ? st : hy_fail(HY_EINVAL, "%s: no handle returned", path);
    }
    g->mapped = map != NULL;
    *out = g;
    return HY_OK;
}

void hy_gguf_close(hy_gguf *g) {
    if (!g) return;
    gguf_free_kvs(g);
    free(g->tensors);
    free(g->ti_offset);
    free(g->tensor_sorted);
    if (g->mapped) munmap((void *)g->base, g->size);
    free(g->path);
    free(g);
}

const char *hy_gguf_path(const hy_gguf *g) {
    return g ? g->path : NULL;
}
uint32_t hy_gguf_version(const hy_gguf *g) {
    return g ? g->version : 0;
}
uint64_t hy_gguf_alignment(const hy_gguf *g) {
    return g ? g->alignment : 0;
}
size_t hy_gguf_file_size(const hy_gguf *g) {
    return g ? g->size : 0;
}
uint64_t hy_gguf_data_offset(const hy_gguf *g) {
    return g ? g->data_offset : 0;
}
