/* The kernel benchmark behind `hylra bench kernels` (cuda_bench.h). Each measurement is a
 * CUDA graph of R launches replayed several times (median replay / R), so launch gaps stay
 * out of the kernel times, over KV buffers rotated through more memory than L2 holds. Bytes
 * counted are the fewest each op must move (K and V rows read once; scores read once). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda_bf16.h>

#include "attention_decode.h"
#include "attention_sparse.h"
#include "cuda_bench.h"
#include "cuda_check.h"
#include "page_bounds.h"
#include "sketch.h"
#include "topk.h"

#define BENCH_R 20      /* launches per graph */
#define BENCH_REPLAYS 7 /* graph replays; the median counts */
#define BENCH_ROTATE (256ll << 20)

__global__ void bench_fill_bf16(__nv_bfloat16 *p, size_t n, uint32_t seed) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u ^ seed;
        h ^= h >> 15, h *= 2246822519u, h ^= h >> 13;
        p[i] = __float2bfloat16(((float)(h & 0xffff) / 32768.0f - 1.0f));
    }
}
__global__ void bench_fill_f32(float *p, size_t n, uint32_t seed) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u ^ seed;
        h ^= h >> 15, h *= 2246822519u, h ^= h >> 13;
        p[i] = (float)(h & 0xffffff) / 16777216.0f;
    }
}
__global__ void bench_empty(void) {}
/* A plain 16-byte grid-stride copy: the copy ceiling as a kernel sees it. */
__global__ void bench_copy_kernel(uint4 *dst, const uint4 *src, size_t n) {
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + 3 * stride < n; i += 4 * stride) { /* four loads in flight per thread */
        const uint4 a = __ldcs(src + i), b = __ldcs(src + i + stride);
        const uint4 c = __ldcs(src + i + 2 * stride), d = __ldcs(src + i + 3 * stride);
        __stcs(dst + i, a), __stcs(dst + i + stride, b);
        __stcs(dst + i + 2 * stride, c), __stcs(dst + i + 3 * stride, d);
    }
    for (; i < n; i += stride)
        dst[i] = __ldcs(src + i);
}

/* One timed op: a callback that enqueues launch number i. */
typedef hy_status (*bench_fn)(void *ctx, int i, cudaStream_t st);

static int cmp_f(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static hy_status bench_time(bench_fn fn, void *ctx, cudaStream_t st, double *seconds) {
    for (int i = 0; i < 3; i++) {
        hy_status s = fn(ctx, i, st);
        if (s) return s;
    }
    HY_CUDA_CHECK(cudaStreamSynchronize(st));
    cudaGraph_t g;
    cudaGraphExec_t ge;
    HY_CUDA_CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
    hy_status s = HY_OK;
    for (int i = 0; i < BENCH_R && !s; i++)
        s = fn(ctx, i, st);
    cudaError_t ce = cudaStreamEndCapture(st, &g);
    if (s) return s;
    if (ce != cudaSuccess)
        return hy_fail(HY_EDEVICE, "bench: graph capture failed: %s", cudaGetErrorString(ce));
    HY_CUDA_CHECK(cudaGraphInstantiate(&ge, g, 0));
    cudaEvent_t e0, e1;
    HY_CUDA_CHECK(cudaEventCreate(&e0));
    HY_CUDA_CHECK(cudaEventCreate(&e1));
    float ms[BENCH_REPLAYS];
    HY_CUDA_CHECK(cudaGraphLaunch(ge, st));
    for (int r = 0; r < BENCH_REPLAYS; r++) {
        HY_CUDA_CHECK(cudaEventRecord(e0, st));
        HY_CUDA_CHECK(cudaGraphLaunch(ge, st));
        HY_CUDA_CHECK(cudaEventRecord(e1, st));
        HY_CUDA_CHECK(cudaEventSynchronize(e1));
        HY_CUDA_CHECK(cudaEventElapsedTime(&ms[r], e0, e1));
    }
    qsort(ms, BENCH_REPLAYS, sizeof ms[0], cmp_f);
    *seconds = ms[BENCH_REPLAYS / 2] * 1e-3 / BENCH_R;
    cudaEventDestroy(e0), cudaEventDestroy(e1);
    cudaGraphExecDestroy(ge), cudaGraphDestroy(g);
    return HY_OK;
}

/* Everything one (B, n) point needs. */
typedef struct {
    hy_attn_shape s;
    int nbuf;          /* KV copies rotated through */
    __nv_bfloat16 *kv; /* nbuf * 2 * B * seq_stride */
    float *q, *out, *scores;
    int32_t *lens, *idx, *cnt, *rows_n;
    int64_t n, score_stride, idx_stride;
    int k, sink, window, topk_rows;
    int cluster; /* top-k blocks per row; 0: automatic */
    int stages;  /* selectors: 1 scoring only, 2 also the top-k, else all three */
    hy_cuda_attn_ws *ws;
    /* cheap selectors: nsel copies (rotated, as the KV) of the int8 and int4 key sketches
     * with their scales, and of 16-token page key bounds, all folded from the keys once */
    int nsel;
    uint8_t *sk8, *sk4;
    float *sks;
    uint16_t *bmin, *bmax;
    int32_t *folded, *n_pages;
    float *pscores;
} bench_point;

#define BENCH_PAGE 16

static const void *bp_k(bench_point *p, int i) {
    return p->kv + (size_t)(i % p->nbuf) * 2 * p->s.batch * p->s.seq_stride;
}
static const void *bp_v(bench_point *p, int i) {
    return p->kv + ((size_t)(i % p->nbuf) * 2 + 1) * p->s.batch * p->s.seq_stride;
}

static hy_status op_dense(void *c, int i, cudaStream_t st) {
    bench_point *p = (bench_point *)c;
    return hy_cuda_attn_decode(p->out, NULL, 0, p->q, bp_k(p, i), bp_v(p, i), HY_KV_BF16, p->lens,
                               p->n, &p->s, p->ws, st);
}
static hy_status op_topk(void *c, int i, cudaStream_t st) {
    bench_point *p = (bench_point *)c;
    (void)i;
    return hy_cuda_topk_rows_f32_cluster(p->idx, p->cnt, p->idx_stride, p->scores, p->score_stride,
                                         p->topk_rows, p->rows_n, 1, p->n, p->k, p->sink, p->window,
                                         p->cluster, st);
}
static hy_status op_select(void *c, int i, cudaStream_t st) {
    bench_point *p = (bench_point *)c;
    hy_status s = hy_cuda_attn_decode(p->out, p->scores, p->score_stride, p->q, bp_k(p, i),
                                      bp_v(p, i), HY_KV_BF16, p->lens, p->n, &p->s, p->ws, st);
    if (s) return s;
    return hy_cuda_topk_rows_f32(p->idx, p->cnt, p->idx_stride, p->scores, p->score_stride,
                                 (int64_t)p->s.batch * p->s.n_kv_heads, p->lens, p->s.n_kv_heads,
                                 p->n, p->k, p->sink, p->window, st);
}
static hy_status op_reuse(void *c, int i, cudaStream_t st) {
    bench_point *p = (bench_point *)c;
    uint8_t modes[64];
    memset(modes, HY_UNIT_SPARSE, sizeof modes);
    hy_indexset set = {p->idx, p->cnt, p->idx_stride, HY_GRAN_TOKEN, 1};
    return hy_cuda_attn_sparse(p->out, p->q, bp_k(p, i), bp_v(p, i), HY_KV_BF16, p->lens, p->n,
                               &p->s, modes, &set, p->k + p->sink + p->window, p->ws, st);
}
/* a selector's set (k + sink + window tokens, or k / 16 pages) gathered by the sparse pass */
static hy_status sparse_over(bench_point *p, int i, int page, int64_t count, cudaStream_t st) {
    uint8_t modes[64];
    memset(modes, HY_UNIT_SPARSE, sizeof modes);
    hy_indexset set = {p->idx, p->cnt, p->idx_stride, page > 1 ? HY_GRAN_PAGE : HY_GRAN_TOKEN,
                       page};
    return hy_cuda_attn_sparse(p->out, p->q, bp_k(p, i), bp_v(p, i), HY_KV_BF16, p->lens, p->n,
                               &p->s, modes, &set, count, p->ws, st);
}
static hy_status topk_tokens(bench_point *p, cudaStream_t st) {
    return hy_cuda_topk_rows_f32(p->idx, p->cnt, p->idx_stride, p->scores, p->score_stride,
                                 (int64_t)p->s.batch * p->s.n_kv_heads, p->lens, p->s.n_kv_heads,
                                 p->n, p->k, p->sink, p->window, st);
}
/* score: scores from the keys alone, top-k, sparse pass over the set */
static hy_status op_score(void *c, int i, cudaStream_t st) {
    bench_point *p = (bench_point *)c;
    hy_status s = hy_cuda_attn_key_scores(p->scores, p->score_stride, p->q, bp_k(p, i), HY_KV_BF16,
                                          p->lens, p->n, &p->s, NULL, p->ws, st);
    if (s || p->stages == 1) return s;
    if ((s = topk_tokens(p, st)) || p->stages == 2) return s;
    return sparse_over(p, i, 1, p->k + p->sink + p->window, st);
}
/* sketch8 / sketch4: scores from the sketch (already folded: a decode step folds one token),
 * top-k, sparse pass */
static hy_status op_sketch(bench_point *p, int i, int bits, cudaStream_t st) {
    const int64_t rows = (int64_t)p->s.batch * p->s.n_kv_heads, j = i % p->nsel;
    const uint8_t *sk = bits == 8 ? p->sk8 + j * rows * p->n * 128 : p->sk4 + j * rows * p->n * 64;
    hy_status s = hy_cuda_sketch_scores(p->scores, p->score_stride, p->folded, p->q, sk,
                                        p->sks + (2 * j + (bits == 4)) * rows * p->n, p->n, p->lens,
                                        p->n, &p->s, NULL, bits, p->ws, st);
    if (s || p->stages == 1) return s;
    if ((s = topk_tokens(p, st)) || p->stages == 2) return s;
    return sparse_over(p, i, 1, p->k + p->sink + p->window, st);
}
static hy_status op_sketch8(void *c, int i, cudaStream_t st) {
    return op_sketch((bench_point *)c, i, 8, st);
}
static hy_status op_sketch4(void *c, int i, cudaStream_t st) {
    return op_sketch((bench_point *)c, i, 4, st);
}
/* bounds: page upper bounds (already folded), top k / 16 pages, sparse pass over the pages */
static hy_status op_bounds(void *c, int i, cudaStream_t st) {
    bench_point *p = (bench_point *)c;
    const int64_t rows = (int64_t)p->s.batch * p->s.n_kv_heads, j = i % p->nsel;
    const int64_t pc = p->n / BENCH_PAGE, off = j * rows * pc * 128;
    hy_status s = hy_cuda_page_bound_scores(p->pscores, p->score_stride, p->n_pages, p->folded,
                                            p->q, p->bmin + off, p->bmax + off, pc, p->lens, p->n,
                                            &p->s, BENCH_PAGE, 0, st);
    if (s || p->stages == 1) return s;
    if ((s = hy_cuda_topk_rows_f32(p->idx, p->cnt, p->idx_stride, p->pscores, p->score_stride, rows,
                                   p->n_pages, p->s.n_kv_heads, pc, p->k / BENCH_PAGE, 0, 0, st)) ||
        p->stages == 2)
        return s;
    return sparse_over(p, i, BENCH_PAGE, p->k / BENCH_PAGE, st);
}
/* Allocates and folds the selector copies of a point (from the first KV copy's keys). */
static hy_status bp_make_selectors(bench_point *p, cudaStream_t st) {
    const int64_t rows = (int64_t)p->s.batch * p->s.n_kv_heads, pc = p->n / BENCH_PAGE;
    const int64_t per = rows * p->n * (128 + 64 + 8) + rows * pc * 128 * 2 * 2;
    p->nsel = (int)((BENCH_ROTATE + per - 1) / per);
    if (p->nsel < 1) p->nsel = 1;
    const size_t ns = (size_t)p->nsel;
    HY_CUDA_CHECK(cudaMalloc(&p->sk8, ns * rows * p->n * 128));
    HY_CUDA_CHECK(cudaMalloc(&p->sk4, ns * rows * p->n * 64));
    HY_CUDA_CHECK(cudaMalloc(&p->sks, 2 * ns * rows * p->n * 4)); /* [copy][8, 4 bits] */
    HY_CUDA_CHECK(cudaMalloc(&p->bmin, ns * rows * pc * 128 * 2));
    HY_CUDA_CHECK(cudaMalloc(&p->bmax, ns * rows * pc * 128 * 2));
    HY_CUDA_CHECK(cudaMalloc(&p->folded, rows * 4));
    HY_CUDA_CHECK(cudaMalloc(&p->n_pages, (size_t)p->s.batch * 4));
    HY_CUDA_CHECK(cudaMalloc(&p->pscores, (size_t)rows * p->score_stride * 4));
    const uint16_t *k = (const uint16_t *)bp_k(p, 0);
    for (size_t j = 0; j < ns; j++) {
        hy_status s;
        HY_CUDA_CHECK(cudaMemsetAsync(p->folded, 0, rows * 4, st));
        if ((s = hy_cuda_sketch_fold(p->sk8 + j * rows * p->n * 128, p->sks + 2 * j * rows * p->n,
                                     p->n, p->folded, k, p->lens, p->n, &p->s, NULL, 8, st)))
            return s;
        HY_CUDA_CHECK(cudaMemsetAsync(p->folded, 0, rows * 4, st));
        if ((s = hy_cuda_sketch_fold(p->sk4 + j * rows * p->n * 64,
                                     p->sks + (2 * j + 1) * rows * p->n, p->n, p->folded, k,
                                     p->lens, p->n, &p->s, NULL, 4, st)))
            return s;
        HY_CUDA_CHECK(cudaMemsetAsync(p->folded, 0, rows * 4, st));
        if ((s = hy_cuda_page_bounds_fold(p->bmin + j * rows * pc * 128,
                                          p->bmax + j * rows * pc * 128, pc, p->folded, k, p->lens,
                                          p->n, &p->s, BENCH_PAGE, st)))
            return s;
    }
    return HY_OK;
}
typedef struct {
    void *dst, *src;
    size_t bytes;
} copy_ctx;
static hy_status op_copy(void *c, int i, cudaStream_t st) {
    copy_ctx *x = (copy_ctx *)c;
    (void)i;
    HY_CUDA_CHECK(cudaMemcpyAsync(x->dst, x->src, x->bytes, cudaMemcpyDeviceToDevice, st));
    return HY_OK;
}
static hy_status op_copy_kernel(void *c, int i, cudaStream_t st) {
    copy_ctx *x = (copy_ctx *)c;
    (void)i;
    bench_copy_kernel<<<132 * 8, 512, 0, st>>>((uint4 *)x->dst, (const uint4 *)x->src,
                                               x->bytes / 16);
    HY_CUDA_LAUNCH("bench_copy_kernel");
    return HY_OK;
}
static hy_status op_empty(void *c, int i, cudaStream_t st) {
    (void)c, (void)i;
    bench_empty<<<1, 32, 0, st>>>();
    HY_CUDA_LAUNCH("bench_empty");
    return HY_OK;
}

static void bp_free(bench_point *p) {
    cudaFree(p->kv), cudaFree(p->q), cudaFree(p->out), cudaFree(p->scores);
    cudaFree(p->lens), cudaFree(p->idx), cudaFree(p->cnt), cudaFree(p->rows_n);
    cudaFree(p->sk8), cudaFree(p->sk4), cudaFree(p->sks), cudaFree(p->bmin), cudaFree(p->bmax);
    cudaFree(p->folded), cudaFree(p->n_pages), cudaFree(p->pscores);
    hy_cuda_attn_ws_free(p->ws);
    memset(p, 0, sizeof *p);
}

static hy_status bp_make(bench_point *p, int B, int64_t n, int max_k, cudaStream_t st) {
    memset(p, 0, sizeof *p);
    p->s = (hy_attn_shape){B, 32, 8, 128, n, 8 * n * 128, 1.0f / sqrtf(128.0f), 0};
    p->n = n;
    const int64_t kv_bytes = 2ll * B * p->s.seq_stride * 2;
    p->nbuf = (int)((BENCH_ROTATE + kv_bytes - 1) / kv_bytes);
    if (p->nbuf < 1) p->nbuf = 1;
    p->score_stride = n;
    p->sink = 4, p->window = 64;
    p->idx_stride = max_k + p->sink + p->window;
    const int units = B * 8;
    HY_CUDA_CHECK(cudaMalloc(&p->kv, (size_t)p->nbuf * kv_bytes));
    HY_CUDA_CHECK(cudaMalloc(&p->q, (size_t)B * 32 * 128 * 4));
    HY_CUDA_CHECK(cudaMalloc(&p->out, (size_t)B * 32 * 128 * 4));
    HY_CUDA_CHECK(cudaMalloc(&p->scores, (size_t)units * n * 4));
    HY_CUDA_CHECK(cudaMalloc(&p->lens, (size_t)B * 4));
    HY_CUDA_CHECK(cudaMalloc(&p->rows_n, 4 * 4096));
    HY_CUDA_CHECK(cudaMalloc(&p->idx, (size_t)units * p->idx_stride * 4));
    HY_CUDA_CHECK(cudaMalloc(&p->cnt, (size_t)units * 4));
    bench_fill_bf16<<<1024, 256, 0, st>>>(p->kv, (size_t)p->nbuf * kv_bytes / 2, 17u);
    HY_CUDA_LAUNCH("bench_fill_bf16");
    bench_fill_f32<<<64, 256, 0, st>>>(p->q, (size_t)B * 32 * 128, 5u);
    HY_CUDA_LAUNCH("bench_fill_f32");
    int32_t *hl = (int32_t *)malloc(4 * 4096);
    for (int i = 0; i < 4096; i++)
        hl[i] = (int32_t)n;
    HY_CUDA_CHECK(cudaMemcpy(p->lens, hl, (size_t)B * 4, cudaMemcpyHostToDevice));
    HY_CUDA_CHECK(cudaMemcpy(p->rows_n, hl, 4 * 4096, cudaMemcpyHostToDevice));
    free(hl);
    return hy_cuda_attn_ws_create(&p->ws, &p->s, n, 1);
}

/* PyTorch timings from scripts/bench-torch: {"entries": [{"op", "batch", "n", "k", "seconds"}]}. */
static double torch_lookup(json_t *t, const char *op, int B, int64_t n, int k) {
    json_t *e, *arr = t ? json_object_get(t, "entries") : NULL;
    size_t i;
    json_array_foreach(arr, i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "op")) ?: "", op) &&
            json_integer_value(json_object_get(e, "batch")) == B &&
            json_integer_value(json_object_get(e, "n")) == n &&
            json_integer_value(json_object_get(e, "k")) == k)
            return json_number_value(json_object_get(e, "seconds"));
    }
    return 0.0;
}

static void row(FILE *f, const char *op, int B, int64_t n, int k, double sec, double bytes,
                double copy_bw, double torch_s, json_t *entries, const char *cost_op) {
    const double gbs = bytes / sec / 1e9;
    fprintf(f, "%-8s %3d %7lld %5d %10.2f %9.1f %6.1f%%", op, B, (long long)n, k, sec * 1e6, gbs,
            100.0 * gbs / copy_bw);
    if (torch_s > 0) fprintf(f, " %10.2f %6.2fx", torch_s * 1e6, torch_s / sec);
    fputc('\n', f);
    fflush(f);
    if (entries && cost_op)
        json_array_append_new(entries,
                              json_pack("{s:s,s:i,s:I,s:i,s:f,s:f}", "op", cost_op, "batch", B, "n",
                                        (json_int_t)n, "k", k, "seconds", sec, "GBps", gbs));
}

/* Top-k of the point's rows at its k with C = 1, 2, 4, 8 blocks per row forced: table rows
 * "<prefix>C" (probes of the automatic choice, not in costs.json). */
static hy_status probe_clusters(FILE *f, bench_point *p, const char *prefix, int B_shown,
                                double copy_bw, cudaStream_t st) {
    hy_status s = HY_OK;
    for (int c = 1; c <= 8 && !s; c *= 2) {
        char nm[16];
        double t = 0;
        snprintf(nm, sizeof nm, "%s%d", prefix, c);
        p->cluster = c;
        if (!(s = bench_time(op_topk, p, st, &t)))
            row(f, nm, B_shown, p->n, p->k, t, 4.0 * p->topk_rows * p->n, copy_bw, 0, NULL, NULL);
    }
    p->cluster = 0;
    return s;
}

extern "C" hy_status hy_cuda_copy_bandwidth(double *cudamemcpy_GBps, double *kernel_GBps) {
    cudaStream_t st;
    HY_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    copy_ctx cc = {NULL, NULL, 1ull << 30};
    double t_copy = 0, t_copyk = 0;
    hy_status s = HY_OK;
    cudaError_t e = cudaMalloc(&cc.dst, cc.bytes);
    if (e == cudaSuccess) e = cudaMalloc(&cc.src, cc.bytes);
    if (e == cudaSuccess) e = cudaMemset(cc.src, 1, cc.bytes);
    if (e != cudaSuccess)
        s = hy_fail(HY_EDEVICE, "copy bandwidth probe: %s", cudaGetErrorString(e));
    if (!s) s = bench_time(op_copy, &cc, st, &t_copy);
    if (!s) s = bench_time(op_copy_kernel, &cc, st, &t_copyk);
    cudaFree(cc.dst), cudaFree(cc.src);
    cudaStreamDestroy(st);
    if (s) return s;
    *cudamemcpy_GBps = 2.0 * cc.bytes / t_copy / 1e9;
    *kernel_GBps = 2.0 * cc.bytes / t_copyk / 1e9;
    return HY_OK;
}

extern "C" hy_status hy_cuda_bench_kernels(const hy_bench_kernels_opts *o) {
    char name[256];
    int sms = 0;
    size_t mem = 0;
    hy_status s = hy_cuda_device_name(name, sizeof name, &sms, &mem);
    if (s) return s;
    FILE *f = o->table ? o->table : stdout;
    json_t *torch = NULL;
    if (o->torch_json) {
        json_error_t je;
        torch = json_load_file(o->torch_json, 0, &je);
        if (!torch) return hy_fail(HY_EFORMAT, "%s: line %d: %s", o->torch_json, je.line, je.text);
    }
    cudaStream_t st;
    HY_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    /* copy bandwidth: 1 GiB device to device, bytes read + written */
    double bw_memcpy = 0, bw_kernel = 0, t_empty = 0;
    if ((s = hy_cuda_copy_bandwidth(&bw_memcpy, &bw_kernel))) return s;
    fprintf(f,
            "copy: cudaMemcpyAsync %.1f GB/s, 16-byte copy kernel %.1f GB/s (the faster is the "
            "reference)\n",
            bw_memcpy, bw_kernel);
    if ((s = bench_time(op_empty, NULL, st, &t_empty))) return s;
    double copy_bw = bw_memcpy > bw_kernel ? bw_memcpy : bw_kernel;
    const double torch_copy =
        torch ? json_number_value(json_object_get(torch, "copy_bandwidth_GBps")) : 0;
    if (torch_copy > copy_bw) { /* the best copy seen in this run is the reference */
        fprintf(f, "copy: PyTorch's copy_ reached %.1f GB/s in this run: used as the reference\n",
                torch_copy);
        copy_bw = torch_copy;
    }
    fprintf(f,
            "device: %s (%d SMs, %.1f GiB)\ncopy bandwidth (D2D, read+write): %.1f GB/s; "
            "empty kernel in a graph: %.2f us\n",
            name, sms, mem / 1073741824.0, copy_bw, t_empty * 1e6);
    fprintf(
        f,
        "shape: 32 query / 8 KV heads, head_dim 128, bf16 KV; sink 4, window 64 in select/reuse\n");
    fprintf(f, "%-8s %3s %7s %5s %10s %9s %7s %10s %7s\n", "op", "B", "n", "k", "time_us", "GB/s",
            "%copy", "torch_us", "speedup");

    json_t *root = json_object(), *entries = json_array();
    const int Bs[3] = {1, 8, 16};
    const int64_t ns[3] = {8192, 32768, 131072};
    const int ks[4] = {256, 1024, 2048, 4096};
    for (int bi = 0; bi < 3 && !s; bi++) {
        const int B = Bs[bi];
        if (B > o->max_batch || (o->quick && B > 1) || (o->point_b > 0 && B != o->point_b))
            continue;
        for (int ni = 0; ni < 3 && !s; ni++) {
            const int64_t n = ns[ni];
            if ((o->quick && n > 32768) || (o->point_b > 0 && n != o->point_n)) continue;
            bench_point p;
            if ((s = bp_make(&p, B, n, 4096, st))) {
                bp_free(&p);
                break;
            }
            const double kvb = 2.0 * B * 8 * n * 128 * 2;
            double t_dense = 0;
            if ((s = bench_time(op_dense, &p, st, &t_dense))) break;
            row(f, "dense", B, n, 0, t_dense, kvb, copy_bw, torch_lookup(torch, "dense", B, n, 0),
                entries, "dense");
            for (int ki = 0; ki < 4 && !s; ki++) {
                const int k = ks[ki];
                p.k = k;
                double t = 0;
                if ((s = bench_time(op_select, &p, st, &t))) break;
                row(f, "select", B, n, k, t, kvb, copy_bw, 0, entries, "select");
                fprintf(f, "         select / dense = %.3f\n", t / t_dense);
                p.topk_rows = B * 8;
                if ((s = bench_time(op_topk, &p, st, &t))) break;
                row(f, "topk", B, n, k, t, 4.0 * B * 8 * n, copy_bw,
                    torch_lookup(torch, "topk", B, n, k), entries, "topk");
                /* reuse gathers the set the select path just published */
                if ((s = bench_time(op_reuse, &p, st, &t))) break;
                row(f, "reuse", B, n, k, t, 2.0 * B * 8 * (k + 68) * 128 * 2, copy_bw,
                    torch_lookup(torch, "reuse", B, n, k), entries, "reuse");
            }
            /* issue 12's selectors at k = 2048, each with its top-k and sparse pass, against
             * dense; bytes counted: what each must read (keys; codes and scales; bounds),
             * plus the sparse pass's K and V rows */
            if (!s && n >= 32768 && (B == 1 || B == 8)) {
                const int64_t units = (int64_t)B * 8;
                const double sparse_b = 2.0 * units * (2048 + 68) * 128 * 2;
                const struct {
                    const char *name;
                    bench_fn fn;
                    double bytes;
                } sel[4] = {
                    {"score", op_score, kvb / 2 + sparse_b},
                    {"sketch8", op_sketch8, units * n * (128.0 + 4) + sparse_b},
                    {"sketch4", op_sketch4, units * n * (64.0 + 4) + sparse_b},
                    {"bounds", op_bounds,
                     units * (n / BENCH_PAGE) * 128.0 * 2 * 2 + 2.0 * units * 2048 * 128 * 2},
                };
                p.k = 2048;
                if (!(s = bp_make_selectors(&p, st)))
                    for (int i = 0; i < 4 && !s; i++) {
                        double t = 0;
                        if ((s = bench_time(sel[i].fn, &p, st, &t))) break;
                        row(f, sel[i].name, B, n, 2048, t, sel[i].bytes, copy_bw, 0, entries,
                            sel[i].name);
                        fprintf(f, "         %s / dense = %.3f\n", sel[i].name, t / t_dense);
                        /* where the time goes (table only): the scoring alone, then with its
                         * top-k; the sparse pass is the rest */
                        double t1 = 0, t2 = 0;
                        p.stages = 1;
                        if (!(s = bench_time(sel[i].fn, &p, st, &t1))) {
                            p.stages = 2;
                            s = bench_time(sel[i].fn, &p, st, &t2);
                        }
                        p.stages = 0;
                        if (!s)
                            fprintf(f,
                                    "         stages: scoring %.2f us, top-k %.2f us, sparse "
                                    "%.2f us\n",
                                    t1 * 1e6, (t2 - t1) * 1e6, (t - t2) * 1e6);
                    }
            }
            if (!s && !o->quick && n == 131072 && B == 8) { /* the target case: 32 rows x 128K */
                p.k = 2048, p.topk_rows = 32;
                p.sink = p.window = 0;
                double t = 0;
                if (!(s = bench_time(op_topk, &p, st, &t)))
                    row(f, "topk32", 4, n, 2048, t, 4.0 * 32 * n, copy_bw,
                        torch_lookup(torch, "topk32", 4, n, 2048), NULL, NULL);
                /* probe: the same with the blocks per row forced (op name topk32cC) */
                if (!s) s = probe_clusters(f, &p, "topk32c", 4, copy_bw, st);
            }
            /* probe: top-k of B=1's 8 rows below 64K with the blocks per row forced */
            if (!s && B == 1 && n < 65536) {
                p.k = 2048, p.topk_rows = 8;
                s = probe_clusters(f, &p, "topkc", 1, copy_bw, st);
            }
            bp_free(&p);
        }
    }
    /* probe of the fixed part of dense decode: B = 1 at short n (table only) */
    for (int64_t n = 1024; n <= 4096 && !s && !o->quick && o->point_b <= 0; n *= 2) {
        bench_point p;
        if ((s = bp_make(&p, 1, n, 256, st))) {
            bp_free(&p);
            break;
        }
        double t = 0;
        if (!(s = bench_time(op_dense, &p, st, &t)))
            row(f, "dense", 1, n, 0, t, 2.0 * 8 * n * 128 * 2, copy_bw, 0, NULL, NULL);
        bp_free(&p);
    }
    cudaStreamDestroy(st);
    if (torch) json_decref(torch);
    if (s) {
        json_decref(root), json_decref(entries);
        return s;
    }
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_set_new(root, "format", json_string("hylra-costs"));
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "device", json_string(name));
    json_object_set_new(root, "created", json_string(when));
    json_object_set_new(root, "tool", json_string("hylra " HY_BENCH_VERSION));
    json_object_set_new(root, "copy_bandwidth_GBps", json_real(copy_bw));
    json_object_set_new(root, "dtype", json_string("bf16"));
    json_object_set_new(root, "head_dim", json_integer(128));
    json_object_set_new(root, "n_heads", json_integer(32));
    json_object_set_new(root, "n_kv_heads", json_integer(8));
    json_object_set_new(root, "page_size", json_integer(16));
    json_object_set_new(root, "sink", json_integer(4));
    json_object_set_new(root, "window", json_integer(64));
    json_object_set_new(root, "entries", entries);
    json_object_set_new(
        root, "fixed",
        json_pack("{s:f,s:f}", "launch_overhead_s", t_empty, "per_layer_other_s", 0.0));
    if (o->costs_path && json_dump_file(root, o->costs_path, JSON_INDENT(1)) != 0) {
        json_decref(root);
        return hy_fail(HY_EIO, "%s: cannot write the cost table", o->costs_path);
    }
    json_decref(root);
    return HY_OK;
}
