/* CUDA row argmax (argmax.h contract, cuda_ops.h): one block per row; each thread keeps its
 * best (value, lowest index), then a shuffle and shared-memory merge with the same order.
 * NaN never wins unless the whole row is NaN (then index 0). */
#include <math.h>

#include "cuda_check.h"
#include "cuda_ops.h"

__device__ __forceinline__ bool argmax_better(float v, int64_t i, float bv, int64_t bi) {
    if (isnan(v)) return false;
    if (bi < 0 || isnan(bv)) return true;
    return v > bv || (v == bv && i < bi);
}

__global__ void argmax_kernel(int32_t *out, const float *x, int64_t n) {
    __shared__ float sv[32];
    __shared__ int64_t si[32];
    const float *xr = x + (int64_t)blockIdx.x * n;
    float bv = NAN;
    int64_t bi = -1;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
        if (argmax_better(xr[i], i, bv, bi)) bv = xr[i], bi = i;
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        const int64_t oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (oi >= 0 && argmax_better(ov, oi, bv, bi)) bv = ov, bi = oi;
    }
    if ((threadIdx.x & 31) == 0) sv[threadIdx.x >> 5] = bv, si[threadIdx.x >> 5] = bi;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < (int)(blockDim.x / 32); w++)
            if (si[w] >= 0 && argmax_better(sv[w], si[w], bv, bi)) bv = sv[w], bi = si[w];
        out[blockIdx.x] = bi < 0 || isnan(bv) ? 0 : (int32_t)bi;
    }
}

extern "C" hy_status hy_cuda_argmax_rows_f32(int32_t *out, const float *x, int64_t rows, int64_t n,
                                             void *stream) {
    if (!out || !x || rows < 0 || n < 1)
        return hy_fail(HY_EINVAL, "argmax CUDA: NULL buffer or rows %lld, n %lld", (long long)rows,
                       (long long)n);
    if (!rows) return HY_OK;
    argmax_kernel<<<(unsigned)rows, 256, 0, (cudaStream_t)stream>>>(out, x, n);
    HY_CUDA_LAUNCH("argmax_kernel");
    return HY_OK;
}
