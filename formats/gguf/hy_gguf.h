/* formats/gguf: GGUF v2/v3 reader (mmap, typed metadata, tensor infos), dequantisation of
 * the ggml block types we support, and a writer used by tests to build tiny models.
 * Spec: docs/gguf.md. Everything returned by _borrow/get functions points into the mapping
 * and lives until hy_gguf_close. */
#ifndef HY_GGUF_H
#define HY_GGUF_H

#include "hy_common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ggml tensor types (values as stored in the file). */
typedef enum {
    HY_GGML_F32 = 0,
    HY_GGML_F16 = 1,
    HY_GGML_Q4_0 = 2,
    HY_GGML_Q4_1 = 3,
    HY_GGML_Q5_0 = 6,
    HY_GGML_Q5_1 = 7,
    HY_GGML_Q8_0 = 8,
    HY_GGML_Q4_K = 12,
    HY_GGML_Q5_K = 13,
    HY_GGML_Q6_K = 14,
    HY_GGML_BF16 = 30,
} hy_ggml_type;

/* GGUF metadata value types (values as stored in the file). */
typedef enum {
    HY_GGUF_U8 = 0,
    HY_GGUF_I8 = 1,
    HY_GGUF_U16 = 2,
    HY_GGUF_I16 = 3,
    HY_GGUF_U32 = 4,
    HY_GGUF_I32 = 5,
    HY_GGUF_F32 = 6,
    HY_GGUF_BOOL = 7,
    HY_GGUF_STRING = 8,
    HY_GGUF_ARRAY = 9,
    HY_GGUF_U64 = 10,
    HY_GGUF_I64 = 11,
    HY_GGUF_F64 = 12,
} hy_gguf_vtype;

typedef struct {
    const char *ptr; /* not NUL-terminated: use len */
    uint64_t len;
} hy_gguf_str;

#define HY_GGUF_MAX_DIMS 4

typedef struct {
    hy_gguf_str name;
    hy_ggml_type type;
    uint32_t n_dims;
    int64_t ne[HY_GGUF_MAX_DIMS]; /* ne[0] is the contiguous (row) dimension, as in ggml */
    int64_t n_elements;
    uint64_t offset; /* relative to the start of the data section */
    uint64_t nbytes;
    const void *data; /* points into the mapping */
} hy_gguf_tensor;

typedef struct hy_gguf hy_gguf;

/* Maps and validates the whole file: header, every KV, every tensor info (type known or
 * not, dims, offsets aligned and inside the file, no overlaps). Errors name the file, the
 * field or tensor and the byte offset. */
hy_status hy_gguf_open(const char *path, hy_gguf **out);
/* Same, over a caller-owned buffer (fuzzing, tests); the buffer must outlive the handle. */
hy_status hy_gguf_open_memory(const void *data, size_t size, const char *name, hy_gguf **out);
void hy_gguf_close(hy_gguf *g);

const char *hy_gguf_path(const hy_gguf *g);
uint32_t hy_gguf_version(const hy_gguf *g);
uint64_t hy_gguf_alignment(const hy_gguf *g);
size_t hy_gguf_file_size(const hy_gguf *g);

/* Metadata. Index-based access for listing; key-based getters for use. */
int64_t hy_gguf_n_kv(const hy_gguf *g);
int64_t hy_gguf_find_kv(const hy_gguf *g, const char *key); /* -1 when absent */
hy_gguf_str hy_gguf_kv_key(const hy_gguf *g, int64_t i);
hy_gguf_vtype hy_gguf_kv_type(const hy_gguf *g, int64_t i);
/* For arrays: element type and count; for scalars returns the type and count 1. */
hy_gguf_vtype hy_gguf_kv_arr_type(const hy_gguf *g, int64_t i);
uint64_t hy_gguf_kv_arr_len(const hy_gguf *g, int64_t i);

/* Typed getters by key. Integer getters accept any integer type whose value fits (and bool
 * for _u32), and fail with HY_ENOTFOUND (absent) or HY_EFORMAT (wrong type / out of range),
 * the message naming the key, the type found and the type expected. */
hy_status hy_gguf_get_u32(const hy_gguf *g, const char *key, uint32_t *out);
hy_status hy_gguf_get_i64(const hy_gguf *g, const char *key, int64_t *out);
hy_status hy_gguf_get_f32(const hy_gguf *g, const char *key, float *out); /* F32 or F64 */
hy_status hy_gguf_get_bool(const hy_gguf *g, const char *key, bool *out);
hy_status hy_gguf_get_str(const hy_gguf *g, const char *key, hy_gguf_str *out);
/* Arrays: element type and count; numeric element data is a borrowed pointer to packed
 * little-endian values (may be unaligned: read with memcpy). */
hy_status hy_gguf_get_arr(const hy_gguf *g, const char *key, hy_gguf_vtype *elem_type, uint64_t *n,
                          const void **data);
/* String arrays: the idx-th string (O(1): offsets are indexed at open). */
hy_status hy_gguf_get_arr_str(const hy_gguf *g, const char *key, uint64_t idx, hy_gguf_str *out);

/* Tensors. */
int64_t hy_gguf_n_tensors(const hy_gguf *g);
const hy_gguf_tensor *hy_gguf_tensor_at(const hy_gguf *g, int64_t i);
/* HY_ENOTFOUND naming the tensor when absent. */
hy_status hy_gguf_find_tensor(const hy_gguf *g, const char *name, const hy_gguf_tensor **out);

/* Block types: elements per block and bytes per block; 0 for unknown types. */
int64_t hy_ggml_block_elems(hy_ggml_type t);
size_t hy_ggml_block_bytes(hy_ggml_type t);
const char *hy_ggml_type_name(hy_ggml_type t); /* "Q4_1", or "type#N" for unknown */
bool hy_ggml_type_supported(hy_ggml_type t);   /* dequantisable by hy_ggml_dequantize */

/* Dequantises n elements (a multiple of the block size) from src to fp32. */
hy_status hy_ggml_dequantize(hy_ggml_type t, const void *src, float *dst, int64_t n);
/* Dequantises a whole tensor into dst (n_elements floats). */
hy_status hy_gguf_tensor_to_f32(const hy_gguf_tensor *t, float *dst);
/* Quantises n fp32 values (multiple of the block size) to type t; supports every type in
 * hy_ggml_type except Q5_0, Q5_1 and Q5_K, which are read-only (HY_EUNSUPPORTED): hylra
 * writes GGUFs for tests only (Q4_K/Q6_K by a simple per-block search, good enough there). */
hy_status hy_ggml_quantize(hy_ggml_type t, const float *src, void *dst, int64_t n);

/* Writer: collect KVs and tensors, then write a v3 file with the given alignment. */
typedef struct hy_gguf_writer hy_gguf_writer;
hy_status hy_gguf_writer_create(hy_gguf_writer **out);
void hy_gguf_writer_free(hy_gguf_writer *w);
hy_status hy_gguf_writer_set_u32(hy_gguf_writer *w, const char *key, uint32_t v);
hy_status hy_gguf_writer_set_i32(hy_gguf_writer *w, const char *key, int32_t v);
hy_status hy_gguf_writer_set_f32(hy_gguf_writer *w, const char *key, float v);
hy_status hy_gguf_writer_set_bool(hy_gguf_writer *w, const char *key, bool v);
hy_status hy_gguf_writer_set_str(hy_gguf_writer *w, const char *key, const char *v);
/* Numeric array of n elements of elem_type, packed little-endian in data. */
hy_status hy_gguf_writer_set_arr(hy_gguf_writer *w, const char *key, hy_gguf_vtype elem_type,
                                 const void *data, uint64_t n);
hy_status hy_gguf_writer_set_arr_str(hy_gguf_writer *w, const char *key, const char *const *strs,
                                     uint64_t n);
/* Adds a tensor from fp32 values, quantised to type (data copied). */
hy_status hy_gguf_writer_add_tensor_f32(hy_gguf_writer *w, const char *name, hy_ggml_type type,
                                        uint32_t n_dims, const int64_t *ne, const float *values);
hy_status hy_gguf_writer_write(hy_gguf_writer *w, const char *path, uint32_t alignment);
/* Same, into a malloc'd buffer the caller frees (tests, fuzz corpus). */
hy_status hy_gguf_writer_write_memory(hy_gguf_writer *w, uint32_t alignment, void **buf,
                                      size_t *size);

/* ---- Additions beyond the first contract (same conventions) ---- */

/* File offset where tensor data starts (tensor offsets are relative to it). */
uint64_t hy_gguf_data_offset(const hy_gguf *g);
/* Unsigned / double getters: any integer type whose value fits; F32 or F64. */
hy_status hy_gguf_get_u64(const hy_gguf *g, const char *key, uint64_t *out);
hy_status hy_gguf_get_f64(const hy_gguf *g, const char *key, double *out);
/* True for every type id ggml defines (the reader opens files holding them; only
 * hy_ggml_type_supported types dequantise). */
bool hy_ggml_type_known(hy_ggml_type t);
/* IEEE half conversions (round to nearest even; NaN stays NaN); bfloat16's are in
 * common/hy_bf16.h. */
float hy_fp16_to_f32(uint16_t h);
uint16_t hy_f32_to_fp16(float f);
/* Writer: any scalar type (value points to one little-endian value of that type). */
hy_status hy_gguf_writer_set_scalar(hy_gguf_writer *w, const char *key, hy_gguf_vtype type,
                                    const void *value);
/* Writer: a tensor from already-encoded block bytes (nbytes must match the shape).
 * Note: writing with an alignment other than 32 adds a general.alignment u32 KV to the
 * writer (readers need it), so a later write must use the same alignment. */
hy_status hy_gguf_writer_add_tensor_raw(hy_gguf_writer *w, const char *name, hy_ggml_type type,
                                        uint32_t n_dims, const int64_t *ne, const void *data,
                                        size_t nbytes);

#endif
