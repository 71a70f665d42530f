/* Private structures of the CUDA backend (gpu_*.c): the model's bf16 device weights, the
 * device context (bf16 KV cache, scratch, cuBLAS, per-sequence plan sets) and the decode-step
 * programs that are captured as CUDA graphs. Host C only: the math is in kernels/ and
 * cuBLAS. Included by runtime sources built with CUDA (HY_HAVE_CUDA). */
#ifndef HY_RUNTIME_GPU_INTERNAL_H
#define HY_RUNTIME_GPU_INTERNAL_H

#include "attention_decode.h"
#include "cuda_check.h"
#include "runtime_internal.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

/* One layer, row-major [out][in] as in GGUF, bf16 (uint16_t). wqkv = [q; k; v] rows, wgu =
 * [gate; up] rows (gate's d_ff rows first, so one strided-batched GEMM writes gate and up
 * into two contiguous blocks). */
typedef struct {
    uint16_t *wqkv, *wo, *wgu, *wdown;
    float *attn_norm, *ffn_norm;
    float *bqkv, *q_norm, *k_norm; /* fp32 as on the CPU; NULL where the architecture has none */
    float *post_attn_norm, *post_ffn_norm; /* Gemma 3's norms of the block outputs, or NULL */
} hy_gpu_layer;

typedef struct hy_gpu_model {
    int n_layers;
    hy_gpu_layer *layers; /* host array of device pointers */
    uint16_t *tok_embd;   /* [n_vocab][d_model] */
    uint16_t *output;     /* [n_vocab][d_model]; == tok_embd when tied */
    float *output_norm;   /* [d_model] */
    double bytes;         /* device bytes of all of the above */
} hy_gpu_model;

/* Per-sequence plan state on the device side. Sets of select units live in the context's
 * store (below); the host keeps what decides the launches: the plan, the decode step and the
 * step each unit last selected at. */
typedef struct {
    hy_plan *plan;
    int64_t step;      /* decode steps run with the plan */
    int64_t *sel_step; /* [unit] step of the last selection; -1 = never */
    int64_t refreshes; /* select units that recomputed their set */
    double kv_dense;   /* K/V rows dense attention would have read */
    double kv_host;    /* rows of dense and refreshing select units (the device counts the rest) */
} hy_gpu_seq_plan;

/* A decode step's attention work is cut into segments: consecutive batch rows whose
 * sequences are consecutive in the cache and share one plan (or none) and one refresh
 * pattern, so that one launch per kernel serves the segment. */
typedef struct {
    int row0, seq0, n;         /* batch rows row0..row0+n-1 are sequences seq0..seq0+n-1 */
    const hy_gpu_seq_plan *sp; /* NULL: all dense */
    uint8_t *refresh;          /* [unit] 1: this select unit reselects this step */
} hy_gpu_segment;

/* A captured decode step, keyed by what changes its launches. */
typedef struct {
    unsigned char *key;
    size_t key_len;
    cudaGraphExec_t exec;
    int32_t *slots; /* device: the set-merge slot tables this graph's launches read */
    uint64_t last_use;
} hy_gpu_graph;

#define HY_GPU_GRAPHS 16

typedef struct hy_gpu_ctx {
    cudaStream_t stream;
    cublasHandle_t blas;
    void *blas_ws; /* cuBLAS workspace, so GEMMs never allocate inside a capture */
    size_t blas_ws_bytes;
    /* KV cache: [seq][layer][kv_head][n_ctx][head_dim] bf16 */
    uint16_t *k, *v;
    int64_t layer_stride, seq_stride; /* elements */
    int32_t *lens;                    /* device [n_seq] tokens cached, mirrors hy_ctx.seq_len */
    /* scratch for n_batch rows */
    int64_t n_batch;
    float *x, *qkv, *q, *att, *gu, *logits;
    float *t;            /* a block's output before its post-norm (Gemma 3), [n_batch][d_model] */
    uint16_t *h16, *a16; /* bf16 GEMM inputs: normed rows, attention/SwiGLU output */
    int gemv_rows;       /* batches of up to this many rows use the decode GEMV
                            ($HY_GEMV_ROWS at create, 0..HY_GEMV_MAX_ROWS; else cuBLAS) */
    int32_t *tokens, *pos, *seqs, *argmax;
    int32_t *h_tokens; /* pinned host staging for tokens */
    float *h_logits;   /* pinned host staging for logits [n_seq][n_vocab] */
    int64_t h_logits_rows;
    hy_cuda_attn_ws *attn_ws;
    /* select path: scores [n_seq][n_kv][n_ctx], top-k output [n_seq*n_kv][tk_stride] */
    float *scores;
    int64_t score_stride; /* n_ctx rounded up to 4 floats: the top-k reads 16-byte rows */
    float *pscores;       /* page plans: page scores, same layout and stride as scores */
    int32_t *n_pages;     /* [n_seq] pages per sequence at this step (the page top-k's counts) */
    int32_t *tk_idx, *tk_n;
    int64_t tk_stride;
    /* published sets: store[layer][seq][kv_head][set_cap], store_n[layer][seq][kv_head];
     * the sets sparse units attend to in the current layer: att_idx[seq][kv_head][set_cap] */
    int32_t *store, *store_n, *att_idx, *att_n;
    int64_t set_cap;
    int64_t *rows_read; /* device [n_seq] K/V rows the sparse units attended (device-counted) */
    /* bounds units (Quest): per (layer, seq, kv head) row, page key minima and maxima
     * [page_cap_b][head_dim] bf16 and the tokens folded into them */
    uint16_t *bmin, *bmax;
    int32_t *folded;
    int64_t page_cap_b;
    int bounds_P;
    /* sketch units: per (layer, seq, kv head) row, [n_ctx] key codes and scales of 8 bits
     * ([0]) and 4 bits ([1], two a byte), and the tokens folded into them (sketch.h) */
    uint8_t *sk[2];
    float *sks[2];
    int32_t *sk_folded[2];
    /* query-drift (qsim) units: the queries of each (layer, seq, kv head) row's last selection
     * [G * head_dim], the step's decisions [n_batch * n_kv], a select unit's sparse output
     * [n_batch][n_heads * head_dim], and per sequence the reselections and the K+V rows they
     * read (the host cannot count what the device decides) */
    float *q_sel, *qsim_alt;
    int32_t *qsim_due;
    unsigned long long *qsim_refreshes;
    double *qsim_rows;
    /* device sampling (hy_decode_sample): the logits at a 16-byte row stride (the top-k's
     * loads), the top-k candidates of each row, the vocabulary size the top-k reads, and each
     * row's draw counter */
    float *slogits;
    int64_t slog_stride;
    int32_t *cand, *cand_n, *vocab_n;
    uint64_t *draws;
    hy_gpu_seq_plan **plans;
    hy_gpu_graph graphs[HY_GPU_GRAPHS];
    uint64_t graph_clock;
    int attention_only; /* building the attention-only graphs of hy_ctx_time_attention */
} hy_gpu_ctx;

/* gpu_model.c */
hy_status hy_gpu_model_upload(hy_model *m);
hy_status hy_gpu_model_synthetic(hy_model *m, uint64_t seed); /* m->info set */
void hy_gpu_model_free(hy_gpu_model *g);

/* gpu_ctx.c */
hy_status hy_gpu_ctx_create(hy_ctx *c);
void hy_gpu_ctx_free(hy_ctx *c);
hy_status hy_gpu_set_plan(hy_ctx *c, int seq, const hy_plan *plan);
void hy_gpu_seq_plan_reset(hy_gpu_seq_plan *sp);
hy_status hy_gpu_seq_copy(hy_ctx *c, int dst, int src);
hy_status hy_gpu_seq_reset(hy_ctx *c, int seq);
hy_status hy_gpu_attn_counters(const hy_ctx *c, int seq, hy_attn_counters *out);
void hy_gpu_graphs_clear(hy_gpu_ctx *g);

/* gpu_layer.c: layer and logits math of n rows held in g->x (positions in g->pos, sequence
 * ids in g->seqs); attention through attn (decode) or the prefill kernel (prefill == 1). */
typedef hy_status (*hy_gpu_attn_fn)(hy_ctx *c, int layer, void *arg);
hy_status hy_gpu_layers(hy_ctx *c, int64_t n, hy_gpu_attn_fn attn, void *arg);
/* rmsnorm + output GEMM of rows [row0, row0 + n) of g->x into g->logits [n][n_vocab]. */
hy_status hy_gpu_logits(hy_ctx *c, int64_t row0, int64_t n);
hy_status hy_gpu_embed(hy_ctx *c, const int32_t *dev_tokens, int64_t n);

/* gpu_prefill.c: hy_forward / hy_forward_rows on a CUDA context. */
hy_status hy_gpu_append(hy_ctx *c, int seq, const int32_t *tokens, int64_t n_tok,
                        const int64_t *rows, int64_t n_rows, float *logits);

/* gpu_attn.c: the attention of one layer for the step's segments (plan modes -> kernels). */
typedef struct {
    const hy_gpu_segment *segs;
    int n_segs;
    int64_t max_len; /* bounds every sequence's length during the step (split choice) */
    int32_t *slots;  /* device slot tables, [layer][3][n_batch * n_kv] */
} hy_gpu_step_attn;
hy_status hy_gpu_attn_layer(hy_ctx *c, int layer, void *arg);
/* Fills the slot tables of a step's segments on the host: for each layer three tables of row
 * (b, g) slots: the merge that publishes select units' top-k (scratch row, or -2 to keep the
 * stored set), the merge that builds the attended sets (store slot, -1 for sink + window only,
 * -2 when the unit is not sparse this step), the merge that publishes bounds units' top-k. */
void hy_gpu_fill_slots(const hy_ctx *c, const hy_gpu_segment *segs, int n_segs, int n_batch,
                       int32_t *h_slots);

/* gpu_step.c */
hy_status hy_gpu_forward_batch(hy_ctx *c, const int *seqs, const int32_t *tokens, int n_seq,
                               float *logits);
hy_status hy_gpu_decode_sample(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps,
                               const hy_sampler_params *p, int32_t *out);
hy_status hy_gpu_decode_greedy(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps,
                               int32_t *out);
hy_status hy_gpu_time_attention(hy_ctx *c, int n_seq, int n_steps, double *seconds);

#endif
