/* formats/gguf internals shared by the reader files (gguf_read.c, gguf_kv.c, gguf_tensors.c):
 * the handle layout, a bounds-checked cursor over the mapped bytes and little-endian loads.
 * Not installed and not included by other modules; hy_gguf.h is the public contract. */
#ifndef HY_GGUF_INTERNAL_H
#define HY_GGUF_INTERNAL_H

#include "hy_gguf.h"

#include <stdint.h>
#include <string.h>

/* Smallest encodings, used to bound counts by the bytes left before allocating anything:
 * a KV is a key length (8) + value type (4) + at least one value byte; a tensor info is a
 * name length (8) + n_dims (4) + one dim (8) + type (4) + offset (8). */
#define GGUF_MIN_KV_BYTES 13u
#define GGUF_MIN_TI_BYTES 32u
#define GGUF_DEFAULT_ALIGNMENT 32u

typedef struct {
    hy_gguf_str key;
    hy_gguf_vtype type;
    hy_gguf_vtype arr_type; /* element type for arrays, == type for scalars */
    uint64_t n;             /* element count for arrays, 1 for scalars */
    const uint8_t *data;    /* scalar value / first array element (strings: first record) */
    hy_gguf_str str;        /* scalar strings */
    uint64_t *str_off;      /* string arrays: file offset of each record's length prefix */
    size_t offset;          /* file offset where this KV starts (messages) */
} gguf_kv;

struct hy_gguf {
    char *path;
    const uint8_t *base;
    size_t size;
    int mapped; /* munmap on close */
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    gguf_kv *kv;
    gguf_kv **kv_sorted; /* kv sorted by key: duplicate check and binary-search lookup */
    int64_t n_tensors;
    hy_gguf_tensor *tensors;
    size_t *ti_offset;              /* file offset of each tensor info (messages) */
    hy_gguf_tensor **tensor_sorted; /* sorted by name */
};

/* Bounds-checked reads; every failure names the file, the field and the offset. */
typedef struct {
    const uint8_t *base;
    size_t size;
    size_t pos;
    const char *file;
} gguf_cursor;

static inline uint16_t gguf_ld16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t gguf_ld32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t gguf_ld64(const uint8_t *p) {
    return (uint64_t)gguf_ld32(p) | ((uint64_t)gguf_ld32(p + 4) << 32);
}

hy_status gguf_need(gguf_cursor *c, uint64_t n, const char *field);
hy_status gguf_rd_u32(gguf_cursor *c, const char *field, uint32_t *out);
hy_status gguf_rd_u64(gguf_cursor *c, const char *field, uint64_t *out);
/* A gguf string: u64 length + bytes, the length checked against the bytes left. */
hy_status gguf_rd_str(gguf_cursor *c, const char *field, hy_gguf_str *out);

/* Size in bytes of a scalar value type; 0 for STRING, ARRAY and unknown types. */
size_t gguf_vtype_size(uint32_t t);
const char *gguf_vtype_name(uint32_t t);

/* Parse steps of hy_gguf_open_memory, in file order. */
hy_status gguf_parse_kvs(hy_gguf *g, gguf_cursor *c);
hy_status gguf_parse_tensor_infos(hy_gguf *g, gguf_cursor *c);
hy_status gguf_check_tensor_data(hy_gguf *g);
void gguf_free_kvs(hy_gguf *g);

/* Lookup by NUL-terminated name in a name-sorted index; -1 when absent. */
int64_t gguf_find_kv_index(const hy_gguf *g, const char *key);

static inline int gguf_str_cmp(hy_gguf_str a, hy_gguf_str b) {
    size_t n = a.len < b.len ? (size_t)a.len : (size_t)b.len;
    int r = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (r) return r;
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

/* Printable form of a stored name for messages: truncated, control bytes replaced. */
const char *gguf_printable(hy_gguf_str s, char *buf, size_t cap);

#endif
