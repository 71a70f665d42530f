/* Sparse decode attention over index sets, one launch per layer whose units (KV heads) have
 * mixed modes: a DENSE unit attends to all lens[b] tokens, a SPARSE unit only to the tokens
 * of its set (token or page granularity, indexset.h), a SKIP unit is left alone. The query
 * heads of a KV head's group share its set. CPU reference in attention_sparse.c; CUDA gather +
 * split-KV in attention_sparse.cu (the same core kernel as dense decode, with an index lookup). */
#ifndef HY_KERNELS_ATTENTION_SPARSE_H
#define HY_KERNELS_ATTENTION_SPARSE_H
#include <stdint.h>

#include "attention_decode.h"
#include "indexset.h"
#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

/* modes[g] (host, n_kv_heads entries) is the mode of KV head g for every sequence
 * (hy_kernel_unit_mode, attention_decode.h: DENSE, SPARSE, or SKIP, which leaves the unit's
 * out rows untouched and reads nothing of its set; other values are HY_EINVAL). Indices must
 * be < lens[b] (pages: page * page_size < lens[b]); the CPU reference returns HY_ERANGE
 * otherwise, the CUDA kernel skips such entries (it never reads outside the cache). A sparse
 * unit with count 0 writes zeros. */
hy_status hy_attn_sparse_f32(float *out, const float *q, const float *k, const float *v,
                             const int32_t *lens, const hy_attn_shape *s, const uint8_t *modes,
                             const hy_indexset *set);

/* CUDA: set->idx/count in device memory; max_count (host) bounds every count. The workspace
 * must cover max(max_len, max_count * page_size) tokens. At most 64 KV heads. */
hy_status hy_cuda_attn_sparse(float *out, const float *q, const void *k, const void *v,
                              hy_kv_dtype dt, const int32_t *lens, int64_t max_len,
                              const hy_attn_shape *s, const uint8_t *modes, const hy_indexset *set,
                              int64_t max_count, hy_cuda_attn_ws *ws, void *stream);

#ifdef __cplusplus
}
#endif
#endif
