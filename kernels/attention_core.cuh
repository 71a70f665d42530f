/* The split-KV decode attention core shared by attention_decode.cu and attention_sparse.cu.
 * A block owns one unit (sequence, KV head) and one chunk of its token list (all tokens for
 * a dense unit, the gathered set for a sparse one) and serves the whole GQA group, so each
 * K/V row is read once per step. Each warp streams its own 16-token tiles of K and V into a
 * private 3-stage shared-memory ring with cp.async (no block barriers in the loop) and runs
 * both products on the tensor cores (mma.sync m16n8k16): the group's heads are rows 0..7
 * of the A operand and rows 8..15 carry the low halves of q and p (x = hi + lo, both 16-bit),
 * so q.k and p.v keep ~16 mantissa bits at no extra MMA cost. The previous SIMT core spent
 * ~130 warp instructions per token (16 lanes per row each redoing the softmax); this one
 * spends ~12, which is what a decode step needs to stream at the copy rate. The last block
 * of a unit to finish (atomic ticket) merges the splits in parallel: no second launch.
 * Units in SKIP mode (a mask bit) return at entry, so another launch may own their rows.
 * Bound: bytes of K and V read; everything else is small. */
#ifndef HY_KERNELS_ATTENTION_CORE_CUH
#define HY_KERNELS_ATTENTION_CORE_CUH
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>
#include <stdint.h>

#include "attention_decode.h"
#include "cuda_check.h"

#define HY_ATTN_WARPS 4
#define HY_ATTN_TILE 16 /* tokens per warp step: the k extent of one p.v MMA */
#define HY_ATTN_STAGES 3
#define HY_ATTN_ROWS 8 /* group rows of an MMA: G <= 8 */
#define HY_ATTN_MAX_SPLITS 128
#define HY_ATTN_MERGE_PARTS 8
#define HY_ATTN_MERGE_DEPTH 32 /* L2 loads in flight per thread in the split merge */
/* dynamic shared memory: [warp][stage][k|v][TILE][D] 16-bit elements; after the loop the
 * same bytes hold the warp and split merges' scratch */
#define HY_ATTN_RING_BYTES(D) (HY_ATTN_WARPS * HY_ATTN_STAGES * 2 * HY_ATTN_TILE * (D)*2)

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

/* KEY_SCORES (issue 12's `score` selector) is DENSE_SCORES without V: it copies and multiplies
 * only the keys, merges only each head's max and sum, and writes no output. */
enum { HY_CORE_DENSE = 0, HY_CORE_DENSE_SCORES = 1, HY_CORE_INDEXED = 2, HY_CORE_KEY_SCORES = 3 };

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
    int page;       /* 1 for tokens */
    int64_t window; /* > 0: dense units attend to their last `window` tokens only */
    unsigned long long sparse_mask;
    /* units (bit g: KV head g of every sequence) whose blocks return at once: SKIP mode */
    unsigned long long skip_mask;
    /* scores */
    float *logits;
    int64_t max_tokens;
    /* workspace */
    float *part_acc, *part_ml, *final_ml;
    unsigned *tickets;
};

/* The probabilities pass (attention_decode.cu): scores[unit][t] = sum over the group's heads
 * of 2^(logit - M) / L from the logits in ws, with M and L the merged ones in ws->final_ml
 * (nsplit 0) or merged here from nsplit per-split pairs in ws->part_ml. */
hy_status hy_attn_probs_launch(float *scores, int64_t score_stride, const hy_cuda_attn_ws *ws,
                               const int32_t *lens, int64_t max_len, int units, int n_kv, int G,
                               unsigned long long skip_mask, int nsplit, cudaStream_t cs);

/* The 16-bit type's conversions and its MMA. */
template <typename T> struct hy_mma;
template <> struct hy_mma<__nv_bfloat16> {
    static __device__ __forceinline__ float round(float x) {
        return __bfloat162float(__float2bfloat16_rn(x));
    }
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
        return *reinterpret_cast<uint32_t *>(&h);
    }
    static __device__ __forceinline__ void mma(float c[4], const uint32_t a[4], uint32_t b0,
                                               uint32_t b1) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
};
template <> struct hy_mma<__half> {
    static __device__ __forceinline__ float round(float x) {
        return __half2float(__float2half_rn(x));
    }
    static __device__ __forceinline__ uint32_t pack(float lo, float hi) {
        __half2 h = __floats2half2_rn(lo, hi);
        return *reinterpret_cast<uint32_t *>(&h);
    }
    static __device__ __forceinline__ void mma(float c[4], const uint32_t a[4], uint32_t b0,
                                               uint32_t b1) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
};

__device__ __forceinline__ void hy_ldsm_x4(uint32_t r[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ void hy_ldsm_x4_trans(uint32_t r[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
/* 16-byte copy to shared memory; src_bytes 0 writes zeros without reading (a row past the
 * end must be zero, not stale: p = 0 times a NaN left in the ring would poison the sum) */
__device__ __forceinline__ void hy_cp16(uint32_t dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
                 "r"(src_bytes));
}
__device__ __forceinline__ void hy_cp_commit() {
    asm volatile("cp.async.commit_group;\n" ::);
}
template <int N> __device__ __forceinline__ void hy_cp_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

/* T: KV element type; D: head dim. Rows of the ring are 2*D bytes; 16-byte chunk c of row r
 * sits at chunk c ^ (r & 7), so the 8 rows an ldmatrix reads fall in 8 different bank
 * groups. */
template <typename T, int D, int MODE>
__global__ void __launch_bounds__(HY_ATTN_WARPS * 32) hy_attn_core_kernel(const hy_core_args a) {
    using M = hy_mma<T>;
    constexpr bool KEYS = MODE == HY_CORE_KEY_SCORES;
    constexpr int NW = HY_ATTN_WARPS, TILE = HY_ATTN_TILE, S = HY_ATTN_STAGES;
    constexpr int ROW = 2 * D;          /* bytes per K/V row */
    constexpr int CPR = D / 8;          /* 16-byte chunks per row */
    constexpr int RPI = 32 / CPR;       /* rows one warp-wide copy covers */
    constexpr int TILE_B = TILE * ROW;  /* bytes of one K (or V) tile */
    constexpr int STAGE_B = 2 * TILE_B; /* bytes of one ring stage (K, then V) */
    constexpr int KS = D / 16;          /* k-slices of q.k */
    constexpr int GR = HY_ATTN_ROWS;
    constexpr bool SCORES = MODE == HY_CORE_DENSE_SCORES || KEYS;
    __shared__ float sm_m[NW][GR], sm_l[NW][GR];
    __shared__ float sm_w[GR][HY_ATTN_MAX_SPLITS];
    __shared__ float sm_L[GR];
    __shared__ int32_t sm_tok[NW][S][TILE];
    __shared__ int sm_last;
    extern __shared__ __align__(128) unsigned char hy_ring[];

    const int split = blockIdx.x, unit = blockIdx.y;
    const int b = unit / a.n_kv, g = unit - b * a.n_kv;
    /* a skipped unit reads and writes nothing, its ticket included (it stays 0): one uniform
     * branch; skip_mask is nonzero only with at most 64 KV heads (the callers check) */
    if (a.skip_mask != 0ull && ((a.skip_mask >> g) & 1ull)) return;
    const int G = a.G;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int qr = lane >> 2, qc = lane & 3; /* MMA fragment row (head) and column pair */
    const int64_t len = a.lens[b];
    const bool indexed = MODE == HY_CORE_INDEXED && ((a.sparse_mask >> g) & 1ull);
    /* a dense unit's first token: 0, or the start of a sliding window (no scores then) */
    const int64_t lo = !indexed && a.window > 0 && len > a.window ? len - a.window : 0;
    int64_t n_iter = len - lo;
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
    auto token_at = [&](int64_t p) -> int32_t {
        if (!indexed) return p < end ? (int32_t)(lo + p) : -1;
        /* the index load depends only on the arguments, so it is in flight together with
         * those of lens and count instead of after them (a dependent load off the chain;
         * the gain measured within the run-to-run spread, docs/kernels.md) */
        const int64_t pg = p / a.page;
        const int32_t raw = pg < a.idx_stride && p < start + a.chunk ? __ldg(ix + pg) : -1;
        if (p >= end) return -1;
        const int64_t e = a.page == 1 ? raw : (int64_t)raw * a.page + p % a.page;
        return (e >= 0 && e < len) ? (int32_t)e : -1;
    };
    const uint32_t ring0 =
        (uint32_t)__cvta_generic_to_shared(hy_ring) + (uint32_t)(warp * S * STAGE_B);
    auto kaddr = [&](int stage) -> uint32_t { return ring0 + (uint32_t)(stage * STAGE_B); };
    /* this lane's token of the tile at list position p0 (lanes < TILE), or -1 */
    auto tile_token = [&](int64_t p0) -> int32_t { return lane < TILE ? token_at(p0 + lane) : -1; };
    /* copies a tile whose tokens the lanes < TILE hold into a stage */
    auto issue = [&](int32_t mine, int stage) {
        if (lane < TILE) sm_tok[warp][stage][lane] = mine;
        if (__any_sync(0xffffffffu, mine >= 0)) {
            const uint32_t kd = kaddr(stage), vd = kd + TILE_B;
            const int cc = lane % CPR;
#pragma unroll
            for (int j = 0; j < TILE / RPI; j++) {
                const int r = lane / CPR + RPI * j;
                const int32_t t = __shfl_sync(0xffffffffu, mine, r);
                const uint32_t off = (uint32_t)(r * ROW + ((cc ^ (r & 7)) << 4));
                const int64_t e = t >= 0 ? (int64_t)t * D + cc * 8 : 0;
                hy_cp16(kd + off, kb + e, t >= 0 ? 16 : 0);
                if (!KEYS) hy_cp16(vd + off, vb + e, t >= 0 ? 16 : 0);
            }
        }
        hy_cp_commit();
    };
    const int64_t step = (int64_t)NW * TILE;
    const int64_t n_steps = end > start ? (end - start + step - 1) / step : 0;
    auto tile_p0 = [&](int64_t it) { return start + (it * NW + warp) * TILE; };
    /* the first S tiles' tokens are looked up together, so their index loads overlap;
     * later ones one iteration ahead of their copies, off the critical path */
    int32_t first[S];
#pragma unroll
    for (int st = 0; st < S; st++)
        first[st] = tile_token(tile_p0(st));
#pragma unroll
    for (int st = 0; st < S - 1; st++)
        issue(first[st], st);
    int32_t next = first[S - 1];

    /* q as A fragments, hi in rows 0..7 and lo in rows 8..15, pre-scaled into log2 units;
     * loaded after the first copies so its latency hides under theirs */
    uint32_t qa[KS][4];
#pragma unroll
    for (int ks = 0; ks < KS; ks++) {
        float x[4] = {0.f, 0.f, 0.f, 0.f};
        if (qr < G) {
            const float *qp = a.q + (int64_t)(head0 + qr) * D + ks * 16 + 2 * qc;
            const float2 x0 = __ldg(reinterpret_cast<const float2 *>(qp));
            const float2 x1 = __ldg(reinterpret_cast<const float2 *>(qp + 8));
            x[0] = x0.x * a.qscale, x[1] = x0.y * a.qscale;
            x[2] = x1.x * a.qscale, x[3] = x1.y * a.qscale;
        }
        float h[4], l[4];
#pragma unroll
        for (int i = 0; i < 4; i++)
            h[i] = M::round(x[i]), l[i] = x[i] - h[i];
        qa[ks][0] = M::pack(h[0], h[1]);
        qa[ks][1] = M::pack(l[0], l[1]);
        qa[ks][2] = M::pack(h[2], h[3]);
        qa[ks][3] = M::pack(l[2], l[3]);
    }
    float o[D / 8][4];
#pragma unroll
    for (int j = 0; j < D / 8; j++)
        o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
    float m = -INFINITY, l = 0.f; /* this thread's row (head qr); m agrees across the quad */

    /* ldmatrix row addresses: lane feeds row (lane & 7) of matrix lane >> 3 */
    const int krow = ((lane >> 4) << 3) + (lane & 7), khalf = (lane >> 3) & 1;
    const int vrow = (((lane >> 3) & 1) << 3) + (lane & 7), vhalf = lane >> 4;

    /* the trip count is the same for every lane of a warp: MMAs and shuffles need it */
    for (int64_t it = 0; it < n_steps; it++) {
        __syncwarp(); /* every lane is done reading the stage the next copy overwrites */
        issue(next, (int)((it + S - 1) % S));
        next = tile_token(tile_p0(it + S));
        hy_cp_wait<S - 1>();
        __syncwarp(); /* the other lanes' copies are visible */
        const int stage = (int)(it % S);
        const int32_t *tk = sm_tok[warp][stage];
        if (!__any_sync(0xffffffffu, lane < TILE && tk[lane] >= 0)) continue;
        const uint32_t kd = kaddr(stage), vd = kd + TILE_B;
        float s0[4] = {0.f, 0.f, 0.f, 0.f}, s1[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
        for (int ks = 0; ks < KS; ks++) {
            uint32_t bk[4];
            const int ch = 2 * ks + khalf;
            hy_ldsm_x4(bk, kd + (uint32_t)(krow * ROW + ((ch ^ (krow & 7)) << 4)));
            M::mma(s0, qa[ks], bk[0], bk[1]);
            M::mma(s1, qa[ks], bk[2], bk[3]);
        }
        /* this thread's scores: head qr, tokens 2qc, 2qc+1, 8+2qc, 9+2qc of the tile */
        const int32_t t0 = tk[2 * qc], t1 = tk[2 * qc + 1], t2 = tk[8 + 2 * qc],
                      t3 = tk[9 + 2 * qc];
        float x[4] = {s0[0] + s0[2], s0[1] + s0[3], s1[0] + s1[2], s1[1] + s1[3]};
        x[0] = t0 >= 0 ? x[0] : -INFINITY;
        x[1] = t1 >= 0 ? x[1] : -INFINITY;
        x[2] = t2 >= 0 ? x[2] : -INFINITY;
        x[3] = t3 >= 0 ? x[3] : -INFINITY;
        if (SCORES && qr < G) {
            /* tokens here are consecutive and t0 is even (chunks are multiples of 64): with
             * even rows, 8-byte stores, so the 4 lanes of a row fill whole 32-byte sectors
             * per instruction instead of every other word of them */
            float *lg = a.logits + (int64_t)(head0 + qr) * a.max_tokens;
            if ((a.max_tokens & 1) == 0 && t1 >= 0)
                *reinterpret_cast<float2 *>(lg + t0) = make_float2(x[0], x[1]);
            else {
                if (t0 >= 0) lg[t0] = x[0];
                if (t1 >= 0) lg[t1] = x[1];
            }
            if ((a.max_tokens & 1) == 0 && t3 >= 0)
                *reinterpret_cast<float2 *>(lg + t2) = make_float2(x[2], x[3]);
            else {
                if (t2 >= 0) lg[t2] = x[2];
                if (t3 >= 0) lg[t3] = x[3];
            }
        }
        float mx = fmaxf(fmaxf(x[0], x[1]), fmaxf(x[2], x[3]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        /* finite: the tile has a valid token, and rows past G score 0 there */
        if (__any_sync(0xffffffffu, mx > m)) {
            const float mn = fmaxf(m, mx);
            const float corr = exp2f(m - mn); /* 0 on the first tile */
            m = mn;
            l *= corr;
            if (!KEYS) {
#pragma unroll
                for (int j = 0; j < D / 8; j++)
                    o[j][0] *= corr, o[j][1] *= corr, o[j][2] *= corr, o[j][3] *= corr;
            }
        }
        float p[4], ph[4];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            p[i] = exp2f(x[i] - m);
            ph[i] = M::round(p[i]);
        }
        l += (p[0] + p[1]) + (p[2] + p[3]);
        if (KEYS) continue;
        const uint32_t pa[4] = {M::pack(ph[0], ph[1]), M::pack(p[0] - ph[0], p[1] - ph[1]),
                                M::pack(ph[2], ph[3]), M::pack(p[2] - ph[2], p[3] - ph[3])};
#pragma unroll
        for (int jn = 0; jn < D / 16; jn++) {
            uint32_t bv[4];
            const int ch = 2 * jn + vhalf;
            hy_ldsm_x4_trans(bv, vd + (uint32_t)(vrow * ROW + ((ch ^ (vrow & 7)) << 4)));
            M::mma(o[2 * jn], pa, bv[0], bv[1]);
            M::mma(o[2 * jn + 1], pa, bv[2], bv[3]);
        }
    }
    hy_cp_wait<0>();
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    __syncthreads(); /* every warp is done with its ring: the bytes become merge scratch */
    float *sm_acc = reinterpret_cast<float *>(hy_ring); /* [NW][GR][D] */
    if (qr < G) {
        if (!KEYS) {
#pragma unroll
            for (int j = 0; j < D / 8; j++) {
                float2 v2 = make_float2(o[j][0] + o[j][2], o[j][1] + o[j][3]);
                *reinterpret_cast<float2 *>(&sm_acc[(warp * GR + qr) * D + 8 * j + 2 * qc]) = v2;
            }
        }
        if (qc == 0) {
            sm_m[warp][qr] = m;
            sm_l[warp][qr] = l;
        }
    }
    __syncthreads();
    /* merge warps: thread (h, dim) */
    const int64_t pbase = (int64_t)head0; /* split partial rows are per head */
    for (int e = tid; e < G * D; e += blockDim.x) {
        const int h = e / D, dim = e - h * D;
        if (KEYS && dim != 0) continue; /* only the max and sum */
        float Mx = -INFINITY;
        for (int w = 0; w < NW; w++)
            Mx = fmaxf(Mx, sm_m[w][h]);
        float L = 0.f, A = 0.f;
        for (int w = 0; w < NW; w++) {
            const float c = Mx == -INFINITY ? 0.f : exp2f(sm_m[w][h] - Mx);
            L += sm_l[w][h] * c;
            if (!KEYS) A += sm_acc[(w * GR + h) * D + dim] * c;
        }
        if (a.nsplit == 1) {
            if (!KEYS) a.out[(pbase + h) * D + dim] = L > 0.f ? A / L : 0.f;
            if (SCORES && dim == 0) {
                a.final_ml[(pbase + h) * 2] = Mx;
                a.final_ml[(pbase + h) * 2 + 1] = L;
            }
        } else {
            if (!KEYS) a.part_acc[((pbase + h) * HY_ATTN_MAX_SPLITS + split) * D + dim] = A;
            if (dim == 0) {
                a.part_ml[((pbase + h) * HY_ATTN_MAX_SPLITS + split) * 2] = Mx;
                a.part_ml[((pbase + h) * HY_ATTN_MAX_SPLITS + split) * 2 + 1] = L;
            }
        }
    }
    if (a.nsplit == 1) return;
    /* the last block of this unit to arrive merges the splits. The barrier orders the
     * block's partial stores before thread 0's acq_rel ticket (release is cumulative), and
     * the winner's acquire plus the barrier order its reads after every other block's
     * stores: one gpu-scope fence per block instead of one per thread. */
    __syncthreads();
    if (tid == 0) {
        unsigned old;
        asm volatile("atom.acq_rel.gpu.global.add.u32 %0, [%1], 1;\n"
                     : "=r"(old)
                     : "l"(a.tickets + unit)
                     : "memory");
        sm_last = old == (unsigned)(a.nsplit - 1);
    }
    __syncthreads();
    if (!sm_last) return;
    /* warp h weighs head h's splits: lanes over splits, max and sum by shuffles (a serial
     * loop over 32+ splits in one thread cost ~1.5 us of the fixed part) */
    for (int h = warp; h < G; h += NW) {
        constexpr int SPL = (HY_ATTN_MAX_SPLITS + 31) / 32;
        float mv[SPL], lv[SPL], Mx = -INFINITY;
#pragma unroll
        for (int j = 0; j < SPL; j++) {
            const int sp = lane + 32 * j;
            float2 ml = make_float2(-INFINITY, 0.f);
            if (sp < a.nsplit)
                ml = __ldcg(reinterpret_cast<const float2 *>(
                    &a.part_ml[((pbase + h) * HY_ATTN_MAX_SPLITS + sp) * 2]));
            mv[j] = ml.x, lv[j] = ml.y;
            Mx = fmaxf(Mx, ml.x);
        }
#pragma unroll
        for (int o2 = 16; o2 > 0; o2 >>= 1)
            Mx = fmaxf(Mx, __shfl_xor_sync(0xffffffffu, Mx, o2));
        float L = 0.f;
#pragma unroll
        for (int j = 0; j < SPL; j++) {
            const int sp = lane + 32 * j;
            const float c = Mx == -INFINITY ? 0.f : exp2f(mv[j] - Mx);
            L = fmaf(c, lv[j], L);
            if (sp < a.nsplit) sm_w[h][sp] = c;
        }
#pragma unroll
        for (int o2 = 16; o2 > 0; o2 >>= 1)
            L += __shfl_xor_sync(0xffffffffu, L, o2);
        if (lane == 0) {
            sm_L[h] = L;
            if (SCORES) {
                a.final_ml[(pbase + h) * 2] = Mx;
                a.final_ml[(pbase + h) * 2 + 1] = L;
            }
        }
    }
    __syncthreads();
    if (!KEYS) {
        /* (h, 4 dims) outputs, each summed over the splits by `parts` threads in parallel */
        const int n_out = G * D / 4;
        const int parts =
            (int)blockDim.x / n_out < 1 ? 1 : min((int)blockDim.x / n_out, HY_ATTN_MERGE_PARTS);
        float *scratch = sm_acc; /* [parts][GR * D], inside the ring's bytes */
        for (int e = tid; e < n_out * parts; e += blockDim.x) {
            const int o2 = e % n_out, part = e / n_out;
            const int h = o2 / (D / 4), d4 = o2 - h * (D / 4);
            const float4 *pa = reinterpret_cast<const float4 *>(
                                   a.part_acc + (pbase + h) * HY_ATTN_MAX_SPLITS * D) +
                               d4;
            float4 A = make_float4(0.f, 0.f, 0.f, 0.f);
            /* HY_ATTN_MERGE_DEPTH independent L2 loads in flight per round: with 128 threads
             * a thread sums all of a unit's ~33 splits, and each round is an L2 round trip
             * on the critical path of every launch */
            for (int sp0 = part; sp0 < a.nsplit; sp0 += HY_ATTN_MERGE_DEPTH * parts) {
                float4 xs[HY_ATTN_MERGE_DEPTH];
#pragma unroll
                for (int j = 0; j < HY_ATTN_MERGE_DEPTH; j++) {
                    const int sp = sp0 + j * parts;
                    xs[j] = sp < a.nsplit ? __ldcg(pa + (int64_t)sp * (D / 4))
                                          : make_float4(0.f, 0.f, 0.f, 0.f);
                }
#pragma unroll
                for (int j = 0; j < HY_ATTN_MERGE_DEPTH; j++) {
                    const int sp = sp0 + j * parts;
                    const float w = sp < a.nsplit ? sm_w[h][sp] : 0.f;
                    A.x = fmaf(w, xs[j].x, A.x), A.y = fmaf(w, xs[j].y, A.y);
                    A.z = fmaf(w, xs[j].z, A.z), A.w = fmaf(w, xs[j].w, A.w);
                }
            }
            reinterpret_cast<float4 *>(scratch + part * GR * D)[o2] = A;
        }
        __syncthreads();
        for (int e = tid; e < G * D; e += blockDim.x) {
            const int h = e / D;
            float A = 0.f;
            for (int part = 0; part < parts; part++)
                A += scratch[part * GR * D + e];
            a.out[(pbase + h) * D + (e - h * D)] = sm_L[h] > 0.f ? A / sm_L[h] : 0.f;
        }
    }
    if (tid == 0) a.tickets[unit] = 0u;
}

/* Picks the split count: as many blocks as the chip holds at once (one full wave, from the
 * occupancy of this very kernel), at least one block step of tokens per block. */
static inline void hy_attn_pick_splits(int slots, int units, int64_t n_iter_max, int *nsplit,
                                       int64_t *chunk) {
    const int64_t step = (int64_t)HY_ATTN_WARPS * HY_ATTN_TILE;
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

template <typename T, int D, int MODE>
static hy_status hy_attn_core_run(hy_core_args a, int units, int64_t n_iter, int sm_count,
                                  cudaStream_t st) {
    constexpr int ring = HY_ATTN_RING_BYTES(D);
    static int per_sm = 0; /* > 48 KB of dynamic shared memory needs opting in, once */
    if (!per_sm) {
        HY_CUDA_CHECK(cudaFuncSetAttribute(hy_attn_core_kernel<T, D, MODE>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize, ring));
        HY_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
            &per_sm, hy_attn_core_kernel<T, D, MODE>, HY_ATTN_WARPS * 32, ring));
        if (per_sm < 1)
            return hy_fail(HY_EDEVICE, "attention CUDA: kernel cannot run (occupancy 0)");
    }
    /* splits for the units that run: a skipped unit's blocks exit at entry, so sizing the
     * wave by all units would leave the machine (units - active) / units idle */
    const int active =
        a.skip_mask ? units / a.n_kv * (a.n_kv - __builtin_popcountll(a.skip_mask)) : units;
    hy_attn_pick_splits(per_sm * sm_count, active > 0 ? active : 1, n_iter, &a.nsplit, &a.chunk);
    dim3 grid((unsigned)a.nsplit, (unsigned)units), block(HY_ATTN_WARPS * 32);
    hy_attn_core_kernel<T, D, MODE><<<grid, block, ring, st>>>(a);
    HY_CUDA_LAUNCH("hy_attn_core_kernel");
    return HY_OK;
}

/* Dispatch on KV type and head dim (any group of up to 8 heads fits the MMA rows); splits
 * are chosen per kernel. */
template <int MODE>
static hy_status hy_attn_core_launch(hy_core_args &a, hy_kv_dtype dt, int d, int units,
                                     int64_t n_iter, int sm_count, cudaStream_t st) {
    if (a.G > HY_ATTN_ROWS)
        return hy_fail(HY_EUNSUPPORTED, "attention CUDA: GQA group %d > %d", a.G, HY_ATTN_ROWS);
    /* head_dim 256 (Gemma 3): q fragments and the output accumulators take ~250 registers a
     * lane without spilling, and the ring 192 KB: one block of 4 warps per SM */
    if (d != 64 && d != 128 && d != 256)
        return hy_fail(HY_EUNSUPPORTED, "attention CUDA: head_dim %d, expected 64, 128 or 256", d);
#define HY_CORE_D(T)                                                                               \
    (d == 128   ? hy_attn_core_run<T, 128, MODE>(a, units, n_iter, sm_count, st)                   \
     : d == 256 ? hy_attn_core_run<T, 256, MODE>(a, units, n_iter, sm_count, st)                   \
                : hy_attn_core_run<T, 64, MODE>(a, units, n_iter, sm_count, st))
    if (dt == HY_KV_BF16) return HY_CORE_D(__nv_bfloat16);
    if (dt == HY_KV_F16) return HY_CORE_D(__half);
#undef HY_CORE_D
    return hy_fail(HY_EUNSUPPORTED, "attention CUDA: KV dtype %d, expected f16 (1) or bf16 (2)",
                   (int)dt);
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
    a->window = s->window;
    a->part_acc = ws->part_acc;
    a->part_ml = ws->part_ml;
    a->final_ml = ws->final_ml;
    a->tickets = ws->tickets;
    a->logits = ws->logits;
    a->max_tokens = ws->max_tokens;
    return HY_OK;
}
#endif
