/* CUDA causal prefill attention (attention_prefill.h contract, cuda_ops.h), flash-style: a
 * block holds 16 queries of one head; K/V tiles of 32 keys go through shared memory once per
 * block, each warp keeps an online softmax for its 4 queries (lane j scores key j of the tile,
 * lanes own head_dim/32 output dims). CUDA cores, not tensor cores: correct and tiled, not yet
 * tuned (prefill is not on the decode path this project measures). */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>

#include "attention_decode.h"
#include "cuda_check.h"
#include "cuda_ops.h"

#define PF_BQ 16
#define PF_BK 32
#define PF_MAXD 128

__device__ __forceinline__ float pf_ld(const float *p) {
    return *p;
}
__device__ __forceinline__ float pf_ld(const __half *p) {
    return __half2float(*p);
}
__device__ __forceinline__ float pf_ld(const __nv_bfloat16 *p) {
    return __bfloat162float(*p);
}

template <typename T>
__global__ void __launch_bounds__(128)
    prefill_kernel(float *out, int64_t out_stride, const float *q, int64_t q_stride, const T *k,
                   const T *v, int64_t n_q, int64_t pos0, int n_heads, int G, int d, int64_t kv_cap,
                   float scale) {
    __shared__ float sk[PF_BK][PF_MAXD + 1], sv[PF_BK][PF_MAXD + 1];
    __shared__ float sq[PF_BQ][PF_MAXD];
    const int h = blockIdx.y, g = h / G;
    const int64_t qt0 = (int64_t)blockIdx.x * PF_BQ;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const T *kh = k + (int64_t)g * kv_cap * d, *vh = v + (int64_t)g * kv_cap * d;
    for (int e = threadIdx.x; e < PF_BQ * d; e += blockDim.x) {
        const int i = e / d, c = e % d;
        sq[i][c] = qt0 + i < n_q ? q[(qt0 + i) * q_stride + (int64_t)h * d + c] * scale : 0.f;
    }
    float m[4], l[4], acc[4][PF_MAXD / 32];
    for (int r = 0; r < 4; r++) {
        m[r] = -INFINITY;
        l[r] = 0.f;
        for (int c = 0; c < PF_MAXD / 32; c++)
            acc[r][c] = 0.f;
    }
    const int64_t last_q = (qt0 + PF_BQ < n_q ? qt0 + PF_BQ : n_q) - 1;
    const int64_t n_keys = pos0 + last_q + 1; /* keys this block can see */
    for (int64_t j0 = 0; j0 < n_keys; j0 += PF_BK) {
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
            if (key <= qpos) {
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
            for (int c = 0; c < PF_MAXD / 32; c++)
                acc[r][c] *= corr;
            for (int j = 0; j < PF_BK; j++) {
                const float pj = __shfl_sync(0xffffffffu, p, j);
                for (int c = 0; c < PF_MAXD / 32; c++)
                    if (lane + 32 * c < d) acc[r][c] = fmaf(pj, sv[j][lane + 32 * c], acc[r][c]);
            }
        }
    }
    for (int r = 0; r < 4; r++) {
        const int64_t qi = qt0 + warp * 4 + r;
        if (qi >= n_q) break;
        for (int c = 0; c < PF_MAXD / 32; c++)
            if (lane + 32 * c < d)
                out[qi * out_stride + (int64_t)h * d + lane + 32 * c] = acc[r][c] / l[r];
    }
}

extern "C" hy_status hy_cuda_attn_prefill(float *out, int64_t out_stride, const float *q,
                                          int64_t q_stride, const void *k, const void *v,
                                          int kv_dtype, int64_t n_q, int64_t pos0, int n_heads,
                                          int n_kv_heads, int d, int64_t kv_cap, float scale,
                                          void *stream) {
    if (!out || !q || !k || !v || n_q < 0 || pos0 < 0 || n_heads < 1 || n_kv_heads < 1 ||
        n_heads % n_kv_heads || d < 32 || d > PF_MAXD || d % 32 || pos0 + n_q > kv_cap ||
        q_stride < (int64_t)n_heads * d || out_stride < (int64_t)n_heads * d)
        return hy_fail(HY_EINVAL,
                       "prefill CUDA: NULL buffer or n_q %lld, pos0 %lld, heads %d/%d, "
                       "d %d (multiple of 32, <= %d), kv_cap %lld",
                       (long long)n_q, (long long)pos0, n_heads, n_kv_heads, d, PF_MAXD,
                       (long long)kv_cap);
    if (!n_q) return HY_OK;
    dim3 grid((unsigned)((n_q + PF_BQ - 1) / PF_BQ), (unsigned)n_heads);
    cudaStream_t st = (cudaStream_t)stream;
    const int G = n_heads / n_kv_heads;
    switch (kv_dtype) {
    case HY_KV_F32:
        prefill_kernel<float><<<grid, 128, 0, st>>>(out, out_stride, q, q_stride, (const float *)k,
                                                    (const float *)v, n_q, pos0, n_heads, G, d,
                                                    kv_cap, scale);
        break;
    case HY_KV_F16:
        prefill_kernel<__half><<<grid, 128, 0, st>>>(out, out_stride, q, q_stride,
                                                     (const __half *)k, (const __half *)v, n_q,
                                                     pos0, n_heads, G, d, kv_cap, scale);
        break;
    case HY_KV_BF16:
        prefill_kernel<__nv_bfloat16><<<grid, 128, 0, st>>>(
            out, out_stride, q, q_stride, (const __nv_bfloat16 *)k, (const __nv_bfloat16 *)v, n_q,
            pos0, n_heads, G, d, kv_cap, scale);
        break;
    default:
        return hy_fail(HY_EUNSUPPORTED, "prefill CUDA: KV dtype %d", kv_dtype);
    }
    HY_CUDA_LAUNCH("prefill_kernel");
    return HY_OK;
}
