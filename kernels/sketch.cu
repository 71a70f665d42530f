/* Key sketches on the GPU (sketch.h): the fold quantises new key rows, a warp per token (lanes
 * over channels, the row's absolute maximum by shuffles); the scores dot each token's code row
 * with the group's queries on the tensor cores (codes to fp16 exactly in registers, q as hi +
 * lo halves), keep each head's running max and sum, and leave base-2 logits and per-split
 * maxima in the attention workspace, which the shared probabilities pass of
 * attention_decode.cu merges and turns into the group's summed probabilities. Bound: the code
 * bytes, D b/8 + 4 a token against 4 D of K and V (the SIMT version before was instruction-
 * bound: ~1,000 instructions a token, so int4 took as long as int8; docs/kernels.md). */
#include <math.h>

#include "attention_core.cuh"
#include "hy_bf16.h"
#include "sketch.h"

#define SK_FOLD_WARPS 8
#define SK_FOLD_SLICES 64
#define SK_THREADS 128

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
        s->n_heads / s->n_kv_heads > 8 ||
        (s->head_dim != 64 && s->head_dim != 128 && s->head_dim != 256) ||
        (bits != 8 && bits != 4) || row_cap < s->kv_cap || max_len < 0 || max_len > s->kv_cap)
        return hy_fail(
            HY_EINVAL,
            "%s: bad shape or arguments (GQA group <= 8, head_dim 64, 128 or 256, bits %d "
            "expected 8 or 4, row_cap %lld >= kv_cap %lld, max_len %lld)",
            who, bits, (long long)row_cap, s ? (long long)s->kv_cap : -1ll, (long long)max_len);
    return HY_OK;
}

/* ---------- fold ---------- */

template <int D>
__global__ void sketch_fold_kernel(uint8_t *sk, float *sks, int64_t row_cap, const int32_t *folded,
                                   const uint16_t *k, const int32_t *lens, hy_attn_shape s,
                                   unsigned long long skip, int bits) {
    constexpr int C = D / 32; /* channels per lane: 8, 4 or 2 */
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
        uint64_t packed = 0; /* the lane's C codes, channel lane * C + i at bits i * bits */
#pragma unroll
        for (int i = 0; i < C; i++) {
            float x = sc > 0.0f ? roundf(v[i] / sc) : 0.0f;
            x = x > qmax ? qmax : (x < -qmax ? -qmax : x);
            const uint64_t code = (uint32_t)(int32_t)x & (bits == 8 ? 0xffu : 0xfu);
            packed |= code << (i * bits);
        }
        uint8_t *row = sk + (r * row_cap + t) * row_bytes;
        const int lane_bytes = C * bits / 8; /* 8, 4, 2 or 1 */
        if (lane_bytes == 8)
            reinterpret_cast<uint64_t *>(row)[lane] = packed;
        else if (lane_bytes == 4)
            reinterpret_cast<uint32_t *>(row)[lane] = (uint32_t)packed;
        else if (lane_bytes == 2)
            reinterpret_cast<uint16_t *>(row)[lane] = (uint16_t)packed;
        else
            row[lane] = (uint8_t)packed;
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
    if (s->head_dim == 256)
        sketch_fold_kernel<256><<<grid, SK_FOLD_WARPS * 32, 0, cs>>>(sk, sks, row_cap, folded, k,
                                                                     lens, *s, skip, bits);
    else if (s->head_dim == 128)
        sketch_fold_kernel<128><<<grid, SK_FOLD_WARPS * 32, 0, cs>>>(sk, sks, row_cap, folded, k,
                                                                     lens, *s, skip, bits);
    else
        sketch_fold_kernel<64><<<grid, SK_FOLD_WARPS * 32, 0, cs>>>(sk, sks, row_cap, folded, k,
                                                                    lens, *s, skip, bits);
    HY_CUDA_LAUNCH("sketch_fold_kernel");
    return HY_OK;
}

/* ---------- scores ---------- */

/* The dot products run on the tensor cores (mma m16n8k16, fp16 operands, fp32 sums), with q
 * as the A operand (the group's heads in rows 0..7, their low halves in rows 8..15, as in the
 * attention core) and eight tokens' codes as B. Codes convert to fp16 exactly (|code| <= 127)
 * by the magic-number trick: 0x6400 | u is 1024 + u as an fp16, so one byte permute or mask
 * and one half2 subtraction give two codes. A dot product is a sum over channels, so each
 * thread may take any channels as long as q takes the same: lane quad t of a token reads its
 * own contiguous bytes of the row (the 4 lanes of a token together one row, whole 32-byte
 * sectors per load) and the fragment slots map onto those bytes (sk_tc::channel); q's
 * fragments are gathered to match once per block. q is scaled per head by a power of two so
 * that its largest entry lies in [2^13, 2^14): fp16 hi + lo then keeps ~21 bits of it (the
 * SIMT version multiplied in fp32; the test bounds both at 1e-4 of the probabilities). */
template <int D, int BITS> struct sk_tc {
    static constexpr int RB = D * BITS / 8;      /* code bytes a token */
    static constexpr int TB = RB / 4;            /* bytes each lane of a quad takes */
    static constexpr int PW = TB < 16 ? TB : 16; /* bytes a lane loads at once */
    static constexpr int NL = TB / PW;           /* loads a lane makes per token */
    static constexpr int NWD = TB / 4;           /* 32-bit words a lane holds per token */
    static constexpr int KS = D / 16;            /* k-steps of one token tile */
    /* row byte of lane quad t's word i: load p of the 4 lanes covers 4 PW contiguous bytes */
    static __device__ __forceinline__ int word_byte(int t, int i) {
        constexpr int WPL = PW / 4;
        return (i / WPL) * 4 * PW + t * PW + 4 * (i % WPL);
    }
    /* the channel that fragment slot e (0..3: k 2t, 2t+1, 2t+8, 2t+9) of k-step j holds */
    static __device__ __forceinline__ int channel(int t, int j, int e) {
        if (BITS == 8) return word_byte(t, j) + e; /* word j: bytes b0 b1 | b2 b3 */
        /* int4: word j/2 holds channels 2*byte + nibble; half2 s pairs nibbles s and s+4 */
        const int s0 = 2 * (j & 1);
        return 2 * word_byte(t, j >> 1) + s0 + (e >> 1) + 4 * (e & 1);
    }
    /* the B fragment (two half2) of k-step j from the lane's words */
    static __device__ __forceinline__ void frag(const uint32_t *w, int j, uint32_t &b0,
                                                uint32_t &b1) {
        uint32_t h0, h1, bias;
        if (BITS == 8) {
            const uint32_t x = w[j] ^ 0x80808080u; /* code + 128 as unsigned bytes */
            h0 = __byte_perm(x, 0x64646464u, 0x4140);
            h1 = __byte_perm(x, 0x64646464u, 0x4342);
            bias = 0x64806480u; /* 1152 = 1024 + 128 */
        } else {
            const uint32_t x = (w[j >> 1] ^ 0x88888888u) >> (8 * (j & 1)); /* code + 8 */
            h0 = (x & 0x000f000fu) | 0x64006400u;
            h1 = ((x >> 4) & 0x000f000fu) | 0x64006400u;
            bias = 0x64086408u; /* 1032 = 1024 + 8 */
        }
        const __half2 hb = *reinterpret_cast<const __half2 *>(&bias);
        __half2 r0 = __hsub2(*reinterpret_cast<const __half2 *>(&h0), hb);
        __half2 r1 = __hsub2(*reinterpret_cast<const __half2 *>(&h1), hb);
        b0 = *reinterpret_cast<uint32_t *>(&r0);
        b1 = *reinterpret_cast<uint32_t *>(&r1);
    }
    /* the lane's words of token row `row` */
    static __device__ __forceinline__ void load(uint32_t *w, const uint8_t *row, int t) {
#pragma unroll
        for (int p = 0; p < NL; p++) {
            const uint8_t *src = row + p * 4 * PW + t * PW;
            if (PW == 16) {
                const uint4 v = __ldcs(reinterpret_cast<const uint4 *>(src));
                w[4 * p] = v.x, w[4 * p + 1] = v.y, w[4 * p + 2] = v.z, w[4 * p + 3] = v.w;
            } else {
                const uint2 v = __ldcs(reinterpret_cast<const uint2 *>(src));
                w[2 * p] = v.x, w[2 * p + 1] = v.y;
            }
        }
    }
};

#define SK_WARPS (SK_THREADS / 32)
#define SK_NT 2 /* token tiles of 8 a warp takes per step */

/* Block (split, unit): tokens [split * chunk, +chunk) of the unit; warp w takes the steps of
 * SK_NT * 8 tokens w, w + SK_WARPS, ..., each step's codes and scales loaded two steps ahead. Lane
 * (r, t) = (lane / 4, lane % 4) holds head r's hi and lo fragments of q and, per tile, token
 * r's words for the B operand; its scores are head r's for tokens 2t and 2t + 1. */
template <int D, int BITS>
__global__ void __launch_bounds__(SK_THREADS)
    sketch_scores_kernel(float *logits, int64_t max_tokens, float *part_ml, int32_t *folded,
                         const float *q, const uint8_t *sk, const float *sks, int64_t row_cap,
                         const int32_t *lens, hy_attn_shape s, float qscale,
                         unsigned long long skip, int64_t chunk) {
    using K = sk_tc<D, BITS>;
    constexpr int GR = HY_ATTN_ROWS, NT = SK_NT, STEP = NT * 8;
    __shared__ float qs[GR][D];
    __shared__ float red_m[SK_WARPS][GR], red_l[SK_WARPS][GR];
    const int unit = blockIdx.y, split = blockIdx.x;
    const int nkv = s.n_kv_heads, G = s.n_heads / nkv;
    const int b = unit / nkv, g = unit - b * nkv;
    if ((skip >> g) & 1ull) return;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, r = lane >> 2, t = lane & 3;
    const int64_t n = lens[b];
    if (split == 0 && threadIdx.x == 0) folded[unit] = (int32_t)n;
    const int64_t start = (int64_t)split * chunk;
    const int64_t end = start + chunk < n ? start + chunk : n;
    const uint8_t *rows = sk + (int64_t)unit * row_cap * K::RB;
    const float *scales = sks + (int64_t)unit * row_cap;
    const int64_t n_steps = end > start ? (end - start + STEP - 1) / STEP : 0;
    /* the first step's codes are in flight while q is prepared */
    /* a step's operands: the lane's code words of token r of each tile,
     * and the scales of the tokens its accumulators hold (2t, 2t + 1: not the same tokens,
     * and waiting for them after the MMAs left a DRAM latency in every step) */
    uint32_t cw[NT][K::NWD], cw2[NT][K::NWD];
    float cs[NT][2], cs2[NT][2];
    auto load_step = [&](int64_t it, uint32_t(*w)[K::NWD], float(*sc)[2]) {
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
            const int64_t t0 = start + it * STEP + nt * 8;
            const int64_t tok = t0 + r < end ? t0 + r : end - 1; /* in bounds; masked later */
            K::load(w[nt], rows + tok * K::RB, t);
#pragma unroll
            for (int e = 0; e < 2; e++)
                sc[nt][e] = __ldg(scales + (t0 + 2 * t + e < end ? t0 + 2 * t + e : end - 1));
        }
    };
    if (warp < n_steps) load_step(warp, cw, cs);
    if (warp + SK_WARPS < n_steps) load_step(warp + SK_WARPS, cw2, cs2);
    for (int i = threadIdx.x; i < G * D; i += blockDim.x)
        qs[i / D][i % D] = q[((int64_t)b * s.n_heads + g * G) * D + i] * qscale;
    __syncthreads();
    /* head r's power-of-two scale: its largest |q| into [2^13, 2^14) */
    float amax = 0.0f;
    if (r < G)
        for (int c = t; c < D; c += 4)
            amax = fmaxf(amax, fabsf(qs[r][c]));
    amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 1));
    amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 2));
    int ex = 0;
    frexpf(amax, &ex); /* amax = f 2^ex, f in [0.5, 1); 0 for amax 0 */
    ex = ex < -100 ? -100 : (ex > 100 ? 100 : ex);
    const float up = amax > 0.0f ? ldexpf(1.0f, 14 - ex) : 1.0f, down = 1.0f / up;
    uint32_t qa[K::KS][4];
#pragma unroll
    for (int j = 0; j < K::KS; j++) {
        float hi[4], lo[4];
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const float x = r < G ? qs[r][K::channel(t, j, e)] * up : 0.0f;
            hi[e] = __half2float(__float2half_rn(x));
            lo[e] = x - hi[e];
        }
        const __half2 h01 = __floats2half2_rn(hi[0], hi[1]), l01 = __floats2half2_rn(lo[0], lo[1]);
        const __half2 h23 = __floats2half2_rn(hi[2], hi[3]), l23 = __floats2half2_rn(lo[2], lo[3]);
        qa[j][0] = *reinterpret_cast<const uint32_t *>(&h01);
        qa[j][1] = *reinterpret_cast<const uint32_t *>(&l01);
        qa[j][2] = *reinterpret_cast<const uint32_t *>(&h23);
        qa[j][3] = *reinterpret_cast<const uint32_t *>(&l23);
    }
    float m = -INFINITY, l = 0.0f; /* head r over this lane's tokens */
    float *lg = logits + ((int64_t)unit * G + (r < G ? r : 0)) * max_tokens;
    /* step it's MMAs, logits and running softmax from its operands */
    auto compute = [&](const uint32_t(*w)[K::NWD], const float(*sc)[2], int64_t it) {
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
            float c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
            for (int j = 0; j < K::KS; j++) {
                uint32_t b0, b1;
                K::frag(w[nt], j, b0, b1);
                asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                             "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                             : "r"(qa[j][0]), "r"(qa[j][1]), "r"(qa[j][2]), "r"(qa[j][3]), "r"(b0),
                               "r"(b1));
            }
            if (r < G) { /* head r's logits of tokens t0, t0 + 1, and its running softmax */
                const int64_t t0 = start + it * STEP + nt * 8 + 2 * t;
                float xs[2];
#pragma unroll
                for (int e = 0; e < 2; e++)
                    xs[e] = t0 + e < end ? (c[e] + c[e + 2]) * down * sc[nt][e] : 0.0f;
                /* t0 is even (chunks are multiples of SK_THREADS): 8-byte stores when rows are */
                if ((max_tokens & 1) == 0 && t0 + 1 < end) {
                    *reinterpret_cast<float2 *>(lg + t0) = make_float2(xs[0], xs[1]);
                } else {
                    if (t0 < end) lg[t0] = xs[0];
                    if (t0 + 1 < end) lg[t0 + 1] = xs[1];
                }
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    if (t0 + e >= end) continue;
                    const float xl = xs[e];
                    if (xl > m) {
                        l = l * exp2f(m - xl) + 1.0f;
                        m = xl;
                    } else {
                        l += exp2f(xl - m);
                    }
                }
            }
        }
    };
    /* two register buffers in turn (A: steps warp, warp + 2W, ...; B: the ones between), each
     * refilled two steps ahead right after its MMAs: two steps' bytes in flight per warp for
     * the registers that one step ahead would take */
    for (int64_t it = warp; it < n_steps; it += 2 * SK_WARPS) {
        compute(cw, cs, it);
        if (it + 2 * SK_WARPS < n_steps) load_step(it + 2 * SK_WARPS, cw, cs);
        if (it + SK_WARPS < n_steps) {
            compute(cw2, cs2, it + SK_WARPS);
            if (it + 3 * SK_WARPS < n_steps) load_step(it + 3 * SK_WARPS, cw2, cs2);
        }
    }
    /* head r's max and sum: the quad's lanes by shuffles, then across warps */
#pragma unroll
    for (int o = 1; o < 4; o <<= 1) {
        const float mo = __shfl_xor_sync(0xffffffffu, m, o);
        const float lo = __shfl_xor_sync(0xffffffffu, l, o);
        const float mx = fmaxf(m, mo);
        l = (m == -INFINITY ? 0.0f : l * exp2f(m - mx)) +
            (mo == -INFINITY ? 0.0f : lo * exp2f(mo - mx));
        m = mx;
    }
    if (t == 0 && r < G) red_m[warp][r] = m, red_l[warp][r] = l;
    __syncthreads();
    if (threadIdx.x < G) {
        const int h = threadIdx.x;
        float mx = -INFINITY, L = 0.0f;
        for (int w = 0; w < SK_WARPS; w++)
            mx = fmaxf(mx, red_m[w][h]);
        for (int w = 0; w < SK_WARPS; w++)
            L += red_m[w][h] == -INFINITY ? 0.0f : red_l[w][h] * exp2f(red_m[w][h] - mx);
        float *pm = part_ml + (((int64_t)unit * G + h) * HY_ATTN_MAX_SPLITS + split) * 2;
        pm[0] = mx, pm[1] = L;
    }
}

/* One wave of blocks over the active units (from this instance's occupancy), at least a
 * block's worth of tokens each; *nsplit comes back for the probabilities pass. */
template <int D, int BITS>
static hy_status scores_run(cudaStream_t cs, hy_cuda_attn_ws *ws, int32_t *folded, const float *q,
                            const uint8_t *sk, const float *sks, int64_t row_cap,
                            const int32_t *lens, int64_t max_len, const hy_attn_shape *s,
                            unsigned long long skip, int *nsplit) {
    static int per_sm = 0;
    if (!per_sm) {
        HY_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
            &per_sm, sketch_scores_kernel<D, BITS>, SK_THREADS, 0));
        if (per_sm < 1)
            return hy_fail(HY_EDEVICE, "sketch scores CUDA: kernel cannot run (occupancy 0)");
    }
    const int units = s->batch * s->n_kv_heads;
    const int active = units / s->n_kv_heads * (s->n_kv_heads - __builtin_popcountll(skip));
    int64_t ns = (int64_t)ws->sm_count * per_sm / (active > 0 ? active : 1);
    ns = ns < 1 ? 1 : (ns > HY_ATTN_MAX_SPLITS ? HY_ATTN_MAX_SPLITS : ns);
    int64_t chunk = (max_len + ns - 1) / ns;
    chunk = (chunk + SK_THREADS - 1) / SK_THREADS * SK_THREADS;
    ns = (max_len + chunk - 1) / chunk;
    *nsplit = (int)ns;
    sketch_scores_kernel<D, BITS><<<dim3((unsigned)ns, (unsigned)units), SK_THREADS, 0, cs>>>(
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
    cudaStream_t cs = (cudaStream_t)stream;
    int ns = 0;
    hy_status st;
    if (s->head_dim == 256)
        st = bits == 8 ? scores_run<256, 8>(cs, ws, folded, q, sk, sks, row_cap, lens, max_len, s,
                                            skip, &ns)
                       : scores_run<256, 4>(cs, ws, folded, q, sk, sks, row_cap, lens, max_len, s,
                                            skip, &ns);
    else if (s->head_dim == 128)
        st = bits == 8 ? scores_run<128, 8>(cs, ws, folded, q, sk, sks, row_cap, lens, max_len, s,
                                            skip, &ns)
                       : scores_run<128, 4>(cs, ws, folded, q, sk, sks, row_cap, lens, max_len, s,
                                            skip, &ns);
    else
        st = bits == 8 ? scores_run<64, 8>(cs, ws, folded, q, sk, sks, row_cap, lens, max_len, s,
                                           skip, &ns)
                       : scores_run<64, 4>(cs, ws, folded, q, sk, sks, row_cap, lens, max_len, s,
                                           skip, &ns);
    if (st) return st;
    /* the probabilities pass merges the splits' maxima and sums itself: no launch between */
    return hy_attn_probs_launch(scores, score_stride, ws, lens, max_len, units, s->n_kv_heads,
                                s->n_heads / s->n_kv_heads, skip, ns, cs);
}
