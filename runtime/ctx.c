/* Contexts: the preallocated KV cache of n_seq sequences, scratch for one micro-batch, the
 * per-sequence plan states (all dense until a plan is attached) and the thread pool. The
 * cache is malloc'd, not zeroed: pages are touched only as positions fill. */
#include "attn_mode.h"
#include "matmul.h"
#include "plan_exec.h"
#include "runtime_internal.h"
#ifdef HY_HAVE_CUDA
#include "gpu_internal.h"
#endif

#include <stdlib.h>
#include <unistd.h>

/* Tokens per prefill micro-batch: large enough that the GEMMs run at full speed, small
 * enough that scratch stays a few tens of MB whatever the context length. */
#define HY_CTX_UBATCH 1024

static int default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 64 ? 64 : (int)n);
}

hy_status hy_ctx_check_args(const char *fn, const hy_model *m, int64_t n_ctx, int n_seq,
                            hy_ctx **out) {
    if (!out || !m) return hy_fail(HY_EINVAL, "%s: NULL %s", fn, m ? "out" : "model");
    *out = NULL;
    if (n_ctx < 1 || n_ctx > m->info.n_ctx_train)
        return hy_fail(HY_ERANGE, "%s: n_ctx = %lld, expected 1..%d (the model's context_length)",
                       fn, (long long)n_ctx, m->info.n_ctx_train);
    if (n_seq < 1 || n_seq > 4096)
        return hy_fail(HY_ERANGE, "%s: n_seq = %d, expected 1..4096", fn, n_seq);
    return HY_OK;
}

hy_status hy_ctx_create(const hy_model *m, int64_t n_ctx, int n_seq, hy_ctx **out) {
    HY_TRY(hy_ctx_check_args("hy_ctx_create", m, n_ctx, n_seq, out));
    const hy_model_info *mi = &m->info;
    const double kv_total = 2.0 * sizeof(float) * (double)mi->n_layers * mi->n_kv_heads *
                            mi->head_dim * (double)n_ctx * n_seq;
    if (kv_total > 0x1p46) /* 64 TiB: also keeps every size below in range */
        return hy_fail(HY_ENOMEM,
                       "hy_ctx_create: the KV cache for n_ctx = %lld, n_seq = %d "
                       "would take %.3g bytes",
                       (long long)n_ctx, n_seq, kv_total);
    hy_ctx *c = hy_calloc(1, sizeof *c, "context");
    if (!c) return HY_ENOMEM;
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_seq = n_seq;
    c->layer_stride = (int64_t)mi->n_kv_heads * n_ctx * mi->head_dim;
    c->seq_stride = c->layer_stride * mi->n_layers;
    c->n_batch = n_ctx < HY_CTX_UBATCH ? n_ctx : HY_CTX_UBATCH;
    if (c->n_batch < n_seq) c->n_batch = n_seq;
    const int64_t nb = c->n_batch, d = mi->d_model, hd = mi->head_dim;
    const size_t kv_bytes = (size_t)c->seq_stride * (size_t)n_seq * sizeof(float);
    c->seq_len = hy_calloc((size_t)n_seq, sizeof *c->seq_len, "sequence lengths");
    c->k_cache = hy_malloc(kv_bytes, "K cache");
    c->v_cache = hy_malloc(kv_bytes, "V cache");
    c->x = hy_malloc((size_t)(nb * d) * sizeof(float), "residual stream");
    c->h = hy_malloc((size_t)(nb * d) * sizeof(float), "normed activations");
    c->qkv = hy_malloc((size_t)(nb * (mi->n_heads + 2 * mi->n_kv_heads) * hd) * sizeof(float),
                       "QKV activations");
    c->att = hy_malloc((size_t)(nb * mi->n_heads * hd) * sizeof(float), "attention output");
    c->gu = hy_malloc((size_t)(nb * 2 * mi->d_ff) * sizeof(float), "gate/up activations");
    c->pos = hy_malloc((size_t)nb * sizeof(int32_t), "positions");
    c->runs = hy_malloc((size_t)nb * sizeof(hy_run), "runs");
    c->rows = hy_malloc((size_t)nb * sizeof(int64_t), "logit rows");
    c->plans = hy_calloc((size_t)n_seq, sizeof *c->plans, "sequence plans");
    if (!c->seq_len || !c->k_cache || !c->v_cache || !c->x || !c->h || !c->qkv || !c->att ||
        !c->gu || !c->pos || !c->runs || !c->rows || !c->plans) {
        hy_ctx_free(c);
        return hy_fail_ctx(HY_ENOMEM, "hy_ctx_create(n_ctx = %lld, n_seq = %d)", (long long)n_ctx,
                           n_seq);
    }
    const char *env = getenv("HY_THREADS");
    int nt = env ? atoi(env) : default_threads();
    hy_status st = hy_pool_create(nt < 1 ? 1 : nt, &c->pool);
    const char *ob = getenv("HY_OPENBLAS_THREADING");
    c->own_gemm_threads = !(ob && ob[0] == '1');
    /* process-wide: the pool threads every GEMM, each OpenBLAS call stays on its thread */
    if (st == HY_OK && c->own_gemm_threads) hy_matmul_set_threads(1);
    if (st == HY_OK) st = hy_ctx_qscratch_alloc(c);
    if (st != HY_OK) {
        hy_ctx_free(c);
        return st;
    }
    *out = c;
    return HY_OK;
}

void hy_ctx_free(hy_ctx *c) {
    if (!c) return;
#ifdef HY_HAVE_CUDA
    hy_gpu_ctx_free(c);
#endif
    hy_pool_free(c->pool);
    free(c->seq_len), free(c->k_cache), free(c->v_cache);
    free(c->x), free(c->h), free(c->qkv), free(c->att), free(c->gu);
    free(c->pos), free(c->runs), free(c->rows);
    free(c->xq), free(c->wtile), free(c->xbf16), free(c->wtile_bf16);
    if (c->plans)
        for (int s = 0; s < c->n_seq; s++)
            hy_seq_plan_free(c->plans[s]);
    free(c->plans);
    free(c);
}

int64_t hy_ctx_seq_len(const hy_ctx *c, int seq) {
    if (!c || seq < 0 || seq >= c->n_seq) return -1;
    return c->seq_len[seq];
}

void hy_ctx_seq_reset(hy_ctx *c, int seq) {
    if (!c || seq < 0 || seq >= c->n_seq) return;
#ifdef HY_HAVE_CUDA
    if (c->gpu) {
        hy_gpu_seq_reset(c, seq); /* fails only with the device itself; the next call reports it */
        return;
    }
#endif
    c->seq_len[seq] = 0;
    hy_seq_plan_reset(c->plans[seq]);
}

int hy_ctx_threads(const hy_ctx *c) {
    return c && c->pool ? hy_pool_threads(c->pool) : 0;
}
