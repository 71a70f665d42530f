/* runtime: owns models, KV caches and plan execution. Two backends share this contract; the
 * CPU backend keeps weights in the file's block format (quantized kernels for decode, fp32
 * tiles through OpenBLAS for prefill), or fp32 dequantised ones as the exactness reference.
 * Attention goes through one function per mode (attn_mode_*.c) so that sparse modes and the
 * profiler's observer plug in without touching the model code. */
#ifndef HY_RUNTIME_H
#define HY_RUNTIME_H

#include "hy_common.h"
#include "hy_plan.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char arch[32];  /* general.architecture: llama (also Mistral), qwen2, qwen3, gemma3 */
    char name[128]; /* general.name */
    int n_layers, n_heads, n_kv_heads, head_dim, d_model, d_ff, n_vocab;
    int n_ctx_train;
    float rope_theta, rms_eps;
    int rope_layout;  /* hy_rope_layout from kernels/rope.h */
    bool tied_output; /* output projection shares the token embedding */
    char sha256[65];  /* of the model file, computed at load (used by profiles and plans) */
    float attn_scale; /* softmax scale of q.k: 1/sqrt(head_dim), Gemma 3's query scaling */
    /* Sliding-window attention (Gemma 3): a window layer's queries see only the last
     * sliding_window positions (their own included); layer l is global when
     * (l + 1) % swa_period == 0. sliding_window 0: every layer global. */
    int sliding_window, swa_period;
    float rope_theta_local; /* RoPE base of window layers */
} hy_model_info;

/* Positions a layer's queries see: its sliding window, or 0 for a global layer (all). */
int hy_model_layer_window(const hy_model_info *mi, int layer);
/* The RoPE base of a layer (window layers may have their own). */
float hy_model_layer_rope_theta(const hy_model_info *mi, int layer);

typedef struct hy_model hy_model;

/* How the CPU runtime holds weight matrices: in the file's block format with quantized
 * kernels (default), or dequantised to fp32 (the exactness reference: what llama.cpp computes
 * on the file's F32 dequantisation, 4-8x the memory traffic per decoded token). */
typedef enum { HY_WEIGHTS_NATIVE = 0, HY_WEIGHTS_F32 = 1 } hy_weights;
typedef struct {
    hy_weights weights;
} hy_model_opts;
/* "native" / "f32" -> *out; HY_EINVAL naming the accepted values otherwise. */
hy_status hy_weights_parse(const char *s, hy_weights *out);

/* Loads a GGUF, or a Hugging Face checkpoint directory (config.json, *.safetensors,
 * tokenizer.json), of an architecture the runtime runs (runtime/arch.c: llama, which Mistral
 * files use too, qwen2, qwen3, gemma3; others are refused naming what is missing): reads
 * hparams, checks every tensor's presence, type and shape (errors name the tensor, found vs
 * expected shape), and keeps weight matrices as opts says (NULL: the defaults; checkpoints
 * always load as fp32); norms are fp32. */
hy_status hy_model_load_opts(const char *path, const hy_model_opts *opts, hy_model **out);
/* hy_model_load_opts with the defaults (weights in the file's format). */
hy_status hy_model_load(const char *path, hy_model **out);
void hy_model_free(hy_model *m);
const hy_model_info *hy_model_info_borrow(const hy_model *m);

/* A context holds the KV cache for n_seq sequences of up to n_ctx tokens each (preallocated)
 * and all scratch buffers. n_ctx > n_ctx_train is refused (HY_ERANGE). */
typedef struct hy_ctx hy_ctx;
hy_status hy_ctx_create(const hy_model *m, int64_t n_ctx, int n_seq, hy_ctx **out);
void hy_ctx_free(hy_ctx *c);
int64_t hy_ctx_seq_len(const hy_ctx *c, int seq); /* tokens currently cached */
void hy_ctx_seq_reset(hy_ctx *c, int seq);        /* forget a sequence's cache */
/* Threads the context uses for attention (online CPUs, or $HY_THREADS when set at create);
 * GEMMs use OpenBLAS's own threads (OPENBLAS_NUM_THREADS). */
int hy_ctx_threads(const hy_ctx *c);

/* Appends n_tok tokens to sequence seq (batched prefill when n_tok > 1, decode when 1) and
 * writes logits for the last n_logits of them to logits[n_logits][n_vocab] (n_logits may be
 * 0, or up to n_tok; NULL when 0). Fails with HY_ERANGE if the cache would overflow or a
 * token id is outside the vocabulary. */
hy_status hy_forward(hy_ctx *c, int seq, const int32_t *tokens, int64_t n_tok, float *logits,
                     int64_t n_logits);

/* Same as hy_forward, but writes logits only for the positions listed in rows (ascending
 * indices into tokens, 0..n_tok-1) to logits[n_rows][n_vocab]: one pass over the prompt gives
 * the logits of any chosen positions, each costing one row of the output GEMM. */
hy_status hy_forward_rows(hy_ctx *c, int seq, const int32_t *tokens, int64_t n_tok,
                          const int64_t *rows, int64_t n_rows, float *logits);

/* Decodes one token for each of n_seq sequences in one step (batched decode): tokens[s]
 * goes to sequence seqs[s]; logits[s][n_vocab]. */
hy_status hy_forward_batch(hy_ctx *c, const int *seqs, const int32_t *tokens, int n_seq,
                           float *logits);

/* ---------- devices (docs/runtime.md, "CUDA backend") ---------- */
/* Where a context runs. CUDA contexts keep bf16 weights (a device copy made from the fp32
 * model at the first CUDA context), a bf16 KV cache and run each decode step as one CUDA
 * graph; hylra built without CUDA refuses them with HY_EUNSUPPORTED. */
typedef enum { HY_DEVICE_CPU = 0, HY_DEVICE_CUDA = 1 } hy_device;
/* "cpu" or "cuda"; anything else is HY_EINVAL naming what was given. */
hy_status hy_device_parse(const char *name, hy_device *out);
const char *hy_device_name(hy_device d);

/* Synthetic models with real shapes for throughput work at sizes no package ships:
 * "llama3-8b", "qwen2.5-7b", "mistral-7b", "tiny". Weights are drawn on the GPU from seed
 * (uniform, 1/sqrt(fan-in)), so such a model runs in CUDA contexts only. NULL-terminated. */
extern const char *const hy_model_shapes[];
hy_status hy_model_synthetic(const char *shape, uint64_t seed, hy_model **out);
/* Bytes of weights one decode step reads on the device (bf16 projections and output
 * matrix, fp32 norms; embedding rows are negligible and not counted). */
double hy_model_step_weight_bytes(const hy_model *m);

/* A context on a device. hy_ctx_create is hy_ctx_create_on(..., HY_DEVICE_CPU, ...). The
 * same functions drive both backends; CUDA contexts refuse plans they cannot run yet
 * (page granularity, bounds units, query-drift refresh) with HY_EUNSUPPORTED. */
hy_status hy_ctx_create_on(const hy_model *m, hy_device dev, int64_t n_ctx, int n_seq,
                           hy_ctx **out);
hy_device hy_ctx_device(const hy_ctx *c);
/* Prefill attention in bf16 (CPU contexts on native weights where the CPU has AMX; a no-op
 * elsewhere): both products of prefill attention on AMX tiles with bf16 Q, K, V and
 * probabilities. 1.4x faster 4K prefill on SmolLM2, outputs within ~3e-3 of the fp32
 * kernel's, which is enough to part greedy continuations from llama.cpp's at top-2 margins of
 * ~0.2 logits, so it is off by default. `hylra profile` turns it on: its statistics are
 * recomputed in double from the cached Q, K and V by the observer. Returns the old setting. */
int hy_ctx_set_bf16_attention(hy_ctx *c, int on);
/* For throughput measurements only: sequence seq holds n tokens of seeded random K/V (no
 * forward pass; a decode step costs the same whatever the values). CUDA contexts only. */
hy_status hy_ctx_seq_fill_random(hy_ctx *c, int seq, int64_t n, uint64_t seed);
/* Greedy decode of n_steps tokens for sequences 0..n_seq-1 in lockstep: tokens[s] is the
 * next input of sequence s; out (may be NULL) receives [n_steps][n_seq] chosen tokens. On a
 * CUDA context the steps are graph replays with the argmax fed back on the device and no
 * host synchronisation until the end. */
hy_status hy_decode_greedy(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps, int32_t *out);
/* Times n_steps decode steps of sequences 0..n_seq-1 on a CUDA context with only the
 * attention part of each step (the same graphs' attention launches, nothing else), in
 * seconds per step; the sequences' lengths and sets are left as they were. */
hy_status hy_ctx_time_attention(hy_ctx *c, int n_seq, int n_steps, double *seconds);

/* ---------- plan execution (plan_exec.c, attn_mode_*.c; docs/runtime.md) ---------- */
/* Attaches a copy of plan to sequence seq: from its next decode step (a forward of one token)
 * each unit runs its plan mode; prefill and multi-token forwards stay dense. NULL detaches
 * (all dense). Refused with a named error: a plan for another model (shape, sha256), an
 * invalid plan, k larger than n_ctx or than the top-k limit. Resets the sequence's sparse
 * state and counters. Selection per KV head ranks tokens by the sum of its query heads'
 * post-softmax probabilities, ties to the lower index (kernels/topk.h). */
hy_status hy_ctx_set_plan(hy_ctx *c, int seq, const hy_plan *plan);
/* Copies sequence src's cache and length into dst (both keep their own plans); dst's sparse
 * state and counters are reset, as after a prefill. */
hy_status hy_ctx_seq_copy(hy_ctx *c, int dst, int src);

/* What a sequence's plan did since it was set (or the sequence copied / reset). */
typedef struct {
    int64_t steps;          /* decode steps run with the plan */
    int64_t unit_steps;     /* (unit, step) pairs */
    int64_t refreshes;      /* select/bounds units that recomputed their set */
    double kv_tokens;       /* K+V token rows attended (bounds: + 1 row per page scored, its
                               key minima and maxima being as many bytes as one K+V row) */
    double kv_tokens_dense; /* what dense attention would have read in the same steps */
} hy_attn_counters;
hy_status hy_ctx_attn_counters(const hy_ctx *c, int seq, hy_attn_counters *out);

/* Sampling: temperature 0 = greedy (argmax, lowest index on ties). Otherwise softmax at the
 * temperature over the top_k most likely (0 = all), then nucleus top_p, drawn with a
 * counter-based RNG seeded by seed, so a (seed, logits) pair always gives the same token. */
typedef struct {
    float temperature;
    int top_k;
    float top_p;
    uint64_t seed;
} hy_sampler_params;
typedef struct hy_sampler hy_sampler;
hy_status hy_sampler_create(const hy_sampler_params *p, int n_vocab, hy_sampler **out);
void hy_sampler_free(hy_sampler *s);
int32_t hy_sampler_sample(hy_sampler *s, const float *logits);
/* Restarts the draw counter: the next sample uses draw 0 again. */
void hy_sampler_reset(hy_sampler *s);
/* The RNG itself: draw `counter` of stream `seed`, uniform in [0, 1) (splitmix64 of
 * seed + (counter + 1) * 0x9e3779b97f4a7c15, top 53 bits). */
double hy_sampler_uniform(uint64_t seed, uint64_t counter);

/* hy_decode_greedy with sampling (hy_sampler_params above): sequence s draws from stream
 * p->seed + s, draw i at its i-th step (as a fresh hy_sampler seeded p->seed + s would).
 * Temperature 0 is hy_decode_greedy. On a CUDA context the sampling runs on the device inside
 * each step's graph (top-k over the vocabulary, then the shared choice of kernels/sample.h),
 * from at most 1024 candidates (top_k, or the vocabulary for top_k 0); more are refused there
 * with a named error. */
hy_status hy_decode_sample(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps,
                           const hy_sampler_params *p, int32_t *out);

#endif
