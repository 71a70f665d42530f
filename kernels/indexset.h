/* Index sets: the top-k token (or page) indices a select unit publishes and reuse units
 * attend to, one list per (sequence, KV head). Also the page scoring that turns token scores
 * into page scores (a page of P tokens scores the max of its tokens). CPU in indexset.c,
 * CUDA in indexset.cu. */
#ifndef HY_KERNELS_INDEXSET_H
#define HY_KERNELS_INDEXSET_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

/* idx[(b * n_kv_heads + g) * stride + i], i < count[b * n_kv_heads + g]: token indices, or page
 * indices (page p = tokens p*page_size .. p*page_size + page_size - 1, clipped to the
 * sequence length). Entries are distinct; ascending order is what hy_topk produces. On the
 * GPU both arrays live in device memory. */
typedef struct {
    int32_t *idx;
    int32_t *count;
    int64_t stride;
    hy_granularity gran;
    int page_size; /* 1 for token granularity */
} hy_indexset;

/* pages[r][p] = max(x[r][p*P .. min(p*P+P, n_r) - 1]) for p < ceil(n_r / P), where
 * n_r = n[r / rows_per_n]. NaN scores count as -inf. */
hy_status hy_page_max_f32(float *pages, int64_t page_stride, const float *x, int64_t x_stride,
                          int64_t rows, const int32_t *n, int rows_per_n, int page_size);
/* Same on device buffers (n in device memory, max_n on the host bounds the launch). */
hy_status hy_cuda_page_max_f32(float *pages, int64_t page_stride, const float *x, int64_t x_stride,
                               int64_t rows, const int32_t *n, int rows_per_n, int64_t max_n,
                               int page_size, void *stream);

#ifdef __cplusplus
}
#endif
#endif
