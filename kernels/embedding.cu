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
