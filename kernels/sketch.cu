/* Key sketches on the GPU (sketch.h): the fold quantises new key rows, a warp per token (lanes
 * over channels, the row's absolute maximum by shuffles); the scores stage tiles of code rows
 * in shared memory with coalesced copies, dot each token's row with the group's queries (a
 * thread a token), keep each head's running max and sum, and leave base-2 logits and per-split
 * maxima in the attention workspace, which the split merge and the shared probabilities pass of
 * attention_decode.cu turn into the group's summed probabilities. Bound: the code bytes, D b/8
 * + 4 a token against 4 D of K and V; the dot products are fp32 FMAs on the SIMT lanes, G D a
 * token, which at int4 is about as much time as the bytes (docs/kernels.md). */
#include <math.h>

#include "attention_core.cuh"
#include "hy_bf16.h"
#include "sketch.h"

#define SK_FOLD_WARPS 8
#define SK_FOLD_SLICES 64
#define SK_THREADS 256
#define SK_BLOCKS_PER_SM 4

static hy_status skip_of(const uint8_t *modes, int n_kv, unsigned long long *skip, int *any) {
    *skip = 0ull;
    *any = 1;
    if (!modes) return HY_OK;
    if (n_kv > 64)
        return hy_fail(HY_EUNSUPPORTED, "sketch CUDA: %d KV heads with unit modes, at most 64",
                       n_kv);
    *any = 0;
    for (int g = 0; g < n_kv; g++) {
        if (modes[g] == HY_UNIT_SKIP)
            *skip |= 1ull << g;
        else if (modes[g] == HY_UNIT_DENSE)
            *any = 1;
        else
            return hy_fail(HY_EINVAL, "sketch CUDA: modes[%d] = %d, expected %d (run) or %d (skip)",
                           g, modes[g], HY_UNIT_DENSE, HY_UNIT_SKIP);
    }
    return HY_OK;
}

static hy_status check_shape(const hy_attn_shape *s, int64_t row_cap, int64_t max_len, int bits,
                             const char *who) {
    if (!s || s->batch < 1 || s->n_kv_heads < 1 || s->n_heads % s->n_kv_heads ||
        s->n_heads / s->n_kv_heads > 8 || (s->head_dim != 64 && s->head_dim != 128) ||
        (bits != 8 && bits != 4) || row_cap < s->kv_cap || max_len < 0 || max_len > s->kv_cap)
        return hy_fail(HY_EINVAL,
                       "%s: bad shape or arguments (GQA group <= 8, head_dim 64 or 128, bits %d "
                       "expected 8 or 4, row_cap %lld >= kv_cap %lld, max_len %lld)",
                       who, bits, (long long)row_cap, s ? (long long)s->kv_cap : -1ll,
                       (long long)max_len);
    return HY_OK;
}

/* ---------- fold ---------- */

template <int D>
__global__ void sketch_fold_kernel(uint8_t *sk, float *sks, int64_t row_cap, const int32_t *folded,
                                   const uint16_t *k, const int32_t *lens, hy_attn_shape s,
                                   unsigned long long skip, int bits) {
    constexpr int C = D / 32; /* channels per lane: 4 or 2 */
    const int64_t r = blockIdx.y;
    const int nkv = s.n_kv_heads;
    const int64_t b = r / nkv, g = r % nkv;
    if ((skip >> g) & 1ull) return;
    int64_t n = lens[b];
    n = n < 0 ? 0 : (n > s.kv_cap ? s.kv_cap : n);
    int64_t from = folded[r];
    from = from < 0 ? 0 : (from > n ? n : from);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const uint16_t *kr = k + b * s.seq_stride + g * s.kv_cap * D;
    const float qmax = bits == 8 ? 127.0f : 7.0f;
    const int row_bytes = bits == 8 ? D : D / 2;
    for (int64_t t = from + (int64_t)blockIdx.x * SK_FOLD_WARPS + warp; t < n;
         t += (int64_t)gridDim.x * SK_FOLD_WARPS) {
        float v[C], amax = 0.0f;
#pragma unroll
        for (int i = 0; i < C; i++) {
            v[i] = hy_bf16_to_f32(kr[t * D + lane * C + i]);
            amax = fmaxf(amax, fabsf(v[i]));
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1)
            amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
        const float sc = amax / qmax; /* the CPU's float division and rounding, bit for bit */
        uint32_t packed = 0;
#pragma unroll
        for (int i = 0; i < C; i++) {
            float x = sc > 0.0f ? roundf(v[i] / sc) : 0.0f;
            x = x > qmax ? qmax : (x < -qmax ? -qmax : x);
            const uint32_t code = (uint32_t)(int32_t)x & (bits == 8 ? 0xffu : 0xfu);
            packed |= code << (i * bits);
        }
        uint8_t *row = sk + (r * row_cap + t) * row_bytes;
        if (bits == 8) {
            if (C == 4)
                reinterpret_cast<uint32_t *>(row)[lane] = packed;
            else
                reinterpret_cast<uint16_t *>(row)[lane] = (uint16_t)packed;
        } else {
            if (C == 4)
                reinterpret_cast<uint16_t *>(row)[lane] = (uint16_t)packed;
            else
                row[lane] = (uint8_t)packed;
        }
        if (lane == 0) sks[r * row_cap + t] = sc;
    }
}

extern "C" hy_status hy_cuda_sketch_fold(uint8_t *sk, float *sks, int64_t row_cap,
                                         const int32_t *folded, const uint16_t *k,
                                         const int32_t *lens, int64_t max_len,
                                         const hy_attn_shape *s, const uint8_t *modes, int bits,
                                         void *stream) {
    if (!sk || !sks || !folded || !k || !lens)
        return hy_fail(HY_EINVAL, "sketch fold CUDA: NULL buffer");
    if (hy_status st_ = check_shape(s, row_cap, max_len, bits, "sketch fold CUDA")) return st_;
    unsigned long long skip;
    int any;
    if (hy_status st_ = skip_of(modes, s->n_kv_heads, &skip, &any)) return st_;
    if (!any || max_len == 0) return HY_OK;
    int64_t slices = (max_len + SK_FOLD_WARPS - 1) / SK_FOLD_WARPS;
    slices = slices > SK_FOLD_SLICES ? SK_FOLD_SLICES : slices;
    dim3 grid((unsigned)slices, (unsigned)((int64_t)s->batch * s->n_kv_heads));
    cudaStream_t cs = (cudaStream_t)stream;
    if (s->head_dim == 128)
        sketch_fold_kernel<128><<<grid, SK_FOLD_WARPS * 32, 0, cs>>>(sk, sks, row_cap, folded, k,
                                                                     lens, *s, skip, bits);
    else
        sketch_fold_kernel<64><<<grid, SK_FOLD_WARPS * 32, 0, cs>>>(sk, sks, row_cap, folded, k,
                                                                    lens, *s, skip, bits);
    HY_CUDA_LAUNCH("sketch_fold_kernel");
    return HY_OK;
}

/* ---------- scores ---------- */

/* 16 bytes of codes -> their channels as floats: 16 of int8, or 32 of int4 (code j of a
 * 32-bit word sign-extended by a left shift to the top and an arithmetic right shift). */
template <int BITS> struct sk_unpack {
    static constexpr int CH = 128 / BITS;
    static __device__ __forceinline__ void run(const uint4 w, float *x) {
        const uint32_t u[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 32 / BITS; j++)
                x[32 / BITS * i + j] =
                    (float)((int32_t)(u[i] << (32 - BITS - BITS * j)) >> (32 - BITS));
    }
};

/* Block (split, unit): tokens [split * chunk, +chunk) of the unit, in tiles of SK_THREADS
 * tokens: the tile's code rows are copied into shared memory with contiguous 16-byte loads (a
 * warp's load is 512 bytes of consecutive rows), then each thread reads its own token's row
 * there and dots it with the group's queries. Rows sit 16 bytes apart beyond their length, so
 * the 8 threads of a 16-byte shared load phase hit 8 different bank groups. (Reading rows
 * straight from global memory, a thread a row, split every warp load into 32 transactions and
 * left the kernel at a third of the copy rate; docs/kernels.md.) */
template <int D, int BITS>
__global__ void __launch_bounds__(SK_THREADS)
    sketch_scores_kernel(float *logits, int64_t max_tokens, float *part_ml, int32_t *folded,
                         const float *q, const uint8_t *sk, const float *sks, int64_t row_cap,
                         const int32_t *lens, hy_attn_shape s, float qscale,
                         unsigned long long skip, int64_t chunk) {
    using U = sk_unpack<BITS>;
    constexpr int RB = D * BITS / 8; /* code bytes a token */
    constexpr int NP = RB / 16;      /* 16-byte pieces a token */
    constexpr int RS = RB + 16;      /* shared row stride */
    constexpr int NW = SK_THREADS / 32;
    constexpr int GR = HY_ATTN_ROWS;
    __shared__ __align__(16) float qs[GR][D];
    __shared__ __align__(16) unsigned char tile[SK_THREADS * RS];
    __shared__ float red_m[NW][GR], red_l[NW][GR];
    const int unit = blockIdx.y, split = blockIdx.x;
    const int nkv = s.n_kv_heads, G = s.n_heads / nkv;
    const int b = unit / nkv, g = unit - b * nkv;
    if ((skip >> g) & 1ull) return;
    for (int i = threadIdx.x; i < G * D; i += blockDim.x)
        qs[i / D][i % D] = q[((int64_t)b * s.n_heads + g * G) * D + i] * qscale;
    const int64_t n = lens[b];
    if (split == 0 && threadIdx.x == 0) folded[unit] = (int32_t)n;
    const int64_t start = (int64_t)split * chunk;
    const int64_t end = start + chunk < n ? start + chunk : n;
    float m[GR], l[GR];
#pragma unroll
    for (int h = 0; h < GR; h++)
        m[h] = -INFINITY, l[h] = 0.0f;
    const uint8_t *rows = sk + (int64_t)unit * row_cap * RB;
    const float *scales = sks + (int64_t)unit * row_cap;
    const uint32_t tile0 = (uint32_t)__cvta_generic_to_shared(tile);
    for (int64_t t0 = start; t0 < end; t0 += SK_THREADS) {
        const int64_t nt = end - t0 < SK_THREADS ? end - t0 : SK_THREADS;
        __syncthreads(); /* the previous tile is read (and, the first time, qs written) */
        for (int i = threadIdx.x; i < nt * NP; i += SK_THREADS) {
            const int tok = i / NP, piece = i - tok * NP;
            hy_cp16(tile0 + (uint32_t)(tok * RS + piece * 16), rows + (t0 + tok) * RB + piece * 16,
                    16);
        }
        hy_cp_commit();
        const int64_t t = t0 + threadIdx.x;
        const float ks = threadIdx.x < nt ? __ldcs(scales + t) : 0.0f;
        hy_cp_wait<0>();
        __syncthreads();
        if (threadIdx.x >= nt) continue;
        float acc[GR];
#pragma unroll
        for (int h = 0; h < GR; h++)
            acc[h] = 0.0f;
        const uint4 *row = reinterpret_cast<const uint4 *>(tile + threadIdx.x * RS);
#pragma unroll
        for (int i = 0; i < NP; i++) {
            float x[U::CH];
            U::run(row[i], x);
#pragma unroll
            for (int h = 0; h < GR; h++) {
                if (h >= G) break;
                const float4 *qh = reinterpret_cast<const float4 *>(&qs[h][i * U::CH]);
#pragma unroll
                for (int c = 0; c < U::CH / 4; c++) {
                    const float4 qv = qh[c];
                    acc[h] = fmaf(qv.x, x[4 * c], acc[h]);
                    acc[h] = fmaf(qv.y, x[4 * c + 1], acc[h]);
                    acc[h] = fmaf(qv.z, x[4 * c + 2], acc[h]);
                    acc[h] = fmaf(qv.w, x[4 * c + 3], acc[h]);
                }
            }
        }
#pragma unroll
        for (int h = 0; h < GR; h++) {
            if (h >= G) break;
            const float xl = acc[h] * ks;
            logits[((int64_t)unit * G + h) * max_tokens + t] = xl;
            if (xl > m[h]) {
                l[h] = l[h] * exp2f(m[h] - xl) + 1.0f;
                m[h] = xl;
            } else {
                l[h] += exp2f(xl - m[h]);
            }
        }
    }
    /* the block's max and sum per head: warps by shuffles, then across warps */
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
#pragma unroll
    for (int h = 0; h < GR; h++) {
        if (h >= G) break;
        float mh = m[h], lh = l[h];
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const float mo = __shfl_xor_sync(0xffffffffu, mh, o);
            const float lo = __shfl_xor_sync(0xffffffffu, lh, o);
            const float mx = fmaxf(mh, mo);
            lh = (mh == -INFINITY ? 0.0f : lh * exp2f(mh - mx)) +
                 (mo == -INFINITY ? 0.0f : lo * exp2f(mo - mx));
            mh = mx;
        }
        if (lane == 0) red_m[warp][h] = mh, red_l[warp][h] = lh;
    }
    __syncthreads();
    if (threadIdx.x < G) {
        const int h = threadIdx.x;
        float mx = -INFINITY, L = 0.0f;
        for (int w = 0; w < NW; w++)
            mx = fmaxf(mx, red_m[w][h]);
        for (int w = 0; w < NW; w++)
            L += red_m[w][h] == -INFINITY ? 0.0f : red_l[w][h] * exp2f(red_m[w][h] - mx);
        float *pm = part_ml + (((int64_t)unit * G + h) * HY_ATTN_MAX_SPLITS + split) * 2;
        pm[0] = mx, pm[1] = L;
    }
}

/* Block per unit, warp h per head: the splits' maxima and sums into the merged pair. */
__global__ void sketch_merge_kernel(float *final_ml, const float *part_ml, int nsplit, int n_kv,
                                    int G, unsigned long long skip) {
    const int unit = blockIdx.x, h = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (((skip >> (unit % n_kv)) & 1ull) || h >= G) return;
    const float *pm = part_ml + ((int64_t)unit * G + h) * HY_ATTN_MAX_SPLITS * 2;
    float mx = -INFINITY;
    for (int sp = lane; sp < nsplit; sp += 32)
        mx = fmaxf(mx, pm[sp * 2]);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float L = 0.0f;
    for (int sp = lane; sp < nsplit; sp += 32)
        L += pm[sp * 2] == -INFINITY ? 0.0f : pm[sp * 2 + 1] * exp2f(pm[sp * 2] - mx);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        L += __shfl_xor_sync(0xffffffffu, L, o);
    if (lane == 0) {
        final_ml[((int64_t)unit * G + h) * 2] = mx;
        final_ml[((int64_t)unit * G + h) * 2 + 1] = L;
    }
}

template <int D, int BITS>
static hy_status scores_run(dim3 grid, cudaStream_t cs, hy_cuda_attn_ws *ws, int32_t *folded,
                            const float *q, const uint8_t *sk, const float *sks, int64_t row_cap,
                            const int32_t *lens, const hy_attn_shape *s, unsigned long long skip,
                            int64_t chunk) {
    sketch_scores_kernel<D, BITS><<<grid, SK_THREADS, 0, cs>>>(
        ws->logits, ws->max_tokens, ws->part_ml, folded, q, sk, sks, row_cap, lens, *s,
        s->scale * 1.4426950408889634f, skip, chunk);
    HY_CUDA_LAUNCH("sketch_scores_kernel");
    return HY_OK;
}

extern "C" hy_status hy_cuda_sketch_scores(float *scores, int64_t score_stride, int32_t *folded,
                                           const float *q, const uint8_t *sk, const float *sks,
                                           int64_t row_cap, const int32_t *lens, int64_t max_len,
                                           const hy_attn_shape *s, const uint8_t *modes, int bits,
                                           hy_cuda_attn_ws *ws, void *stream) {
    if (!scores || !folded || !q || !sk || !sks || !lens || !ws || !ws->logits)
        return hy_fail(HY_EINVAL, "sketch scores CUDA: NULL buffer or workspace without logits");
    if (hy_status st_ = check_shape(s, row_cap, max_len, bits, "sketch scores CUDA")) return st_;
    if (max_len < 1 || max_len > ws->max_tokens || score_stride < max_len ||
        s->batch > ws->shape.batch || s->n_heads != ws->shape.n_heads ||
        s->n_kv_heads != ws->shape.n_kv_heads)
        return hy_fail(HY_ERANGE,
                       "sketch scores CUDA: max_len %lld, expected 1..min(workspace %lld, "
                       "score_stride %lld), and a workspace of this shape",
                       (long long)max_len, (long long)ws->max_tokens, (long long)score_stride);
    unsigned long long skip;
    int any;
    if (hy_status st_ = skip_of(modes, s->n_kv_heads, &skip, &any)) return st_;
    if (!any) return HY_OK;
    const int units = s->batch * s->n_kv_heads;
    const int active = units / s->n_kv_heads * (s->n_kv_heads - __builtin_popcountll(skip));
    /* one wave of blocks over the active units, at least a block's worth of tokens each */
    int64_t ns = (int64_t)ws->sm_count * SK_BLOCKS_PER_SM / (active > 0 ? active : 1);
    ns = ns < 1 ? 1 : (ns > HY_ATTN_MAX_SPLITS ? HY_ATTN_MAX_SPLITS : ns);
    int64_t chunk = (max_len + ns - 1) / ns;
    chunk = (chunk + SK_THREADS - 1) / SK_THREADS * SK_THREADS;
    ns = (max_len + chunk - 1) / chunk;
    dim3 grid((unsigned)ns, (unsigned)units);
    cudaStream_t cs = (cudaStream_t)stream;
    hy_status st;
    if (s->head_dim == 128)
        st = bits == 8 ? scores_run<128, 8>(grid, cs, ws, folded, q, sk, sks, row_cap, lens, s,
                                            skip, chunk)
                       : scores_run<128, 4>(grid, cs, ws, folded, q, sk, sks, row_cap, lens, s,
                                            skip, chunk);
    else
        st = bits == 8 ? scores_run<64, 8>(grid, cs, ws, folded, q, sk, sks, row_cap, lens, s, skip,
                                           chunk)
                       : scores_run<64, 4>(grid, cs, ws, folded, q, sk, sks, row_cap, lens, s, skip,
                                           chunk);
    if (st) return st;
    const int G = s->n_heads / s->n_kv_heads;
    sketch_merge_kernel<<<units, 32 * G, 0, cs>>>(ws->final_ml, ws->part_ml, (int)ns, s->n_kv_heads,
                                                  G, skip);
    HY_CUDA_LAUNCH("sketch_merge_kernel");
    return hy_cuda_attn_probs(scores, score_stride, lens, max_len, s, modes, ws, stream);
}
