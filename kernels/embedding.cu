/* CUDA embedding gather (embedding.h contract, cuda_ops.h): one block per token row. */
#include "cuda_check.h"
#include "cuda_ops.h"

__global__ void embedding_kernel(float *out, const float *table, int64_t d, const int32_t *ids) {
    const int64_t t = blockIdx.x;
    const float *src = table + (int64_t)ids[t] * d;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x)
        out[t * d + i] = src[i];
}

extern "C" hy_status hy_cuda_embedding_f32(float *out, const float *table, int64_t d,
                                           const int32_t *ids, int64_t n_tok, void *stream) {
    if (!out || !table || !ids || d < 1 || n_tok < 0)
        return hy_fail(HY_EINVAL, "embedding CUDA: NULL buffer or d %lld, n_tok %lld", (long long)d,
                       (long long)n_tok);
    if (!n_tok) return HY_OK;
    embedding_kernel<<<(unsigned)n_tok, 256, 0, (cudaStream_t)stream>>>(out, table, d, ids);
    HY_CUDA_LAUNCH("embedding_kernel");
    return HY_OK;
}

/* bf16 rows: each thread widens 8 values read as one 16-byte load (d % 8 == 0), or one. */
__global__ void embedding_bf16_kernel(float *out, const uint16_t *table, int64_t d,
                                      const int32_t *ids, float scale) {
    const int64_t t = blockIdx.x;
    const uint16_t *src = table + (int64_t)ids[t] * d;
    float *dst = out + t * d;
    if (d % 8 == 0) {
        for (int64_t i = threadIdx.x * 8; i < d; i += blockDim.x * 8) {
            const uint4 v = *reinterpret_cast<const uint4 *>(src + i);
            const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int j = 0; j < 4; j++) {
                dst[i + 2 * j] = __fmul_rn(__uint_as_float(w[j] << 16), scale);
                dst[i + 2 * j + 1] = __fmul_rn(__uint_as_float(w[j] & 0xffff0000u), scale);
            }
        }
    } else {
        for (int64_t i = threadIdx.x; i < d; i += blockDim.x)
            dst[i] = __fmul_rn(__uint_as_float((uint32_t)src[i] << 16), scale);
    }
}

extern "C" hy_status hy_cuda_embedding_bf16(float *out, const uint16_t *table, int64_t d,
                                            const int32_t *ids, int64_t n_tok, float scale,
                                            void *stream) {
    if (!out || !table || !ids || d < 1 || n_tok < 0)
        return hy_fail(HY_EINVAL, "embedding bf16 CUDA: NULL buffer or d %lld, n_tok %lld",
                       (long long)d, (long long)n_tok);
    if (!n_tok) return HY_OK;
    embedding_bf16_kernel<<<(unsigned)n_tok, 128, 0, (cudaStream_t)stream>>>(out, table, d, ids,
                                                                             scale);
    HY_CUDA_LAUNCH("embedding_bf16_kernel");
    return HY_OK;
}
