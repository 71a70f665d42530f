/* CUDA SwiGLU (swiglu.h contract, cuda_ops.h): elementwise silu(gate) * up. */
#include "cuda_check.h"
#include "cuda_ops.h"

__global__ void swiglu_kernel(float *out, const float *gate, const float *up, int64_t n) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float g = gate[i];
    out[i] = g / (1.f + expf(-g)) * up[i];
}

extern "C" hy_status hy_cuda_swiglu_f32(float *out, const float *gate, const float *up, int64_t n,
                                        void *stream) {
    if (!out || !gate || !up || n < 0)
        return hy_fail(HY_EINVAL, "swiglu CUDA: NULL buffer or n %lld", (long long)n);
    if (!n) return HY_OK;
    swiglu_kernel<<<(unsigned)((n + 255) / 256), 256, 0, (cudaStream_t)stream>>>(out, gate, up, n);
    HY_CUDA_LAUNCH("swiglu_kernel");
    return HY_OK;
}
