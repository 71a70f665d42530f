/* Decode GEMV on the GPU (gemv.h). A warp owns R consecutive output rows and walks their
 * weight rows in 16-byte loads (8 bf16 per lane, 256 per warp step), so each activation load
 * (two float4 per batch row, from L1: every warp of the SM reads the same x) serves R rows;
 * R x B fp32 accumulators per lane, one butterfly reduction at the end. The weights are read
 * once with streaming loads; they are the whole cost. */
#include <stdint.h>

#include "cuda_check.h"
#include "gemv.h"

#define GEMV_WARPS 4
#define GEMV_R 4

__device__ __forceinline__ void bf16x8(const uint4 v, float f[8]) {
    const uint32_t u[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int j = 0; j < 4; j++) {
        f[2 * j] = __uint_as_float(u[j] << 16);
        f[2 * j + 1] = __uint_as_float(u[j] & 0xffff0000u);
    }
}

template <int B>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
    gemv_kernel(float *y, const float *x, const uint16_t *w, const hy_gemv_shape s) {
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t o0 = ((int64_t)blockIdx.x * GEMV_WARPS + warp) * GEMV_R;
    if (o0 >= s.out) return;
    float acc[GEMV_R][B];
#pragma unroll
    for (int r = 0; r < GEMV_R; r++)
#pragma unroll
        for (int b = 0; b < B; b++)
            acc[r][b] = 0.f;
    const uint16_t *wr[GEMV_R];
#pragma unroll
    for (int r = 0; r < GEMV_R; r++) /* rows past the end read row o0 again, never written */
        wr[r] = w + (o0 + r < s.out ? o0 + r : o0) * s.in;
#pragma unroll 2
    for (int64_t k = (int64_t)lane * 8; k < s.in; k += 256) {
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
    for (int r = 0; r < GEMV_R; r++)
#pragma unroll
        for (int b = 0; b < B; b++) {
            float v = acc[r][b];
#pragma unroll
            for (int off = 16; off > 0; off >>= 1)
                v += __shfl_xor_sync(0xffffffffu, v, off);
            const int64_t o = o0 + r;
            if (lane == (r * B + b) % 32 && o < s.out) {
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
        ((uintptr_t)x | (uintptr_t)w) % 16)
        return hy_fail(HY_EINVAL,
                       "gemv_bf16 CUDA: rows %lld (1..%d), in %lld (multiple of 8), out %lld, ldx "
                       "%lld (>= in, multiple of 4), split %lld (divides out), ldy %lld (>= "
                       "split), x and w 16-byte aligned",
                       (long long)s->rows, HY_GEMV_MAX_ROWS, (long long)s->in, (long long)s->out,
                       (long long)s->ldx, (long long)s->split, (long long)s->ldy);
    const int64_t per_block = GEMV_WARPS * GEMV_R;
    const unsigned blocks = (unsigned)((s->out + per_block - 1) / per_block);
    cudaStream_t st = (cudaStream_t)stream;
    switch (s->rows) {
#define GEMV_CASE(B)                                                                               \
    case B:                                                                                        \
        gemv_kernel<B><<<blocks, GEMV_WARPS * 32, 0, st>>>(y, x, w, *s);                           \
        break;
        GEMV_CASE(1) GEMV_CASE(2) GEMV_CASE(3) GEMV_CASE(4)
        GEMV_CASE(5) GEMV_CASE(6) GEMV_CASE(7) GEMV_CASE(8)
#undef GEMV_CASE
    }
    HY_CUDA_LAUNCH("gemv_kernel");
    return HY_OK;
}
