/* Index sets: the top-k token (or page) indices a select unit publishes and reuse units
 * attend to, one list per (sequence, KV head). Also the page scoring that turns token scores
 * into page scores (a page of P tokens scores the max of its tokens), and the merge of a stored
 * set with the sink and the current window that every sparse unit attends to. CPU in
 * indexset.c, CUDA in indexset.cu. */
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
/* The page scores a page-granularity top-k ranks: hy_page_max_f32's pages, except that pages
 * overlapping the window (p >= floor(max(n_r - window, 0) / P), when window > 0) score -inf,
 * so a top-k with window 0 over them picks its k pages among the middle first, which is what a
 * top-k that knew each row's window would pick; the set merge then adds the window pages.
 * n_pages[r / rows_per_n] = ceil(n_r / P) (the top-k's per-row counts). */
hy_status hy_page_scores_f32(float *pages, int64_t page_stride, int32_t *n_pages, const float *x,
                             int64_t x_stride, int64_t rows, const int32_t *n, int rows_per_n,
                             int page_size, int window);
hy_status hy_cuda_page_scores_f32(float *pages, int64_t page_stride, int32_t *n_pages,
                                  const float *x, int64_t x_stride, int64_t rows, const int32_t *n,
                                  int rows_per_n, int64_t max_n, int page_size, int window,
                                  void *stream);
/* Same on device buffers (n in device memory, max_n on the host bounds the launch). */
hy_status hy_cuda_page_max_f32(float *pages, int64_t page_stride, const float *x, int64_t x_stride,
                               int64_t rows, const int32_t *n, int rows_per_n, int64_t max_n,
                               int page_size, void *stream);

/* Token or page units of a sequence of n tokens, and the merged set a sparse unit attends to:
 * [0, sink) ∪ stored ∪ window, in units of P tokens (P = 1 for tokens), ascending, distinct.
 * stored is ascending (entries below the sink are skipped; the first entry at or after the
 * window's first unit ends it). out must hold n_stored + ceil(sink/P) + ceil(window/P) + 1
 * entries. Returns the count. */
int64_t hy_set_merge(int32_t *out, const int32_t *stored, int64_t n_stored, int64_t n, int P,
                     int sink, int window);

/* hy_set_merge over many rows (every sparse unit of a batch in one call). Row r (< rows) of a
 * sequence of n_r = lens[r / rows_per_n] tokens: out row r = hy_set_merge(stored, n_r, P, sink,
 * window) where stored = store + slot * store_stride with store_n[slot] entries for
 * slot = slots[r] (slots[r] == -1: no stored set, the result is the sink and window only;
 * slots[r] <= -2: the row is skipped, out row, count and rows_read untouched, so one launch
 * can serve the rows of several roles; store_n[slot] < 0 counts as 0). Writes out_idx[r *
 * out_stride ...] and out_count[r]. rows_read (may be NULL): rows_read[r / rows_per_n] += tokens
 * the merged set covers (pages clipped to n_r), the runtime's counter of K/V rows attended. P =
 * page size (1 for tokens). Every row's merge must fit in out_stride entries: store_stride +
 * ceil(sink/P) + ceil(window/P) + 1 always does; a caller that knows its stored sets are shorter
 * may pass less. The CPU version checks every row (lens >= 0, store_n[slot] <= store_stride, the
 * merge fits) before writing anything and returns HY_ERANGE naming the row. The CUDA version (every
 * array in device memory) counts a negative length as 0, clips store_n to store_stride, and
 * marks a row whose merge would not fit with out_count[r] = -1, writing none of its entries
 * and adding nothing to rows_read. Slots must lie within the store (not checkable). */
hy_status hy_set_merge_rows(int32_t *out_idx, int32_t *out_count, int64_t out_stride,
                            const int32_t *store, const int32_t *store_n, int64_t store_stride,
                            const int32_t *slots, int64_t rows, const int32_t *lens, int rows_per_n,
                            int P, int sink, int window, int64_t *rows_read);
hy_status hy_cuda_set_merge_rows(int32_t *out_idx, int32_t *out_count, int64_t out_stride,
                                 const int32_t *store, const int32_t *store_n, int64_t store_stride,
                                 const int32_t *slots, int64_t rows, const int32_t *lens,
                                 int rows_per_n, int P, int sink, int window, int64_t *rows_read,
                                 void *stream);

#ifdef __cplusplus
}
#endif
#endif
