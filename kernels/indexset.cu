/* CUDA index-set operations (indexset.h). Page scoring: one thread per page takes the max of
 * its P token scores; bound: one read of the scores and a P-times smaller write. Batched set
 * merge: one block per row, the stored set split into one contiguous chunk per thread; the
 * serial merge's "keep t if it exceeds everything kept before" becomes a block-wide max scan
 * over the chunks and the output positions a block-wide sum scan, so the result equals
 * hy_set_merge for any input, sorted or not. A row whose merge would not fit in out_stride is
 * marked with count -1 (a kernel cannot return an error; the CPU reference does). Bound: one
 * read of the stored set (8192 entries = 32 KB a row at most) and one write of the merged row. */
#include <limits.h>
#include <math.h>

#include "cuda_check.h"
#include "indexset.h"

__global__ void page_max_kernel(float *pages, int64_t page_stride, const float *x, int64_t x_stride,
                                const int32_t *n, int rows_per_n, int P) {
    const int64_t r = blockIdx.y;
    const int64_t nr = n[r / rows_per_n];
    const int64_t p = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (p * P >= nr) return;
    float m = -INFINITY;
    for (int64_t t = p * P; t < p * P + P && t < nr; t++)
        m = fmaxf(m, x[r * x_stride + t]);
    pages[r * page_stride + p] = m;
}

extern "C" hy_status hy_cuda_page_max_f32(float *pages, int64_t page_stride, const float *x,
                                          int64_t x_stride, int64_t rows, const int32_t *n,
                                          int rows_per_n, int64_t max_n, int page_size,
                                          void *stream) {
    if (!pages || !x || !n || rows < 0 || rows_per_n < 1 || page_size < 1 || max_n < 0 ||
        max_n > x_stride || (max_n + page_size - 1) / page_size > page_stride)
        return hy_fail(HY_EINVAL,
                       "page max CUDA: NULL buffer or rows %lld, page_size %d, max_n "
                       "%lld, x_stride %lld, page_stride %lld",
                       (long long)rows, page_size, (long long)max_n, (long long)x_stride,
                       (long long)page_stride);
    const int64_t np = (max_n + page_size - 1) / page_size;
    if (rows == 0 || np == 0) return HY_OK;
    dim3 grid((unsigned)((np + 255) / 256), (unsigned)rows);
    page_max_kernel<<<grid, 256, 0, (cudaStream_t)stream>>>(pages, page_stride, x, x_stride, n,
                                                            rows_per_n, page_size);
    HY_CUDA_LAUNCH("page_max_kernel");
    return HY_OK;
}

__global__ void page_scores_kernel(float *pages, int64_t page_stride, int32_t *n_pages,
                                   const float *x, int64_t x_stride, const int32_t *n,
                                   int rows_per_n, int P, int window) {
    const int64_t r = blockIdx.y;
    const int64_t nr = n[r / rows_per_n];
    const int64_t p = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (p == 0 && r % rows_per_n == 0) n_pages[r / rows_per_n] = (int32_t)((nr + P - 1) / P);
    if (p * P >= nr) return;
    float m = -INFINITY;
    if (window <= 0 || p < (nr - window > 0 ? nr - window : 0) / P)
        for (int64_t t = p * P; t < p * P + P && t < nr; t++)
            m = fmaxf(m, x[r * x_stride + t]);
    pages[r * page_stride + p] = m;
}

extern "C" hy_status hy_cuda_page_scores_f32(float *pages, int64_t page_stride, int32_t *n_pages,
                                             const float *x, int64_t x_stride, int64_t rows,
                                             const int32_t *n, int rows_per_n, int64_t max_n,
                                             int page_size, int window, void *stream) {
    if (!pages || !n_pages || !x || !n || rows < 0 || rows_per_n < 1 || page_size < 1 ||
        window < 0 || max_n < 0 || max_n > x_stride ||
        (max_n + page_size - 1) / page_size > page_stride)
        return hy_fail(HY_EINVAL,
                       "page scores CUDA: NULL buffer or rows %lld, page_size %d, window %d, "
                       "max_n %lld, x_stride %lld, page_stride %lld",
                       (long long)rows, page_size, window, (long long)max_n, (long long)x_stride,
                       (long long)page_stride);
    const int64_t np = (max_n + page_size - 1) / page_size;
    if (rows == 0) return HY_OK;
    dim3 grid((unsigned)((np + 255) / 256 > 0 ? (np + 255) / 256 : 1), (unsigned)rows);
    page_scores_kernel<<<grid, 256, 0, (cudaStream_t)stream>>>(
        pages, page_stride, n_pages, x, x_stride, n, rows_per_n, page_size, window);
    HY_CUDA_LAUNCH("page_scores_kernel");
    return HY_OK;
}

#define HY_MERGE_THREADS 256
#define HY_MERGE_WARPS (HY_MERGE_THREADS / 32)

struct hy_max_op {
    __device__ long long operator()(long long a, long long b) const {
        return a > b ? a : b;
    }
};
struct hy_min_op {
    __device__ long long operator()(long long a, long long b) const {
        return a < b ? a : b;
    }
};
struct hy_add_op {
    __device__ long long operator()(long long a, long long b) const {
        return a + b;
    }
};

/* Exclusive scan of v over the block's threads in thread order (thread 0 gets id); *total
 * receives the op over all of them. Every thread of the block must call it. */
template <typename Op>
__device__ long long hy_block_scan(long long v, long long id, Op op, long long *total) {
    __shared__ long long sm[HY_MERGE_WARPS];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    long long inc = v;
    for (int o = 1; o < 32; o <<= 1) {
        const long long y = __shfl_up_sync(0xffffffffu, inc, o);
        if (lane >= o) inc = op(inc, y);
    }
    if (lane == 31) sm[warp] = inc;
    __syncthreads();
    if (warp == 0) {
        long long w = lane < HY_MERGE_WARPS ? sm[lane] : id;
        for (int o = 1; o < 32; o <<= 1) {
            const long long y = __shfl_up_sync(0xffffffffu, w, o);
            if (lane >= o) w = op(w, y);
        }
        if (lane < HY_MERGE_WARPS) sm[lane] = w; /* inclusive over warps 0..lane */
    }
    __syncthreads();
    long long before = __shfl_up_sync(0xffffffffu, inc, 1);
    if (lane == 0) before = id;
    const long long res = warp > 0 ? op(sm[warp - 1], before) : before;
    *total = sm[HY_MERGE_WARPS - 1];
    __syncthreads(); /* sm is free for the next call */
    return res;
}

__global__ void __launch_bounds__(HY_MERGE_THREADS)
    set_merge_rows_kernel(int32_t *out_idx, int32_t *out_count, int64_t out_stride,
                          const int32_t *store, const int32_t *store_n, int64_t store_stride,
                          const int32_t *slots, const int32_t *lens, int rows_per_n, int P,
                          int sink, int window, unsigned long long *rows_read) {
    const int64_t r = blockIdx.x;
    const int tid = threadIdx.x, nt = blockDim.x;
    if (slots[r] <= -2) return; /* skipped row: uniform over the block */
    int64_t n = lens[r / rows_per_n];
    if (n < 0) n = 0;
    /* the unit bounds of hy_set_merge */
    const int64_t units = (n + P - 1) / P;
    int64_t sink_u = ((int64_t)sink + P - 1) / P;
    if (sink_u > units) sink_u = units;
    const int64_t win_u = window > 0 ? (n - window > 0 ? n - window : 0) / P : units;
    int32_t *out = out_idx + r * out_stride;
    if (sink_u >= win_u) { /* sink and window meet: every unit, n tokens */
        if (units > out_stride) {
            if (tid == 0) out_count[r] = -1; /* does not fit: marked, nothing written */
            return;
        }
        for (int64_t t = tid; t < units; t += nt)
            out[t] = (int32_t)t;
        if (tid == 0) {
            out_count[r] = (int32_t)units;
            if (rows_read) atomicAdd(rows_read + r / rows_per_n, (unsigned long long)n);
        }
        return;
    }
    const int32_t slot = slots[r];
    int64_t ns = 0;
    const int32_t *st = store;
    if (slot >= 0) {
        ns = store_n[slot];
        ns = ns < 0 ? 0 : (ns > store_stride ? store_stride : ns);
        st = store + (int64_t)slot * store_stride;
    }
    const int64_t chunk = (ns + nt - 1) / nt;
    const int64_t b0 = min((int64_t)tid * chunk, ns), b1 = min(b0 + chunk, ns);
    /* the serial merge stops at the first entry at or after the window: find it */
    int64_t brk = ns; /* no stop in this chunk */
    long long cmax = LLONG_MIN;
    for (int64_t i = b0; i < b1; i++) {
        const int32_t t = st[i];
        if (t >= win_u) {
            brk = i;
            break;
        }
        cmax = t > cmax ? t : cmax;
    }
    long long limit;
    hy_block_scan(brk, LLONG_MAX, hy_min_op(), &limit);
    const int64_t e1 = b1 < limit ? b1 : limit; /* this thread's entries: [b0, e1) */
    if (e1 <= b0) cmax = LLONG_MIN;
    /* entry t is kept iff it exceeds sink_u - 1 and every entry before it */
    long long unused;
    const long long before = hy_block_scan(cmax, LLONG_MIN, hy_max_op(), &unused);
    const long long run0 = before > sink_u - 1 ? before : sink_u - 1;
    long long run = run0, cnt = 0;
    for (int64_t i = b0; i < e1; i++) {
        const int32_t t = st[i];
        if (t > run) cnt++, run = t;
    }
    long long kept;
    const long long off = hy_block_scan(cnt, 0, hy_add_op(), &kept);
    const int64_t nw = units - win_u;
    if (sink_u + kept + nw > out_stride) { /* the same for every thread: no barrier follows */
        if (tid == 0) out_count[r] = -1;
        return;
    }
    int64_t w = sink_u + off;
    long long tok = 0;
    run = run0;
    for (int64_t i = b0; i < e1; i++) {
        const int32_t t = st[i];
        if (t > run) {
            run = t;
            out[w++] = t;
            const int64_t left = n - (int64_t)t * P; /* > 0: t < win_u <= units */
            tok += left < P ? left : P;
        }
    }
    for (int64_t t = tid; t < sink_u; t += nt)
        out[t] = (int32_t)t;
    for (int64_t j = tid; j < nw; j += nt)
        out[sink_u + kept + j] = (int32_t)(win_u + j);
    if (rows_read) {
        long long tok_all;
        hy_block_scan(tok, 0, hy_add_op(), &tok_all);
        /* the sink's units are whole pages (sink_u < win_u <= units); the window's end at n */
        tok_all += sink_u * P + (nw > 0 ? n - win_u * P : 0);
        if (tid == 0) atomicAdd(rows_read + r / rows_per_n, (unsigned long long)tok_all);
    }
    if (tid == 0) out_count[r] = (int32_t)(sink_u + kept + nw);
}

extern "C" hy_status hy_cuda_set_merge_rows(int32_t *out_idx, int32_t *out_count,
                                            int64_t out_stride, const int32_t *store,
                                            const int32_t *store_n, int64_t store_stride,
                                            const int32_t *slots, int64_t rows, const int32_t *lens,
                                            int rows_per_n, int P, int sink, int window,
                                            int64_t *rows_read, void *stream) {
    if (rows < 0 || rows > 0x7fffffff || rows_per_n < 1 || P < 1 || sink < 0 || window < 0 ||
        store_stride < 0 || out_stride < 0)
        return hy_fail(HY_EINVAL,
                       "set_merge_rows CUDA: rows %lld, rows_per_n %d, P %d, sink %d, window %d, "
                       "store_stride %lld, out_stride %lld: expected rows 0..2^31-1, "
                       "rows_per_n >= 1, P >= 1, the rest >= 0",
                       (long long)rows, rows_per_n, P, sink, window, (long long)store_stride,
                       (long long)out_stride);
    if (!rows) return HY_OK;
    if (!out_idx || !out_count || !store || !store_n || !slots || !lens)
        return hy_fail(HY_EINVAL, "set_merge_rows CUDA: NULL array (only rows_read may be NULL)");
    set_merge_rows_kernel<<<(unsigned)rows, HY_MERGE_THREADS, 0, (cudaStream_t)stream>>>(
        out_idx, out_count, out_stride, store, store_n, store_stride, slots, lens, rows_per_n, P,
        sink, window, reinterpret_cast<unsigned long long *>(rows_read));
    HY_CUDA_LAUNCH("set_merge_rows_kernel");
    return HY_OK;
}
