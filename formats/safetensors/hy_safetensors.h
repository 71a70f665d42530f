/* formats/safetensors: the reader for Hugging Face safetensors files (one file, or the shards
 * a model.safetensors.index.json names). Layout: an 8-byte little-endian header length N,
 * N bytes of JSON (tensor name -> {dtype, shape, data_offsets}, plus an optional
 * "__metadata__" object of strings), then the data buffer. Everything is validated at open
 * (errors name the file, the tensor or field, the value found and the one expected); then
 * F32, F16 and BF16 tensors convert to fp32. Format notes: docs/safetensors.md. */
#ifndef HY_SAFETENSORS_H
#define HY_SAFETENSORS_H

#include "hy_common.h"

#include <stdint.h>

#define HY_ST_MAX_DIMS 8

/* dtypes of the format; only the first three convert to fp32 here */
typedef enum {
    HY_ST_F32 = 0,
    HY_ST_F16,
    HY_ST_BF16,
    HY_ST_F64,
    HY_ST_I64,
    HY_ST_I32,
    HY_ST_I16,
    HY_ST_I8,
    HY_ST_U8,
    HY_ST_BOOL,
    HY_ST_F8_E4M3,
    HY_ST_F8_E5M2,
    HY_ST_N_DTYPES
} hy_st_dtype;

typedef struct {
    char *name;
    hy_st_dtype dtype;
    int n_dims;
    int64_t shape[HY_ST_MAX_DIMS];
    int64_t n_elements;
    const uint8_t *data; /* inside the mapping */
    uint64_t n_bytes;
} hy_st_tensor;

typedef struct hy_st_file hy_st_file;

/* Opens and validates one file (mmap) / an in-memory image (borrowed; name for messages). */
hy_status hy_st_open(const char *path, hy_st_file **out);
hy_status hy_st_open_memory(const void *buf, size_t size, const char *name, hy_st_file **out);
void hy_st_close(hy_st_file *f);

int64_t hy_st_n_tensors(const hy_st_file *f);
const hy_st_tensor *hy_st_tensor_at(const hy_st_file *f, int64_t i); /* in file order */
/* HY_ENOTFOUND naming the tensor when absent. */
hy_status hy_st_find(const hy_st_file *f, const char *name, const hy_st_tensor **out);
const char *hy_st_dtype_name(hy_st_dtype d);
/* Converts an F32/F16/BF16 tensor to fp32 (dst holds n_elements); other dtypes are
 * HY_EUNSUPPORTED naming the tensor and its dtype. */
hy_status hy_st_tensor_to_f32(const hy_st_tensor *t, float *dst);

#endif
