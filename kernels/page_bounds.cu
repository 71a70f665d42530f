/* Page key bounds on the GPU (page_bounds.h). The fold: a block per (row, page slice), one
 * thread per channel walking the page's keys (each key row is one coalesced read). The
 * scores: a warp per page, 4 channels a lane, the queries in shared memory; a page
 * costs 2 x D bf16 reads against P x D x 2 x 2 bytes of K and V a dense pass would read. */
#include <math.h>

#include "cuda_check.h"
#include "hy_bf16.h"
#include "page_bounds.h"

#define FOLD_SLICES 64
#define SCORE_WARPS 8
#define SCORE_SLICES 64

__global__ void fold_kernel(uint16_t *bmin, uint16_t *bmax, int64_t page_cap, const int32_t *folded,
                            const uint16_t *k, const int32_t *lens, hy_attn_shape s, int P) {
    const int64_t r = blockIdx.y;
    const int nkv = s.n_kv_heads, D = s.head_dim, d = threadIdx.x;
    const int64_t b = r / nkv, g = r % nkv;
    int64_t n = lens[b];
    n = n < 0 ? 0 : (n > s.kv_cap ? s.kv_cap : n);
    int64_t from = folded[r];
    from = from < 0 ? 0 : (from > n ? n : from);
    const uint16_t *kr = k + b * s.seq_stride + g * s.kv_cap * D;
    for (int64_t p = from / P + blockIdx.x; p * P < n; p += gridDim.x) {
        float lo = INFINITY, hi = -INFINITY;
        for (int64_t t = p * P; t < p * P + P && t < n; t++) {
            const float v = hy_bf16_to_f32(kr[t * D + d]);
            lo = fminf(lo, v), hi = fmaxf(hi, v);
        }
        bmin[(r * page_cap + p) * D + d] = hy_bf16_from_f32(lo);
        bmax[(r * page_cap + p) * D + d] = hy_bf16_from_f32(hi);
    }
}

extern "C" hy_status hy_cuda_page_bounds_fold(uint16_t *bmin, uint16_t *bmax, int64_t page_cap,
                                              const int32_t *folded, const uint16_t *k,
                                              const int32_t *lens, int64_t max_len,
                                              const hy_attn_shape *s, int P, void *stream) {
    if (!bmin || !bmax || !folded || !k || !lens || !s || s->batch < 1 || s->n_kv_heads < 1 ||
        P < 1 || s->head_dim < 1 || s->head_dim > 1024 || page_cap < (s->kv_cap + P - 1) / P ||
        max_len < 0 || max_len > s->kv_cap)
        return hy_fail(HY_EINVAL,
                       "page bounds fold CUDA: NULL buffer or bad shape, page size %d, "
                       "page_cap %lld, max_len %lld",
                       P, (long long)page_cap, (long long)max_len);
    const int64_t pages = (max_len + P - 1) / P;
    const unsigned slices = (unsigned)(pages < FOLD_SLICES ? (pages > 0 ? pages : 1) : FOLD_SLICES);
    dim3 grid(slices, (unsigned)((int64_t)s->batch * s->n_kv_heads));
    fold_kernel<<<grid, s->head_dim, 0, (cudaStream_t)stream>>>(bmin, bmax, page_cap, folded, k,
                                                                lens, *s, P);
    HY_CUDA_LAUNCH("fold_kernel");
    return HY_OK;
}

__global__ void __launch_bounds__(SCORE_WARPS * 32)
    bound_scores_kernel(float *scores, int64_t score_stride, int32_t *n_pages, int32_t *folded,
                        const float *q, const uint16_t *bmin, const uint16_t *bmax,
                        int64_t page_cap, const int32_t *lens, hy_attn_shape s, int P, int window) {
    __shared__ __align__(16) float qs[8 * 256];
    const int64_t r = blockIdx.y;
    const int nkv = s.n_kv_heads, D = s.head_dim, G = s.n_heads / nkv;
    const int64_t b = r / nkv, g = r % nkv;
    const int64_t n = lens[b], np = (n + P - 1) / P;
    const int64_t win0 = window > 0 ? (n - window > 0 ? n - window : 0) / P : np;
    const float *qg = q + (b * s.n_heads + g * G) * D;
    for (int i = threadIdx.x; i < G * D; i += blockDim.x)
        qs[i] = qg[i];
    __syncthreads();
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        if (g == 0) n_pages[b] = (int32_t)np;
        folded[r] = (int32_t)n;
    }
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    for (int64_t p = (int64_t)blockIdx.x * SCORE_WARPS + warp; p < np;
         p += (int64_t)gridDim.x * SCORE_WARPS) {
        float acc = 0.f;
        if (p < win0) {
            /* 4 channels a lane: one 8-byte load each of minima and maxima (D % 4 == 0) */
            const uint16_t *mn = bmin + (r * page_cap + p) * D, *mx = bmax + (r * page_cap + p) * D;
            for (int d = lane * 4; d < D; d += 128) {
                const uint2 a = __ldcs(reinterpret_cast<const uint2 *>(mn + d));
                const uint2 z = __ldcs(reinterpret_cast<const uint2 *>(mx + d));
                const float lo[4] = {hy_bf16_to_f32((uint16_t)a.x), hy_bf16_to_f32(a.x >> 16),
                                     hy_bf16_to_f32((uint16_t)a.y), hy_bf16_to_f32(a.y >> 16)};
                const float hi[4] = {hy_bf16_to_f32((uint16_t)z.x), hy_bf16_to_f32(z.x >> 16),
                                     hy_bf16_to_f32((uint16_t)z.y), hy_bf16_to_f32(z.y >> 16)};
                for (int h = 0; h < G; h++) {
                    const float4 qv = *reinterpret_cast<const float4 *>(&qs[h * D + d]);
                    acc += fmaxf(qv.x * lo[0], qv.x * hi[0]) + fmaxf(qv.y * lo[1], qv.y * hi[1]) +
                           fmaxf(qv.z * lo[2], qv.z * hi[2]) + fmaxf(qv.w * lo[3], qv.w * hi[3]);
                }
            }
        }
        for (int off = 16; off > 0; off >>= 1)
            acc += __shfl_xor_sync(0xffffffffu, acc, off);
        if (lane == 0) scores[r * score_stride + p] = p < win0 ? acc : -INFINITY;
    }
}

extern "C" hy_status hy_cuda_page_bound_scores(float *scores, int64_t score_stride,
                                               int32_t *n_pages, int32_t *folded, const float *q,
                                               const uint16_t *bmin, const uint16_t *bmax,
                                               int64_t page_cap, const int32_t *lens,
                                               int64_t max_len, const hy_attn_shape *s, int P,
                                               int window, void *stream) {
    if (!scores || !n_pages || !folded || !q || !bmin || !bmax || !lens || !s || s->batch < 1 ||
        s->n_kv_heads < 1 || s->n_heads % s->n_kv_heads || s->n_heads / s->n_kv_heads > 8 ||
        s->head_dim > 256 || s->head_dim % 4 || P < 1 || window < 0 ||
        page_cap < (s->kv_cap + P - 1) / P || score_stride < page_cap || max_len < 0 ||
        max_len > s->kv_cap)
        return hy_fail(HY_EINVAL,
                       "page bound scores CUDA: NULL buffer or bad shape (GQA <= 8, "
                       "head_dim <= 256 and a multiple of 4), page size %d, window %d, page_cap "
                       "%lld, score_stride "
                       "%lld",
                       P, window, (long long)page_cap, (long long)score_stride);
    const int64_t pages = (max_len + P - 1) / P;
    int64_t slices = (pages + SCORE_WARPS - 1) / SCORE_WARPS;
    slices = slices < 1 ? 1 : (slices > SCORE_SLICES ? SCORE_SLICES : slices);
    dim3 grid((unsigned)slices, (unsigned)((int64_t)s->batch * s->n_kv_heads));
    bound_scores_kernel<<<grid, SCORE_WARPS * 32, 0, (cudaStream_t)stream>>>(
        scores, score_stride, n_pages, folded, q, bmin, bmax, page_cap, lens, *s, P, window);
    HY_CUDA_LAUNCH("bound_scores_kernel");
    return HY_OK;
}
