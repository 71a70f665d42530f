/* CUDA QKV post-processing (qkv_store.h): one block per token. Its threads first compute the
 * token's D/2 angles in double (pow and sincos, rounded to float like hy_rope_f32) into
 * shared memory, then rotate the q and k heads with them and round k and v into the bf16
 * cache. The rotations use explicitly rounded products (__fmul_rn) so no FMA contraction
 * makes them differ from the CPU's float arithmetic. Bound: bytes, one read of the qkv row,
 * one write of q and of the k and v rows; the double angles are D/2 per token. */
#include <math.h>

#include "bf16_ops.h"
#include "cuda_check.h"
#include "qkv_store.h"

#define HY_QKV_THREADS 128

__global__ void __launch_bounds__(HY_QKV_THREADS)
    qkv_rope_store_kernel(float *q_out, uint16_t *kc, uint16_t *vc, const float *qkv,
                          int64_t row_stride, const int32_t *seq, const int32_t *pos, int H, int KV,
                          int D, int64_t kv_cap, int64_t seq_stride, float theta, int neox) {
    __shared__ float cs[512], sn[512];
    const int64_t t = blockIdx.x;
    const int32_t sq = seq[t], ps = pos[t];
    if (sq < 0 || ps < 0 || ps >= kv_cap) return; /* the whole block: before any barrier */
    const int half = D / 2;
    for (int p = threadIdx.x; p < half; p += blockDim.x) {
        const double a = (double)ps * pow((double)theta, -2.0 * (double)p / (double)D);
        double s, c;
        sincos(a, &s, &c);
        cs[p] = (float)c;
        sn[p] = (float)s;
    }
    __syncthreads();
    const float *row = qkv + t * row_stride;
    float *qo = q_out + t * (int64_t)H * D;
    for (int i = threadIdx.x; i < H * half; i += blockDim.x) {
        const int h = i / half, p = i - h * half;
        const int i0 = neox ? p : 2 * p, i1 = neox ? p + half : 2 * p + 1;
        const float x0 = row[h * D + i0], x1 = row[h * D + i1], c = cs[p], s = sn[p];
        qo[h * D + i0] = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
        qo[h * D + i1] = __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c));
    }
    const int64_t at = (int64_t)sq * seq_stride + (int64_t)ps * D; /* + g * kv_cap * D */
    const float *kr = row + (int64_t)H * D, *vr = kr + (int64_t)KV * D;
    for (int i = threadIdx.x; i < KV * half; i += blockDim.x) {
        const int g = i / half, p = i - g * half;
        const int i0 = neox ? p : 2 * p, i1 = neox ? p + half : 2 * p + 1;
        const float x0 = kr[g * D + i0], x1 = kr[g * D + i1], c = cs[p], s = sn[p];
        uint16_t *dst = kc + at + (int64_t)g * kv_cap * D;
        dst[i0] = hy_bf16_from_f32(__fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s)));
        dst[i1] = hy_bf16_from_f32(__fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c)));
    }
    for (int i = threadIdx.x; i < KV * D; i += blockDim.x) {
        const int g = i / D, dd = i - g * D;
        vc[at + (int64_t)g * kv_cap * D + dd] = hy_bf16_from_f32(vr[i]);
    }
}

extern "C" hy_status hy_cuda_qkv_rope_store(float *q_out, uint16_t *k_cache, uint16_t *v_cache,
                                            const float *qkv, int64_t row_stride, int64_t n_tok,
                                            const int32_t *seq, const int32_t *pos,
                                            const hy_qkv_shape *s, void *stream) {
    if (!s) return hy_fail(HY_EINVAL, "qkv_rope_store CUDA: shape is NULL");
    if (s->n_heads < 1 || s->n_kv_heads < 1)
        return hy_fail(HY_EINVAL, "qkv_rope_store CUDA: n_heads %d, n_kv_heads %d: expected >= 1",
                       s->n_heads, s->n_kv_heads);
    if (s->head_dim < 2 || s->head_dim % 2 || s->head_dim > 1024)
        return hy_fail(HY_EINVAL, "qkv_rope_store CUDA: head_dim %d, expected even, 2..1024",
                       s->head_dim);
    if (s->layout != HY_ROPE_NORM && s->layout != HY_ROPE_NEOX)
        return hy_fail(HY_EINVAL, "qkv_rope_store CUDA: layout %d, expected %d (norm) or %d (neox)",
                       (int)s->layout, HY_ROPE_NORM, HY_ROPE_NEOX);
    const int64_t d = s->head_dim;
    if (s->kv_cap < 1 || s->seq_stride < (int64_t)s->n_kv_heads * s->kv_cap * d)
        return hy_fail(HY_EINVAL,
                       "qkv_rope_store CUDA: kv_cap %lld, seq_stride %lld: expected kv_cap >= 1 "
                       "and seq_stride >= n_kv_heads*kv_cap*head_dim = %lld",
                       (long long)s->kv_cap, (long long)s->seq_stride,
                       (long long)s->n_kv_heads * s->kv_cap * d);
    if (row_stride < ((int64_t)s->n_heads + 2 * (int64_t)s->n_kv_heads) * d || n_tok < 0 ||
        n_tok > 0x7fffffff)
        return hy_fail(HY_EINVAL,
                       "qkv_rope_store CUDA: row_stride %lld, n_tok %lld: expected row_stride >= "
                       "(n_heads + 2*n_kv_heads)*head_dim = %lld and n_tok in 0..2^31-1",
                       (long long)row_stride, (long long)n_tok,
                       ((long long)s->n_heads + 2LL * s->n_kv_heads) * d);
    if (!n_tok) return HY_OK;
    if (!q_out || !k_cache || !v_cache || !qkv || !seq || !pos)
        return hy_fail(HY_EINVAL, "qkv_rope_store CUDA: NULL buffer");
    qkv_rope_store_kernel<<<(unsigned)n_tok, HY_QKV_THREADS, 0, (cudaStream_t)stream>>>(
        q_out, k_cache, v_cache, qkv, row_stride, seq, pos, s->n_heads, s->n_kv_heads, s->head_dim,
        s->kv_cap, s->seq_stride, s->theta, s->layout == HY_ROPE_NEOX);
    HY_CUDA_LAUNCH("qkv_rope_store_kernel");
    return HY_OK;
}

/* Extras (bias, per-head RMSNorm): one block per token. The bias pass touches the whole row;
 * after the barrier each warp normalises whole heads (Q heads, then K heads), the sum of
 * squares reduced by shuffles. In place, so the RoPE kernel above runs unchanged after it. */
__global__ void __launch_bounds__(HY_QKV_THREADS)
    qkv_extras_kernel(float *qkv, int64_t row_stride, const float *bias, const float *qn,
                      const float *kn, int H, int KV, int D, float eps) {
    float *row = qkv + (int64_t)blockIdx.x * row_stride;
    if (bias) {
        for (int i = threadIdx.x; i < (H + 2 * KV) * D; i += blockDim.x)
            row[i] += bias[i];
        __syncthreads();
    }
    if (!qn) return;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    for (int h = warp; h < H + KV; h += nw) {
        float *x = row + (int64_t)h * D;
        const float *w = h < H ? qn : kn;
        float ss = 0.f;
        for (int i = lane; i < D; i += 32)
            ss = fmaf(x[i], x[i], ss);
        for (int o = 16; o > 0; o >>= 1)
            ss += __shfl_xor_sync(0xffffffffu, ss, o);
        const float inv = rsqrtf(ss / (float)D + eps);
        for (int i = lane; i < D; i += 32)
            x[i] = x[i] * inv * w[i];
    }
}

extern "C" hy_status hy_cuda_qkv_extras_f32(float *qkv, int64_t row_stride, int64_t n_tok,
                                            const hy_qkv_extras *e, void *stream) {
    const hy_status st = hy_qkv_extras_check(e, row_stride, n_tok, "qkv_extras CUDA");
    if (st) return st;
    if (!n_tok || (!e->bias && !e->q_norm)) return HY_OK;
    if (!qkv || n_tok > 0x7fffffff)
        return hy_fail(HY_EINVAL,
                       "qkv_extras CUDA: qkv %p, n_tok %lld: expected a buffer and "
                       "n_tok < 2^31",
                       (void *)qkv, (long long)n_tok);
    qkv_extras_kernel<<<(unsigned)n_tok, HY_QKV_THREADS, 0, (cudaStream_t)stream>>>(
        qkv, row_stride, e->bias, e->q_norm, e->k_norm, e->n_heads, e->n_kv_heads, e->head_dim,
        e->eps);
    HY_CUDA_LAUNCH("qkv_extras_kernel");
    return HY_OK;
}

__global__ void seq_advance_kernel(int32_t *pos, int32_t *lens, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const int32_t l = lens[i];
    pos[i] = l;
    lens[i] = (int32_t)((uint32_t)l + 1u); /* the CPU version refuses INT32_MAX; wrap, not UB */
}

extern "C" hy_status hy_cuda_seq_advance(int32_t *pos, int32_t *lens, int n, void *stream) {
    if (n < 0 || (n > 0 && (!pos || !lens)))
        return hy_fail(HY_EINVAL,
                       "seq_advance CUDA: n %d with pos %p, lens %p: expected n >= 0 and both "
                       "arrays",
                       n, (void *)pos, (void *)lens);
    if (!n) return HY_OK;
    seq_advance_kernel<<<(unsigned)((n + 255) / 256), 256, 0, (cudaStream_t)stream>>>(pos, lens, n);
    HY_CUDA_LAUNCH("seq_advance_kernel");
    return HY_OK;
}
