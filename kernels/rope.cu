/* CUDA RoPE (rope.h contract, both pair layouts, cuda_ops.h): one thread per rotated pair,
 * angles in double-free fp32 with powf like the reference's formula. */
#include <math.h>

#include "cuda_check.h"
#include "cuda_ops.h"

__global__ void rope_kernel(float *x, int64_t n_tok, int n_heads, int hd, int64_t stride,
                            const int32_t *pos, float theta, int neox) {
    const int half = hd / 2;
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_tok * n_heads * half) return;
    const int p = (int)(i % half);
    const int h = (int)(i / half % n_heads);
    const int64_t t = i / half / n_heads;
    const float ang = (float)pos[t] * powf(theta, -2.0f * (float)p / (float)hd);
    float sn, cs;
    sincosf(ang, &sn, &cs);
    float *row = x + t * stride + (int64_t)h * hd;
    const int i0 = neox ? p : 2 * p, i1 = neox ? p + half : 2 * p + 1;
    const float a = row[i0], b = row[i1];
    row[i0] = a * cs - b * sn;
    row[i1] = a * sn + b * cs;
}

extern "C" hy_status hy_cuda_rope_f32(float *x, int64_t n_tok, int n_heads, int head_dim,
                                      int64_t tok_stride, const int32_t *pos, float theta,
                                      hy_rope_layout layout, void *stream) {
    if (!x || !pos || n_tok < 0 || n_heads < 1 || head_dim < 2 || head_dim % 2 ||
        tok_stride < (int64_t)n_heads * head_dim)
        return hy_fail(HY_EINVAL,
                       "rope CUDA: NULL buffer or n_tok %lld, n_heads %d, head_dim %d, "
                       "tok_stride %lld",
                       (long long)n_tok, n_heads, head_dim, (long long)tok_stride);
    const int64_t pairs = n_tok * n_heads * (head_dim / 2);
    if (!pairs) return HY_OK;
    rope_kernel<<<(unsigned)((pairs + 255) / 256), 256, 0, (cudaStream_t)stream>>>(
        x, n_tok, n_heads, head_dim, tok_stride, pos, theta, layout == HY_ROPE_NEOX);
    HY_CUDA_LAUNCH("rope_kernel");
    return HY_OK;
}
