/* Private structures of the CPU runtime: the model's weights (in their file's block format,
 * or fp32 on the reference path), the context (KV cache,
 * scratch, per-unit attention modes, thread pool) and the batch description the layer
 * function works on. Only runtime sources include this; other modules use hy_runtime.h. */
#ifndef HY_RUNTIME_INTERNAL_H
#define HY_RUNTIME_INTERNAL_H

#include "hy_runtime.h"
#include "threads.h"

/* A weight matrix kept in its GGUF block format (kernels/qmatmul.h), row-major [out][in]:
 * up to three row ranges, each of one type, stacked (a fused projection whose parts the file
 * stores in different types). n_parts 0: not held in this form. */
#define HY_QMAT_MAX_PARTS 3
typedef struct {
    int type;     /* hy_qtype == hy_ggml_type */
    int64_t rows; /* output rows in this part */
    uint8_t *data;
} hy_qpart;
typedef struct {
    int n_parts;
    hy_qpart part[HY_QMAT_MAX_PARTS];
} hy_qmat;

/* One layer's weights, row-major [out][in] as in GGUF. Projections sharing an input are fused
 * so one product serves them: qkv = [attn_q; attn_k; attn_v], gu = [gate; up]. Each matrix is
 * held one way: fp32 (the w* pointers; the --weights f32 reference path, or made on demand for
 * the CUDA upload) or in its file's format (the q_* matrices; the default). */
typedef struct {
    float *attn_norm; /* [d_model] */
    float *wqkv;      /* [(n_heads + 2 n_kv_heads) * head_dim][d_model] */
    float *wo;        /* [d_model][n_heads * head_dim] */
    float *ffn_norm;  /* [d_model] */
    float *wgu;       /* [2 d_ff][d_model] */
    float *wdown;     /* [d_model][d_ff] */
    /* what some architectures add (arch.h); NULL where the architecture has none */
    float *bqkv;                           /* [(n_heads + 2 n_kv_heads) * head_dim] QKV bias */
    float *q_norm, *k_norm;                /* [head_dim] per-head RMSNorm of Q and K */
    float *post_attn_norm, *post_ffn_norm; /* [d_model] norms of the block outputs */
    /* the four matrices above in the file's format (weights native: the fp32 ones are NULL) */
    hy_qmat q_qkv, q_o, q_gu, q_down;
} hy_layer_weights;

struct hy_model {
    hy_model_info info;
    const struct hy_arch *arch; /* its row of differences from Llama (arch.h) */
    float *tok_embd;            /* [n_vocab][d_model] */
    float *output_norm;         /* [d_model] */
    float *output;              /* [n_vocab][d_model]; == tok_embd when tied */
    hy_qmat q_embd, q_output;   /* the same in the file's format (q_output empty when tied) */
    hy_weights weights;         /* how the host weights are held (hy_model_opts) */
    hy_layer_weights *layers;   /* NULL for synthetic models (weights on the GPU only) */
    int synthetic;              /* hy_model_synthetic: no host weights */
    struct hy_gpu_model *gpu; /* bf16 device copy (CUDA backend), made at the first CUDA context */
};

/* A run: consecutive batch tokens of one sequence at consecutive positions (a prefill
 * chunk is one run; a batched decode step is one run per sequence). */
typedef struct {
    int seq;
    int64_t t0;   /* first token's row in the batch */
    int64_t n_q;  /* tokens in the run */
    int64_t pos0; /* position of the first token */
    int decode;   /* a one-token decode step: the sequence's plan applies (else dense) */
} hy_run;

struct hy_ctx {
    const hy_model *m;
    int64_t n_ctx;
    int n_seq;
    int64_t *seq_len;
    /* KV cache, per sequence [layer][kv_head][pos][head_dim] fp32: one (layer, kv_head)
     * unit's keys are contiguous, which is what attention kernels and gathers read. */
    float *k_cache, *v_cache;
    int64_t seq_stride, layer_stride; /* floats */
    /* scratch for up to n_batch tokens */
    int64_t n_batch;
    float *x, *h, *qkv, *att, *gu;
    int32_t *pos;
    int64_t *rows; /* batch rows whose logits are wanted */
    hy_run *runs;
    /* per sequence: its plan's state (plan_exec.h), NULL = all units dense */
    struct hy_seq_plan **plans;
    hy_pool *pool;
    /* 1: OpenBLAS runs single-threaded and the pool splits GEMMs (default); 0: OpenBLAS
     * threads its own GEMMs ($HY_OPENBLAS_THREADING=1 at create). */
    int own_gemm_threads;
    /* quantized weights (qgemm.c): int8 activation rows for up to HY_QGEMV_MAX_TOK tokens, and
     * per pool thread a tile of HY_QGEMM_TILE dequantised weight rows for larger batches */
    uint8_t *xq;
    float *wtile;
    int64_t wtile_floats; /* per thread */
    /* where AMX runs (kernels/bf16_gemm.h): the bf16 activation pack of n_batch tokens and per
     * pool thread a packed copy of the tile; NULL: the fp32 tiles go through sgemm */
    uint16_t *xbf16, *wtile_bf16;
    int bf16_attention;       /* hy_ctx_set_bf16_attention: prefill attention on AMX tiles too */
    int64_t wtile_bf16_elems; /* per thread */
    /* attached attention observer (hy_observer.h); NULL, the common case, costs one check */
    struct hy_observer *observer;
    /* CUDA backend (gpu_internal.h): non-NULL for a CUDA context, whose cache and scratch
     * live there; the fields above except m, n_ctx, n_seq and seq_len are then unused */
    struct hy_gpu_ctx *gpu;
};

/* observer.c: hands the queries of one attention work item that fall in the observer's
 * range to its callback (q/out rows as in hy_attn_item, keys from the cache). */
void hy_observer_run(hy_ctx *c, int layer, int kv_head, int seq, const float *q, int64_t q_stride,
                     const float *out, int64_t out_stride, int64_t n_q, int64_t pos0);

static inline float *hy_ctx_k(const hy_ctx *c, int seq, int layer) {
    return c->k_cache + (int64_t)seq * c->seq_stride + (int64_t)layer * c->layer_stride;
}
static inline float *hy_ctx_v(const hy_ctx *c, int seq, int layer) {
    return c->v_cache + (int64_t)seq * c->seq_stride + (int64_t)layer * c->layer_stride;
}

/* gemm_threads.c: y = beta y + x w^T (matmul.h's contract), threaded over the pool, with w
 * fp32 (wf) or, when wf is NULL, in its file's format (wq, through qgemm.c). */
void hy_ctx_matmul(hy_ctx *c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *wf,
                   const hy_qmat *wq, int64_t n_tok, int64_t n_in, int64_t n_out, float beta);

/* qgemm.c: the product on a quantized matrix. Up to HY_QGEMV_MAX_TOK tokens (decode, batched
 * decode): int8 activations and the kernels' integer dot products, weights read once. More
 * (prefill): tiles of HY_QGEMM_TILE rows dequantised to fp32 and multiplied by sgemm, which
 * on long batches is compute-bound where fp32 FMAs are faster than int8 dot products; the
 * result equals the fp32 path's. */
#define HY_QGEMV_MAX_TOK 8
#define HY_QGEMM_TILE 256
void hy_ctx_qmatmul(hy_ctx *c, float *y, int64_t ldy, const float *x, int64_t ldx, const hy_qmat *w,
                    int64_t n_tok, int64_t n_in, int64_t n_out, float beta);
/* qweights.c: the scratch hy_ctx_qmatmul needs (none for an fp32 model), and its release. */
hy_status hy_ctx_qscratch_alloc(hy_ctx *c);
/* qweights.c: rows r0..r0+n-1 of w (n_in columns) as fp32 into dst. */
void hy_qmat_rows_f32(const hy_qmat *w, int64_t n_in, int64_t r0, int64_t n, float *dst);
void hy_qmat_free(hy_qmat *w);
/* qweights.c: fills the fp32 weight pointers from the quantized matrices (the CUDA upload
 * reads fp32); nothing to do for a model loaded with HY_WEIGHTS_F32. */
hy_status hy_model_need_f32(hy_model *m);

/* forward.c: one transformer layer over the batch held in c->x (n tokens, c->pos set). */
hy_status hy_layer_forward(hy_ctx *c, int layer, int64_t n, const hy_run *runs, int n_runs);

/* ctx.c: the arguments every context constructor checks (fn names the caller in messages);
 * sets *out to NULL. */
hy_status hy_ctx_check_args(const char *fn, const hy_model *m, int64_t n_ctx, int n_seq,
                            hy_ctx **out);

/* Returns the status of a call that failed (its message is already recorded). */
#define HY_TRY(call)                                                                               \
    do {                                                                                           \
        hy_status hy_s_ = (call);                                                                  \
        if (hy_s_ != HY_OK) return hy_s_;                                                          \
    } while (0)

#endif
