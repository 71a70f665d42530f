/* CUDA RMSNorm and the post-norm residual add (rmsnorm.h contracts, cuda_ops.h): one block
 * per row, the sum of squares reduced by warp shuffles; memory bound (one read of x, one
 * write of y). */
#include "cuda_check.h"
#include "cuda_ops.h"

/* ADD: y[i] += x[i] * inv * w[i] (hy_rmsnorm_add_f32, x the block output t) */
template <bool ADD>
__global__ void rmsnorm_kernel(float *y, const float *x, const float *w, int64_t n, float eps) {
    __shared__ float sm[32];
    const int64_t r = blockIdx.x;
    const float *xr = x + r * n;
    float ss = 0.f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
        ss += xr[i] * xr[i];
    for (int o = 16; o > 0; o >>= 1)
        ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if ((threadIdx.x & 31) == 0) sm[threadIdx.x >> 5] = ss;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < blockDim.x / 32 ? sm[threadIdx.x] : 0.f;
        for (int o = 16; o > 0; o >>= 1)
            v += __shfl_xor_sync(0xffffffffu, v, o);
        if (threadIdx.x == 0) sm[0] = v;
    }
    __syncthreads();
    const float inv = rsqrtf(sm[0] / (float)n + eps);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const float v = xr[i] * inv * w[i];
        y[r * n + i] = ADD ? y[r * n + i] + v : v;
    }
}

extern "C" hy_status hy_cuda_rmsnorm_f32(float *y, const float *x, const float *w, int64_t rows,
                                         int64_t n, float eps, void *stream) {
    if (!y || !x || !w || rows < 0 || n < 1)
        return hy_fail(HY_EINVAL, "rmsnorm CUDA: NULL buffer or rows %lld, n %lld", (long long)rows,
                       (long long)n);
    if (!rows) return HY_OK;
    rmsnorm_kernel<false><<<(unsigned)rows, 256, 0, (cudaStream_t)stream>>>(y, x, w, n, eps);
    HY_CUDA_LAUNCH("rmsnorm_kernel");
    return HY_OK;
}

extern "C" hy_status hy_cuda_rmsnorm_add_f32(float *x, const float *t, const float *w, int64_t rows,
                                             int64_t n, float eps, void *stream) {
    if (!x || !t || !w || rows < 0 || n < 1 || x == t)
        return hy_fail(HY_EINVAL, "rmsnorm_add CUDA: NULL or aliased buffers, or rows %lld, n %lld",
                       (long long)rows, (long long)n);
    if (!rows) return HY_OK;
    rmsnorm_kernel<true><<<(unsigned)rows, 256, 0, (cudaStream_t)stream>>>(x, t, w, n, eps);
    HY_CUDA_LAUNCH("rmsnorm_kernel");
    return HY_OK;
}
