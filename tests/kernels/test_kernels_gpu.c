/* GPU kernels against their CPU references on fresh random inputs (not part of `meson test`:
 * CI has no GPU; scripts/gpu-check runs it). Outputs are poisoned (NaN / -1) before each run;
 * K/V values are exactly representable in bf16 and fp16, so the CPU reference sees the very
 * numbers the GPU reads and the error left is fp32 accumulation order. */
#include <cuda_runtime_api.h>
#include <stdlib.h>

#include "argmax.h"
#include "attention_decode.h"
#include "attention_prefill.h"
#include "attention_sparse.h"
#include "bf16_ops.h"
#include "cuda_bench.h"
#include "cuda_check.h"
#include "cuda_ops.h"
#include "embedding.h"
#include "fill.h"
#include "gemv.h"
#include "hy_bf16.h"
#include "hy_test.h"
#include "hy_test_gpu.h"
#include "indexset.h"
#include "page_bounds.h"
#include "qkv_store.h"
#include "qsim.h"
#include "rmsnorm.h"
#include "rope.h"
#include "sample.h"
#include "sketch.h"
#include "swiglu.h"
#include "topk.h"

#define CU(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            HY_FAILF("%s: %s", #call, cudaGetErrorString(e_));                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t urand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static float frand(void) {
    return (float)(urand() & 0xffffff) / 8388608.0f - 1.0f;
}
static float kvrand(void) {
    return (float)((int)(urand() % 511) - 255) / 64.0f;
}

static uint16_t to_bf16(float f) { /* exact for kvrand values */
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)(u >> 16);
}
static uint16_t to_f16(float f) { /* exact for kvrand values (normal, 8 significant bits) */
    if (f == 0.0f) return 0;
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000, e = ((u >> 23) & 0xff) - 127 + 15, m = (u >> 13) & 0x3ff;
    return (uint16_t)(sign | (e << 10) | m);
}

/* HY_GPU_SMALL=1 (under compute-sanitizer) skips the long cases. */
static int small_only(void) {
    return getenv("HY_GPU_SMALL") != NULL;
}

static double rel_err(const float *a, const float *ref, size_t n, int *nan) {
    double num = 0, den = 0;
    *nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i] != a[i]) (*nan)++;
        num += ((double)a[i] - ref[i]) * ((double)a[i] - ref[i]);
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void *dev_copy(const void *h, size_t bytes) {
    void *d = NULL;
    if (cudaMalloc(&d, bytes ? bytes : 1) != cudaSuccess) return NULL;
    if (h && cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice) != cudaSuccess) return NULL;
    return d;
}

/* Random K/V of a shape: float copies for the CPU, 16-bit copies for the GPU. */
typedef struct {
    float *kf, *vf;
    void *kd, *vd;
    size_t elems;
} kv_pair;
static int kv_make(kv_pair *kv, const hy_attn_shape *s, hy_kv_dtype dt) {
    kv->elems = (size_t)s->batch * s->seq_stride;
    kv->kf = malloc(kv->elems * 4), kv->vf = malloc(kv->elems * 4);
    uint16_t *kh = malloc(kv->elems * 2), *vh = malloc(kv->elems * 2);
    for (size_t i = 0; i < kv->elems; i++) {
        kv->kf[i] = kvrand(), kv->vf[i] = kvrand();
        kh[i] = dt == HY_KV_BF16 ? to_bf16(kv->kf[i]) : to_f16(kv->kf[i]);
        vh[i] = dt == HY_KV_BF16 ? to_bf16(kv->vf[i]) : to_f16(kv->vf[i]);
    }
    kv->kd = dev_copy(kh, kv->elems * 2), kv->vd = dev_copy(vh, kv->elems * 2);
    free(kh), free(vh);
    return kv->kd && kv->vd;
}
static void kv_free(kv_pair *kv) {
    free(kv->kf), free(kv->vf), cudaFree(kv->kd), cudaFree(kv->vd);
}

typedef struct {
    int B, H, KV, D;
    hy_kv_dtype dt;
    int32_t lens[4];
    int64_t window; /* > 0: a sliding-window layer (no scores then) */
} dcase;

static void check_decode(const dcase *c) {
    int64_t cap = 0;
    if (small_only() && c->lens[0] > 10000) return;
    for (int b = 0; b < c->B; b++)
        cap = c->lens[b] > cap ? c->lens[b] : cap;
    cap += 3; /* slack rows never read */
    hy_attn_shape s = {
        c->B,     c->H, c->KV, c->D, cap, (int64_t)c->KV * cap * c->D, 1.0f / sqrtf((float)c->D),
        c->window};
    kv_pair kv;
    HY_REQUIRE(kv_make(&kv, &s, c->dt));
    const size_t nq = (size_t)c->B * c->H * c->D;
    const int64_t sstride = (cap + 3) / 4 * 4;
    const size_t nsc = (size_t)c->B * c->KV * sstride;
    float *q = malloc(nq * 4), *ref = malloc(nq * 4), *got = malloc(nq * 4);
    float *sref = calloc(nsc, 4), *sgot = malloc(nsc * 4);
    for (size_t i = 0; i < nq; i++)
        q[i] = frand();
    HY_OK_OR_FAIL(
        hy_attn_decode_f32(ref, c->window ? NULL : sref, sstride, q, kv.kf, kv.vf, c->lens, &s));
    float *qd = dev_copy(q, nq * 4), *od = dev_copy(NULL, nq * 4), *sd = dev_copy(NULL, nsc * 4);
    int32_t *ld = dev_copy(c->lens, (size_t)c->B * 4);
    HY_REQUIRE(qd && od && sd && ld);
    hy_cuda_attn_ws *ws = NULL;
    HY_OK_OR_FAIL(hy_cuda_attn_ws_create(&ws, &s, cap, 1));
    for (int with_scores = 0; with_scores < (c->window ? 1 : 2); with_scores++) {
        CU(cudaMemset(od, 0xff, nq * 4));
        CU(cudaMemset(sd, 0, nsc * 4));
        HY_OK_OR_FAIL(hy_cuda_attn_decode(od, with_scores ? sd : NULL, sstride, qd, kv.kd, kv.vd,
                                          c->dt, ld, cap - 3, &s, ws, NULL));
        CU(cudaDeviceSynchronize());
        CU(cudaMemcpy(got, od, nq * 4, cudaMemcpyDeviceToHost));
        int nan;
        double e = rel_err(got, ref, nq, &nan);
        if (nan || !(e < 1e-4))
            HY_FAILF("decode B%d H%d KV%d D%d dt%d len0 %d window %lld scores %d: rel err %.3g, "
                     "%d NaN",
                     c->B, c->H, c->KV, c->D, c->dt, c->lens[0], (long long)c->window, with_scores,
                     e, nan);
        if (with_scores) {
            CU(cudaMemcpy(sgot, sd, nsc * 4, cudaMemcpyDeviceToHost));
            double es = rel_err(sgot, sref, nsc, &nan);
            if (nan || !(es < 1e-4))
                HY_FAILF("decode scores B%d H%d KV%d: rel err %.3g, %d NaN", c->B, c->H, c->KV, es,
                         nan);
        }
    }
    hy_cuda_attn_ws_free(ws);
    cudaFree(qd), cudaFree(od), cudaFree(sd), cudaFree(ld);
    free(q), free(ref), free(got), free(sref), free(sgot);
    kv_free(&kv);
}

HY_TEST(gpu_decode_matches_cpu) {
    const dcase cases[] = {
        {1, 32, 8, 128, HY_KV_BF16, {8205}, 0},
        {3, 8, 2, 64, HY_KV_F16, {1, 77, 1000}, 0},
        {2, 9, 3, 64, HY_KV_BF16, {300, 5}, 0},
        {1, 16, 2, 128, HY_KV_BF16, {100003}, 0},
        {4, 4, 4, 128, HY_KV_F16, {33, 64, 65, 129}, 0},
        {2, 32, 8, 128, HY_KV_F16, {131072, 7}, 0},
        {1, 8, 8, 64, HY_KV_BF16, {1}, 0},
        /* Gemma 3: head_dim 256, one KV head, and its sliding-window layers (window 512 of
         * lengths below, at and above it, and a window cutting tiles mid-way) */
        {2, 4, 1, 256, HY_KV_BF16, {9000, 3}, 0},
        {3, 4, 1, 256, HY_KV_BF16, {511, 512, 4099}, 512},
        {2, 12, 2, 256, HY_KV_F16, {70001, 100}, 0},
        {2, 8, 2, 64, HY_KV_BF16, {1000, 37}, 61},
        {1, 32, 8, 128, HY_KV_BF16, {30000}, 4097},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_decode(&cases[i]);
}

/* cluster: blocks per row forced (1, 2, 3, 4, 8), or 0 for the automatic choice */
static void check_topk_c(int rows, int n, int k, int sink, int window, int levels, int cluster) {
    if (small_only() && (int64_t)rows * n > 100000) return;
    const int64_t xs = (n + 3) / 4 * 4, is = (int64_t)k + sink + window;
    float *x = malloc((size_t)rows * xs * 4);
    for (size_t i = 0; i < (size_t)rows * xs; i++)
        x[i] = levels ? (float)(urand() % levels) : frand();
    if (n > 20) x[17] = NAN, x[18] = -0.0f, x[19] = 0.0f;
    int32_t *ir = malloc((size_t)rows * is * 4 + 4), *ig = malloc((size_t)rows * is * 4 + 4);
    int32_t *cr = malloc((size_t)rows * 4), *cg = malloc((size_t)rows * 4), nn = n;
    HY_OK_OR_FAIL(hy_topk_rows_f32(ir, cr, is, x, xs, rows, &nn, rows, k, sink, window));
    float *xd = dev_copy(x, (size_t)rows * xs * 4);
    int32_t *id = dev_copy(NULL, (size_t)rows * is * 4 + 4), *cd = dev_copy(NULL, (size_t)rows * 4);
    int32_t *nd = dev_copy(&nn, 4);
    HY_REQUIRE(xd && id && cd && nd);
    CU(cudaMemset(id, 0xff, (size_t)rows * is * 4));
    CU(cudaMemset(cd, 0xff, (size_t)rows * 4));
    if (cluster)
        HY_OK_OR_FAIL(hy_cuda_topk_rows_f32_cluster(id, cd, is, xd, xs, rows, nd, rows, n, k, sink,
                                                    window, cluster, NULL));
    else
        HY_OK_OR_FAIL(
            hy_cuda_topk_rows_f32(id, cd, is, xd, xs, rows, nd, rows, n, k, sink, window, NULL));
    CU(cudaDeviceSynchronize());
    CU(cudaMemcpy(ig, id, (size_t)rows * is * 4, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(cg, cd, (size_t)rows * 4, cudaMemcpyDeviceToHost));
    for (int r = 0; r < rows; r++) {
        if (cg[r] != cr[r]) {
            HY_FAILF("topk rows %d n %d k %d sink %d win %d cluster %d: row %d count %d, "
                     "expected %d",
                     rows, n, k, sink, window, cluster, r, cg[r], cr[r]);
            break;
        }
        if (memcmp(ig + (size_t)r * is, ir + (size_t)r * is, (size_t)cr[r] * 4)) {
            HY_FAILF("topk rows %d n %d k %d cluster %d: row %d indices differ", rows, n, k,
                     cluster, r);
            break;
        }
    }
    free(x), free(ir), free(ig), free(cr), free(cg);
    cudaFree(xd), cudaFree(id), cudaFree(cd), cudaFree(nd);
}

static void check_topk(int rows, int n, int k, int sink, int window, int levels) {
    check_topk_c(rows, n, k, sink, window, levels, 0);
}

HY_TEST(gpu_topk_matches_cpu) {
    check_topk(32, 131072, 2048, 0, 0, 0);
    check_topk(4, 1 << 20, 8192, 4, 64, 0);
    check_topk(3, 100, 256, 0, 0, 0);      /* n < k */
    check_topk(2, 300, 300, 0, 0, 0);      /* k = n */
    check_topk(1, 1, 16, 0, 0, 0);         /* one token */
    check_topk(8, 5001, 1000, 16, 64, 16); /* heavy ties */
    check_topk(5, 4097, 1, 0, 0, 2);       /* ties, k = 1 */
    check_topk(2, 777, 0, 3, 5, 0);        /* only sink and window */
    check_topk(6, 70000, 4096, 4, 128, 1); /* all equal */
    check_topk(40, 2001, 100, 2, 10, 7);   /* many rows: one block per row instead of a cluster */
    check_topk(40, 2001, 3000, 0, 0, 0);   /* many rows, n < k */
    check_topk(64, 65536, 512, 4, 64, 3);  /* 64 long rows: clusters of 2 on an H100 */
}

/* Every cluster size on short rows (small enough for the sanitizers): slices of a few
 * quads, slices past the end of the row, ties across the blocks of a row. */
HY_TEST(gpu_topk_forced_clusters_match_cpu) {
    static const int sizes[] = {1, 2, 3, 4, 8}; /* 3: the H100's automatic choice at 32 rows */
    for (int i = 0; i < 5; i++) {
        const int c = sizes[i];
        check_topk_c(3, 5001, 700, 4, 64, 5, c);
        check_topk_c(2, 37, 10, 2, 3, 0, c); /* fewer quads than blocks */
        check_topk_c(4, 20000, 2048, 0, 0, 0, c);
    }
}

/* Dense decode with scores on the GPU, then GPU and CPU top-k over the same GPU scores. */
HY_TEST(gpu_select_path_matches_cpu_topk) {
    hy_attn_shape s = {2, 32, 8, 128, 20000, 8 * 20000 * 128, 1.0f / sqrtf(128.f), 0};
    int32_t lens[2] = {20000, 9999};
    kv_pair kv;
    HY_REQUIRE(kv_make(&kv, &s, HY_KV_BF16));
    const size_t nq = 2 * 32 * 128, nsc = 2 * 8 * 20000;
    float *q = malloc(nq * 4), *sc = malloc(nsc * 4);
    for (size_t i = 0; i < nq; i++)
        q[i] = frand();
    float *qd = dev_copy(q, nq * 4), *od = dev_copy(NULL, nq * 4), *sd = dev_copy(NULL, nsc * 4);
    int32_t *ld = dev_copy(lens, 8), *id = dev_copy(NULL, 16 * 1100 * 4), *cd = dev_copy(NULL, 64);
    hy_cuda_attn_ws *ws = NULL;
    HY_OK_OR_FAIL(hy_cuda_attn_ws_create(&ws, &s, 20000, 1));
    CU(cudaMemset(sd, 0, nsc * 4));
    HY_OK_OR_FAIL(
        hy_cuda_attn_decode(od, sd, 20000, qd, kv.kd, kv.vd, HY_KV_BF16, ld, 20000, &s, ws, NULL));
    CU(cudaMemset(id, 0xff, 16 * 1100 * 4));
    HY_OK_OR_FAIL(
        hy_cuda_topk_rows_f32(id, cd, 1100, sd, 20000, 16, ld, 8, 20000, 1024, 4, 64, NULL));
    CU(cudaDeviceSynchronize());
    CU(cudaMemcpy(sc, sd, nsc * 4, cudaMemcpyDeviceToHost));
    int32_t *ig = malloc(16 * 1100 * 4), *ir = malloc(16 * 1100 * 4), cg[16], cr[16];
    CU(cudaMemcpy(ig, id, 16 * 1100 * 4, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(cg, cd, 64, cudaMemcpyDeviceToHost));
    HY_OK_OR_FAIL(hy_topk_rows_f32(ir, cr, 1100, sc, 20000, 16, lens, 8, 1024, 4, 64));
    for (int r = 0; r < 16; r++) {
        HY_CHECK_EQ_INT(cg[r], cr[r]);
        if (cg[r] == cr[r] && memcmp(ig + r * 1100, ir + r * 1100, (size_t)cr[r] * 4))
            HY_FAILF("select path: row %d indices differ", r);
    }
    hy_cuda_attn_ws_free(ws);
    cudaFree(qd), cudaFree(od), cudaFree(sd), cudaFree(ld), cudaFree(id), cudaFree(cd);
    free(q), free(sc), free(ig), free(ir);
    kv_free(&kv);
}

/* window > 0: the dense units of a sliding-window layer see their last window tokens */
static void check_sparse_w(int B, int H, int KV, int D, hy_kv_dtype dt, const int32_t *lens, int k,
                           hy_granularity gran, int P, const uint8_t *modes, int64_t window) {
    int64_t cap = 0;
    for (int b = 0; b < B; b++)
        cap = lens[b] > cap ? lens[b] : cap;
    if (small_only() && cap > 10000) return;
    hy_attn_shape s = {B, H, KV, D, cap, (int64_t)KV * cap * D, 1.0f / sqrtf((float)D), window};
    kv_pair kv;
    HY_REQUIRE(kv_make(&kv, &s, dt));
    const int units = B * KV;
    const int64_t stride = k + 8;
    int32_t *idx = malloc((size_t)units * stride * 4), *cnt = malloc((size_t)units * 4);
    int64_t max_count = 0;
    for (int b = 0; b < B; b++) /* a random ascending subset of tokens or pages */
        for (int g = 0; g < KV; g++) {
            const int64_t nu = gran == HY_GRAN_PAGE ? (lens[b] + P - 1) / P : lens[b];
            int c = 0;
            for (int64_t t = 0; t < nu && c < k + 8; t++)
                if ((int64_t)(urand() % (uint32_t)nu) < k)
                    idx[(b * KV + g) * stride + c++] = (int32_t)t;
            if (b == 0 && g == 1) c = 0; /* an empty set */
            cnt[b * KV + g] = c;
            max_count = c > max_count ? c : max_count;
        }
    hy_indexset set = {idx, cnt, stride, gran, P};
    const size_t nq = (size_t)B * H * D;
    float *q = malloc(nq * 4), *ref = malloc(nq * 4), *got = malloc(nq * 4);
    for (size_t i = 0; i < nq; i++)
        q[i] = frand();
    HY_OK_OR_FAIL(hy_attn_sparse_f32(ref, q, kv.kf, kv.vf, lens, &s, modes, &set));
    float *qd = dev_copy(q, nq * 4), *od = dev_copy(NULL, nq * 4);
    int32_t *ld = dev_copy(lens, (size_t)B * 4), *idd = dev_copy(idx, (size_t)units * stride * 4);
    int32_t *cdd = dev_copy(cnt, (size_t)units * 4);
    HY_REQUIRE(qd && od && ld && idd && cdd);
    hy_indexset dset = {idd, cdd, stride, gran, P};
    hy_cuda_attn_ws *ws = NULL;
    const int64_t need = cap > max_count * P ? cap : max_count * P;
    HY_OK_OR_FAIL(hy_cuda_attn_ws_create(&ws, &s, need, 0));
    CU(cudaMemset(od, 0xff, nq * 4));
    HY_OK_OR_FAIL(hy_cuda_attn_sparse(od, qd, kv.kd, kv.vd, dt, ld, cap, &s, modes, &dset,
                                      max_count, ws, NULL));
    CU(cudaDeviceSynchronize());
    CU(cudaMemcpy(got, od, nq * 4, cudaMemcpyDeviceToHost));
    /* a skipped unit's rows keep the poison; then both sides drop out of the comparison */
    int untouched = 1;
    for (size_t i = 0; i < nq; i++) {
        const int h = (int)(i / (size_t)D % (size_t)H);
        if (modes[h / (H / KV)] != HY_UNIT_SKIP) continue;
        uint32_t bits;
        memcpy(&bits, &got[i], 4);
        untouched &= bits == 0xffffffffu;
        got[i] = ref[i] = 0.0f;
    }
    if (!untouched)
        HY_FAILF("sparse B%d H%d KV%d: a skipped unit's out rows were written", B, H, KV);
    int nan;
    double e = rel_err(got, ref, nq, &nan);
    if (nan || !(e < 1e-4))
        HY_FAILF("sparse B%d H%d KV%d D%d k %d gran %d P %d window %lld: rel err %.3g, %d NaN", B,
                 H, KV, D, k, gran, P, (long long)window, e, nan);
    hy_cuda_attn_ws_free(ws);
    cudaFree(qd), cudaFree(od), cudaFree(ld), cudaFree(idd), cudaFree(cdd);
    free(q), free(ref), free(got), free(idx), free(cnt);
    kv_free(&kv);
}

static void check_sparse(int B, int H, int KV, int D, hy_kv_dtype dt, const int32_t *lens, int k,
                         hy_granularity gran, int P, const uint8_t *modes) {
    check_sparse_w(B, H, KV, D, dt, lens, k, gran, P, modes, 0);
}

HY_TEST(gpu_sparse_matches_cpu) {
    const uint8_t mixed8[8] = {1, 1, 0, 1, 1, 1, 0, 1}, all8[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    const uint8_t mixed3[3] = {1, 1, 0};
    const int32_t l2[2] = {5000, 777}, l1[1] = {40000}, l3[3] = {301, 64, 1};
    check_sparse(2, 32, 8, 128, HY_KV_BF16, l2, 512, HY_GRAN_TOKEN, 1, mixed8);
    check_sparse(1, 32, 8, 128, HY_KV_F16, l1, 2048, HY_GRAN_TOKEN, 1, all8);
    check_sparse(2, 32, 8, 128, HY_KV_BF16, l2, 64, HY_GRAN_PAGE, 16, mixed8);
    check_sparse(3, 9, 3, 64, HY_KV_F16, l3, 33, HY_GRAN_TOKEN, 1, mixed3);
    check_sparse(3, 9, 3, 64, HY_KV_BF16, l3, 5, HY_GRAN_PAGE, 7, mixed3);
    /* head_dim 256 (Gemma 3), and dense units of a sliding-window layer beside sparse ones */
    const uint8_t one_sparse[1] = {1}, dense_sparse[2] = {0, 1};
    const int32_t lg[2] = {6000, 300};
    check_sparse(2, 4, 1, 256, HY_KV_BF16, lg, 700, HY_GRAN_TOKEN, 1, one_sparse);
    check_sparse(2, 8, 2, 256, HY_KV_F16, lg, 40, HY_GRAN_PAGE, 16, dense_sparse);
    check_sparse_w(2, 8, 2, 256, HY_KV_BF16, lg, 100, HY_GRAN_TOKEN, 1, dense_sparse, 512);
    check_sparse_w(3, 9, 3, 64, HY_KV_BF16, l3, 33, HY_GRAN_TOKEN, 1, mixed3, 50);
}

/* DENSE, SPARSE and SKIP units in one launch: skipped units' rows keep their poison. */
HY_TEST(gpu_sparse_skip_units_match_cpu) {
    const uint8_t m8[8] = {1, 2, 0, 1, 2, 1, 0, 2}, only_sparse[8] = {2, 2, 1, 2, 2, 2, 2, 2};
    const uint8_t m3[3] = {2, 1, 0};
    const int32_t l2[2] = {5000, 777}, l3[3] = {301, 64, 1};
    check_sparse(2, 32, 8, 128, HY_KV_BF16, l2, 512, HY_GRAN_TOKEN, 1, m8);
    check_sparse(2, 32, 8, 128, HY_KV_F16, l2, 64, HY_GRAN_PAGE, 16, m8);
    check_sparse(2, 32, 8, 128, HY_KV_BF16, l2, 256, HY_GRAN_TOKEN, 1, only_sparse);
    check_sparse(3, 9, 3, 64, HY_KV_BF16, l3, 33, HY_GRAN_TOKEN, 1, m3);
}

/* Dense decode with per-unit modes (and scores): skipped units write neither out nor scores
 * rows and leave their tickets at 0, so a later plain launch on the same workspace is right. */
HY_TEST(gpu_decode_skip_units_match_cpu) {
    const int B = 2, H = 32, KV = 8, D = 128;
    const int32_t lens[2] = {5000, 777};
    const int64_t cap = 5000, sstride = 5000;
    hy_attn_shape s = {B, H, KV, D, cap, (int64_t)KV * cap * D, 1.0f / sqrtf((float)D), 0};
    const uint8_t modes[8] = {0, 2, 0, 0, 2, 2, 0, 0}, all_skip[8] = {2, 2, 2, 2, 2, 2, 2, 2};
    kv_pair kv;
    HY_REQUIRE(kv_make(&kv, &s, HY_KV_BF16));
    const size_t nq = (size_t)B * H * D, nsc = (size_t)B * KV * sstride;
    float *q = malloc(nq * 4), *ref = malloc(nq * 4), *got = malloc(nq * 4);
    float *sref = malloc(nsc * 4), *sgot = malloc(nsc * 4), *dense = malloc(nq * 4);
    for (size_t i = 0; i < nq; i++)
        q[i] = frand(), ref[i] = NAN;
    for (size_t i = 0; i < nsc; i++)
        sref[i] = 0.0f;
    HY_OK_OR_FAIL(hy_attn_decode_units_f32(ref, sref, sstride, q, kv.kf, kv.vf, lens, &s, modes));
    HY_OK_OR_FAIL(hy_attn_decode_f32(dense, NULL, 0, q, kv.kf, kv.vf, lens, &s));
    float *qd = dev_copy(q, nq * 4), *od = dev_copy(NULL, nq * 4), *sd = dev_copy(NULL, nsc * 4);
    int32_t *ld = dev_copy(lens, sizeof lens);
    HY_REQUIRE(qd && od && sd && ld);
    hy_cuda_attn_ws *ws = NULL;
    HY_OK_OR_FAIL(hy_cuda_attn_ws_create(&ws, &s, cap, 1));
    const int G = H / KV;
    for (int rep = 0; rep < 2; rep++) { /* the second run finds the tickets the first left */
        CU(cudaMemset(od, 0xff, nq * 4));
        CU(cudaMemset(sd, 0xff, nsc * 4));
        HY_OK_OR_FAIL(hy_cuda_attn_decode_units(od, sd, sstride, qd, kv.kd, kv.vd, HY_KV_BF16, ld,
                                                cap, &s, modes, ws, NULL));
        CU(cudaDeviceSynchronize());
        CU(cudaMemcpy(got, od, nq * 4, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(sgot, sd, nsc * 4, cudaMemcpyDeviceToHost));
        int out_written = 0, sc_written = 0;
        float *rc = malloc(nq * 4), *gc = malloc(nq * 4);
        for (size_t i = 0; i < nq; i++) {
            const int h = (int)(i / D % H);
            rc[i] = ref[i], gc[i] = got[i];
            if (modes[h / G] == HY_UNIT_SKIP) {
                uint32_t bits;
                memcpy(&bits, &got[i], 4);
                out_written += bits != 0xffffffffu;
                rc[i] = gc[i] = 0.0f;
            }
        }
        float *sr = malloc(nsc * 4), *sg = malloc(nsc * 4);
        for (size_t i = 0; i < nsc; i++) {
            const int64_t row = (int64_t)(i / (size_t)sstride), j = (int64_t)(i % (size_t)sstride);
            const int b = (int)(row / KV), g = (int)(row % KV);
            sr[i] = sg[i] = 0.0f;
            uint32_t bits;
            memcpy(&bits, &sgot[i], 4);
            if (modes[g] == HY_UNIT_SKIP || j >= lens[b])
                sc_written += modes[g] == HY_UNIT_SKIP && bits != 0xffffffffu;
            else
                sr[i] = sref[i], sg[i] = sgot[i];
        }
        int nan, nan_s;
        const double e = rel_err(gc, rc, nq, &nan), es = rel_err(sg, sr, nsc, &nan_s);
        if (out_written || sc_written)
            HY_FAILF("decode units rep %d: %d out and %d score elements of skipped units written",
                     rep, out_written, sc_written);
        if (nan || nan_s || !(e < 1e-4) || !(es < 1e-4))
            HY_FAILF("decode units rep %d: rel err %.3g (%d NaN), scores %.3g (%d NaN)", rep, e,
                     nan, es, nan_s);
        free(rc), free(gc), free(sr), free(sg);
    }
    /* all skipped: nothing launched, nothing written */
    CU(cudaMemset(od, 0xff, nq * 4));
    HY_OK_OR_FAIL(hy_cuda_attn_decode_units(od, NULL, 0, qd, kv.kd, kv.vd, HY_KV_BF16, ld, cap, &s,
                                            all_skip, ws, NULL));
    CU(cudaMemcpy(got, od, nq * 4, cudaMemcpyDeviceToHost));
    int written = 0;
    for (size_t i = 0; i < nq; i++) {
        uint32_t bits;
        memcpy(&bits, &got[i], 4);
        written += bits != 0xffffffffu;
    }
    HY_CHECK_EQ_INT(written, 0);
    /* the plain call on the same workspace afterwards (tickets intact) */
    CU(cudaMemset(od, 0xff, nq * 4));
    HY_OK_OR_FAIL(
        hy_cuda_attn_decode(od, NULL, 0, qd, kv.kd, kv.vd, HY_KV_BF16, ld, cap, &s, ws, NULL));
    CU(cudaMemcpy(got, od, nq * 4, cudaMemcpyDeviceToHost));
    int nan;
    const double e = rel_err(got, dense, nq, &nan);
    if (nan || !(e < 1e-4)) HY_FAILF("decode after units: rel err %.3g, %d NaN", e, nan);
    const uint8_t bad[8] = {0, 1, 0, 0, 0, 0, 0, 0}; /* SPARSE has no set here */
    HY_CHECK_EQ_INT(hy_cuda_attn_decode_units(od, NULL, 0, qd, kv.kd, kv.vd, HY_KV_BF16, ld, cap,
                                              &s, bad, ws, NULL),
                    HY_EINVAL);
    hy_cuda_attn_ws_free(ws);
    cudaFree(qd), cudaFree(od), cudaFree(sd), cudaFree(ld);
    free(q), free(ref), free(got), free(sref), free(sgot), free(dense);
    kv_free(&kv);
}

HY_TEST(gpu_page_max_matches_cpu) {
    const int rows = 6, n = 1001, P = 16, np = (n + P - 1) / P;
    float *x = malloc(rows * n * 4), *ref = malloc(rows * np * 4), *got = malloc(rows * np * 4);
    for (int i = 0; i < rows * n; i++)
        x[i] = frand();
    int32_t ns[2] = {1001, 500};
    HY_OK_OR_FAIL(hy_page_max_f32(ref, np, x, n, rows, ns, 3, P));
    float *xd = dev_copy(x, rows * n * 4), *pd = dev_copy(NULL, rows * np * 4);
    int32_t *nd = dev_copy(ns, 8);
    CU(cudaMemset(pd, 0xff, rows * np * 4));
    HY_OK_OR_FAIL(hy_cuda_page_max_f32(pd, np, xd, n, rows, nd, 3, 1001, P, NULL));
    CU(cudaMemcpy(got, pd, rows * np * 4, cudaMemcpyDeviceToHost));
    for (int r = 0; r < rows; r++)
        for (int p = 0; p < (ns[r / 3] + P - 1) / P; p++)
            HY_CHECK_NEAR(got[r * np + p], ref[r * np + p], 0);
    free(x), free(ref), free(got), cudaFree(xd), cudaFree(pd), cudaFree(nd);
}

/* Page scores with the window masked, and the page counts, against the CPU. */
HY_TEST(gpu_page_scores_match_cpu) {
    const int rows = 6, n = 1001, P = 16, np = (n + P - 1) / P;
    float *x = malloc(rows * n * 4), *ref = malloc(rows * np * 4), *got = malloc(rows * np * 4);
    for (int i = 0; i < rows * n; i++)
        x[i] = frand();
    for (int window = 0; window <= 70; window += 35) {
        int32_t ns[2] = {1001, 500}, npr[2] = {-1, -1}, npg[2];
        HY_OK_OR_FAIL(hy_page_scores_f32(ref, np, npr, x, n, rows, ns, 3, P, window));
        float *xd = dev_copy(x, rows * n * 4), *pd = dev_copy(NULL, rows * np * 4);
        int32_t *nd = dev_copy(ns, 8), *npd = dev_copy(NULL, 8);
        CU(cudaMemset(pd, 0xff, rows * np * 4));
        HY_OK_OR_FAIL(
            hy_cuda_page_scores_f32(pd, np, npd, xd, n, rows, nd, 3, 1001, P, window, NULL));
        CU(cudaMemcpy(got, pd, rows * np * 4, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(npg, npd, 8, cudaMemcpyDeviceToHost));
        HY_CHECK(npg[0] == npr[0] && npg[1] == npr[1] && npr[1] == 32);
        for (int r = 0; r < rows; r++)
            for (int p = 0; p < (ns[r / 3] + P - 1) / P; p++)
                if (!(got[r * np + p] == ref[r * np + p])) {
                    HY_FAILF("page scores window %d row %d page %d: %g, expected %g", window, r, p,
                             got[r * np + p], ref[r * np + p]);
                    r = rows;
                    break;
                }
        cudaFree(xd), cudaFree(pd), cudaFree(nd), cudaFree(npd);
    }
    free(x), free(ref), free(got);
}

/* Page bounds fold (from scratch, then an incremental fold) and bound scores against the CPU,
 * GQA 4, pages of 16, two sequences of different lengths, a window. */
static void check_page_bounds(int D) {
    enum { B = 2, H = 8, KV = 2, P = 16 };
    const int64_t CAP = small_only() ? 600 : 5000, PC = (CAP + P - 1) / P, RS = PC + 3;
    const hy_attn_shape s = {B, H, KV, D, CAP, KV * CAP * D, 1.0f, 0};
    const size_t nk = (size_t)B * KV * CAP * D, nb = (size_t)B * KV * PC * D;
    uint16_t *k = malloc(nk * 2), *mn = malloc(nb * 2), *mx = malloc(nb * 2);
    uint16_t *gmn = malloc(nb * 2), *gmx = malloc(nb * 2);
    float *q = malloc((size_t)B * H * D * 4), *sr = malloc((size_t)B * KV * RS * 4);
    float *sg = malloc((size_t)B * KV * RS * 4);
    for (size_t i = 0; i < nk; i++)
        k[i] = to_bf16(kvrand());
    for (int i = 0; i < B * H * D; i++)
        q[i] = frand();
    int32_t lens[B] = {(int32_t)CAP - 7, (int32_t)CAP / 3}, folded[B * KV] = {0}, np[B];
    uint16_t *kd = dev_copy(k, nk * 2), *mnd = dev_copy(NULL, nb * 2),
             *mxd = dev_copy(NULL, nb * 2);
    int32_t *ld = dev_copy(lens, sizeof lens), *fd = dev_copy(folded, sizeof folded);
    int32_t *npd = dev_copy(NULL, sizeof np);
    float *qd = dev_copy(q, (size_t)B * H * D * 4), *sd = dev_copy(NULL, (size_t)B * KV * RS * 4);
    HY_REQUIRE(kd && mnd && mxd && ld && fd && npd && qd && sd);
    for (int round = 0; round < 2; round++) {
        if (round == 1) { /* more tokens: pages from the last partial one are refolded */
            lens[0] += 5, lens[1] += 40;
            CU(cudaMemcpy(ld, lens, sizeof lens, cudaMemcpyHostToDevice));
        }
        HY_OK_OR_FAIL(hy_page_bounds_fold(mn, mx, PC, folded, k, lens, &s, P));
        HY_OK_OR_FAIL(hy_cuda_page_bounds_fold(mnd, mxd, PC, fd, kd, ld, CAP, &s, P, NULL));
        HY_OK_OR_FAIL(hy_page_bound_scores(sr, RS, np, folded, q, mn, mx, PC, lens, &s, P, 64));
        CU(cudaMemset(sd, 0xff, (size_t)B * KV * RS * 4));
        HY_OK_OR_FAIL(
            hy_cuda_page_bound_scores(sd, RS, npd, fd, qd, mnd, mxd, PC, ld, CAP, &s, P, 64, NULL));
        CU(cudaDeviceSynchronize());
        CU(cudaMemcpy(gmn, mnd, nb * 2, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(gmx, mxd, nb * 2, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(sg, sd, (size_t)B * KV * RS * 4, cudaMemcpyDeviceToHost));
        int32_t npg[B], fg[B * KV];
        CU(cudaMemcpy(npg, npd, sizeof npg, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(fg, fd, sizeof fg, cudaMemcpyDeviceToHost));
        for (int r = 0; r < B * KV; r++) {
            const int64_t pages = (lens[r / KV] + P - 1) / P;
            if (memcmp(gmn + (size_t)r * PC * D, mn + (size_t)r * PC * D, (size_t)pages * D * 2) ||
                memcmp(gmx + (size_t)r * PC * D, mx + (size_t)r * PC * D, (size_t)pages * D * 2))
                HY_FAILF("D %d round %d row %d: page bounds differ", D, round, r);
            HY_CHECK_EQ_INT(fg[r], lens[r / KV]);
            for (int64_t p = 0; p < pages; p++) {
                const float a = sg[r * RS + p], e = sr[r * RS + p];
                if (!(isinf(e) ? a == e : fabsf(a - e) <= 1e-4f * (1 + fabsf(e)))) {
                    HY_FAILF("round %d row %d page %lld: score %g, expected %g", round, r,
                             (long long)p, a, e);
                    break;
                }
            }
        }
        HY_CHECK(npg[0] == np[0] && npg[1] == np[1]);
    }
    free(k), free(mn), free(mx), free(gmn), free(gmx), free(q), free(sr), free(sg);
    cudaFree(kd), cudaFree(mnd), cudaFree(mxd), cudaFree(ld), cudaFree(fd), cudaFree(npd),
        cudaFree(qd), cudaFree(sd);
}

HY_TEST(gpu_page_bounds_match_cpu) {
    check_page_bounds(128);
    check_page_bounds(256); /* Gemma 3 */
}

/* The `score` selector: the key-only pass's scores equal the select path's (CPU reference:
 * hy_attn_decode_units_f32's scores), skipped units keep their rows, the tickets survive. */
HY_TEST(gpu_key_scores_match_cpu) {
    const int B = 2, H = 32, KV = 8, D = 128;
    const int32_t lens[2] = {small_only() ? 900 : 9000, 777};
    const int64_t cap = lens[0], sstride = (cap + 3) / 4 * 4;
    hy_attn_shape s = {B, H, KV, D, cap, (int64_t)KV * cap * D, 1.0f / sqrtf((float)D), 0};
    const uint8_t modes[8] = {0, 2, 0, 0, 2, 0, 0, 0};
    kv_pair kv;
    HY_REQUIRE(kv_make(&kv, &s, HY_KV_BF16));
    const size_t nq = (size_t)B * H * D, nsc = (size_t)B * KV * sstride;
    float *q = malloc(nq * 4), *out = malloc(nq * 4), *sref = calloc(nsc, 4);
    float *sgot = malloc(nsc * 4);
    for (size_t i = 0; i < nq; i++)
        q[i] = frand();
    HY_OK_OR_FAIL(hy_attn_decode_units_f32(out, sref, sstride, q, kv.kf, kv.vf, lens, &s, modes));
    float *qd = dev_copy(q, nq * 4), *sd = dev_copy(NULL, nsc * 4);
    int32_t *ld = dev_copy(lens, sizeof lens);
    HY_REQUIRE(qd && sd && ld);
    hy_cuda_attn_ws *ws = NULL;
    HY_OK_OR_FAIL(hy_cuda_attn_ws_create(&ws, &s, sstride, 1));
    for (int rep = 0; rep < 2; rep++) {
        CU(cudaMemset(sd, 0xff, nsc * 4));
        HY_OK_OR_FAIL(hy_cuda_attn_key_scores(sd, sstride, qd, kv.kd, HY_KV_BF16, ld, cap, &s,
                                              modes, ws, NULL));
        CU(cudaDeviceSynchronize());
        CU(cudaMemcpy(sgot, sd, nsc * 4, cudaMemcpyDeviceToHost));
        int touched = 0, nan;
        float *sr = calloc(nsc, 4), *sg = calloc(nsc, 4);
        for (size_t i = 0; i < nsc; i++) {
            const int64_t row = (int64_t)(i / (size_t)sstride), j = (int64_t)(i % (size_t)sstride);
            uint32_t bits;
            memcpy(&bits, &sgot[i], 4);
            if (modes[row % KV] == HY_UNIT_SKIP)
                touched += bits != 0xffffffffu;
            else if (j < lens[row / KV])
                sr[i] = sref[i], sg[i] = sgot[i];
        }
        const double e = rel_err(sg, sr, nsc, &nan);
        if (touched || nan || !(e < 1e-4))
            HY_FAILF("key scores rep %d: rel err %.3g, %d NaN, %d skipped elements written", rep, e,
                     nan, touched);
        free(sr), free(sg);
    }
    hy_cuda_attn_ws_free(ws);
    cudaFree(qd), cudaFree(sd), cudaFree(ld);
    free(q), free(out), free(sref), free(sgot);
    kv_free(&kv);
}

/* One sketch case: fold from nothing and then incrementally, codes and scales bit for bit
 * against hy_sketch_quantize, scores against hy_sketch_scores, a skipped KV head untouched. */
static void check_sketch(int D, int bits, int G) {
    enum { B = 2, KV = 2 };
    const int H = KV * G;
    const int64_t CAP = small_only() ? 700 : 6000, RC = CAP + 5, SS = (CAP + 3) / 4 * 4;
    const int RB = bits == 8 ? D : D / 2;
    const hy_attn_shape s = {B, H, KV, D, CAP, KV * CAP * D, 1.0f / sqrtf((float)D), 0};
    const uint8_t modes[KV] = {HY_UNIT_DENSE, HY_UNIT_SKIP};
    const size_t nk = (size_t)B * KV * CAP * D, nsk = (size_t)B * KV * RC * RB;
    uint16_t *kh = malloc(nk * 2);
    float *kf = malloc((size_t)CAP * D * 4), *q = malloc((size_t)B * H * D * 4);
    float *sg = malloc((size_t)B * KV * SS * 4), *sr = malloc((size_t)CAP * 4);
    float *ksr = malloc((size_t)CAP * 4), *ksg = malloc((size_t)B * KV * RC * 4);
    int8_t *kq = malloc((size_t)CAP * D);
    uint8_t *skg = malloc(nsk);
    for (size_t i = 0; i < nk; i++)
        kh[i] = to_bf16(kvrand() * (i % 7 == 0 ? 3.0f : 1.0f));
    /* heads of very different magnitudes (the GPU scales each head's q by a power of two
     * before splitting it into fp16 halves) and one all-zero head */
    for (int i = 0; i < B * H * D; i++) {
        const int h = i / D % H;
        const float f = h % 3 == 1 ? 1e-5f : (h % 3 == 2 ? 30.0f : 1.0f);
        q[i] = i / D == H ? 0.0f : 2 * frand() * f;
    }
    int32_t lens[B] = {(int32_t)CAP - 9, (int32_t)CAP / 3}, folded[B * KV] = {0};
    uint16_t *kd = dev_copy(kh, nk * 2);
    uint8_t *skd = dev_copy(NULL, nsk);
    float *ksd = dev_copy(NULL, (size_t)B * KV * RC * 4), *qd = dev_copy(q, (size_t)B * H * D * 4);
    float *sd = dev_copy(NULL, (size_t)B * KV * SS * 4);
    int32_t *ld = dev_copy(lens, sizeof lens), *fd = dev_copy(folded, sizeof folded);
    hy_cuda_attn_ws *ws = NULL;
    HY_REQUIRE(kd && skd && ksd && qd && sd && ld && fd);
    HY_OK_OR_FAIL(hy_cuda_attn_ws_create(&ws, &s, SS, 1));
    for (int round = 0; round < 2; round++) {
        if (round == 1) { /* one and 33 more tokens: only they are folded */
            lens[0] += 1, lens[1] += 33;
            CU(cudaMemcpy(ld, lens, sizeof lens, cudaMemcpyHostToDevice));
        }
        CU(cudaMemset(sd, 0xff, (size_t)B * KV * SS * 4));
        HY_OK_OR_FAIL(hy_cuda_sketch_fold(skd, ksd, RC, fd, kd, ld, CAP, &s, modes, bits, NULL));
        HY_OK_OR_FAIL(hy_cuda_sketch_scores(sd, SS, fd, qd, skd, ksd, RC, ld, CAP, &s, modes, bits,
                                            ws, NULL));
        CU(cudaDeviceSynchronize());
        CU(cudaMemcpy(skg, skd, nsk, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(ksg, ksd, (size_t)B * KV * RC * 4, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(sg, sd, (size_t)B * KV * SS * 4, cudaMemcpyDeviceToHost));
        int32_t fg[B * KV];
        CU(cudaMemcpy(fg, fd, sizeof fg, cudaMemcpyDeviceToHost));
        for (int r = 0; r < B * KV; r++) {
            const int b = r / KV, g = r % KV;
            const int64_t n = lens[b];
            if (modes[g] == HY_UNIT_SKIP) {
                HY_CHECK_EQ_INT(fg[r], 0);
                uint32_t bits0;
                memcpy(&bits0, &sg[r * SS], 4);
                HY_CHECK(bits0 == 0xffffffffu);
                continue;
            }
            HY_CHECK_EQ_INT(fg[r], n);
            for (int64_t i = 0; i < n * D; i++)
                kf[i] = hy_bf16_to_f32(kh[((size_t)b * KV + g) * CAP * D + i]);
            HY_OK_OR_FAIL(hy_sketch_quantize(kq, ksr, kf, n, D, bits));
            HY_OK_OR_FAIL(
                hy_sketch_scores(sr, q + ((size_t)b * H + g * G) * D, G, kq, ksr, n, D, s.scale));
            int64_t bad = 0;
            for (int64_t t = 0; t < n; t++) {
                const uint8_t *row = skg + ((size_t)r * RC + t) * RB;
                bad += ksg[r * RC + t] != ksr[t];
                for (int c = 0; c < D; c++) {
                    const int code =
                        bits == 8 ? (int8_t)row[c] : ((int8_t)(row[c / 2] << (c % 2 ? 0 : 4)) >> 4);
                    bad += code != kq[t * D + c];
                }
            }
            if (bad)
                HY_FAILF("sketch D%d b%d round %d row %d: %lld codes or scales differ", D, bits,
                         round, r, (long long)bad);
            int nan;
            const double e = rel_err(sg + r * SS, sr, (size_t)n, &nan);
            if (nan || !(e < 1e-4))
                HY_FAILF("sketch D%d b%d G%d round %d row %d: scores rel err %.3g, %d NaN", D, bits,
                         G, round, r, e, nan);
        }
    }
    hy_cuda_attn_ws_free(ws);
    cudaFree(kd), cudaFree(skd), cudaFree(ksd), cudaFree(qd), cudaFree(sd), cudaFree(ld),
        cudaFree(fd);
    free(kh), free(kf), free(q), free(sg), free(sr), free(ksr), free(ksg), free(kq), free(skg);
}

HY_TEST(gpu_sketch_matches_cpu) {
    check_sketch(128, 8, 4);
    check_sketch(128, 4, 4);
    check_sketch(64, 8, 3);
    check_sketch(64, 4, 8);
    check_sketch(256, 8, 4); /* Gemma 3 */
    check_sketch(256, 4, 1);
}

/* Device sampling against the shared choice on the host: rows of logits with ties, NaNs
 * and a row of all NaN; the host ranks each row's top-k itself (the sampler's order) and
 * draws with the same counter; tokens must be equal, and each row's counter must advance. */
HY_TEST(gpu_sample_matches_host) {
    enum { R = 6, V = 3001, LD = 3004 };
    const int ks[3] = {1, 40, 1024};
    const float temps[3] = {0.6f, 1.0f, 2.5f}, tops[3] = {1.0f, 0.9f, 0.3f};
    float *lg = malloc((size_t)R * LD * 4);
    for (int r = 0; r < R; r++)
        for (int v = 0; v < LD; v++) {
            float x = 4 * frand();
            if (r == 1 && v % 7 == 0) x = 1.25f; /* many ties */
            if (r == 2 && v % 5 == 0) x = NAN;   /* NaNs rank last */
            if (r == 3) x = NAN;                 /* every logit NaN: token 0 */
            lg[(size_t)r * LD + v] = x;
        }
    float *ld = dev_copy(lg, (size_t)R * LD * 4);
    int32_t *cd = dev_copy(NULL, (size_t)R * HY_SAMPLE_MAX_K * 4), *cn = dev_copy(NULL, R * 4);
    int32_t *td = dev_copy(NULL, R * 4), *nd = dev_copy((int32_t[]){V}, 4);
    uint64_t draws0[R] = {0, 3, 9, 1, 100, 7};
    uint64_t *dd = dev_copy(draws0, sizeof draws0);
    int32_t *ids = malloc((size_t)V * 4);
    HY_REQUIRE(ld && cd && cn && td && nd && dd && ids);
    for (int c = 0; c < 3; c++) {
        const int k = ks[c];
        CU(cudaMemcpy(dd, draws0, sizeof draws0, cudaMemcpyHostToDevice));
        HY_OK_OR_FAIL(
            hy_cuda_topk_rows_f32(cd, cn, HY_SAMPLE_MAX_K, ld, LD, R, nd, R, V, k, 0, 0, NULL));
        HY_OK_OR_FAIL(hy_cuda_sample_rows(td, ld, LD, R, V, cd, cn, HY_SAMPLE_MAX_K, k, temps[c],
                                          tops[c], 1234, dd, NULL));
        int32_t got[R];
        uint64_t after[R];
        CU(cudaMemcpy(got, td, sizeof got, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(after, dd, sizeof after, cudaMemcpyDeviceToHost));
        for (int r = 0; r < R; r++) {
            const float *row = lg + (size_t)r * LD;
            /* host ranking: selection of the k best by the sampler's order */
            for (int v = 0; v < V; v++)
                ids[v] = v;
            for (int i = 0; i < k; i++)
                for (int j = i + 1; j < V; j++) {
                    const float a = row[ids[i]], b = row[ids[j]];
                    const int before = b == b && (a != a || b > a || (b == a && ids[j] < ids[i]));
                    if (before) {
                        const int32_t t = ids[i];
                        ids[i] = ids[j], ids[j] = t;
                    }
                }
            const int i = hy_sample_ranked(row, ids, k, temps[c], tops[c],
                                           hy_rng_uniform(1234 + (uint64_t)r, draws0[r]));
            const int32_t want = i < 0 ? 0 : ids[i];
            if (got[r] != want)
                HY_FAILF("k %d row %d: device token %d, host %d", k, r, got[r], want);
            if (after[r] != draws0[r] + 1) HY_FAILF("k %d row %d: counter did not advance", k, r);
        }
    }
    HY_CHECK_EQ_INT(hy_cuda_sample_rows(td, ld, LD, R, V, cd, cn, HY_SAMPLE_MAX_K,
                                        HY_SAMPLE_MAX_K + 1, 1.0f, 1.0f, 1, dd, NULL),
                    HY_EUNSUPPORTED);
    HY_CHECK_EQ_INT(
        hy_cuda_sample_rows(td, ld, LD, R, V, cd, cn, HY_SAMPLE_MAX_K, 8, 0.0f, 1.0f, 1, dd, NULL),
        HY_EINVAL);
    cudaFree(ld), cudaFree(cd), cudaFree(cn), cudaFree(td), cudaFree(nd), cudaFree(dd);
    free(lg), free(ids);
}

/* Query-drift decisions against the CPU reference: three sequences, KV heads checked, forced
 * and skipped, queries near and far from the stored ones; then the keep-unless-due copy. */
HY_TEST(gpu_qsim_matches_cpu) {
    enum { B = 3, H = 8, KV = 4, D = 64, G = H / KV, R = B * KV };
    const hy_attn_shape s = {B, H, KV, D, 100, KV * 100 * D, 0.125f, 0};
    const uint8_t modes[KV] = {HY_QSIM_CHECK, HY_QSIM_FORCE, HY_QSIM_SKIP, HY_QSIM_CHECK};
    const float weight[KV] = {1.0f, 0.5f, 2.0f, 0.25f};
    const int32_t lens[B] = {100, 37, 64};
    float q[R * G * D], qs[R * G * D], qs_ref[R * G * D], alt[R * G * D], out[R * G * D];
    for (int i = 0; i < R * G * D; i++) {
        q[i] = frand(), alt[i] = frand(), out[i] = frand();
        /* rows 0, 3, 4: stored queries close to the new ones (kept); others unrelated */
        const int r = i / (G * D);
        qs[i] = r == 0 || r == 3 || r == 4 ? q[i] + 0.05f * frand() : frand();
        qs_ref[i] = qs[i];
    }
    int32_t due_ref[R], pub_ref[R], due[R], pub[R];
    for (int r = 0; r < R; r++)
        due_ref[r] = pub_ref[r] = due[r] = pub[r] = 77;
    int64_t ref_ref[B] = {0};
    double rows_ref[B] = {0};
    HY_OK_OR_FAIL(hy_qsim_decide(due_ref, pub_ref, qs_ref, q, lens, &s, modes, weight, 0.8f,
                                 ref_ref, rows_ref));
    int32_t *dd = dev_copy(due, sizeof due), *pd = dev_copy(pub, sizeof pub);
    int32_t *ld = dev_copy(lens, sizeof lens);
    float *qd = dev_copy(q, sizeof q), *sd = dev_copy(qs, sizeof qs);
    unsigned long long *rd = dev_copy((unsigned long long[B]){0}, B * 8);
    double *wd = dev_copy((double[B]){0}, B * 8);
    HY_REQUIRE(dd && pd && ld && qd && sd && rd && wd);
    HY_OK_OR_FAIL(hy_cuda_qsim_decide(dd, pd, sd, qd, ld, &s, modes, weight, 0.8f, rd, wd, NULL));
    unsigned long long refs[B];
    double rows[B];
    CU(cudaMemcpy(due, dd, sizeof due, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(pub, pd, sizeof pub, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(qs, sd, sizeof qs, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(refs, rd, sizeof refs, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(rows, wd, sizeof rows, cudaMemcpyDeviceToHost));
    int kept = 0, redo = 0;
    for (int r = 0; r < R; r++) {
        HY_CHECK_EQ_INT(due[r], due_ref[r]);
        HY_CHECK_EQ_INT(pub[r], pub_ref[r]);
        if (modes[r % KV] == HY_QSIM_CHECK) kept += !due[r], redo += due[r];
    }
    HY_CHECK(kept > 0 && redo > 0); /* both outcomes occur */
    HY_CHECK(!memcmp(qs, qs_ref, sizeof qs));
    for (int b = 0; b < B; b++) {
        HY_CHECK_EQ_INT((int64_t)refs[b], ref_ref[b]);
        HY_CHECK_NEAR(rows[b], rows_ref[b], 1e-9);
    }
    /* keep unless due: rows of marked heads that kept their set take alt */
    const uint8_t mark[KV] = {1, 0, 0, 1};
    float *od = dev_copy(out, sizeof out), *ad = dev_copy(alt, sizeof alt);
    HY_REQUIRE(od && ad);
    HY_OK_OR_FAIL(hy_cuda_rows_keep_unless_due(od, ad, dd, &s, mark, NULL));
    float got[R * G * D];
    CU(cudaMemcpy(got, od, sizeof got, cudaMemcpyDeviceToHost));
    for (int i = 0; i < R * G * D; i++) {
        const int r = i / (G * D);
        const float want = mark[r % KV] && !due[r] ? alt[i] : out[i];
        if (got[i] != want) {
            HY_FAILF("keep unless due: row %d differs", r);
            break;
        }
    }
    cudaFree(dd), cudaFree(pd), cudaFree(ld), cudaFree(qd), cudaFree(sd), cudaFree(rd),
        cudaFree(wd), cudaFree(od), cudaFree(ad);
}

HY_TEST(gpu_small_ops_match_cpu) {
    const int rows = 7, n = 576;
    const size_t N = (size_t)rows * n;
    float *x = malloc(N * 4), *w = malloc(n * 4), *y = malloc(N * 4), *ref = malloc(N * 4);
    for (size_t i = 0; i < N; i++)
        x[i] = 3 * frand();
    for (int i = 0; i < n; i++)
        w[i] = frand();
    float *xd = dev_copy(x, N * 4), *wd = dev_copy(w, n * 4), *yd = dev_copy(NULL, N * 4);
    int nan;
    /* RMSNorm */
    hy_rmsnorm_f32(ref, x, w, rows, n, 1e-5f);
    CU(cudaMemset(yd, 0xff, N * 4));
    HY_OK_OR_FAIL(hy_cuda_rmsnorm_f32(yd, xd, wd, rows, n, 1e-5f, NULL));
    CU(cudaMemcpy(y, yd, N * 4, cudaMemcpyDeviceToHost));
    HY_CHECK(rel_err(y, ref, N, &nan) < 1e-5 && !nan);
    /* the post-norm residual add (Gemma 3): y += rmsnorm(x) onto a residual of its own */
    for (size_t i = 0; i < N; i++)
        ref[i] = frand();
    CU(cudaMemcpy(yd, ref, N * 4, cudaMemcpyHostToDevice));
    hy_rmsnorm_add_f32(ref, x, w, rows, n, 1e-6f);
    HY_OK_OR_FAIL(hy_cuda_rmsnorm_add_f32(yd, xd, wd, rows, n, 1e-6f, NULL));
    CU(cudaMemcpy(y, yd, N * 4, cudaMemcpyDeviceToHost));
    HY_CHECK(rel_err(y, ref, N, &nan) < 1e-5 && !nan);
    HY_CHECK_EQ_INT(hy_cuda_rmsnorm_add_f32(yd, yd, wd, rows, n, 1e-6f, NULL), HY_EINVAL);
    /* the bf16 embedding gather, plain and scaled by sqrt(d_model) (Gemma 3): exact */
    {
        const int32_t ids[3] = {6, 0, 6};
        uint16_t *tab = malloc((size_t)rows * n * 2);
        for (size_t i = 0; i < N; i++)
            tab[i] = to_bf16(x[i]);
        uint16_t *td = dev_copy(tab, N * 2);
        int32_t *idd = dev_copy(ids, sizeof ids);
        for (int sc = 0; sc < 2; sc++) {
            const float s = sc ? sqrtf((float)n) : 1.0f;
            hy_embedding_bf16(ref, tab, n, ids, 3, s);
            HY_OK_OR_FAIL(hy_cuda_embedding_bf16(yd, td, n, idd, 3, s, NULL));
            CU(cudaMemcpy(y, yd, (size_t)3 * n * 4, cudaMemcpyDeviceToHost));
            HY_CHECK(memcmp(y, ref, (size_t)3 * n * 4) == 0);
        }
        free(tab), cudaFree(td), cudaFree(idd);
    }
    /* SwiGLU (gate = x, up = first row tiled) */
    float *up = malloc(N * 4);
    for (size_t i = 0; i < N; i++)
        up[i] = frand();
    float *ud = dev_copy(up, N * 4);
    hy_swiglu_f32(ref, x, up, (int64_t)N);
    CU(cudaMemset(yd, 0xff, N * 4));
    HY_OK_OR_FAIL(hy_cuda_swiglu_f32(yd, xd, ud, (int64_t)N, NULL));
    CU(cudaMemcpy(y, yd, N * 4, cudaMemcpyDeviceToHost));
    HY_CHECK(rel_err(y, ref, N, &nan) < 1e-5 && !nan);
    /* RoPE, both layouts: 7 tokens of 9 heads x 64 */
    int32_t pos[7] = {0, 1, 5, 100, 1000, 4095, 30000};
    int32_t *posd = dev_copy(pos, sizeof pos);
    for (int layout = 0; layout < 2; layout++) {
        memcpy(ref, x, N * 4);
        hy_rope_f32(ref, rows, 9, 64, n, pos, 10000.f, (hy_rope_layout)layout);
        CU(cudaMemcpy(yd, x, N * 4, cudaMemcpyHostToDevice));
        HY_OK_OR_FAIL(
            hy_cuda_rope_f32(yd, rows, 9, 64, n, posd, 10000.f, (hy_rope_layout)layout, NULL));
        CU(cudaMemcpy(y, yd, N * 4, cudaMemcpyDeviceToHost));
        double e = rel_err(y, ref, N, &nan);
        if (!(e < 1e-4) || nan) HY_FAILF("rope layout %d: rel err %.3g", layout, e);
    }
    /* Embedding */
    int32_t ids[5] = {6, 0, 3, 3, 1};
    int32_t *idsd = dev_copy(ids, sizeof ids);
    hy_embedding_f32(ref, x, n, ids, 5);
    CU(cudaMemset(yd, 0xff, N * 4));
    HY_OK_OR_FAIL(hy_cuda_embedding_f32(yd, xd, n, idsd, 5, NULL));
    CU(cudaMemcpy(y, yd, 5 * n * 4, cudaMemcpyDeviceToHost));
    HY_CHECK(memcmp(y, ref, 5 * n * 4) == 0);
    /* Argmax with ties and NaN */
    x[5] = 100.f, x[9] = 100.f, x[n + 2] = NAN;
    for (int i = 0; i < n; i++)
        x[2 * n + i] = NAN;
    CU(cudaMemcpy(xd, x, N * 4, cudaMemcpyHostToDevice));
    int32_t am_ref[7], am[7], *amd = dev_copy(NULL, 28);
    hy_argmax_rows_f32(am_ref, x, rows, n);
    CU(cudaMemset(amd, 0xff, 28));
    HY_OK_OR_FAIL(hy_cuda_argmax_rows_f32(amd, xd, rows, n, NULL));
    CU(cudaMemcpy(am, amd, 28, cudaMemcpyDeviceToHost));
    for (int r = 0; r < rows; r++)
        HY_CHECK_EQ_INT(am[r], am_ref[r]);
    HY_CHECK_EQ_INT(am[0], 5);
    free(x), free(w), free(y), free(ref), free(up);
    cudaFree(xd), cudaFree(wd), cudaFree(yd), cudaFree(ud), cudaFree(posd), cudaFree(idsd),
        cudaFree(amd);
}

/* The prefill reference for a sliding window of W keys, as the CPU runtime computes it: the
 * queries that still see key 0 in one call, each later one alone with k and v moved to its
 * first key (runtime/attn_mode_dense.c). */
static void prefill_ref_window(float *out, const float *q, const float *k, const float *v,
                               int64_t nq, int64_t pos0, int H, int KV, int D, int64_t cap,
                               float scale, int64_t W) {
    int64_t n_full = W ? W - pos0 : nq;
    n_full = n_full > nq ? nq : (n_full < 0 ? 0 : n_full);
    const int G = H / KV;
    for (int g = 0; g < KV; g++) { /* one KV head's group at a time, as the runtime's units */
        const float *kg = k + (int64_t)g * cap * D, *vg = v + (int64_t)g * cap * D;
        float *og = out + g * G * D;
        const float *qg = q + g * G * D;
        if (n_full)
            hy_attn_prefill_f32(og, H * D, qg, H * D, kg, vg, n_full, pos0, G, 1, D, cap, scale);
        for (int64_t i = n_full; i < nq; i++) {
            const int64_t lo = pos0 + i - W + 1;
            hy_attn_prefill_f32(og + i * H * D, H * D, qg + i * H * D, H * D, kg + lo * D,
                                vg + lo * D, 1, W - 1, G, 1, D, cap - lo, scale);
        }
    }
}

HY_TEST(gpu_prefill_matches_cpu) {
    const int H = 8, KV = 2;
    /* n_q, pos0, head_dim, window (0: none; Gemma 3's head_dim 256 and sliding windows) */
    const int64_t cases[][4] = {{37, 20, 64, 0},   {1, 0, 64, 0},   {64, 0, 64, 0},
                                {129, 300, 64, 0}, {70, 5, 256, 0}, {100, 40, 256, 33},
                                {1, 90, 256, 16},  {65, 0, 128, 64}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int64_t nq = cases[c][0], pos0 = cases[c][1], cap = nq + pos0 + 5;
        const int D = (int)cases[c][2];
        const int64_t W = cases[c][3];
        const size_t kvn = (size_t)KV * cap * D, qn = (size_t)nq * H * D;
        float *kf = malloc(kvn * 4), *vf = malloc(kvn * 4), *q = malloc(qn * 4);
        float *ref = malloc(qn * 4), *got = malloc(qn * 4);
        uint16_t *kh = malloc(kvn * 2), *vh = malloc(kvn * 2);
        for (size_t i = 0; i < kvn; i++)
            kf[i] = kvrand(), vf[i] = kvrand(), kh[i] = to_bf16(kf[i]), vh[i] = to_bf16(vf[i]);
        for (size_t i = 0; i < qn; i++)
            q[i] = 0.3f * frand();
        prefill_ref_window(ref, q, kf, vf, nq, pos0, H, KV, D, cap, 0.125f, W);
        float *qd = dev_copy(q, qn * 4), *od = dev_copy(NULL, qn * 4);
        void *kd32 = dev_copy(kf, kvn * 4), *vd32 = dev_copy(vf, kvn * 4);
        void *kd16 = dev_copy(kh, kvn * 2), *vd16 = dev_copy(vh, kvn * 2);
        for (int dt = 0; dt < 2; dt++) {
            CU(cudaMemset(od, 0xff, qn * 4));
            HY_OK_OR_FAIL(hy_cuda_attn_prefill(od, H * D, qd, H * D, dt ? kd16 : kd32,
                                               dt ? vd16 : vd32, dt ? HY_KV_BF16 : HY_KV_F32, nq,
                                               pos0, H, KV, D, cap, 0.125f, W, NULL));
            CU(cudaMemcpy(got, od, qn * 4, cudaMemcpyDeviceToHost));
            int nan;
            double e = rel_err(got, ref, qn, &nan);
            if (!(e < 1e-4) || nan)
                HY_FAILF("prefill nq %lld pos0 %lld D %d window %lld dt %d: rel err %.3g, %d NaN",
                         (long long)nq, (long long)pos0, D, (long long)W, dt, e, nan);
        }
        free(kf), free(vf), free(q), free(ref), free(got), free(kh), free(vh);
        cudaFree(qd), cudaFree(od), cudaFree(kd32), cudaFree(vd32), cudaFree(kd16), cudaFree(vd16);
    }
}

HY_TEST(gpu_bad_arguments_fail_cleanly) {
    hy_attn_shape s = {1, 32, 8, 96, 16, 8 * 16 * 96, 0.1f, 0};
    hy_cuda_attn_ws *ws = NULL;
    HY_OK_OR_FAIL(hy_cuda_attn_ws_create(&ws, &s, 16, 0));
    float *buf = dev_copy(NULL, 1 << 20);
    int32_t one = 4, *ld = dev_copy(&one, 4);
    HY_CHECK_EQ_INT(
        hy_cuda_attn_decode(buf, NULL, 0, buf, buf, buf, HY_KV_BF16, ld, 4, &s, ws, NULL),
        HY_EUNSUPPORTED); /* head_dim 96 */
    HY_CHECK_EQ_INT(
        hy_cuda_attn_decode(buf, NULL, 0, buf, buf, buf, HY_KV_BF16, ld, 17, &s, ws, NULL),
        HY_ERANGE);
    HY_CHECK_EQ_INT(
        hy_cuda_attn_decode(buf, buf, 16, buf, buf, buf, HY_KV_BF16, ld, 4, &s, ws, NULL),
        HY_EINVAL); /* scores without logits in the workspace */
    HY_CHECK_EQ_INT(hy_cuda_topk_rows_f32((int32_t *)buf, (int32_t *)buf, 10, buf, 6, 1, ld, 1, 4,
                                          2, 0, 0, NULL),
                    HY_EINVAL); /* stride not a multiple of 4 */
    HY_CHECK_EQ_INT(hy_cuda_topk_rows_f32_cluster((int32_t *)buf, (int32_t *)buf, 10, buf, 8, 1, ld,
                                                  1, 4, 2, 0, 0, 5, NULL),
                    HY_EINVAL); /* 5 blocks per row */
    CU(cudaGetLastError());
    hy_cuda_attn_ws_free(ws);
    cudaFree(buf), cudaFree(ld);
}

/* bf16 distance in ulps: sign-magnitude codes mapped to ordered integers (+0 and -0 meet) */
static int bf16_ulps(uint16_t a, uint16_t b) {
    const int ia = (a & 0x8000) ? -(int)(a & 0x7fff) : (int)a;
    const int ib = (b & 0x8000) ? -(int)(b & 0x7fff) : (int)b;
    return abs(ia - ib);
}
/* got vs ref: every element within one bf16 ulp, at most 1% of them not equal */
static int bf16_compare(const uint16_t *got, const uint16_t *ref, size_t n, const char *what) {
    size_t differ = 0, far = 0;
    for (size_t i = 0; i < n; i++) {
        differ += got[i] != ref[i];
        far += bf16_ulps(got[i], ref[i]) > 1;
    }
    if (far || differ > n / 100) {
        HY_FAILF("%s: %zu of %zu elements differ, %zu by more than one ulp", what, differ, n, far);
        return 0;
    }
    return 1;
}
static int all_bytes(const void *p, size_t bytes, unsigned char v) {
    const unsigned char *c = p;
    for (size_t i = 0; i < bytes; i++)
        if (c[i] != v) return 0;
    return 1;
}

/* The decode GEMV against the double-precision reference: every batch size, beta 0 and 1,
 * the split (gate | up) layout, an output count that leaves a partial warp. */
static void check_gemv(int rows, int64_t in, int64_t out, int64_t split, float beta, int pro) {
    const int64_t ldx = in + 4, ldy = split ? split + 3 : out + 3;
    const int64_t blocks = split ? out / split : 1, per = split ? split : out;
    const int64_t sstride = split ? rows * ldy + 5 : 0,
                  ny = blocks > 1 ? blocks * sstride : rows * ldy;
    float *x = malloc((size_t)(rows * ldx) * 4), *yr = malloc((size_t)ny * 4),
          *yg = malloc((size_t)ny * 4);
    uint16_t *w = malloc((size_t)(out * in) * 2);
    for (int64_t i = 0; i < rows * ldx; i++)
        x[i] = frand();
    for (int64_t i = 0; i < out * in; i++)
        w[i] = to_bf16(kvrand() / 8.0f);
    for (int64_t i = 0; i < ny; i++)
        yr[i] = frand();
    /* the prologue's array: norm weights [in] or up rows like x */
    float *extra = malloc((size_t)(rows * ldx) * 4);
    for (int64_t i = 0; i < rows * ldx; i++)
        extra[i] = 2.0f * frand();
    float *xd = dev_copy(x, (size_t)(rows * ldx) * 4), *yd = dev_copy(yr, (size_t)ny * 4);
    float *ed = dev_copy(extra, (size_t)(rows * ldx) * 4);
    uint16_t *wd = dev_copy(w, (size_t)(out * in) * 2);
    HY_REQUIRE(xd && yd && wd && ed);
    hy_gemv_shape sh = {.rows = rows,
                        .in = in,
                        .out = out,
                        .ldx = ldx,
                        .ldy = ldy,
                        .split = per,
                        .split_stride = sstride,
                        .beta = beta,
                        .eps = 1e-5f};
    if (pro == 1) sh.norm_w = extra;
    if (pro >= 2) sh.up = extra, sh.gelu = pro == 3; /* 3: GELU gating (Gemma 3) */
    HY_OK_OR_FAIL(hy_gemv_bf16(yr, x, w, &sh));
    if (pro == 1) sh.norm_w = ed;
    if (pro >= 2) sh.up = ed;
    HY_OK_OR_FAIL(hy_cuda_gemv_bf16(yd, xd, wd, &sh, NULL));
    CU(cudaDeviceSynchronize());
    CU(cudaMemcpy(yg, yd, (size_t)ny * 4, cudaMemcpyDeviceToHost));
    double num = 0, den = 0;
    for (int64_t i = 0; i < ny; i++) {
        const double e = (double)yg[i] - yr[i];
        num += e * e, den += (double)yr[i] * yr[i];
        if (isnan(yg[i]) != isnan(yr[i])) num = INFINITY;
    }
    const double rel = sqrt(num / den);
    if (!(rel < 1e-5))
        HY_FAILF("gemv rows %d in %lld out %lld split %lld beta %g prologue %d: rel. L2 error "
                 "%.3g",
                 rows, (long long)in, (long long)out, (long long)split, beta, pro, rel);
    free(x), free(yr), free(yg), free(w), free(extra);
    cudaFree(xd), cudaFree(yd), cudaFree(wd), cudaFree(ed);
}

HY_TEST(gpu_gemv_matches_cpu) {
    for (int rows = 1; rows <= HY_GEMV_MAX_ROWS; rows++)
        for (int pro = 0; pro < 4; pro++)
            check_gemv(rows, small_only() ? 256 : 1024, 77, 0, rows % 2 ? 0.0f : 1.0f, pro);
    check_gemv(2, 2048, 640, 0, 0.0f, 3); /* Gemma 3 270M's down projection */
    check_gemv(1, 576, 1536 * 2, 1536, 0.0f, 1);
    check_gemv(4, small_only() ? 512 : 4096, 48, 24, 0.0f, 0);
    check_gemv(3, 64, 5, 0, 1.0f, 2);
    if (!small_only()) check_gemv(8, 14336, 130, 0, 1.0f, 2);
    const hy_gemv_shape bad = {.rows = 9, .in = 64, .out = 8, .ldx = 64, .ldy = 8, .split = 8};
    HY_CHECK(hy_cuda_gemv_bf16((float *)16, (float *)16, (uint16_t *)16, &bad, NULL) == HY_EINVAL);
}

HY_TEST(gpu_bf16_ops_match_cpu) {
    const size_t N = 10007;
    float *x = malloc(N * 4), *up = malloc(N * 4);
    uint16_t *ref = malloc(N * 2), *got = malloc(N * 2);
    for (size_t i = 0; i < N; i++)
        x[i] = 1000.f * frand(), up[i] = 3 * frand();
    const uint32_t special[] = {0x7fc00000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7f800001u,
                                0x3f808000u, 0x3f818000u, 0x7f7fffffu, 0x00018000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof special / 4; i++)
        memcpy(&x[1 + i], &special[i], 4);
    float *xd = dev_copy(x, N * 4), *ud = dev_copy(up, N * 4);
    uint16_t *od = dev_copy(NULL, N * 2);
    HY_REQUIRE(xd && ud && od);
    /* conversion: aligned (vector) and shifted by one element (scalar path); exact */
    HY_OK_OR_FAIL(hy_f32_to_bf16(ref, x, (int64_t)N));
    for (int shift = 0; shift < 2; shift++) {
        CU(cudaMemset(od, 0xff, N * 2));
        HY_OK_OR_FAIL(hy_cuda_f32_to_bf16(od + shift, xd + shift, (int64_t)(N - shift), NULL));
        CU(cudaMemcpy(got, od, N * 2, cudaMemcpyDeviceToHost));
        if (memcmp(got + shift, ref + shift, (N - shift) * 2))
            HY_FAILF("f32_to_bf16 shift %d differs from the CPU", shift);
        if (shift) HY_CHECK(got[0] == 0xffff);
    }
    /* RMSNorm: n a multiple of 4 (vector path) and not */
    for (int v = 0; v < 2; v++) {
        const int rows = 7, n = v ? 577 : 576;
        float *w = malloc((size_t)n * 4);
        for (int i = 0; i < n; i++)
            w[i] = frand();
        for (int i = 0; i < rows * n; i++)
            x[i] = 3 * frand();
        float *wd = dev_copy(w, (size_t)n * 4);
        CU(cudaMemcpy(xd, x, (size_t)rows * n * 4, cudaMemcpyHostToDevice));
        HY_OK_OR_FAIL(hy_rmsnorm_bf16(ref, x, w, rows, n, 1e-5f));
        CU(cudaMemset(od, 0xff, N * 2));
        HY_OK_OR_FAIL(hy_cuda_rmsnorm_bf16(od, xd, wd, rows, n, 1e-5f, NULL));
        CU(cudaMemcpy(got, od, N * 2, cudaMemcpyDeviceToHost));
        bf16_compare(got, ref, (size_t)rows * n, v ? "rmsnorm_bf16 n 577" : "rmsnorm_bf16 n 576");
        HY_CHECK(got[rows * n] == 0xffff);
        cudaFree(wd), free(w);
    }
    /* SwiGLU and GELU gating (Gemma 3): aligned and shifted */
    for (size_t i = 0; i < N; i++)
        x[i] = 8 * frand();
    CU(cudaMemcpy(xd, x, N * 4, cudaMemcpyHostToDevice));
    for (int gelu = 0; gelu < 2; gelu++) {
        HY_OK_OR_FAIL(gelu ? hy_geglu_bf16(ref, x, up, (int64_t)N)
                           : hy_swiglu_bf16(ref, x, up, (int64_t)N));
        for (int shift = 0; shift < 2; shift++) {
            CU(cudaMemset(od, 0xff, N * 2));
            const int64_t n = (int64_t)(N - shift);
            HY_OK_OR_FAIL(gelu ? hy_cuda_geglu_bf16(od + shift, xd + shift, ud + shift, n, NULL)
                               : hy_cuda_swiglu_bf16(od + shift, xd + shift, ud + shift, n, NULL));
            CU(cudaMemcpy(got, od, N * 2, cudaMemcpyDeviceToHost));
            char what[32];
            snprintf(what, sizeof what, "%s%s", gelu ? "geglu_bf16" : "swiglu_bf16",
                     shift ? " shifted" : "");
            bf16_compare(got + shift, ref + shift, N - shift, what);
            if (shift) HY_CHECK(got[0] == 0xffff);
        }
    }
    free(x), free(up), free(ref), free(got);
    cudaFree(xd), cudaFree(ud), cudaFree(od);
}

HY_TEST(gpu_fill_matches_cpu) {
    const int64_t n = small_only() ? 20011 : 1000003;
    uint16_t *ref = malloc((size_t)n * 2), *got = malloc((size_t)n * 2);
    uint16_t *od = dev_copy(NULL, (size_t)n * 2);
    HY_REQUIRE(od);
    HY_OK_OR_FAIL(hy_fill_uniform_bf16(ref, n, 0x1234abcdull, 77, 0.05f));
    CU(cudaMemset(od, 0xff, (size_t)n * 2));
    HY_OK_OR_FAIL(hy_cuda_fill_uniform_bf16(od, n, 0x1234abcdull, 77, 0.05f, NULL));
    CU(cudaMemcpy(got, od, (size_t)n * 2, cudaMemcpyDeviceToHost));
    HY_CHECK(memcmp(got, ref, (size_t)n * 2) == 0);
    /* a slice regenerated on its own */
    CU(cudaMemset(od, 0xff, (size_t)n * 2));
    HY_OK_OR_FAIL(hy_cuda_fill_uniform_bf16(od + 5, n - 5, 0x1234abcdull, 82, 0.05f, NULL));
    CU(cudaMemcpy(got, od, (size_t)n * 2, cudaMemcpyDeviceToHost));
    HY_CHECK(got[4] == 0xffff && memcmp(got + 5, ref + 5, (size_t)(n - 5) * 2) == 0);
    /* constant fill from an address that is not 16-byte aligned, odd length */
    const int64_t m = 1001;
    float *fd = dev_copy(NULL, (size_t)(m + 8) * 4), *f = malloc((size_t)(m + 8) * 4);
    CU(cudaMemset(fd, 0xff, (size_t)(m + 8) * 4));
    HY_OK_OR_FAIL(hy_cuda_fill_f32(fd + 1, m, 3.25f, NULL));
    CU(cudaMemcpy(f, fd, (size_t)(m + 8) * 4, cudaMemcpyDeviceToHost));
    int wrong = 0;
    for (int64_t i = 1; i <= m; i++)
        wrong += f[i] != 3.25f;
    HY_CHECK_EQ_INT(wrong, 0);
    HY_CHECK(all_bytes(f, 4, 0xff) && all_bytes(f + m + 1, 7 * 4, 0xff));
    free(ref), free(got), free(f), cudaFree(od), cudaFree(fd);
}

static void check_qkv(hy_rope_layout layout, int D) {
    const int H = 8, KV = 2, B = 3, T = 11;
    const int64_t cap = small_only() ? 300 : 40000, rstride = (int64_t)(H + 2 * KV) * D + 4;
    const int64_t sstride = (int64_t)KV * cap * D + 8;
    hy_qkv_shape s = {H, KV, D, cap, sstride, 500000.0f, layout};
    int32_t seq[13], pos[13];
    for (int t = 0; t < T; t++)
        seq[t] = t % B, pos[t] = (int32_t)((cap - 1) - (int64_t)t * (cap / T)); /* distinct */
    pos[T - 1] = 0;
    seq[T] = 1, pos[T] = (int32_t)cap; /* two rows the GPU must skip */
    seq[T + 1] = -1, pos[T + 1] = 3;
    const size_t nq = (size_t)(T + 2) * H * D, nqkv = (size_t)(T + 2) * rstride;
    const size_t nc = (size_t)B * sstride;
    float *qkv = malloc(nqkv * 4), *qr = malloc(nq * 4), *qg = malloc(nq * 4);
    for (size_t i = 0; i < nqkv; i++)
        qkv[i] = 2 * frand();
    uint16_t *kr = malloc(nc * 2), *vr = malloc(nc * 2), *kg = malloc(nc * 2), *vg = malloc(nc * 2);
    memset(kr, 0xff, nc * 2), memset(vr, 0xff, nc * 2);
    HY_OK_OR_FAIL(hy_qkv_rope_store(qr, kr, vr, qkv, rstride, T, seq, pos, &s));
    float *qkvd = dev_copy(qkv, nqkv * 4), *qd = dev_copy(NULL, nq * 4);
    uint16_t *kd = dev_copy(NULL, nc * 2), *vd = dev_copy(NULL, nc * 2);
    int32_t *seqd = dev_copy(seq, sizeof seq), *posd = dev_copy(pos, sizeof pos);
    HY_REQUIRE(qkvd && qd && kd && vd && seqd && posd);
    CU(cudaMemset(qd, 0xff, nq * 4));
    CU(cudaMemset(kd, 0xff, nc * 2));
    CU(cudaMemset(vd, 0xff, nc * 2));
    HY_OK_OR_FAIL(hy_cuda_qkv_rope_store(qd, kd, vd, qkvd, rstride, T + 2, seqd, posd, &s, NULL));
    CU(cudaDeviceSynchronize());
    CU(cudaMemcpy(qg, qd, nq * 4, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(kg, kd, nc * 2, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(vg, vd, nc * 2, cudaMemcpyDeviceToHost));
    int nan;
    const size_t nvalid = (size_t)T * H * D;
    const double e = rel_err(qg, qr, nvalid, &nan);
    if (nan || !(e < 1e-5))
        HY_FAILF("qkv layout %d D %d: q rel err %.3g, %d NaN", layout, D, e, nan);
    if (!all_bytes(qg + nvalid, nq * 4 - nvalid * 4, 0xff))
        HY_FAILF("qkv layout %d D %d: q rows of skipped tokens written", layout, D);
    /* k: rotated, so a float ulp of cos/sin may move a rounding; compared at the written
     * places, which are then cleared so that the rest of both caches (the skipped rows'
     * places included) must still be equal poison; v: exact everywhere */
    const size_t nw = (size_t)T * KV * D;
    uint16_t *kwg = malloc(nw * 2), *kwr = malloc(nw * 2);
    for (int t = 0; t < T; t++)
        for (int g = 0; g < KV; g++)
            for (int d = 0; d < D; d++) {
                const size_t at = (size_t)(seq[t] * sstride + ((int64_t)g * cap + pos[t]) * D + d);
                const size_t w = ((size_t)t * KV + g) * D + d;
                kwg[w] = kg[at], kwr[w] = kr[at];
                kg[at] = kr[at] = 0;
            }
    bf16_compare(kwg, kwr, nw, layout ? "qkv k cache (neox)" : "qkv k cache (norm)");
    if (memcmp(kg, kr, nc * 2))
        HY_FAILF("qkv layout %d D %d: k cache written outside the tokens' places", layout, D);
    if (memcmp(vg, vr, nc * 2)) HY_FAILF("qkv layout %d D %d: v cache differs", layout, D);
    free(kwg), free(kwr);
    free(qkv), free(qr), free(qg), free(kr), free(vr), free(kg), free(vg);
    cudaFree(qkvd), cudaFree(qd), cudaFree(kd), cudaFree(vd), cudaFree(seqd), cudaFree(posd);
}

/* Bias and per-head QK RMSNorm (Qwen2, Qwen3) in place, against the CPU version: the
 * GPU sums squares in float, so within 1e-5; with neither extra the rows stay as they were. */
static void check_qkv_extras(int D, int with_bias, int with_norm) {
    const int H = 7, KV = 2, T = 9;
    const int64_t W = (int64_t)(H + 2 * KV) * D, rs = W + 5;
    const size_t n = (size_t)T * rs;
    float *x = malloc(n * 4), *r = malloc(n * 4), *gout = malloc(n * 4);
    float *bias = malloc((size_t)W * 4), *qn = malloc((size_t)D * 4), *kn = malloc((size_t)D * 4);
    for (size_t i = 0; i < n; i++)
        x[i] = 3 * frand();
    for (int64_t i = 0; i < W; i++)
        bias[i] = frand();
    for (int i = 0; i < D; i++)
        qn[i] = 1 + frand(), kn[i] = 1 + frand();
    memcpy(r, x, n * 4);
    float *xd = dev_copy(x, n * 4), *bd = dev_copy(bias, (size_t)W * 4);
    float *qd = dev_copy(qn, (size_t)D * 4), *kd = dev_copy(kn, (size_t)D * 4);
    HY_REQUIRE(xd && bd && qd && kd);
    const hy_qkv_extras e = {
        H, KV, D, with_bias ? bias : NULL, with_norm ? qn : NULL, with_norm ? kn : NULL, 1e-6f};
    const hy_qkv_extras ed = {
        H, KV, D, with_bias ? bd : NULL, with_norm ? qd : NULL, with_norm ? kd : NULL, 1e-6f};
    HY_OK_OR_FAIL(hy_qkv_extras_f32(r, rs, T, &e));
    HY_OK_OR_FAIL(hy_cuda_qkv_extras_f32(xd, rs, T, &ed, NULL));
    CU(cudaDeviceSynchronize());
    CU(cudaMemcpy(gout, xd, n * 4, cudaMemcpyDeviceToHost));
    int nan;
    const double err = rel_err(gout, r, n, &nan);
    if (nan || !(err < 1e-5))
        HY_FAILF("qkv extras D %d bias %d norm %d: rel err %.3g, %d NaN", D, with_bias, with_norm,
                 err, nan);
    for (int t = 0; t < T; t++) /* the row padding past W is never touched */
        for (int64_t i = W; i < rs; i++)
            if (gout[t * rs + i] != x[t * rs + i])
                HY_FAILF("qkv extras: token %d element %lld past the row written", t, (long long)i);
    free(x), free(r), free(gout), free(bias), free(qn), free(kn);
    cudaFree(xd), cudaFree(bd), cudaFree(qd), cudaFree(kd);
}

HY_TEST(gpu_qkv_extras_matches_cpu) {
    for (int b = 0; b < 2; b++)
        for (int q = 0; q < 2; q++) {
            check_qkv_extras(64, b, q);
            check_qkv_extras(128, b, q);
        }
    check_qkv_extras(80, 1, 1); /* a head wider than a warp's multiple */
}

HY_TEST(gpu_qkv_rope_store_matches_cpu) {
    check_qkv(HY_ROPE_NORM, 64);
    check_qkv(HY_ROPE_NEOX, 64);
    check_qkv(HY_ROPE_NORM, 128);
    check_qkv(HY_ROPE_NEOX, 128);
    /* seq_advance */
    int32_t lens[5] = {0, 1, 99, 4095, 131071}, pos[5], lr[5], pr[5], *ld, *pd;
    memcpy(lr, lens, sizeof lens);
    HY_OK_OR_FAIL(hy_seq_advance(pr, lr, 5));
    ld = dev_copy(lens, sizeof lens), pd = dev_copy(NULL, sizeof pos);
    CU(cudaMemset(pd, 0xff, sizeof pos));
    HY_OK_OR_FAIL(hy_cuda_seq_advance(pd, ld, 5, NULL));
    CU(cudaMemcpy(pos, pd, sizeof pos, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(lens, ld, sizeof lens, cudaMemcpyDeviceToHost));
    HY_CHECK(memcmp(pos, pr, sizeof pos) == 0 && memcmp(lens, lr, sizeof lens) == 0);
    cudaFree(ld), cudaFree(pd);
}

/* Stored sets (ascending, plus one unsorted slot), slots -1, store_n -1 and full, lengths 0
 * and long: rows, counts and rows_read exactly as the CPU's. */
static void check_merge_rows_gpu(int P, int sink, int window, int SS) {
    enum { B = 4, KV = 8, ROWS = B * KV, SLOTS = 40 };
    const int32_t lens[B] = {small_only() ? 9000 : 131072, 5000, 1, 0};
    const int64_t units = ((int64_t)lens[0] + P - 1) / P;
    int32_t *store = malloc((size_t)SLOTS * SS * 4), store_n[SLOTS], slots[ROWS];
    for (int sl = 0; sl < SLOTS; sl++) {
        int c = 0;
        const int64_t gap = units / SS > 1 ? 2 * (units / SS) : 2;
        for (int64_t t = urand() % gap; t < units && c < SS; t += 1 + urand() % gap)
            store[(size_t)sl * SS + c++] = (int32_t)t;
        store_n[sl] = sl % 9 == 1 ? -1 : c;
    }
    store_n[2] = SS; /* unsorted, with repeats and negatives: the serial merge's rules */
    for (int i = 0; i < SS; i++)
        store[2 * (size_t)SS + i] = (int32_t)((int64_t)(urand() % (units + 7)) - 5);
    for (int r = 0; r < ROWS; r++)
        slots[r] = r % 7 == 3 ? -1 : r % 11 == 5 ? -2 : (int32_t)(urand() % SLOTS);
    slots[0] = 2, slots[9] = 2, slots[1] = 1;
    const int64_t os = SS + ((int64_t)sink + P - 1) / P + ((int64_t)window + P - 1) / P + 1;
    int32_t *ir = malloc((size_t)ROWS * os * 4), *ig = malloc((size_t)ROWS * os * 4);
    int32_t cr[ROWS], cg[ROWS];
    int64_t rr[B] = {5, 0, -2, 9}, rg[B];
    HY_OK_OR_FAIL(hy_set_merge_rows(ir, cr, os, store, store_n, SS, slots, ROWS, lens, KV, P, sink,
                                    window, rr));
    int32_t *sd = dev_copy(store, (size_t)SLOTS * SS * 4), *snd = dev_copy(store_n, sizeof store_n);
    int32_t *sld = dev_copy(slots, sizeof slots), *ld = dev_copy(lens, sizeof lens);
    int32_t *id = dev_copy(NULL, (size_t)ROWS * os * 4), *cd = dev_copy(NULL, sizeof cg);
    const int64_t rr0[B] = {5, 0, -2, 9};
    int64_t *rd = dev_copy(rr0, sizeof rr0);
    HY_REQUIRE(sd && snd && sld && ld && id && cd && rd);
    CU(cudaMemset(id, 0xff, (size_t)ROWS * os * 4));
    CU(cudaMemset(cd, 0xff, sizeof cg));
    HY_OK_OR_FAIL(hy_cuda_set_merge_rows(id, cd, os, sd, snd, SS, sld, ROWS, ld, KV, P, sink,
                                         window, rd, NULL));
    CU(cudaDeviceSynchronize());
    CU(cudaMemcpy(ig, id, (size_t)ROWS * os * 4, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(cg, cd, sizeof cg, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(rg, rd, sizeof rg, cudaMemcpyDeviceToHost));
    for (int r = 0; r < ROWS; r++) {
        if (slots[r] <= -2) { /* skipped: the poison stays */
            if (cg[r] != -1 || !all_bytes(ig + (size_t)r * os, (size_t)os * 4, 0xff)) {
                HY_FAILF("merge P %d: skipped row %d was written", P, r);
                break;
            }
            continue;
        }
        if (cg[r] != cr[r]) {
            HY_FAILF("merge P %d sink %d window %d SS %d: row %d count %d, expected %d", P, sink,
                     window, SS, r, cg[r], cr[r]);
            break;
        }
        if (memcmp(ig + (size_t)r * os, ir + (size_t)r * os, (size_t)cr[r] * 4)) {
            HY_FAILF("merge P %d sink %d window %d SS %d: row %d indices differ", P, sink, window,
                     SS, r);
            break;
        }
        if (!all_bytes(ig + (size_t)r * os + cr[r], (size_t)(os - cr[r]) * 4, 0xff)) {
            HY_FAILF("merge P %d: row %d written past its count", P, r);
            break;
        }
    }
    for (int b = 0; b < B; b++)
        HY_CHECK_EQ_INT(rg[b], rr[b]);
    /* rows_read NULL is allowed */
    HY_OK_OR_FAIL(hy_cuda_set_merge_rows(id, cd, os, sd, snd, SS, sld, ROWS, ld, KV, P, sink,
                                         window, NULL, NULL));
    CU(cudaDeviceSynchronize());
    free(store), free(ir), free(ig);
    cudaFree(sd), cudaFree(snd), cudaFree(sld), cudaFree(ld), cudaFree(id), cudaFree(cd),
        cudaFree(rd);
}

HY_TEST(gpu_set_merge_rows_matches_cpu) {
    check_merge_rows_gpu(1, 4, 64, small_only() ? 1024 : 8192);
    check_merge_rows_gpu(16, 16, 64, 512);
    check_merge_rows_gpu(1, 0, 0, 2048);
    check_merge_rows_gpu(4, 3, 1, 100);
    check_merge_rows_gpu(4, 100000, 8, 64); /* the sink reaches the window of short rows */
    check_merge_rows_gpu(1, 1, 1, 1);
    /* rows that do not fit a stride below the general bound: marked -1, nothing written, not
     * counted; the row that fits is the CPU's */
    {
        int32_t store[8] = {1, 2, 3}, store_n[1] = {3}, slots[2] = {-1, 0}, lens[2] = {10, 10};
        int32_t cr[2], cg[2], ir[8], ig[10];
        int64_t rr = 0, rg = -1;
        HY_OK_OR_FAIL(hy_set_merge_rows(ir, cr, 5, store, store_n, 8, slots, 1, lens, 2, 1, 1, 2,
                                        &rr)); /* row 0 alone: 0, 8, 9 */
        int32_t *sd = dev_copy(store, sizeof store), *snd = dev_copy(store_n, sizeof store_n);
        int32_t *sld = dev_copy(slots, sizeof slots), *ld = dev_copy(lens, sizeof lens);
        int32_t *id = dev_copy(NULL, sizeof ig), *cd = dev_copy(NULL, sizeof cg);
        int64_t *rd = dev_copy(&rg, 8);
        HY_REQUIRE(sd && snd && sld && ld && id && cd && rd);
        CU(cudaMemset(rd, 0, 8));
        CU(cudaMemset(id, 0xff, sizeof ig));
        /* row 1 (stored 1 2 3) merges to 6 entries > 5 */
        HY_OK_OR_FAIL(
            hy_cuda_set_merge_rows(id, cd, 5, sd, snd, 8, sld, 2, ld, 2, 1, 1, 2, rd, NULL));
        CU(cudaMemcpy(cg, cd, sizeof cg, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(ig, id, sizeof ig, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(&rg, rd, 8, cudaMemcpyDeviceToHost));
        HY_CHECK(cg[0] == 3 && cr[0] == 3 && memcmp(ig, ir, 3 * 4) == 0);
        HY_CHECK_EQ_INT(cg[1], -1);
        HY_CHECK(all_bytes(ig + 5, 5 * 4, 0xff));
        HY_CHECK_EQ_INT(rg, rr); /* row 0's 3 tokens only */
        HY_CHECK_EQ_INT(rr, 3);
        cudaFree(sd), cudaFree(snd), cudaFree(sld), cudaFree(ld), cudaFree(id), cudaFree(cd),
            cudaFree(rd);
    }
    int32_t *buf = dev_copy(NULL, 64);
    /* out_stride -1; then page size 0 */
    HY_CHECK_EQ_INT(
        hy_cuda_set_merge_rows(buf, buf, -1, buf, buf, 4, buf, 1, buf, 1, 1, 0, 0, NULL, NULL),
        HY_EINVAL);
    HY_CHECK_EQ_INT(
        hy_cuda_set_merge_rows(buf, buf, 5, buf, buf, 4, buf, 1, buf, 1, 0, 0, 0, NULL, NULL),
        HY_EINVAL);
    cudaFree(buf);
}

HY_TEST_MAIN()
