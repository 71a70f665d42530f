/* Top-k selection per row of scores, with the sink and window merged in. CPU reference in
 * topk.c (a readable partial selection), CUDA radix select in topk.cu (no full sort).
 * Row r has n_r = n[r / rows_per_n] valid scores (rows_per_n = n_kv_heads when rows are
 * (sequence, KV head) pairs). The set is: tokens [0, sink) and [n_r - window, n_r) always,
 * plus the k best of the tokens in between (the sink and window do not count against k).
 * Best = higher score; equal scores -> lower index; NaN ranks below every number. If the
 * middle holds <= k tokens, all are taken. Output: ascending indices in idx[r * idx_stride..],
 * their number in count[r]; idx_stride >= k + sink + window. */
#ifndef HY_KERNELS_TOPK_H
#define HY_KERNELS_TOPK_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

#define HY_TOPK_MAX_K 8192

hy_status hy_topk_rows_f32(int32_t *idx, int32_t *count, int64_t idx_stride, const float *x,
                           int64_t x_stride, int64_t rows, const int32_t *n, int rows_per_n, int k,
                           int sink, int window);

/* Device buffers; max_n (host) bounds every n_r. Each row is handled by a cluster of 1-8 blocks
 * (chosen to fill the SMs), in 2 to 4 radix passes over it. */
hy_status hy_cuda_topk_rows_f32(int32_t *idx, int32_t *count, int64_t idx_stride, const float *x,
                                int64_t x_stride, int64_t rows, const int32_t *n, int rows_per_n,
                                int64_t max_n, int k, int sink, int window, void *stream);

#ifdef __cplusplus
}
#endif
#endif
