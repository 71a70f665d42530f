/* Decode GEMV on the GPU (gemv.h). A block owns R consecutive output rows; its warps walk
 * interleaved slices of the weight rows in 16-byte loads (8 bf16 per lane), so each
 * activation load (two float4 per batch row, from L1) serves R rows; R x B fp32 accumulators
 * per lane, a butterfly per warp and a shared-memory sum per block at the end. The weights
 * are read once with streaming loads; they are the whole cost. */
#include <stdint.h>

#include "cuda_check.h"
#include "gemv.h"

#define GEMV_WARPS 8 /* split the row's k range: 8 x 256 weights per block step */
#define GEMV_R 4     /* rows per block: each activation load serves them all */

__device__ __forceinline__ void bf16x8(const uint4 v, float f[8]) {
    const uint32_t u[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int j = 0; j < 4; j++) {
        f[2 * j] = __uint_as_float(u[j] << 16);
        f[2 * j + 1] = __uint_as_float(u[j] & 0xffff0000u);
    }
}

/* A block owns GEMV_R output rows; its warps take interleaved 256-weight slices of k, so
 * a short matrix still puts thousands of warps' loads in flight; partial sums meet in shared
 * memory at the end. */
/* PRO: 0 none, 1 RMSNorm (x * norm_w, the 1/rms factor applied to the sums at the end: it is
 * per batch row, and the block sees every x[b][k] once, so it sums the squares as it goes),
 * 2 SwiGLU (x = silu(gate) * up), 3 GELU(tanh) gating (x = gelu(gate) * up). */
template <int B, int PRO>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
    gemv_kernel(float *y, const float *x, const uint16_t *w, const hy_gemv_shape s) {
    __shared__ float part[GEMV_WARPS][GEMV_R][B];
    __shared__ float part_ss[GEMV_WARPS][B];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t o0 = (int64_t)blockIdx.x * GEMV_R;
    float acc[GEMV_R][B], ss[B];
#pragma unroll
    for (int b = 0; b < B; b++) {
        ss[b] = 0.f;
#pragma unroll
        for (int r = 0; r < GEMV_R; r++)
            acc[r][b] = 0.f;
    }
    const uint16_t *wr[GEMV_R];
#pragma unroll
    for (int r = 0; r < GEMV_R; r++) /* rows past the end read row o0 again, never written */
        wr[r] = w + (o0 + r < s.out ? o0 + r : o0) * s.in;
#pragma unroll 2
    for (int64_t k = ((int64_t)warp * 32 + lane) * 8; k < s.in; k += GEMV_WARPS * 256) {
        uint4 wv[GEMV_R];
#pragma unroll
        for (int r = 0; r < GEMV_R; r++)
            wv[r] = __ldcs(reinterpret_cast<const uint4 *>(wr[r] + k));
        float xv[B][8];
#pragma unroll
        for (int b = 0; b < B; b++) {
            const float4 a = __ldg(reinterpret_cast<const float4 *>(x + b * s.ldx + k));
            const float4 c = __ldg(reinterpret_cast<const float4 *>(x + b * s.ldx + k + 4));
            xv[b][0] = a.x, xv[b][1] = a.y, xv[b][2] = a.z, xv[b][3] = a.w;
            xv[b][4] = c.x, xv[b][5] = c.y, xv[b][6] = c.z, xv[b][7] = c.w;
            if (PRO == 1) {
                const float4 na = __ldg(reinterpret_cast<const float4 *>(s.norm_w + k));
                const float4 nc = __ldg(reinterpret_cast<const float4 *>(s.norm_w + k + 4));
                const float nw[8] = {na.x, na.y, na.z, na.w, nc.x, nc.y, nc.z, nc.w};
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    ss[b] = fmaf(xv[b][j], xv[b][j], ss[b]);
                    xv[b][j] *= nw[j];
                }
            } else if (PRO >= 2) {
                const float4 ua = __ldg(reinterpret_cast<const float4 *>(s.up + b * s.ldx + k));
                const float4 uc = __ldg(reinterpret_cast<const float4 *>(s.up + b * s.ldx + k + 4));
                const float u[8] = {ua.x, ua.y, ua.z, ua.w, uc.x, uc.y, uc.z, uc.w};
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    const float g = xv[b][j];
                    xv[b][j] =
                        PRO == 2
                            ? g / (1.f + __expf(-g)) * u[j]
                            : 0.5f * g *
                                  (1.f + tanhf(0.7978845608f * (g + 0.044715f * g * g * g))) * u[j];
                }
            }
        }
#pragma unroll
        for (int r = 0; r < GEMV_R; r++) {
            float wf[8];
            bf16x8(wv[r], wf);
#pragma unroll
            for (int b = 0; b < B; b++)
#pragma unroll
                for (int j = 0; j < 8; j++)
                    acc[r][b] = fmaf(wf[j], xv[b][j], acc[r][b]);
        }
    }
#pragma unroll
    for (int b = 0; b < B; b++) {
#pragma unroll
        for (int r = 0; r < GEMV_R; r++) {
            float v = acc[r][b];
#pragma unroll
            for (int off = 16; off > 0; off >>= 1)
                v += __shfl_xor_sync(0xffffffffu, v, off);
            if (lane == 0) part[warp][r][b] = v;
        }
        if (PRO == 1) {
            float v = ss[b];
#pragma unroll
            for (int off = 16; off > 0; off >>= 1)
                v += __shfl_xor_sync(0xffffffffu, v, off);
            if (lane == 0) part_ss[warp][b] = v;
        }
    }
    __syncthreads();
    if (threadIdx.x < GEMV_R * B) {
        const int r = threadIdx.x / B, b = threadIdx.x % B;
        const int64_t o = o0 + r;
        float v = 0.f, q = 0.f;
#pragma unroll
        for (int i = 0; i < GEMV_WARPS; i++) {
            v += part[i][r][b];
            if (PRO == 1) q += part_ss[i][b];
        }
        if (PRO == 1) v *= rsqrtf(q / (float)s.in + s.eps);
        if (o < s.out) {
            float *dst = y + (o / s.split) * s.split_stride + b * s.ldy + o % s.split;
            *dst = s.beta != 0.f ? fmaf(s.beta, *dst, v) : v;
        }
    }
}

extern "C" hy_status hy_cuda_gemv_bf16(float *y, const float *x, const uint16_t *w,
                                       const hy_gemv_shape *s, void *stream) {
    if (!y || !x || !w || !s) return hy_fail(HY_EINVAL, "gemv_bf16 CUDA: NULL argument");
    if (s->rows < 1 || s->rows > HY_GEMV_MAX_ROWS || s->in < 8 || s->in % 8 || s->out < 1 ||
        s->ldx < s->in || s->ldx % 4 || s->split < 1 || s->out % s->split || s->ldy < s->split ||
        ((uintptr_t)x | (uintptr_t)w | (uintptr_t)s->norm_w | (uintptr_t)s->up) % 16 ||
        (s->norm_w && s->up))
        return hy_fail(
            HY_EINVAL,
            "gemv_bf16 CUDA: rows %lld (1..%d), in %lld (multiple of 8), out %lld, ldx "
            "%lld (>= in, multiple of 4), split %lld (divides out), ldy %lld (>= "
            "split), x, w and the prologue's array 16-byte aligned, at most one prologue",
            (long long)s->rows, HY_GEMV_MAX_ROWS, (long long)s->in, (long long)s->out,
            (long long)s->ldx, (long long)s->split, (long long)s->ldy);
    const unsigned blocks = (unsigned)((s->out + GEMV_R - 1) / GEMV_R);
    cudaStream_t st = (cudaStream_t)stream;
    const int pro = s->norm_w ? 1 : s->up ? (s->gelu ? 3 : 2) : 0;
    switch (s->rows) {
#define GEMV_CASE(B)                                                                               \
    case B:                                                                                        \
        if (pro == 1)                                                                              \
            gemv_kernel<B, 1><<<blocks, GEMV_WARPS * 32, 0, st>>>(y, x, w, *s);                    \
        else if (pro == 2)                                                                         \
            gemv_kernel<B, 2><<<blocks, GEMV_WARPS * 32, 0, st>>>(y, x, w, *s);                    \
        else if (pro == 3)                                                                         \
            gemv_kernel<B, 3><<<blocks, GEMV_WARPS * 32, 0, st>>>(y, x, w, *s);                    \
        else                                                                                       \
            gemv_kernel<B, 0><<<blocks, GEMV_WARPS * 32, 0, st>>>(y, x, w, *s);                    \
        break;
        GEMV_CASE(1)
        GEMV_CASE(2) GEMV_CASE(3) GEMV_CASE(4) GEMV_CASE(5) GEMV_CASE(6) GEMV_CASE(7) GEMV_CASE(8)
#undef GEMV_CASE
    }
    HY_CUDA_LAUNCH("gemv_kernel");
    return HY_OK;
}
