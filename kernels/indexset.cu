/* CUDA page scoring (indexset.h): one thread per page takes the max of its P token scores.
 * Bound: one read of the scores and a P-times smaller write. */
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
