/* CUDA bf16-output ops (bf16_ops.h). All three are memory bound (read fp32, write half the
 * bytes as bf16), so they move 16-byte vectors when the buffers are aligned for it and round
 * through the header's inline conversion, the one the CPU references use. RMSNorm: one block
 * per row, the sum of squares in double (H100/H200 run fp64 at half the fp32 rate; a row is
 * a few thousand elements) so the row scale matches the CPU reference's. */
#include <math.h>

#include "bf16_ops.h"
#include "cuda_check.h"

#define HY_BF16_THREADS 256

static unsigned hy_bf16_grid(int64_t threads) {
    int64_t g = (threads + HY_BF16_THREADS - 1) / HY_BF16_THREADS;
    /* grid-stride loops cover the rest; a million blocks already fill any GPU many times */
    return (unsigned)(g < 1 ? 1 : (g > (1 << 20) ? (1 << 20) : g));
}

static bool hy_aligned(const void *p, unsigned bytes) {
    return ((uintptr_t)p % bytes) == 0;
}

static __device__ __forceinline__ uint32_t hy_pack_bf16(float lo, float hi) {
    return (uint32_t)hy_bf16_from_f32(lo) | ((uint32_t)hy_bf16_from_f32(hi) << 16);
}

/* n8 groups of 8 elements (two 16-byte loads, one 16-byte store) when VEC, then the n - 8*n8
 * tail (or everything when !VEC) one element per thread. */
template <bool VEC>
__global__ void f32_to_bf16_kernel(uint16_t *out, const float *x, int64_t n, int64_t n8) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t total = n8 + (n - 8 * n8);
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        if (VEC && i < n8) {
            const float4 a = __ldg(reinterpret_cast<const float4 *>(x) + 2 * i);
            const float4 b = __ldg(reinterpret_cast<const float4 *>(x) + 2 * i + 1);
            uint4 o;
            o.x = hy_pack_bf16(a.x, a.y), o.y = hy_pack_bf16(a.z, a.w);
            o.z = hy_pack_bf16(b.x, b.y), o.w = hy_pack_bf16(b.z, b.w);
            reinterpret_cast<uint4 *>(out)[i] = o;
        } else {
            const int64_t e = 8 * n8 + (i - n8);
            out[e] = hy_bf16_from_f32(x[e]);
        }
    }
}

extern "C" hy_status hy_cuda_f32_to_bf16(uint16_t *out, const float *x, int64_t n, void *stream) {
    if (!out || !x || n < 0)
        return hy_fail(HY_EINVAL,
                       "f32_to_bf16 CUDA: out %p, x %p, n %lld: expected buffers and n >= 0",
                       (void *)out, (const void *)x, (long long)n);
    if (!n) return HY_OK;
    cudaStream_t st = (cudaStream_t)stream;
    if (hy_aligned(out, 16) && hy_aligned(x, 16)) {
        const int64_t n8 = n / 8;
        f32_to_bf16_kernel<true>
            <<<hy_bf16_grid(n8 + n % 8), HY_BF16_THREADS, 0, st>>>(out, x, n, n8);
    } else {
        f32_to_bf16_kernel<false><<<hy_bf16_grid(n), HY_BF16_THREADS, 0, st>>>(out, x, n, 0);
    }
    HY_CUDA_LAUNCH("f32_to_bf16_kernel");
    return HY_OK;
}

/* One block per row. VEC: n % 4 == 0 and x, w 16-byte and y 8-byte aligned, so every row's
 * start is too. y = (x * inv) * w in two rounded products, the reference's order. */
template <bool VEC>
__global__ void __launch_bounds__(HY_BF16_THREADS)
    rmsnorm_bf16_kernel(uint16_t *y, const float *x, const float *w, int64_t n, float eps) {
    __shared__ double sm[HY_BF16_THREADS / 32];
    __shared__ float sm_inv;
    const int64_t r = blockIdx.x;
    const float *xr = x + r * n;
    uint16_t *yr = y + r * n;
    double ss = 0.0;
    if (VEC) {
        for (int64_t i = threadIdx.x; i < n / 4; i += blockDim.x) {
            const float4 v = __ldg(reinterpret_cast<const float4 *>(xr) + i);
            ss += (double)v.x * v.x + (double)v.y * v.y + (double)v.z * v.z + (double)v.w * v.w;
        }
    } else {
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
            ss += (double)xr[i] * xr[i];
    }
    for (int o = 16; o > 0; o >>= 1)
        ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if ((threadIdx.x & 31) == 0) sm[threadIdx.x >> 5] = ss;
    __syncthreads();
    if (threadIdx.x == 0) {
        double t = 0.0;
        for (int i = 0; i < HY_BF16_THREADS / 32; i++)
            t += sm[i];
        sm_inv = (float)(1.0 / sqrt(t / (double)n + (double)eps));
    }
    __syncthreads();
    const float inv = sm_inv;
    if (VEC) {
        for (int64_t i = threadIdx.x; i < n / 4; i += blockDim.x) {
            const float4 v = __ldg(reinterpret_cast<const float4 *>(xr) + i);
            const float4 g = __ldg(reinterpret_cast<const float4 *>(w) + i);
            uint2 o;
            o.x = hy_pack_bf16(__fmul_rn(__fmul_rn(v.x, inv), g.x),
                               __fmul_rn(__fmul_rn(v.y, inv), g.y));
            o.y = hy_pack_bf16(__fmul_rn(__fmul_rn(v.z, inv), g.z),
                               __fmul_rn(__fmul_rn(v.w, inv), g.w));
            reinterpret_cast<uint2 *>(yr)[i] = o;
        }
    } else {
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
            yr[i] = hy_bf16_from_f32(__fmul_rn(__fmul_rn(xr[i], inv), w[i]));
    }
}

extern "C" hy_status hy_cuda_rmsnorm_bf16(uint16_t *y, const float *x, const float *w, int64_t rows,
                                          int64_t n, float eps, void *stream) {
    if (!y || !x || !w || rows < 0 || n < 1)
        return hy_fail(HY_EINVAL,
                       "rmsnorm_bf16 CUDA: NULL buffer or rows %lld, n %lld: expected rows >= 0, "
                       "n >= 1",
                       (long long)rows, (long long)n);
    if (rows > 0x7fffffff)
        return hy_fail(HY_EINVAL, "rmsnorm_bf16 CUDA: rows %lld, at most 2^31 - 1 (one block each)",
                       (long long)rows);
    if (!rows) return HY_OK;
    cudaStream_t st = (cudaStream_t)stream;
    if (n % 4 == 0 && hy_aligned(x, 16) && hy_aligned(w, 16) && hy_aligned(y, 8))
        rmsnorm_bf16_kernel<true><<<(unsigned)rows, HY_BF16_THREADS, 0, st>>>(y, x, w, n, eps);
    else
        rmsnorm_bf16_kernel<false><<<(unsigned)rows, HY_BF16_THREADS, 0, st>>>(y, x, w, n, eps);
    HY_CUDA_LAUNCH("rmsnorm_bf16_kernel");
    return HY_OK;
}

static __device__ __forceinline__ float hy_silu_mul(float g, float u) {
    return __fmul_rn(__fdiv_rn(g, __fadd_rn(1.0f, expf(-g))), u);
}
/* geglu.c's float expression, operation for operation */
static __device__ __forceinline__ float hy_gelu_mul(float g, float u) {
    const float c = __fmul_rn(__fmul_rn(__fmul_rn(0.044715f, g), g), g);
    const float t = tanhf(__fmul_rn(0.7978845608028654f, __fadd_rn(g, c)));
    return __fmul_rn(__fmul_rn(__fmul_rn(0.5f, g), __fadd_rn(1.0f, t)), u);
}
template <bool GELU> static __device__ __forceinline__ float gated(float g, float u) {
    return GELU ? hy_gelu_mul(g, u) : hy_silu_mul(g, u);
}

/* n4 groups of 4 (16-byte loads of gate and up, one 8-byte store) when VEC, then the tail. */
template <bool VEC, bool GELU>
__global__ void swiglu_bf16_kernel(uint16_t *out, const float *gate, const float *up, int64_t n,
                                   int64_t n4) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t total = n4 + (n - 4 * n4);
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
        if (VEC && i < n4) {
            const float4 g = __ldg(reinterpret_cast<const float4 *>(gate) + i);
            const float4 u = __ldg(reinterpret_cast<const float4 *>(up) + i);
            uint2 o;
            o.x = hy_pack_bf16(gated<GELU>(g.x, u.x), gated<GELU>(g.y, u.y));
            o.y = hy_pack_bf16(gated<GELU>(g.z, u.z), gated<GELU>(g.w, u.w));
            reinterpret_cast<uint2 *>(out)[i] = o;
        } else {
            const int64_t e = 4 * n4 + (i - n4);
            out[e] = hy_bf16_from_f32(gated<GELU>(gate[e], up[e]));
        }
    }
}

template <bool GELU>
static hy_status gated_launch(uint16_t *out, const float *gate, const float *up, int64_t n,
                              void *stream, const char *who) {
    if (!out || !gate || !up || n < 0)
        return hy_fail(HY_EINVAL, "%s CUDA: NULL buffer or n %lld: expected n >= 0", who,
                       (long long)n);
    if (!n) return HY_OK;
    cudaStream_t st = (cudaStream_t)stream;
    if (hy_aligned(out, 8) && hy_aligned(gate, 16) && hy_aligned(up, 16)) {
        const int64_t n4 = n / 4;
        swiglu_bf16_kernel<true, GELU>
            <<<hy_bf16_grid(n4 + n % 4), HY_BF16_THREADS, 0, st>>>(out, gate, up, n, n4);
    } else {
        swiglu_bf16_kernel<false, GELU>
            <<<hy_bf16_grid(n), HY_BF16_THREADS, 0, st>>>(out, gate, up, n, 0);
    }
    HY_CUDA_LAUNCH("swiglu_bf16_kernel");
    return HY_OK;
}

extern "C" hy_status hy_cuda_swiglu_bf16(uint16_t *out, const float *gate, const float *up,
                                         int64_t n, void *stream) {
    return gated_launch<false>(out, gate, up, n, stream, "swiglu_bf16");
}

extern "C" hy_status hy_cuda_geglu_bf16(uint16_t *out, const float *gate, const float *up,
                                        int64_t n, void *stream) {
    return gated_launch<true>(out, gate, up, n, stream, "geglu_bf16");
}
