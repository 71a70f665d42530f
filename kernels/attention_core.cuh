/* The split-KV decode attention core shared by attention_decode.cu and attention_sparse.cu.
 * A block owns one unit (sequence, KV head) and one chunk of its token list (all tokens for
 * a dense unit, the gathered set for a sparse one) and serves the whole GQA group, so each
 * K/V row is read once per step. Each lane copies its 16-byte pieces of K and V rows into a
 * private 4-stage shared-memory ring with cp.async (so ~3 stages of loads stay in flight
 * while it computes, without holding registers), keeps an online softmax per token-lane,
 * merges lanes by shuffles and warps through shared memory; the last block of a unit to
 * finish (atomic ticket) merges the splits in parallel: no second launch.
 * Bound: bytes of K and V read; everything else is small. */
#ifndef HY_KERNELS_ATTENTION_CORE_CUH
#define HY_KERNELS_ATTENTION_CORE_CUH
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_pipeline.h>
#include <math.h>
#include <stdint.h>

#include "attention_decode.h"
#include "cuda_check.h"

#define HY_ATTN_WARPS 8
#define HY_ATTN_UNROLL 2
#define HY_ATTN_STAGES 4
#define HY_ATTN_MAX_SPLITS 128
/* dynamic shared memory of the cp.async ring: [stage][u][k|v][thread] 16-byte slots */
#define HY_ATTN_RING_BYTES (HY_ATTN_STAGES * HY_ATTN_UNROLL * 2 * HY_ATTN_WARPS * 32 * 16)

struct hy_cuda_attn_ws {
    hy_attn_shape shape;
    int64_t max_tokens;
    int sm_count;
    float *part_acc;   /* [units*G][MAX_SPLITS][D] unnormalised split outputs */
    float *part_ml;    /* [units*G][MAX_SPLITS][2] split max (log2 units) and sum */
    float *final_ml;   /* [units*G][2] merged max and sum, for scores */
    float *logits;     /* [batch*n_heads][max_tokens] log2-scaled q.k, or NULL */
    unsigned *tickets; /* [units], zero between launches */
};

enum { HY_CORE_DENSE = 0, HY_CORE_DENSE_SCORES = 1, HY_CORE_INDEXED = 2 };

struct hy_core_args {
    float *out;
    const float *q;
    const void *k, *v;
    const int32_t *lens;
    int64_t kv_cap, seq_stride;
    int n_kv, G;
    float qscale; /* scale * log2(e): softmax in base 2 */
    int nsplit;
    int64_t chunk;
    /* indexed mode */
    const int32_t *idx, *count;
    int64_t idx_stride;
    int page; /* 1 for tokens */
    unsigned long long sparse_mask;
    /* scores */
    float *logits;
    int64_t max_tokens;
    /* workspace */
    float *part_acc, *part_ml, *final_ml;
    unsigned *tickets;
};

__device__ __forceinline__ void hy_load8(const __nv_bfloat16 *p, float f[8], uint4 u) {
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        f[2 * i] = __uint_as_float(w[i] << 16);
        f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
}
__device__ __forceinline__ void hy_load8(const __half *p, float f[8], uint4 u) {
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        __half2 h2 = *reinterpret_cast<const __half2 *>(&w[i]);
        float2 f2 = __half22float2(h2);
        f[2 * i] = f2.x;
        f[2 * i + 1] = f2.y;
    }
}

/* T: KV element type; D: head dim; GM: register capacity for the group (G <= GM). */
template <typename T, int D, int GM, int MODE>
__global__ void __launch_bounds__(HY_ATTN_WARPS * 32) hy_attn_core_kernel(const hy_core_args a) {
    constexpr int LPT = D / 8;    /* lanes per token row (16 bytes each) */
    constexpr int TPW = 32 / LPT; /* token-lanes per warp */
    constexpr int TL = HY_ATTN_WARPS * TPW;
    constexpr int U = HY_ATTN_UNROLL;
    __shared__ float sm_acc[HY_ATTN_WARPS][GM][D];
    __shared__ float sm_m[HY_ATTN_WARPS][GM], sm_l[HY_ATTN_WARPS][GM];
    __shared__ float sm_w[GM][HY_ATTN_MAX_SPLITS];
    __shared__ float sm_L[GM];
    __shared__ int sm_last;

    const int split = blockIdx.x, unit = blockIdx.y;
    const int b = unit / a.n_kv, g = unit - b * a.n_kv;
    const int G = a.G;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int sub = lane % LPT, tl = warp * TPW + lane / LPT;
    const int64_t len = a.lens[b];
    const bool indexed = MODE == HY_CORE_INDEXED && ((a.sparse_mask >> g) & 1ull);
    int64_t n_iter = len;
    const int32_t *ix = nullptr;
    if (indexed) {
        ix = a.idx + (int64_t)unit * a.idx_stride;
        int c = a.count[unit];
        c = c < 0 ? 0 : (c > a.idx_stride ? (int)a.idx_stride : c);
        n_iter = (int64_t)c * a.page;
    }
    const int64_t start = (int64_t)split * a.chunk;
    const int64_t end = start + a.chunk < n_iter ? start + a.chunk : n_iter;

    const T *kb = reinterpret_cast<const T *>(a.k) + b * a.seq_stride + (int64_t)g * a.kv_cap * D;
    const T *vb = reinterpret_cast<const T *>(a.v) + b * a.seq_stride + (int64_t)g * a.kv_cap * D;
    const int head0 = unit * G; /* == b * n_heads + g * G */

    /* Position p of this unit's token list -> token index, or -1 (past the end, or an
     * index outside the sequence: skipped, never read). */
    auto token_at = [&](int64_t p) -> int64_t {
        if (p >= end) return -1;
        if (!indexed) return p;
        const int64_t e = a.page == 1 ? ix[p] : (int64_t)ix[p / a.page] * a.page + p % a.page;
        return (e >= 0 && e < len) ? e : -1;
    };
    extern __shared__ uint4 ring[];
    const int NT = HY_ATTN_WARPS * 32;
    auto slot = [&](int stage, int u, int kv) -> uint4 * {
        return ring + ((stage * U + u) * 2 + kv) * NT + tid;
    };
    /* each thread fills and reads only its own slots: cp.async waits, no block barriers */
    auto issue = [&](int64_t p0, int stage) {
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int64_t t = token_at(p0 + tl + (int64_t)u * TL);
            if (t >= 0) {
                __pipeline_memcpy_async(slot(stage, u, 0),
                                        reinterpret_cast<const uint4 *>(kb + t * D) + sub, 16);
                __pipeline_memcpy_async(slot(stage, u, 1),
                                        reinterpret_cast<const uint4 *>(vb + t * D) + sub, 16);
            }
        }
        __pipeline_commit();
    };
    const int64_t step = (int64_t)TL * U;
    const int64_t n_steps = end > start ? (end - start + step - 1) / step : 0;
#pragma unroll
    for (int st = 0; st < HY_ATTN_STAGES - 1; st++)
        issue(start + st * step, st);
    /* q after the first K/V copies are on their way: its load latency hides under theirs
     * instead of adding to the chain every block starts with */
    float qf[GM][8], acc[GM][8], m[GM], l[GM];
#pragma unroll
    for (int h = 0; h < GM; h++) {
        m[h] = -INFINITY;
        l[h] = 0.f;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            acc[h][i] = 0.f;
            qf[h][i] = h < G ? __ldg(a.q + (int64_t)(head0 + h) * D + sub * 8 + i) * a.qscale : 0.f;
        }
    }
    /* the trip count is the same for every lane: the shuffles below need whole warps */
    for (int64_t it = 0; it < n_steps; it++) {
        issue(start + (it + HY_ATTN_STAGES - 1) * step,
              (int)((it + HY_ATTN_STAGES - 1) % HY_ATTN_STAGES));
        __pipeline_wait_prior(HY_ATTN_STAGES - 1);
        const int stage = (int)(it % HY_ATTN_STAGES);
        const int64_t p0 = start + it * step;
        /* scores of the U tokens first (every lane takes part in the shuffles), then one
         * softmax rescale for the group: fewer exp2 and multiplies per token */
        float sc[U][GM], vf[U][8];
        int64_t tk[U];
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int64_t t = token_at(p0 + tl + (int64_t)u * TL);
            tk[u] = t;
            float kf[8];
            const uint4 kr = t >= 0 ? *slot(stage, u, 0) : make_uint4(0, 0, 0, 0);
            const uint4 vr = t >= 0 ? *slot(stage, u, 1) : make_uint4(0, 0, 0, 0);
            hy_load8(kb, kf, kr);
            hy_load8(vb, vf[u], vr);
#pragma unroll
            for (int h = 0; h < GM; h++) {
                float d0 = 0.f;
#pragma unroll
                for (int i = 0; i < 8; i++)
                    d0 = fmaf(qf[h][i], kf[i], d0);
#pragma unroll
                for (int o = LPT / 2; o > 0; o >>= 1)
                    d0 += __shfl_xor_sync(0xffffffffu, d0, o, LPT);
                sc[u][h] = t >= 0 ? d0 : -INFINITY;
            }
            if (MODE == HY_CORE_DENSE_SCORES && sub < G && t >= 0) {
                /* the butterfly left every lane the full sums: lane sub stores head sub,
                 * one store per lane instead of G in a row from lane 0 */
                float mine = sc[u][0];
#pragma unroll
                for (int h = 1; h < GM; h++)
                    mine = sub == h ? sc[u][h] : mine;
                a.logits[(int64_t)(head0 + sub) * a.max_tokens + t] = mine;
            }
        }
        bool any = false;
#pragma unroll
        for (int u = 0; u < U; u++)
            any |= tk[u] >= 0;
        if (!any) continue; /* no shuffles below: divergence is fine */
#pragma unroll
        for (int h = 0; h < GM; h++) {
            if (h >= G) continue;
            float mx = sc[0][h];
#pragma unroll
            for (int u = 1; u < U; u++)
                mx = fmaxf(mx, sc[u][h]);
            const float mn = fmaxf(m[h], mx); /* finite: one token at least is valid */
            const float corr = exp2f(m[h] - mn);
            float pr[U], psum = 0.f;
#pragma unroll
            for (int u = 0; u < U; u++)
                psum += (pr[u] = exp2f(sc[u][h] - mn));
            m[h] = mn;
            l[h] = l[h] * corr + psum;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                float x = acc[h][i] * corr;
#pragma unroll
                for (int u = 0; u < U; u++)
                    x = fmaf(pr[u], vf[u][i], x);
                acc[h][i] = x;
            }
        }
    }
    __pipeline_wait_prior(0);
    /* merge the token-lanes of a warp (lanes sub, sub+LPT, ...) */
#pragma unroll
    for (int o = LPT; o < 32; o <<= 1) {
#pragma unroll
        for (int h = 0; h < GM; h++) {
            const float mo = __shfl_xor_sync(0xffffffffu, m[h], o);
            const float lo = __shfl_xor_sync(0xffffffffu, l[h], o);
            const float mn = fmaxf(m[h], mo);
            const float c0 = mn == -INFINITY ? 0.f : exp2f(m[h] - mn);
            const float c1 = mn == -INFINITY ? 0.f : exp2f(mo - mn);
            l[h] = l[h] * c0 + lo * c1;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const float ao = __shfl_xor_sync(0xffffffffu, acc[h][i], o);
                acc[h][i] = acc[h][i] * c0 + ao * c1;
            }
            m[h] = mn;
        }
    }
    if (lane < LPT) {
#pragma unroll
        for (int h = 0; h < GM; h++) {
#pragma unroll
            for (int i = 0; i < 8; i++)
                sm_acc[warp][h][sub * 8 + i] = acc[h][i];
            if (lane == 0) {
                sm_m[warp][h] = m[h];
                sm_l[warp][h] = l[h];
            }
        }
    }
    __syncthreads();
    /* merge warps: thread (h, dim) */
    const int64_t pbase = (int64_t)head0; /* split partial rows are per head */
    for (int e = tid; e < G * D; e += blockDim.x) {
        const int h = e / D, dim = e - h * D;
        float M = -INFINITY;
        for (int w = 0; w < HY_ATTN_WARPS; w++)
            M = fmaxf(M, sm_m[w][h]);
        float L = 0.f, A = 0.f;
        for (int w = 0; w < HY_ATTN_WARPS; w++) {
            const float c = M == -INFINITY ? 0.f : exp2f(sm_m[w][h] - M);
            L += sm_l[w][h] * c;
            A += sm_acc[w][h][dim] * c;
        }
        if (a.nsplit == 1) {
            a.out[(pbase + h) * D + dim] = L > 0.f ? A / L : 0.f;
            if (MODE == HY_CORE_DENSE_SCORES && dim == 0) {
                a.final_ml[(pbase + h) * 2] = M;
                a.final_ml[(pbase + h) * 2 + 1] = L;
            }
        } else {
            a.part_acc[((pbase + h) * HY_ATTN_MAX_SPLITS + split) * D + dim] = A;
            if (dim == 0) {
                a.part_ml[((pbase + h) * HY_ATTN_MAX_SPLITS + split) * 2] = M;
                a.part_ml[((pbase + h) * HY_ATTN_MAX_SPLITS + split) * 2 + 1] = L;
            }
        }
    }
    if (a.nsplit == 1) return;
    /* the last block of this unit to arrive merges the splits */
    __threadfence();
    __syncthreads();
    if (tid == 0) sm_last = atomicAdd(&a.tickets[unit], 1u) == (unsigned)(a.nsplit - 1);
    __syncthreads();
    if (!sm_last) return;
    __threadfence();
    /* warp h weighs head h's splits: lanes over splits, max and sum by shuffles (a serial
     * loop over 32+ splits in one thread cost ~1.5 us of the fixed part) */
    if (warp < G) {
        const int h = warp;
        constexpr int SPL = (HY_ATTN_MAX_SPLITS + 31) / 32;
        float mv[SPL], lv[SPL], M = -INFINITY;
#pragma unroll
        for (int j = 0; j < SPL; j++) {
            const int sp = lane + 32 * j;
            float2 ml = make_float2(-INFINITY, 0.f);
            if (sp < a.nsplit)
                ml = __ldcg(reinterpret_cast<const float2 *>(
                    &a.part_ml[((pbase + h) * HY_ATTN_MAX_SPLITS + sp) * 2]));
            mv[j] = ml.x, lv[j] = ml.y;
            M = fmaxf(M, ml.x);
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1)
            M = fmaxf(M, __shfl_xor_sync(0xffffffffu, M, o));
        float L = 0.f;
#pragma unroll
        for (int j = 0; j < SPL; j++) {
            const int sp = lane + 32 * j;
            const float c = M == -INFINITY ? 0.f : exp2f(mv[j] - M);
            L = fmaf(c, lv[j], L);
            if (sp < a.nsplit) sm_w[h][sp] = c;
        }
#pragma unroll
        for (int o = 16; o > 0; o >>= 1)
            L += __shfl_xor_sync(0xffffffffu, L, o);
        if (lane == 0) {
            sm_L[h] = L;
            if (MODE == HY_CORE_DENSE_SCORES) {
                a.final_ml[(pbase + h) * 2] = M;
                a.final_ml[(pbase + h) * 2 + 1] = L;
            }
        }
    }
    __syncthreads();
    {
        /* (h, 4 dims) outputs, each summed over the splits by `parts` threads in parallel */
        const int n_out = G * D / 4;
        const int parts =
            (int)blockDim.x / n_out < 1 ? 1 : min((int)blockDim.x / n_out, HY_ATTN_WARPS);
        float *scratch = &sm_acc[0][0][0]; /* [parts][GM * D] */
        for (int e = tid; e < n_out * parts; e += blockDim.x) {
            const int o = e % n_out, part = e / n_out;
            const int h = o / (D / 4), d4 = o - h * (D / 4);
            const float4 *pa = reinterpret_cast<const float4 *>(
                                   a.part_acc + (pbase + h) * HY_ATTN_MAX_SPLITS * D) +
                               d4;
            float4 A = make_float4(0.f, 0.f, 0.f, 0.f);
            /* 8 independent L2 loads in flight per round, not a dependent chain */
            for (int sp0 = part; sp0 < a.nsplit; sp0 += 8 * parts) {
                float4 x[8];
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    const int sp = sp0 + j * parts;
                    x[j] = sp < a.nsplit ? __ldcg(pa + (int64_t)sp * (D / 4))
                                         : make_float4(0.f, 0.f, 0.f, 0.f);
                }
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    const int sp = sp0 + j * parts;
                    const float w = sp < a.nsplit ? sm_w[h][sp] : 0.f;
                    A.x = fmaf(w, x[j].x, A.x), A.y = fmaf(w, x[j].y, A.y);
                    A.z = fmaf(w, x[j].z, A.z), A.w = fmaf(w, x[j].w, A.w);
                }
            }
            reinterpret_cast<float4 *>(scratch + part * GM * D)[o] = A;
        }
        __syncthreads();
        for (int e = tid; e < G * D; e += blockDim.x) {
            const int h = e / D;
            float A = 0.f;
            for (int part = 0; part < parts; part++)
                A += scratch[part * GM * D + e];
            a.out[(pbase + h) * D + (e - h * D)] = sm_L[h] > 0.f ? A / sm_L[h] : 0.f;
        }
    }
    if (tid == 0) a.tickets[unit] = 0u;
}

/* Picks the split count: as many blocks as the chip holds at once (one full wave, from the
 * occupancy of this very kernel), at least one unrolled step of tokens per block. */
static inline void hy_attn_pick_splits(int slots, int units, int64_t n_iter_max, int d, int *nsplit,
                                       int64_t *chunk) {
    const int64_t step = (int64_t)HY_ATTN_WARPS * (32 / (d / 8)) * HY_ATTN_UNROLL;
    int64_t ns = slots / units;
    if (ns > HY_ATTN_MAX_SPLITS) ns = HY_ATTN_MAX_SPLITS;
    if (ns < 1) ns = 1;
    int64_t c = (n_iter_max + ns - 1) / ns;
    c = (c + step - 1) / step * step;
    if (c < step) c = step;
    ns = (n_iter_max + c - 1) / c;
    if (ns < 1) ns = 1;
    *nsplit = (int)ns;
    *chunk = c;
}

template <typename T, int D, int GM, int MODE>
static hy_status hy_attn_core_run(hy_core_args a, int units, int64_t n_iter, int sm_count,
                                  cudaStream_t st) {
    static int per_sm = 0; /* > 48 KB of dynamic shared memory needs opting in, once */
    if (!per_sm) {
        HY_CUDA_CHECK(cudaFuncSetAttribute(hy_attn_core_kernel<T, D, GM, MODE>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           HY_ATTN_RING_BYTES));
        HY_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
            &per_sm, hy_attn_core_kernel<T, D, GM, MODE>, HY_ATTN_WARPS * 32, HY_ATTN_RING_BYTES));
        if (per_sm < 1)
            return hy_fail(HY_EDEVICE, "attention CUDA: kernel cannot run (occupancy 0)");
    }
    hy_attn_pick_splits(per_sm * sm_count, units, n_iter, D, &a.nsplit, &a.chunk);
    dim3 grid((unsigned)a.nsplit, (unsigned)units), block(HY_ATTN_WARPS * 32);
    hy_attn_core_kernel<T, D, GM, MODE><<<grid, block, HY_ATTN_RING_BYTES, st>>>(a);
    HY_CUDA_LAUNCH("hy_attn_core_kernel");
    return HY_OK;
}

/* Dispatch on KV type, head dim and group size; splits are chosen per kernel. */
template <int MODE>
static hy_status hy_attn_core_launch(hy_core_args &a, hy_kv_dtype dt, int d, int units,
                                     int64_t n_iter, int sm_count, cudaStream_t st) {
#define HY_CORE_CASE(T, D, GM)                                                                     \
    return hy_attn_core_run<T, D, GM, MODE>(a, units, n_iter, sm_count, st)
    if (a.G > 8) return hy_fail(HY_EUNSUPPORTED, "attention CUDA: GQA group %d > 8", a.G);
    const bool small = a.G <= 4;
    if (dt == HY_KV_BF16) {
        if (d == 128) {
            if (small)
                HY_CORE_CASE(__nv_bfloat16, 128, 4);
            else
                HY_CORE_CASE(__nv_bfloat16, 128, 8);
        }
        if (d == 64) {
            if (small)
                HY_CORE_CASE(__nv_bfloat16, 64, 4);
            else
                HY_CORE_CASE(__nv_bfloat16, 64, 8);
        }
    } else if (dt == HY_KV_F16) {
        if (d == 128) {
            if (small)
                HY_CORE_CASE(__half, 128, 4);
            else
                HY_CORE_CASE(__half, 128, 8);
        }
        if (d == 64) {
            if (small)
                HY_CORE_CASE(__half, 64, 4);
            else
                HY_CORE_CASE(__half, 64, 8);
        }
    } else {
        return hy_fail(HY_EUNSUPPORTED, "attention CUDA: KV dtype %d, expected f16 (1) or bf16 (2)",
                       (int)dt);
    }
#undef HY_CORE_CASE
    return hy_fail(HY_EUNSUPPORTED, "attention CUDA: head_dim %d, expected 64 or 128", d);
}

/* Fills the fields of a that come from the shape and the workspace. */
static inline hy_status hy_attn_core_args_init(hy_core_args *a, float *out, const float *q,
                                               const void *k, const void *v, const int32_t *lens,
                                               const hy_attn_shape *s, hy_cuda_attn_ws *ws) {
    if (!ws || !out || !q || !k || !v || !lens || !s)
        return hy_fail(HY_EINVAL, "attention CUDA: NULL argument");
    const hy_attn_shape *w = &ws->shape;
    if (s->batch > w->batch || s->n_heads != w->n_heads || s->n_kv_heads != w->n_kv_heads ||
        s->head_dim != w->head_dim)
        return hy_fail(HY_EMISMATCH,
                       "attention CUDA: workspace made for batch %d, %d/%d heads, "
                       "head_dim %d; call has batch %d, %d/%d heads, head_dim %d",
                       w->batch, w->n_heads, w->n_kv_heads, w->head_dim, s->batch, s->n_heads,
                       s->n_kv_heads, s->head_dim);
    if (s->n_heads % s->n_kv_heads || s->kv_cap < 1 ||
        s->seq_stride < (int64_t)s->n_kv_heads * s->kv_cap * s->head_dim)
        return hy_fail(HY_EINVAL,
                       "attention CUDA: bad shape (GQA %d/%d, kv_cap %lld, "
                       "seq_stride %lld)",
                       s->n_heads, s->n_kv_heads, (long long)s->kv_cap, (long long)s->seq_stride);
    *a = hy_core_args{};
    a->out = out;
    a->q = q;
    a->k = k;
    a->v = v;
    a->lens = lens;
    a->kv_cap = s->kv_cap;
    a->seq_stride = s->seq_stride;
    a->n_kv = s->n_kv_heads;
    a->G = s->n_heads / s->n_kv_heads;
    a->qscale = s->scale * 1.4426950408889634f;
    a->page = 1;
    a->part_acc = ws->part_acc;
    a->part_ml = ws->part_ml;
    a->final_ml = ws->final_ml;
    a->tickets = ws->tickets;
    a->logits = ws->logits;
    a->max_tokens = ws->max_tokens;
    return HY_OK;
}
#endif
