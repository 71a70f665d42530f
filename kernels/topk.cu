/* CUDA top-k per row with sink and window merged in (topk.h): radix select without a sort.
 * A row is served by C blocks of 1024 threads: C = 8, 4 or 2 (a thread-block cluster, each
 * block a slice of the row, histograms summed through distributed shared memory) when few
 * long rows would leave the chip idle, C = 1 otherwise. Scores become order-preserving
 * 32-bit keys; up to three histogram passes (11, 11, 10 bits, shared-memory atomics, 8
 * independent 16-byte loads per thread in flight) narrow down the k-th largest key, stopping
 * early once its bucket is taken whole; the scans that find the bucket also count what each
 * block takes, and one last pass writes the indices in ascending order, 16 scores per thread
 * per tile (ties: the lowest indices of the threshold key). Bound: instruction issue on the
 * SMs that hold the row (ncu: ~64% issue-busy there) and the barriers between passes. */
#include <cooperative_groups.h>
#include <math.h>
#include <stdint.h>

#include "cuda_bench.h"
#include "cuda_check.h"
#include "topk.h"

#define TOPK_THREADS 1024
namespace cg = cooperative_groups;
#define TOPK_UNROLL 8

/* Larger float -> larger key; NaN -> 0 (below everything); -0 and +0 equal. */
__device__ __forceinline__ uint32_t topk_key(float x) {
    if (isnan(x)) return 0u;
    uint32_t u = x == 0.f ? 0u : __float_as_uint(x);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* Inclusive block scan of one int per thread (blockDim.x == TOPK_THREADS). */
__device__ __forceinline__ int topk_block_scan(int v, int *sm_warp) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const int y = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += y;
    }
    if (lane == 31) sm_warp[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int w = sm_warp[lane];
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const int y = __shfl_up_sync(0xffffffffu, w, o);
            if (lane >= o) w += y;
        }
        sm_warp[lane] = w;
    }
    __syncthreads();
    const int r = v + (warp ? sm_warp[warp - 1] : 0);
    __syncthreads(); /* sm_warp is reused by the next call */
    return r;
}

/* Number of t in [a, b) that lie outside the middle [lo, hi). */
__device__ __forceinline__ int64_t topk_outside(int64_t a, int64_t b, int64_t lo, int64_t hi) {
    if (b <= a) return 0;
    const int64_t in = (b < hi ? b : hi) - (a > lo ? a : lo);
    return (b - a) - (in > 0 ? in : 0);
}

template <int C>
__global__ void __launch_bounds__(TOPK_THREADS)
    topk_kernel(int32_t *idx, int32_t *count, int64_t idx_stride, const float *x, int64_t x_stride,
                const int32_t *n, int rows_per_n, int k, int sink, int window) {
    __shared__ int hist[2048];
    __shared__ int sm_warp[32];
    __shared__ uint32_t sm_prefix, sm_mask;
    __shared__ int sm_kk, sm_done, sm_above, sm_eq, sm_base;
    __shared__ int sm_tot[2]; /* this block's taken and threshold-equal counts */
    const int rank = C > 1 ? (int)cg::this_cluster().block_rank() : 0;
    const int64_t r = blockIdx.y;
    const int tid = threadIdx.x;
    const int64_t nr = n[r / rows_per_n];
    const int64_t lo = sink < nr ? sink : nr;
    const int64_t hi = nr - window > lo ? nr - window : lo;
    const float4 *x4 = reinterpret_cast<const float4 *>(x + r * x_stride);
    int32_t *out = idx + r * idx_stride;
    const bool all = hi - lo <= k;
    /* this block's slice of the row, in quads of 4 scores */
    const int64_t nq = (nr + 3) / 4, per = (nq + C - 1) / C;
    const int64_t qa = (int64_t)rank * per < nq ? (int64_t)rank * per : nq;
    const int64_t qb = qa + per < nq ? qa + per : nq;
    const int64_t ta = qa * 4 < nr ? qa * 4 : nr, tb = qb * 4 < nr ? qb * 4 : nr;

    uint32_t prefix = 0u, mask = 0u;
    int kk = k, done = all || k == 0, above = 0, eq_local = 0;
    if (k == 0) prefix = mask = 0xffffffffu, kk = 0; /* no key reaches this: none taken */
    for (int pass = 0; pass < 3 && !done; pass++) {
        const int shift = pass == 0 ? 21 : (pass == 1 ? 10 : 0), nb = pass == 2 ? 1024 : 2048;
        for (int i = tid; i < nb; i += TOPK_THREADS)
            hist[i] = 0;
        __syncthreads();
        /* the scores this block counts: [r0, r1) = its slice within the middle; 32-bit
         * positions (n <= 2^30) and one unsigned compare per score keep the issue down */
        const int r0 = (int)(ta > lo ? ta : lo), r1 = (int)(tb < hi ? tb : hi);
        const unsigned span = r1 > r0 ? (unsigned)(r1 - r0) : 0u;
        const int q0 = r0 / 4, q1 = (r1 + 3) / 4;
        for (int qb0 = q0; qb0 < q1; qb0 += TOPK_THREADS * TOPK_UNROLL) {
            float4 f[TOPK_UNROLL];
#pragma unroll
            for (int u = 0; u < TOPK_UNROLL; u++) {
                const int q = qb0 + tid + u * TOPK_THREADS;
                f[u] = q < q1 ? __ldg(x4 + q) : make_float4(0.f, 0.f, 0.f, 0.f);
            }
#pragma unroll
            for (int u = 0; u < TOPK_UNROLL; u++) {
                const int q = qb0 + tid + u * TOPK_THREADS;
                const float fv[4] = {f[u].x, f[u].y, f[u].z, f[u].w};
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    if ((unsigned)(q * 4 + j - r0) >= span) continue;
                    const uint32_t key = topk_key(fv[j]);
                    if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & (nb - 1)], 1);
                }
            }
        }
        if (C > 1)
            cg::this_cluster().sync(); /* every block's histogram is complete */
        else
            __syncthreads();
        /* thread i owns bins nb-1-2i and nb-2-2i: sums them over the cluster, then a scan
         * from the top finds the bucket holding the kk-th largest; a second scan over this
         * block's own counts says how many of its elements lie above that bucket */
        const int b1 = nb - 1 - 2 * tid, b2 = b1 - 1;
        const int l1 = b1 >= 0 ? hist[b1] : 0, l2 = b2 >= 0 ? hist[b2] : 0;
        int h1 = l1, h2 = l2; /* one block per row: the block's counts are the row's */
        if (C > 1) {
            cg::cluster_group cl = cg::this_cluster();
            h1 = h2 = 0;
            for (int j = 0; j < C; j++) {
                const int *rh = cl.map_shared_rank(hist, j);
                h1 += b1 >= 0 ? rh[b1] : 0;
                h2 += b2 >= 0 ? rh[b2] : 0;
            }
            cl.sync(); /* all remote reads done before anyone clears its histogram */
        }
        const int incl = topk_block_scan(h1 + h2, sm_warp);
        const int lincl = C > 1 ? topk_block_scan(l1 + l2, sm_warp) : incl;
        const int excl = incl - h1 - h2, lexcl = lincl - l1 - l2;
        if (excl < kk && kk <= incl) {
            const bool first = excl + h1 >= kk;
            const int bin = first ? b1 : b2;
            const int kk_new = first ? kk - excl : kk - excl - h1;
            sm_prefix = prefix | ((uint32_t)bin << shift);
            sm_mask = mask | ((uint32_t)(nb - 1) << shift);
            sm_kk = kk_new;
            sm_done = (first ? h1 : h2) == kk_new; /* the bucket is taken whole */
            sm_above = first ? lexcl : lexcl + l1;
            sm_eq = first ? l1 : l2;
        }
        __syncthreads();
        prefix = sm_prefix, mask = sm_mask, kk = sm_kk, done = sm_done;
        above += sm_above;
        eq_local = sm_eq;
        __syncthreads();
    }
    /* what this block takes: its sink/window tokens, the middle ones above the threshold
     * bucket, and (cluster-wide) the first kk of those equal to it */
    if (tid == 0) {
        sm_tot[0] = (int)(all ? tb - ta : topk_outside(ta, tb, lo, hi) + above);
        sm_tot[1] = all ? 0 : eq_local;
    }
    int take_before = 0, eq_before = 0, take_all = 0, eq_all = 0;
    if (C > 1) {
        cg::cluster_group cl = cg::this_cluster();
        cl.sync();
        for (int j = 0; j < C; j++) {
            const int *rt = cl.map_shared_rank(sm_tot, j);
            const int t0 = rt[0], t1 = rt[1];
            if (j < rank) take_before += t0, eq_before += t1;
            take_all += t0, eq_all += t1;
        }
        cl.sync(); /* remote reads done: blocks may now exit */
    } else {
        __syncthreads();
        take_all = sm_tot[0], eq_all = sm_tot[1];
    }
    if (rank == 0 && tid == 0) count[r] = take_all + min(eq_all, kk);
    if (tid == 0) sm_base = take_before + min(eq_before, kk);
    int eq_base = eq_before;
    __syncthreads();
    /* tiles of 4 consecutive quads (16 scores) per thread; all four loads issued first */
    for (int64_t q0 = qa; q0 < qb; q0 += (int64_t)TOPK_THREADS * 4) {
        const int64_t qt = q0 + (int64_t)tid * 4;
        float4 f[4];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const int64_t q = qt + u;
            f[u] = make_float4(0.f, 0.f, 0.f, 0.f);
            if (q < qb && !all && q * 4 + 3 >= lo && q * 4 < hi) f[u] = __ldg(x4 + q);
        }
        int take = 0, eq = 0; /* 16 bits each */
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const float fv[4] = {f[u].x, f[u].y, f[u].z, f[u].w};
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int64_t t = (qt + u) * 4 + j;
                if (qt + u >= qb || t >= nr) continue;
                if (all || t < lo || t >= hi) {
                    take |= 1 << (u * 4 + j);
                } else {
                    const uint32_t mk = topk_key(fv[j]) & mask;
                    if (mk > prefix)
                        take |= 1 << (u * 4 + j);
                    else if (mk == prefix)
                        eq |= 1 << (u * 4 + j);
                }
            }
        }
        const int n_take = __popc(take), n_eq = __popc(eq);
        const int incl = topk_block_scan(n_take | (n_eq << 16), sm_warp);
        const int take_bef = (incl & 0xffff) - n_take;
        int eq_bef = eq_base + (incl >> 16) - n_eq;
        const int base = sm_base;
        int pos = base + take_bef + min(eq_bef, kk) - min(eq_base, kk);
        for (int j = 0; j < 16; j++) {
            if (take >> j & 1) {
                out[pos++] = (int32_t)(qt * 4 + j);
            } else if (eq >> j & 1) {
                if (eq_bef < kk) out[pos++] = (int32_t)(qt * 4 + j);
                eq_bef++;
            }
        }
        __syncthreads();
        if (tid == TOPK_THREADS - 1) {
            const int eq_tile = incl >> 16;
            sm_base = base + (incl & 0xffff) + min(eq_base + eq_tile, kk) - min(eq_base, kk);
            sm_warp[0] = eq_tile;
        }
        __syncthreads();
        eq_base += sm_warp[0];
        __syncthreads();
    }
}

static void topk_cluster_cfg(cudaLaunchConfig_t *cfg, cudaLaunchAttribute *attr, int C,
                             int64_t rows, cudaStream_t st) {
    *cfg = cudaLaunchConfig_t{};
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = (unsigned)C, attr[0].val.clusterDim.y = 1;
    attr[0].val.clusterDim.z = 1;
    cfg->gridDim = dim3((unsigned)C, (unsigned)rows);
    cfg->blockDim = dim3(TOPK_THREADS);
    cfg->stream = st;
    cfg->attrs = attr;
    cfg->numAttrs = 1;
}

/* How many clusters of c blocks the chip holds at once (cached per c). */
static hy_status topk_max_clusters(int c, int64_t rows, cudaStream_t st, int *fit) {
    static int cache[9];
    if (!cache[c]) {
        cudaLaunchConfig_t cfg;
        cudaLaunchAttribute attr[1];
        topk_cluster_cfg(&cfg, attr, c, rows, st);
        int v = 0;
        if (c == 8)
            HY_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&v, topk_kernel<8>, &cfg));
        else if (c == 4)
            HY_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&v, topk_kernel<4>, &cfg));
        else
            HY_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&v, topk_kernel<2>, &cfg));
        cache[c] = v > 0 ? v : -1;
    }
    *fit = cache[c];
    return HY_OK;
}

extern "C" hy_status hy_cuda_topk_rows_f32(int32_t *idx, int32_t *count, int64_t idx_stride,
                                           const float *x, int64_t x_stride, int64_t rows,
                                           const int32_t *n, int rows_per_n, int64_t max_n, int k,
                                           int sink, int window, void *stream) {
    return hy_cuda_topk_rows_f32_cluster(idx, count, idx_stride, x, x_stride, rows, n, rows_per_n,
                                         max_n, k, sink, window, 0, stream);
}

extern "C" hy_status hy_cuda_topk_rows_f32_cluster(int32_t *idx, int32_t *count,
                                                   int64_t idx_stride, const float *x,
                                                   int64_t x_stride, int64_t rows,
                                                   const int32_t *n, int rows_per_n, int64_t max_n,
                                                   int k, int sink, int window, int cluster,
                                                   void *stream) {
    if (!idx || !count || !x || !n || rows < 0 || rows_per_n < 1 || k < 0 || k > HY_TOPK_MAX_K ||
        sink < 0 || window < 0 || max_n < 0)
        return hy_fail(HY_EINVAL,
                       "topk CUDA: NULL buffer or k %d (max %d), sink %d, window %d, "
                       "rows %lld",
                       k, HY_TOPK_MAX_K, sink, window, (long long)rows);
    if (idx_stride < (int64_t)k + sink + window)
        return hy_fail(HY_EINVAL, "topk CUDA: idx_stride %lld < k + sink + window = %lld",
                       (long long)idx_stride, (long long)k + sink + window);
    if (x_stride % 4 || ((uintptr_t)x & 15) || x_stride < max_n || max_n > (1 << 30))
        return hy_fail(HY_EINVAL,
                       "topk CUDA: scores need 16-byte rows: x_stride %lld (multiple "
                       "of 4, >= max_n %lld), x aligned",
                       (long long)x_stride, (long long)max_n);
    if (rows > 65535)
        return hy_fail(HY_ERANGE, "topk CUDA: %lld rows, at most 65535", (long long)rows);
    if (cluster != 0 && cluster != 1 && cluster != 2 && cluster != 4 && cluster != 8)
        return hy_fail(HY_EINVAL,
                       "topk CUDA: %d blocks per row, expected 0 (automatic), 1, 2, 4 or 8",
                       cluster);
    if (rows == 0) return HY_OK;
    static int sm_count = 0;
    if (!sm_count) {
        int dev = 0;
        HY_CUDA_CHECK(cudaGetDevice(&dev));
        HY_CUDA_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, dev));
    }
    cudaStream_t st = (cudaStream_t)stream;
    /* few long rows: a cluster of C blocks per row, the largest C in {8, 4, 2} that keeps
     * one block per SM and whose clusters all fit at once (asked of the driver); measured
     * on the H100, a cluster's synchronisation costs more than it saves below ~64K scores
     * per row, and two 1024-thread blocks per SM (32 rows x 8) ran 3x slower than 8 rows */
    int C = cluster;
    if (C == 0 && max_n >= 65536) {
        for (int c = 8; c >= 2 && !C; c /= 2) {
            int fit = 0;
            const hy_status e = topk_max_clusters(c, rows, st, &fit);
            if (e) return e;
            if (rows * c <= sm_count && rows <= fit) C = c;
        }
    }
    if (C == 0) C = 1;
    if (C > 1) {
        cudaLaunchConfig_t cfg;
        cudaLaunchAttribute attr[1];
        topk_cluster_cfg(&cfg, attr, C, rows, st);
#define TOPK_LAUNCH(CC)                                                                            \
    HY_CUDA_CHECK(cudaLaunchKernelEx(&cfg, topk_kernel<CC>, idx, count, idx_stride, x, x_stride,   \
                                     n, rows_per_n, k, sink, window))
        if (C == 8)
            TOPK_LAUNCH(8);
        else if (C == 4)
            TOPK_LAUNCH(4);
        else
            TOPK_LAUNCH(2);
#undef TOPK_LAUNCH
    } else {
        topk_kernel<1><<<dim3(1, (unsigned)rows), TOPK_THREADS, 0, st>>>(
            idx, count, idx_stride, x, x_stride, n, rows_per_n, k, sink, window);
    }
    HY_CUDA_LAUNCH("topk_kernel");
    return HY_OK;
}
