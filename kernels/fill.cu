/* CUDA fills (fill.h): a grid-stride loop, one element (random) or one 16-byte vector
 * (constant) per step. Bound: bytes written. The random fill's integer mix is a handful of
 * 64-bit multiplies per element, cheap beside the store. */
#include "bf16_ops.h"
#include "cuda_check.h"
#include "fill.h"

#define HY_FILL_THREADS 256

static unsigned hy_fill_grid(int64_t threads) {
    int64_t g = (threads + HY_FILL_THREADS - 1) / HY_FILL_THREADS;
    return (unsigned)(g < 1 ? 1 : (g > (1 << 20) ? (1 << 20) : g));
}

static __device__ __forceinline__ uint64_t hy_splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

__global__ void fill_uniform_bf16_kernel(uint16_t *out, int64_t n, uint64_t seed, uint64_t offset,
                                         float scale) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const uint64_t z = seed + (offset + (uint64_t)i + 1u) * 0x9e3779b97f4a7c15ull;
        const float u = (float)(hy_splitmix64_mix(z) >> 40) / 16777216.0f; /* exact */
        /* 2u - 1 is exact, so only the product rounds, as on the CPU */
        out[i] = hy_bf16_from_f32(__fmul_rn(scale, 2.0f * u - 1.0f));
    }
}

extern "C" hy_status hy_cuda_fill_uniform_bf16(uint16_t *out, int64_t n, uint64_t seed,
                                               uint64_t offset, float scale, void *stream) {
    if (!out || n < 0)
        return hy_fail(HY_EINVAL,
                       "fill_uniform_bf16 CUDA: out %p, n %lld: expected a buffer, n >= 0",
                       (void *)out, (long long)n);
    if (!n) return HY_OK;
    fill_uniform_bf16_kernel<<<hy_fill_grid(n), HY_FILL_THREADS, 0, (cudaStream_t)stream>>>(
        out, n, seed, offset, scale);
    HY_CUDA_LAUNCH("fill_uniform_bf16_kernel");
    return HY_OK;
}

/* the first `head` elements (up to a 16-byte boundary) and the tail singly, the rest as
 * float4 */
__global__ void fill_f32_kernel(float *out, int64_t n, int64_t head, int64_t n4, float value) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t tail = n - head - 4 * n4, total = head + n4 + tail;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        if (i < head)
            out[i] = value;
        else if (i < head + n4)
            reinterpret_cast<float4 *>(out + head)[i - head] =
                make_float4(value, value, value, value);
        else
            out[head + 4 * n4 + (i - head - n4)] = value;
    }
}

extern "C" hy_status hy_cuda_fill_f32(float *out, int64_t n, float value, void *stream) {
    if (!out || n < 0)
        return hy_fail(HY_EINVAL, "fill_f32 CUDA: out %p, n %lld: expected a buffer, n >= 0",
                       (void *)out, (long long)n);
    if (!n) return HY_OK;
    if ((uintptr_t)out % 4)
        return hy_fail(HY_EINVAL, "fill_f32 CUDA: out %p is not 4-byte aligned", (void *)out);
    int64_t head = (int64_t)((16 - (uintptr_t)out % 16) % 16 / 4);
    if (head > n) head = n;
    const int64_t n4 = (n - head) / 4;
    fill_f32_kernel<<<hy_fill_grid(head + n4 + (n - head - 4 * n4)), HY_FILL_THREADS, 0,
                      (cudaStream_t)stream>>>(out, n, head, n4, value);
    HY_CUDA_LAUNCH("fill_f32_kernel");
    return HY_OK;
}
