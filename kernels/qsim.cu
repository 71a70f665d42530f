/* Query-drift refresh decisions on the GPU (qsim.h): a block per row, threads over the
 * group's G x D query values, the three sums of each head reduced in shared memory in double,
 * then the row's decision, its query copy, slot and counters. */
#include "cuda_check.h"
#include "qsim.h"

#define QSIM_THREADS 128

struct qsim_args {
    unsigned long long check, force; /* KV-head bits */
    float weight[64];
};

__global__ void __launch_bounds__(QSIM_THREADS)
    qsim_kernel(int32_t *due, int32_t *pub, float *q_sel, const float *q, const int32_t *lens,
                hy_attn_shape s, qsim_args a, float t, unsigned long long *refreshes,
                double *rows) {
    const int64_t r = blockIdx.x;
    const int nkv = s.n_kv_heads, G = s.n_heads / nkv, D = s.head_dim, g = (int)(r % nkv);
    const int64_t b = r / nkv;
    const bool force = (a.force >> g) & 1ull;
    if (!force && !((a.check >> g) & 1ull)) return;
    const float *qr = q + r * G * D;
    float *old = q_sel + r * G * D;
    __shared__ double sums[8][3][QSIM_THREADS / 32];
    __shared__ int go;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (!force) {
        for (int h = 0; h < G; h++) {
            double ab = 0.0, aa = 0.0, bb = 0.0;
            for (int d = threadIdx.x; d < D; d += blockDim.x) {
                const double x = qr[h * D + d], y = old[h * D + d];
                ab += x * y, aa += x * x, bb += y * y;
            }
            for (int o = 16; o > 0; o >>= 1) {
                ab += __shfl_xor_sync(0xffffffffu, ab, o);
                aa += __shfl_xor_sync(0xffffffffu, aa, o);
                bb += __shfl_xor_sync(0xffffffffu, bb, o);
            }
            if (lane == 0) sums[h][0][warp] = ab, sums[h][1][warp] = aa, sums[h][2][warp] = bb;
        }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        int decide = 1;
        if (!force) {
            double mean = 0.0;
            for (int h = 0; h < G; h++) {
                double ab = 0.0, aa = 0.0, bb = 0.0;
                for (int w = 0; w < QSIM_THREADS / 32; w++)
                    ab += sums[h][0][w], aa += sums[h][1][w], bb += sums[h][2][w];
                mean += aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
            }
            decide = mean / G < (double)t;
        }
        go = decide;
        due[r] = decide;
        pub[r] = decide ? (int32_t)r : -2;
        if (decide && !force) { /* forced ones are the host's to count */
            atomicAdd(refreshes + b, 1ull);
            atomicAdd(rows + b, (double)a.weight[g] * lens[b]);
        }
    }
    __syncthreads();
    if (go)
        for (int i = threadIdx.x; i < G * D; i += blockDim.x)
            old[i] = qr[i];
}

extern "C" hy_status hy_cuda_qsim_decide(int32_t *due, int32_t *pub, float *q_sel, const float *q,
                                         const int32_t *lens, const hy_attn_shape *s,
                                         const uint8_t *modes, const float *weight, float t,
                                         unsigned long long *refreshes, double *rows,
                                         void *stream) {
    if (!due || !pub || !q_sel || !q || !lens || !s || !modes || !weight || !refreshes || !rows ||
        s->batch < 1 || s->n_kv_heads < 1 || s->n_kv_heads > 64 || s->n_heads % s->n_kv_heads ||
        s->n_heads / s->n_kv_heads > 8)
        return hy_fail(HY_EINVAL,
                       "qsim decide CUDA: NULL buffer or bad shape (at most 64 KV heads, GQA "
                       "group <= 8)");
    qsim_args a = {};
    for (int g = 0; g < s->n_kv_heads; g++) {
        if (modes[g] == HY_QSIM_CHECK) a.check |= 1ull << g;
        if (modes[g] == HY_QSIM_FORCE) a.force |= 1ull << g;
        a.weight[g] = weight[g];
    }
    if (!a.check && !a.force) return HY_OK;
    qsim_kernel<<<(unsigned)((int64_t)s->batch * s->n_kv_heads), QSIM_THREADS, 0,
                  (cudaStream_t)stream>>>(due, pub, q_sel, q, lens, *s, a, t, refreshes, rows);
    HY_CUDA_LAUNCH("qsim_kernel");
    return HY_OK;
}

__global__ void keep_kernel(float *out, const float *alt, const int32_t *due, int n_kv, int GD,
                            unsigned long long mask) {
    const int64_t r = blockIdx.x;
    if (!((mask >> (r % n_kv)) & 1ull) || due[r]) return;
    for (int i = threadIdx.x; i < GD; i += blockDim.x)
        out[r * GD + i] = alt[r * GD + i];
}

extern "C" hy_status hy_cuda_rows_keep_unless_due(float *out, const float *alt, const int32_t *due,
                                                  const hy_attn_shape *s, const uint8_t *modes,
                                                  void *stream) {
    if (!out || !alt || !due || !s || !modes || s->n_kv_heads < 1 || s->n_kv_heads > 64 ||
        s->n_heads % s->n_kv_heads)
        return hy_fail(HY_EINVAL, "keep rows CUDA: NULL buffer or bad shape");
    unsigned long long mask = 0;
    for (int g = 0; g < s->n_kv_heads; g++)
        if (modes[g]) mask |= 1ull << g;
    if (!mask) return HY_OK;
    keep_kernel<<<(unsigned)((int64_t)s->batch * s->n_kv_heads), 128, 0, (cudaStream_t)stream>>>(
        out, alt, due, s->n_kv_heads, s->n_heads / s->n_kv_heads * s->head_dim, mask);
    HY_CUDA_LAUNCH("keep_kernel");
    return HY_OK;
}
