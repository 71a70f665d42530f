/* CUDA top-k per row with sink and window merged in (topk.h): radix select without a sort.
 * A row is served by C blocks of 1024 threads: a thread-block cluster (histograms summed
 * through distributed shared memory) of C = 8, 4, 3 or 2 when few long rows would leave the
 * chip idle, C = 1 otherwise. Scores become order-preserving 32-bit keys. When a block's slice
 * of the row fits in shared memory (<= 192 KB: the 32 x 128K case at C = 3 or 4) it is read
 * from global memory once, as keys, together with the row's min and max key; the radix passes
 * then start below the bits that min and max share (concentrated scores such as attention
 * probabilities would otherwise spend a pass on the exponent) and run over shared memory.
 * Otherwise up to three passes (11, 11, 10 bits) read the row from global memory. Each pass
 * is a shared-memory histogram whose scan finds the bucket of the k-th largest key and counts
 * what each block takes, stopping early once that bucket is taken whole; one last pass writes
 * the indices in ascending order, 16 scores per thread per tile (ties: the lowest indices of
 * the threshold key). Bound (ncu, 32 x 128K): no single phase; the row read ~27% of the stall
 * samples, histogram passes ~22%, cluster barriers and scans ~20%, the writing pass ~25%. */
#include <cooperative_groups.h>
#include <math.h>
#include <stdint.h>

#include "cuda_bench.h"
#include "cuda_check.h"
#include "topk.h"

#define TOPK_THREADS 1024
namespace cg = cooperative_groups;
#define TOPK_UNROLL 8
/* dynamic shared memory for a block's slice of keys (the SM total is 228 KB) */
#define TOPK_SMEM_MAX (192 * 1024)

/* Larger float -> larger key; NaN -> 0 (below everything); -0 and +0 equal. Takes the bits. */
__device__ __forceinline__ uint32_t topk_key(uint32_t u) {
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0u;
    if ((u << 1) == 0u) u = 0u;
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

__device__ __forceinline__ void topk_cluster_sync() {
    cg::this_cluster().sync();
}

/* SM: the block's slice lives in dynamic shared memory as keys (quad qa + i at sm_keys[i]). */
template <int C, bool SM>
__global__ void __launch_bounds__(TOPK_THREADS)
    topk_kernel(int32_t *idx, int32_t *count, int64_t idx_stride, const float *x, int64_t x_stride,
                const int32_t *n, int rows_per_n, int k, int sink, int window) {
    extern __shared__ uint4 sm_keys[];
    __shared__ int hist[2048];
    __shared__ int sm_warp[32];
    __shared__ uint32_t sm_prefix, sm_mask, sm_mm[2];
    __shared__ int sm_kk, sm_done, sm_above, sm_eq, sm_base;
    __shared__ int sm_tot[2]; /* this block's taken and threshold-equal counts */
    const int rank = C > 1 ? (int)cg::this_cluster().block_rank() : 0;
    const int64_t r = blockIdx.y;
    const int tid = threadIdx.x;
    const int64_t nr = n[r / rows_per_n];
    const int64_t lo = sink < nr ? sink : nr;
    const int64_t hi = nr - window > lo ? nr - window : lo;
    const uint4 *x4 = reinterpret_cast<const uint4 *>(x + r * x_stride);
    int32_t *out = idx + r * idx_stride;
    const bool all = hi - lo <= k;
    const bool sel = !all && k > 0; /* a threshold must be found */
    /* this block's slice of the row, in quads of 4 scores */
    const int64_t nq = (nr + 3) / 4, per = (nq + C - 1) / C;
    const int64_t qa = (int64_t)rank * per < nq ? (int64_t)rank * per : nq;
    const int64_t qb = qa + per < nq ? qa + per : nq;
    const int64_t ta = qa * 4 < nr ? qa * 4 : nr, tb = qb * 4 < nr ? qb * 4 : nr;
    /* the scores this block counts: [r0, r1) = its slice within the middle; 32-bit
     * positions (n <= 2^30) and one unsigned compare per score keep the issue down */
    const int r0 = (int)(ta > lo ? ta : lo), r1 = (int)(tb < hi ? tb : hi);
    const unsigned span = r1 > r0 ? (unsigned)(r1 - r0) : 0u;
    const int q0 = r0 / 4, q1 = (r1 + 3) / 4;

    uint32_t prefix = 0u, mask = 0u;
    int R = 32; /* bits of the key still undecided: the low R */
    int kk = k, done = !sel, above = 0, eq_local = (int)span;
    if (k == 0) prefix = mask = 0xffffffffu, kk = 0; /* no key reaches this: none taken */
    if (SM && sel) {
        /* one read of the slice: keys to shared memory, min and max over the middle */
        if (tid == 0) sm_mm[0] = 0xffffffffu, sm_mm[1] = 0u;
        uint32_t mn = 0xffffffffu, mx = 0u;
        const int nl = (int)(qb - qa);
        const bool inner = r0 == ta && (int64_t)r1 == qb * 4; /* no per-score middle check */
        for (int i0 = 0; i0 < nl; i0 += TOPK_THREADS * TOPK_UNROLL) {
            uint4 f[TOPK_UNROLL];
#pragma unroll
            for (int u = 0; u < TOPK_UNROLL; u++) {
                const int i = i0 + tid + u * TOPK_THREADS;
                f[u] = i < nl ? __ldg(x4 + qa + i) : make_uint4(0u, 0u, 0u, 0u);
            }
#pragma unroll
            for (int u = 0; u < TOPK_UNROLL; u++) {
                const int i = i0 + tid + u * TOPK_THREADS;
                if (i >= nl) continue;
                const int t = (int)(qa + i) * 4;
                uint32_t kv[4] = {topk_key(f[u].x), topk_key(f[u].y), topk_key(f[u].z),
                                  topk_key(f[u].w)};
#pragma unroll
                for (int j = 0; j < 4; j++)
                    if (inner || (unsigned)(t + j - r0) < span)
                        mn = min(mn, kv[j]), mx = max(mx, kv[j]);
                sm_keys[i] = make_uint4(kv[0], kv[1], kv[2], kv[3]);
            }
        }
        mn = __reduce_min_sync(0xffffffffu, mn);
        mx = __reduce_max_sync(0xffffffffu, mx);
        __syncthreads(); /* sm_mm initialised */
        if ((tid & 31) == 0) atomicMin(&sm_mm[0], mn), atomicMax(&sm_mm[1], mx);
        if (C > 1)
            topk_cluster_sync();
        else
            __syncthreads();
        mn = 0xffffffffu, mx = 0u;
        if (C > 1) {
            cg::cluster_group cl = cg::this_cluster();
            for (int j = 0; j < C; j++) {
                const uint32_t *rm = cl.map_shared_rank(sm_mm, j);
                mn = min(mn, rm[0]), mx = max(mx, rm[1]);
            }
            /* sm_mm is never rewritten and every block passes the cluster barriers below
             * before it exits, so these remote reads need no barrier of their own */
        } else {
            mn = sm_mm[0], mx = sm_mm[1];
        }
        R = mn == mx ? 0 : 32 - __clz((int)(mn ^ mx));
        mask = R >= 32 ? 0u : 0xffffffffu << R;
        prefix = mx & mask;
        if (R == 0) done = 1; /* one key value in the middle: the eq rule takes the first k */
    }
    for (; R > 0 && !done;) {
        const int w = R < 11 ? R : 11, shift = R - w, nb = 1 << w;
        for (int i = tid; i < nb; i += TOPK_THREADS)
            hist[i] = 0;
        __syncthreads();
        if (SM) {
            const bool inner = r0 == ta && (int64_t)r1 == qb * 4;
#pragma unroll 4
            for (int qq = q0 + tid; qq < q1; qq += TOPK_THREADS) {
                const uint4 v = sm_keys[qq - qa];
                const uint32_t kv[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    if (!inner && (unsigned)(qq * 4 + j - r0) >= span) continue;
                    if ((kv[j] & mask) == prefix) atomicAdd(&hist[(kv[j] >> shift) & (nb - 1)], 1);
                }
            }
        } else {
            for (int qb0 = q0; qb0 < q1; qb0 += TOPK_THREADS * TOPK_UNROLL) {
                uint4 f[TOPK_UNROLL];
#pragma unroll
                for (int u = 0; u < TOPK_UNROLL; u++) {
                    const int q = qb0 + tid + u * TOPK_THREADS;
                    f[u] = q < q1 ? __ldg(x4 + q) : make_uint4(0u, 0u, 0u, 0u);
                }
#pragma unroll
                for (int u = 0; u < TOPK_UNROLL; u++) {
                    const int q = qb0 + tid + u * TOPK_THREADS;
                    const uint32_t fv[4] = {f[u].x, f[u].y, f[u].z, f[u].w};
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        if ((unsigned)(q * 4 + j - r0) >= span) continue;
                        const uint32_t key = topk_key(fv[j]);
                        if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & (nb - 1)], 1);
                    }
                }
            }
        }
        if (C > 1)
            topk_cluster_sync(); /* every block's histogram is complete */
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
        R = shift;
        __syncthreads();
    }
    /* what this block takes: its sink/window tokens, the middle ones above the threshold
     * bucket, and (cluster-wide) the first kk of those equal to it */
    if (tid == 0) {
        sm_tot[0] = (int)(all ? tb - ta : topk_outside(ta, tb, lo, hi) + above);
        sm_tot[1] = sel ? eq_local : 0;
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
    /* tiles of 4 consecutive quads (16 scores) per thread; all four loads issued first;
     * 32-bit positions (n <= 2^30) */
    const int ia = (int)qa, ib = (int)qb, ilo = (int)lo, inr = (int)nr;
    const unsigned mid = (unsigned)(hi - lo);
    for (int qt0 = ia; qt0 < ib; qt0 += TOPK_THREADS * 4) {
        const int qt = qt0 + tid * 4;
        uint4 f[4];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const int q = qt + u;
            f[u] = make_uint4(0u, 0u, 0u, 0u);
            if (sel && q < ib && (unsigned)(q * 4 + 3 - ilo) < mid + 3u)
                f[u] = SM ? sm_keys[q - ia] : __ldg(x4 + q);
        }
        int take = 0, eq = 0; /* 16 bits each */
#pragma unroll
        for (int u = 0; u < 4; u++) {
            const uint32_t fv[4] = {f[u].x, f[u].y, f[u].z, f[u].w};
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int t = (qt + u) * 4 + j;
                if (qt + u >= ib || t >= inr) continue;
                if (all || (unsigned)(t - ilo) >= mid) {
                    take |= 1 << (u * 4 + j);
                } else if (sel) {
                    const uint32_t mk = (SM ? fv[j] : topk_key(fv[j])) & mask;
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
        for (unsigned m = (unsigned)(take | eq); m; m &= m - 1u) { /* the set bits only */
            const int j = __ffs((int)m) - 1;
            if (take >> j & 1) {
                out[pos++] = qt * 4 + j;
            } else {
                if (eq_bef < kk) out[pos++] = qt * 4 + j;
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
                             int64_t rows, size_t smem, cudaStream_t st) {
    *cfg = cudaLaunchConfig_t{};
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = (unsigned)C, attr[0].val.clusterDim.y = 1;
    attr[0].val.clusterDim.z = 1;
    cfg->gridDim = dim3((unsigned)C, (unsigned)rows);
    cfg->blockDim = dim3(TOPK_THREADS);
    cfg->dynamicSmemBytes = smem;
    cfg->stream = st;
    cfg->attrs = attr;
    cfg->numAttrs = 1;
}

/* The kernel for C blocks per row, slice in shared memory or not; the shared-memory variants
 * are allowed TOPK_SMEM_MAX bytes of dynamic shared memory (once). */
static hy_status topk_pick(int C, bool sm, const void **fn) {
    static bool ready[9];
    const void *f = NULL;
#define TOPK_PICK(CC)                                                                              \
    if (C == CC) f = sm ? (const void *)topk_kernel<CC, true> : (const void *)topk_kernel<CC, false>
    TOPK_PICK(1);
    TOPK_PICK(2);
    TOPK_PICK(3);
    TOPK_PICK(4);
    TOPK_PICK(8);
#undef TOPK_PICK
    if (!f) return hy_fail(HY_EINVAL, "topk CUDA: %d blocks per row, expected 1, 2, 3, 4 or 8", C);
    if (sm && !ready[C]) {
        HY_CUDA_CHECK(
            cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, TOPK_SMEM_MAX));
        ready[C] = true;
    }
    *fn = f;
    return HY_OK;
}

/* Dynamic shared memory for C blocks per row: the slice's bytes, or 0 when it does not fit. */
static size_t topk_smem(int C, int64_t max_n) {
    const int64_t per = ((max_n + 3) / 4 + C - 1) / C;
    return per > 0 && per * 16 <= TOPK_SMEM_MAX ? (size_t)(per * 16) : 0;
}

/* How many clusters of c blocks the chip holds at once (cached per c and variant). */
static hy_status topk_max_clusters(int c, size_t smem, int64_t rows, cudaStream_t st, int *fit) {
    static int cache[9][2];
    const int v_sm = smem > 0;
    if (!cache[c][v_sm]) {
        const void *f = NULL;
        hy_status e = topk_pick(c, v_sm, &f);
        if (e) return e;
        cudaLaunchConfig_t cfg;
        cudaLaunchAttribute attr[1];
        topk_cluster_cfg(&cfg, attr, c, rows, v_sm ? TOPK_SMEM_MAX : 0, st);
        int v = 0;
        HY_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&v, f, &cfg));
        cache[c][v_sm] = v > 0 ? v : -1;
    }
    *fit = cache[c][v_sm];
    return HY_OK;
}

extern "C" hy_status hy_cuda_topk_rows_f32(int32_t *idx, int32_t *count, int64_t idx_stride,
                                           const float *x, int64_t x_stride, int64_t rows,
                                           const int32_t *n, int rows_per_n, int64_t max_n, int k,
                                           int sink, int window, void *stream) {
    return hy_cuda_topk_rows_f32_cluster(idx, count, idx_stride, x, x_stride, rows, n, rows_per_n,
                                         max_n, k, sink, window, 0, stream);
}

extern "C" hy_status hy_cuda_topk_rows_f32_cluster(int32_t *idx, int32_t *count, int64_t idx_stride,
                                                   const float *x, int64_t x_stride, int64_t rows,
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
    if (cluster != 0 && cluster != 1 && cluster != 2 && cluster != 3 && cluster != 4 &&
        cluster != 8)
        return hy_fail(HY_EINVAL,
                       "topk CUDA: %d blocks per row, expected 0 (automatic), 1, 2, 3, 4 or 8",
                       cluster);
    if (rows == 0) return HY_OK;
    static int sm_count = 0;
    if (!sm_count) {
        int dev = 0;
        HY_CUDA_CHECK(cudaGetDevice(&dev));
        HY_CUDA_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, dev));
    }
    cudaStream_t st = (cudaStream_t)stream;
    /* few long rows: a cluster of C blocks per row, the largest C in {8, 4, 3, 2} that keeps
     * one block per SM and whose clusters all fit at once (asked of the driver; a second wave
     * doubles the time, and the GPCs of an H100 may hold fewer than 32 clusters of 4, hence
     * 3); measured on the H100, a cluster's synchronisation costs more than it saves below
     * ~64K scores per row */
    int C = cluster;
    if (C == 0 && max_n >= 65536) {
        const int cs[4] = {8, 4, 3, 2};
        for (int i = 0; i < 4 && !C; i++) {
            int fit = 0;
            const hy_status e = topk_max_clusters(cs[i], topk_smem(cs[i], max_n), rows, st, &fit);
            if (e) return e;
            if (rows * cs[i] <= sm_count && rows <= fit) C = cs[i];
        }
    }
    if (C == 0) C = 1;
    const size_t smem = topk_smem(C, max_n);
    const void *fn = NULL;
    hy_status e = topk_pick(C, smem > 0, &fn);
    if (e) return e;
    cudaLaunchConfig_t cfg;
    cudaLaunchAttribute attr[1];
    topk_cluster_cfg(&cfg, attr, C, rows, smem, st);
    if (C == 1) cfg.numAttrs = 0; /* a plain launch */
    void *args[] = {&idx, &count, &idx_stride, &x, &x_stride, &n, &rows_per_n, &k, &sink, &window};
    HY_CUDA_CHECK(cudaLaunchKernelExC(&cfg, fn, args));
    HY_CUDA_LAUNCH("topk_kernel");
    return HY_OK;
}
