/* Quest-style page key bounds on the bf16 KV cache: per (sequence, KV head) row, each page of
 * P keys keeps the per-channel minimum and maximum of its keys, and a query group's upper
 * bound on q.k over a page, sum_h sum_c max(q_hc min_pc, q_hc max_pc), ranks the pages
 * without reading them. CPU references in page_bounds.c (the CPU runtime's BOUNDS mode,
 * runtime/attn_mode_bounds.c, is the same math on its fp32 cache), CUDA in page_bounds.cu.
 * Bounds are bf16: the min and max of bf16 keys are bf16 keys, so nothing is rounded. */
#ifndef HY_KERNELS_PAGE_BOUNDS_H
#define HY_KERNELS_PAGE_BOUNDS_H
#include <stdint.h>

#include "attention_decode.h"
#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

/* Rows r = b * n_kv_heads + g (b < s->batch). Row r's keys: k + b * s->seq_stride +
 * g * s->kv_cap * D (the cache layout of attention_decode.h), n_r = lens[b] of them. Its
 * bounds: bmin/bmax + r * page_cap * D, [page][D]. Folding brings row r's bounds up to date:
 * pages floor(folded[r] / P) .. ceil(n_r / P) - 1 are recomputed from the keys (the first of
 * them may have been partial), then folded[r] = n_r (the CPU writes it; the CUDA fold leaves
 * it to hy_cuda_page_bound_scores, which runs next, so no block reads a value another block
 * changed). page_cap >= ceil(kv_cap / P). */
hy_status hy_page_bounds_fold(uint16_t *bmin, uint16_t *bmax, int64_t page_cap, int32_t *folded,
                              const uint16_t *k, const int32_t *lens, const hy_attn_shape *s,
                              int P);
hy_status hy_cuda_page_bounds_fold(uint16_t *bmin, uint16_t *bmax, int64_t page_cap,
                                   const int32_t *folded, const uint16_t *k, const int32_t *lens,
                                   int64_t max_len, const hy_attn_shape *s, int P, void *stream);

/* scores[r * score_stride + p] for p < ceil(n_r / P): the bound above, q the row's group of
 * query heads (q + (b * n_heads + g * G) * D, fp32); pages overlapping the window
 * [n_r - window, n_r) score -inf (as hy_page_scores_f32, so a top-k with window 0 picks
 * among the middle first). n_pages[b] = ceil(n_r / P); folded[r] = n_r (see the fold). */
hy_status hy_page_bound_scores(float *scores, int64_t score_stride, int32_t *n_pages,
                               int32_t *folded, const float *q, const uint16_t *bmin,
                               const uint16_t *bmax, int64_t page_cap, const int32_t *lens,
                               const hy_attn_shape *s, int P, int window);
hy_status hy_cuda_page_bound_scores(float *scores, int64_t score_stride, int32_t *n_pages,
                                    int32_t *folded, const float *q, const uint16_t *bmin,
                                    const uint16_t *bmax, int64_t page_cap, const int32_t *lens,
                                    int64_t max_len, const hy_attn_shape *s, int P, int window,
                                    void *stream);

#ifdef __cplusplus
}
#endif
#endif
