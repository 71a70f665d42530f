/* CUDA causal prefill attention (attention_prefill.h contract, cuda_ops.h), flash-style: a
 * block holds 16 queries of one head; K/V tiles of 32 keys go through shared memory once per
 * block, each warp keeps an online softmax for its 4 queries (lane j scores key j of the tile,
 * lanes own head_dim/32 output dims; head_dim up to 256, and sliding-window layers start at
 * their window). CUDA cores, not tensor cores: correct and tiled, not yet tuned (prefill is
 * not on the decode path this project measures). */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>

#include "attention_decode.h"
#include "cuda_check.h"
#include "cuda_ops.h"

#define PF_BQ 16
#define PF_BK 32

__device__ __forceinline__ float pf_ld(const float *p) {
    return *p;
}
__device__ __forceinline__ float pf_ld(const __half *p) {
    return __half2float(*p);
}
__device__ __forceinline__ float pf_ld(const __nv_bfloat16 *p) {
    return __bfloat162float(*p);
}

/* Dynamic shared memory of one block: K and V tiles (rows padded by one float against bank
 * conflicts) and the block's queries. */
template <int MAXD> constexpr size_t pf_smem() {
    return (size_t)(2 * PF_BK * (MAXD + 1) + PF_BQ * MAXD) * sizeof(float);
}

/* MAXD: 128 (head_dim 32..128) or 256 (up to 256: Gemma 3). window > 0: query at position p
 * attends keys (p - window, p] only (a sliding-window layer); the block starts at the first
 * key its earliest query sees. */
template <typename T, int MAXD>
__global__ void __launch_bounds__(128)
    prefill_kernel(float *out, int64_t out_stride, const float *q, int64_t q_stride, const T *k,
                   const T *v, int64_t n_q, int64_t pos0, int n_heads, int G, int d, int64_t kv_cap,
                   float scale, int64_t window) {
    extern __shared__ float pf_sm[];
    float(*sk)[MAXD + 1] = reinterpret_cast<float(*)[MAXD + 1]>(pf_sm);
    float(*sv)[MAXD + 1] = reinterpret_cast<float(*)[MAXD + 1]>(pf_sm + PF_BK * (MAXD + 1));
    float(*sq)[MAXD] = reinterpret_cast<float(*)[MAXD]>(pf_sm + 2 * PF_BK * (MAXD + 1));
    const int h = blockIdx.y, g = h / G;
    const int64_t qt0 = (int64_t)blockIdx.x * PF_BQ;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const T *kh = k + (int64_t)g * kv_cap * d, *vh = v + (int64_t)g * kv_cap * d;
    for (int e = threadIdx.x; e < PF_BQ * d; e += blockDim.x) {
        const int i = e / d, c = e % d;
        sq[i][c] = qt0 + i < n_q ? q[(qt0 + i) * q_stride + (int64_t)h * d + c] * scale : 0.f;
    }
    float m[4], l[4], acc[4][MAXD / 32];
    for (int r = 0; r < 4; r++) {
        m[r] = -INFINITY;
        l[r] = 0.f;
        for (int c = 0; c < MAXD / 32; c++)
            acc[r][c] = 0.f;
    }
    const int64_t last_q = (qt0 + PF_BQ < n_q ? qt0 + PF_BQ : n_q) - 1;
    const int64_t n_keys = pos0 + last_q + 1; /* keys this block can see */
    const int64_t key0 = window > 0 && pos0 + qt0 + 1 > window ? pos0 + qt0 + 1 - window : 0;
    for (int64_t j0 = key0; j0 < n_keys; j0 += PF_BK) {
        __syncthreads();
        for (int e = threadIdx.x; e < PF_BK * d; e += blockDim.x) {
            const int j = e / d, c = e % d;
            const bool ok = j0 + j < n_keys;
            sk[j][c] = ok ? pf_ld(kh + (j0 + j) * d + c) : 0.f;
            sv[j][c] = ok ? pf_ld(vh + (j0 + j) * d + c) : 0.f;
        }
        __syncthreads();
        for (int r = 0; r < 4; r++) {
            const int qi = warp * 4 + r;
            const int64_t qpos = pos0 + qt0 + qi;
            if (qt0 + qi >= n_q) break; /* uniform per warp */
            const int64_t key = j0 + lane;
            float s = -INFINITY;
            if (key <= qpos && (window <= 0 || key > qpos - window)) {
                s = 0.f;
                for (int c = 0; c < d; c++)
                    s = fmaf(sq[qi][c], sk[lane][c], s);
            }
            float tmax = s;
            for (int o = 16; o > 0; o >>= 1)
                tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, o));
            if (tmax == -INFINITY) continue; /* whole tile masked for this query */
            const float mn = fmaxf(m[r], tmax);
            const float corr = expf(m[r] - mn);
            const float p = expf(s - mn);
            float psum = p;
            for (int o = 16; o > 0; o >>= 1)
                psum += __shfl_xor_sync(0xffffffffu, psum, o);
            l[r] = l[r] * corr + psum;
            m[r] = mn;
            for (int c = 0; c < MAXD / 32; c++)
                acc[r][c] *= corr;
            for (int j = 0; j < PF_BK; j++) {
                const float pj = __shfl_sync(0xffffffffu, p, j);
                for (int c = 0; c < MAXD / 32; c++)
                    if (lane + 32 * c < d) acc[r][c] = fmaf(pj, sv[j][lane + 32 * c], acc[r][c]);
            }
        }
    }
    for (int r = 0; r < 4; r++) {
        const int64_t qi = qt0 + warp * 4 + r;
        if (qi >= n_q) break;
        for (int c = 0; c < MAXD / 32; c++)
            if (lane + 32 * c < d)
                out[qi * out_stride + (int64_t)h * d + lane + 32 * c] = acc[r][c] / l[r];
    }
}

template <typename T, int MAXD>
static hy_status prefill_run(dim3 grid, cudaStream_t st, float *out, int64_t out_stride,
                             const float *q, int64_t q_stride, const void *k, const void *v,
                             int64_t n_q, int64_t pos0, int n_heads, int G, int d, int64_t kv_cap,
                             float scale, int64_t window) {
    static bool ready = false; /* > 48 KB of dynamic shared memory needs opting in, once */
    if (!ready) {
        HY_CUDA_CHECK(cudaFuncSetAttribute(prefill_kernel<T, MAXD>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           (int)pf_smem<MAXD>()));
        ready = true;
    }
    prefill_kernel<T, MAXD><<<grid, 128, pf_smem<MAXD>(), st>>>(
        out, out_stride, q, q_stride, (const T *)k, (const T *)v, n_q, pos0, n_heads, G, d, kv_cap,
        scale, window);
    HY_CUDA_LAUNCH("prefill_kernel");
    return HY_OK;
}

template <typename T>
static hy_status prefill_d(dim3 grid, cudaStream_t st, float *out, int64_t out_stride,
                           const float *q, int64_t q_stride, const void *k, const void *v,
                           int64_t n_q, int64_t pos0, int n_heads, int G, int d, int64_t kv_cap,
                           float scale, int64_t window) {
    if (d <= 128)
        return prefill_run<T, 128>(grid, st, out, out_stride, q, q_stride, k, v, n_q, pos0, n_heads,
                                   G, d, kv_cap, scale, window);
    return prefill_run<T, 256>(grid, st, out, out_stride, q, q_stride, k, v, n_q, pos0, n_heads, G,
                               d, kv_cap, scale, window);
}

extern "C" hy_status hy_cuda_attn_prefill(float *out, int64_t out_stride, const float *q,
                                          int64_t q_stride, const void *k, const void *v,
                                          int kv_dtype, int64_t n_q, int64_t pos0, int n_heads,
                                          int n_kv_heads, int d, int64_t kv_cap, float scale,
                                          int64_t window, void *stream) {
    if (!out || !q || !k || !v || n_q < 0 || pos0 < 0 || n_heads < 1 || n_kv_heads < 1 ||
        n_heads % n_kv_heads || d < 32 || d > 256 || d % 32 || pos0 + n_q > kv_cap ||
        q_stride < (int64_t)n_heads * d || out_stride < (int64_t)n_heads * d || window < 0)
        return hy_fail(HY_EINVAL,
                       "prefill CUDA: NULL buffer or n_q %lld, pos0 %lld, heads %d/%d, "
                       "d %d (multiple of 32, <= 256), kv_cap %lld, window %lld (>= 0)",
                       (long long)n_q, (long long)pos0, n_heads, n_kv_heads, d, (long long)kv_cap,
                       (long long)window);
    if (!n_q) return HY_OK;
    dim3 grid((unsigned)((n_q + PF_BQ - 1) / PF_BQ), (unsigned)n_heads);
    cudaStream_t st = (cudaStream_t)stream;
    const int G = n_heads / n_kv_heads;
    switch (kv_dtype) {
    case HY_KV_F32:
        return prefill_d<float>(grid, st, out, out_stride, q, q_stride, k, v, n_q, pos0, n_heads, G,
                                d, kv_cap, scale, window);
    case HY_KV_F16:
        return prefill_d<__half>(grid, st, out, out_stride, q, q_stride, k, v, n_q, pos0, n_heads,
                                 G, d, kv_cap, scale, window);
    case HY_KV_BF16:
        return prefill_d<__nv_bfloat16>(grid, st, out, out_stride, q, q_stride, k, v, n_q, pos0,
                                        n_heads, G, d, kv_cap, scale, window);
    default:
        return hy_fail(HY_EUNSUPPORTED, "prefill CUDA: KV dtype %d", kv_dtype);
    }
}
