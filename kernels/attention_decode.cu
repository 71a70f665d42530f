/* CUDA dense decode attention (attention_decode.h): split-KV flash-decoding through the core
 * in attention_core.cuh, plus the scores pass of the select path; units in SKIP mode are a
 * mask both kernels test at entry. The core writes each head's log2-scaled logits; once the
 * merged max and sum are known, one light kernel turns them into per-KV-head probability sums
 * (reads G floats, writes one, per token). */
#include "attention_core.cuh"

extern "C" hy_status hy_cuda_attn_ws_create(hy_cuda_attn_ws **out, const hy_attn_shape *s,
                                            int64_t max_tokens, int with_scores) {
    if (!out || !s || max_tokens < 1 || s->batch < 1 || s->n_kv_heads < 1 ||
        s->n_heads % s->n_kv_heads)
        return hy_fail(HY_EINVAL, "attention workspace: bad shape or max_tokens %lld",
                       (long long)max_tokens);
    *out = nullptr;
    hy_cuda_attn_ws *ws = (hy_cuda_attn_ws *)calloc(1, sizeof *ws);
    if (!ws) return hy_fail(HY_ENOMEM, "attention workspace: %zu bytes", sizeof *ws);
    ws->shape = *s;
    ws->max_tokens = max_tokens;
    const int64_t heads = (int64_t)s->batch * s->n_heads, units = (int64_t)s->batch * s->n_kv_heads;
    hy_status st = HY_OK;
    int dev = 0;
#define WS_TRY(call)                                                                               \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess && !st)                                                              \
            st = hy_fail(HY_EDEVICE, "%s:%d: %s failed: %s", __FILE__, __LINE__, #call,            \
                         cudaGetErrorString(e_));                                                  \
    } while (0)
    WS_TRY(cudaGetDevice(&dev));
    WS_TRY(cudaDeviceGetAttribute(&ws->sm_count, cudaDevAttrMultiProcessorCount, dev));
    if (!st)
        WS_TRY(cudaMalloc(&ws->part_acc, heads * HY_ATTN_MAX_SPLITS * s->head_dim * sizeof(float)));
    if (!st) WS_TRY(cudaMalloc(&ws->part_ml, heads * HY_ATTN_MAX_SPLITS * 2 * sizeof(float)));
    if (!st) WS_TRY(cudaMalloc(&ws->final_ml, heads * 2 * sizeof(float)));
    if (!st) WS_TRY(cudaMalloc(&ws->tickets, units * sizeof(unsigned)));
    if (!st) WS_TRY(cudaMemset(ws->tickets, 0, units * sizeof(unsigned)));
    if (!st && with_scores) WS_TRY(cudaMalloc(&ws->logits, heads * max_tokens * sizeof(float)));
#undef WS_TRY
    if (st) {
        hy_cuda_attn_ws_free(ws);
        return st;
    }
    *out = ws;
    return HY_OK;
}

extern "C" void hy_cuda_attn_ws_free(hy_cuda_attn_ws *ws) {
    if (!ws) return;
    cudaFree(ws->part_acc);
    cudaFree(ws->part_ml);
    cudaFree(ws->final_ml);
    cudaFree(ws->tickets);
    cudaFree(ws->logits);
    free(ws);
}

/* scores[unit][t] = sum over the group's heads of 2^(logit - M) / L. With VEC, a thread
 * takes 4 tokens through one 16-byte load per head (rows of 4k floats): 4x the bytes in
 * flight of the scalar form, which ncu showed waiting on its loads at 38% of DRAM peak.
 * nsplit > 0: M and L are merged here from the nsplit per-split pairs in part_ml (warp h
 * for head h), which spares the scoring launch a merge of its own. */
template <bool VEC>
__global__ void hy_scores_kernel(float *scores, int64_t score_stride, const float *logits,
                                 int64_t max_tokens, const float *final_ml, const float *part_ml,
                                 int nsplit, const int32_t *lens, int n_kv, int G,
                                 unsigned long long skip_mask) {
    __shared__ float sm_ml[HY_ATTN_ROWS][2];
    const int unit = blockIdx.y;
    /* a skipped unit has no logits this launch and keeps its score row */
    if (skip_mask != 0ull && ((skip_mask >> (unit % n_kv)) & 1ull)) return;
    const int64_t len = lens[unit / n_kv];
    constexpr int W = VEC ? 4 : 1;
    const int64_t t = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) * W;
    if (nsplit > 0) {
        const int h = threadIdx.x >> 5, lane = threadIdx.x & 31;
        if (h < G) {
            const float *pm = part_ml + ((int64_t)unit * G + h) * HY_ATTN_MAX_SPLITS * 2;
            float mx = -INFINITY;
            for (int sp = lane; sp < nsplit; sp += 32)
                mx = fmaxf(mx, pm[sp * 2]);
#pragma unroll
            for (int o = 16; o > 0; o >>= 1)
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
            float L = 0.f;
            for (int sp = lane; sp < nsplit; sp += 32)
                L += pm[sp * 2] == -INFINITY ? 0.f : pm[sp * 2 + 1] * exp2f(pm[sp * 2] - mx);
#pragma unroll
            for (int o = 16; o > 0; o >>= 1)
                L += __shfl_xor_sync(0xffffffffu, L, o);
            if (lane == 0) sm_ml[h][0] = mx, sm_ml[h][1] = L;
        }
        __syncthreads();
    }
    if (t >= len) return;
    float acc[W] = {};
    for (int h = 0; h < G; h++) {
        const int64_t head = (int64_t)unit * G + h;
        const float M = nsplit > 0 ? sm_ml[h][0] : final_ml[head * 2];
        const float rL = 1.f / (nsplit > 0 ? sm_ml[h][1] : final_ml[head * 2 + 1]);
        float x[W];
        if (VEC) {
            const float4 v =
                __ldcs(reinterpret_cast<const float4 *>(logits + head * max_tokens + t));
            /* % W keeps the scalar instance's (dead) branch in bounds */
            x[0] = v.x, x[1] = v.y, x[2 % W] = v.z, x[3 % W] = v.w;
        } else {
            x[0] = __ldcs(&logits[head * max_tokens + t]);
        }
#pragma unroll
        for (int j = 0; j < W; j++)
            acc[j] += exp2f(x[j] - M) * rL;
    }
#pragma unroll
    for (int j = 0; j < W; j++)
        if (t + j < len) scores[unit * score_stride + t + j] = acc[j];
}

/* The probabilities pass over the logits a scoring launch left in ws, with its merged maxima
 * and sums (nsplit 0) or its nsplit per-split ones. */
hy_status hy_attn_probs_launch(float *scores, int64_t score_stride, const hy_cuda_attn_ws *ws,
                               const int32_t *lens, int64_t max_len, int units, int n_kv, int G,
                               unsigned long long skip_mask, int nsplit, cudaStream_t cs) {
    /* 16-byte loads need rows of a multiple of 4 floats (cudaMalloc aligns the base) */
    if (ws->max_tokens % 4 == 0) {
        dim3 grid((unsigned)((max_len + 1023) / 1024), (unsigned)units);
        hy_scores_kernel<true><<<grid, 256, 0, cs>>>(scores, score_stride, ws->logits,
                                                     ws->max_tokens, ws->final_ml, ws->part_ml,
                                                     nsplit, lens, n_kv, G, skip_mask);
    } else {
        dim3 grid((unsigned)((max_len + 255) / 256), (unsigned)units);
        hy_scores_kernel<false><<<grid, 256, 0, cs>>>(scores, score_stride, ws->logits,
                                                      ws->max_tokens, ws->final_ml, ws->part_ml,
                                                      nsplit, lens, n_kv, G, skip_mask);
    }
    HY_CUDA_LAUNCH("hy_scores_kernel");
    return HY_OK;
}

/* modes (host, NULL = all dense) -> the skip mask; *any_run = some unit is not skipped. */
static hy_status skip_mask_of(const uint8_t *modes, int n_kv, const char *who,
                              unsigned long long *mask, int *any_run) {
    *mask = 0ull;
    *any_run = 1;
    if (!modes) return HY_OK;
    if (n_kv > 64)
        return hy_fail(HY_EUNSUPPORTED, "%s: %d KV heads with unit modes, at most 64", who, n_kv);
    *any_run = 0;
    for (int g = 0; g < n_kv; g++) {
        if (modes[g] == HY_UNIT_SKIP)
            *mask |= 1ull << g;
        else if (modes[g] == HY_UNIT_DENSE)
            *any_run = 1;
        else
            return hy_fail(HY_EINVAL, "%s: modes[%d] = %d, expected %d (dense) or %d (skip)", who,
                           g, modes[g], HY_UNIT_DENSE, HY_UNIT_SKIP);
    }
    return HY_OK;
}

extern "C" hy_status hy_cuda_attn_key_scores(float *scores, int64_t score_stride, const float *q,
                                             const void *k, hy_kv_dtype dt, const int32_t *lens,
                                             int64_t max_len, const hy_attn_shape *s,
                                             const uint8_t *modes, hy_cuda_attn_ws *ws,
                                             void *stream) {
    hy_core_args a;
    /* the core's output and V pointers are never touched in this mode */
    hy_status st = hy_attn_core_args_init(&a, scores, q, k, k, lens, s, ws);
    if (st) return st;
    if (max_len < 1 || max_len > s->kv_cap || max_len > ws->max_tokens || !ws->logits ||
        score_stride < max_len || s->window > 0)
        return hy_fail(HY_ERANGE,
                       "attention key scores CUDA: max_len %lld, expected 1..min(kv_cap %lld, "
                       "workspace %lld, score_stride %lld), workspace with logits, no window",
                       (long long)max_len, (long long)s->kv_cap, (long long)ws->max_tokens,
                       (long long)score_stride);
    int any;
    if (hy_status st_ =
            skip_mask_of(modes, s->n_kv_heads, "attention key scores CUDA", &a.skip_mask, &any))
        return st_;
    if (!any) return HY_OK;
    const int units = s->batch * s->n_kv_heads;
    cudaStream_t cs = (cudaStream_t)stream;
    if (hy_status st_ = hy_attn_core_launch<HY_CORE_KEY_SCORES>(a, dt, s->head_dim, units, max_len,
                                                                ws->sm_count, cs))
        return st_;
    return hy_attn_probs_launch(scores, score_stride, ws, lens, max_len, units, s->n_kv_heads, a.G,
                                a.skip_mask, 0, cs);
}

extern "C" hy_status hy_cuda_attn_decode(float *out, float *scores, int64_t score_stride,
                                         const float *q, const void *k, const void *v,
                                         hy_kv_dtype dt, const int32_t *lens, int64_t max_len,
                                         const hy_attn_shape *s, hy_cuda_attn_ws *ws,
                                         void *stream) {
    return hy_cuda_attn_decode_units(out, scores, score_stride, q, k, v, dt, lens, max_len, s, NULL,
                                     ws, stream);
}

extern "C" hy_status hy_cuda_attn_decode_units(float *out, float *scores, int64_t score_stride,
                                               const float *q, const void *k, const void *v,
                                               hy_kv_dtype dt, const int32_t *lens, int64_t max_len,
                                               const hy_attn_shape *s, const uint8_t *modes,
                                               hy_cuda_attn_ws *ws, void *stream) {
    hy_core_args a;
    hy_status st = hy_attn_core_args_init(&a, out, q, k, v, lens, s, ws);
    if (st) return st;
    if (max_len < 1 || max_len > s->kv_cap || max_len > ws->max_tokens)
        return hy_fail(HY_ERANGE,
                       "attention decode CUDA: max_len %lld, expected 1..min(kv_cap "
                       "%lld, workspace %lld)",
                       (long long)max_len, (long long)s->kv_cap, (long long)ws->max_tokens);
    if (scores && (!ws->logits || score_stride < max_len || s->window > 0))
        return hy_fail(HY_EINVAL,
                       "attention decode CUDA: scores asked but workspace has no "
                       "logits, score_stride %lld < max_len %lld or a sliding window (%lld)",
                       (long long)score_stride, (long long)max_len, (long long)s->window);
    int any_dense;
    if (hy_status st_ =
            skip_mask_of(modes, s->n_kv_heads, "attention decode CUDA", &a.skip_mask, &any_dense))
        return st_;
    if (!any_dense) return HY_OK; /* every unit is served elsewhere */
    const int units = s->batch * s->n_kv_heads;
    cudaStream_t cs = (cudaStream_t)stream;
    if (!scores) /* splits over the tokens a unit attends to: a window's at most */
        return hy_attn_core_launch<HY_CORE_DENSE>(
            a, dt, s->head_dim, units, s->window > 0 && s->window < max_len ? s->window : max_len,
            ws->sm_count, cs);
    st = hy_attn_core_launch<HY_CORE_DENSE_SCORES>(a, dt, s->head_dim, units, max_len, ws->sm_count,
                                                   cs);
    if (st) return st;
    return hy_attn_probs_launch(scores, score_stride, ws, lens, max_len, units, s->n_kv_heads, a.G,
                                a.skip_mask, 0, cs);
}
