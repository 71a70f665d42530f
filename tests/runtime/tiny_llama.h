/* Test helper: writes a tiny random Llama GGUF with the GGUF writer (optionally broken in one
 * named way, for the error tests), keeps the exact weights the file holds, and runs a plain
 * double-precision forward pass over them, written from the math and not from the runtime,
 * as the reference the runtime's logits are checked against. Test-only code. */
#ifndef TINY_LLAMA_H
#define TINY_LLAMA_H

#include "hy_gguf.h"

#include <stdint.h>

typedef struct {
    int n_layers, d_model, n_heads, n_kv_heads, d_ff, n_vocab, n_ctx_train;
    float rope_theta, rms_eps;
    int tied;           /* no output.weight: logits use token_embd */
    hy_ggml_type wtype; /* type of the 2-D weights (F32, F16, Q8_0, ...) */
    uint64_t seed;
    /* general.architecture, default "llama"; "qwen2" adds q/k/v biases and "qwen3" Q/K head
     * norms (both with NEOX RoPE), as the runtime's arch rows do; others only rename */
    const char *arch;
    /* one way to break the file (NULL = none) */
    const char *bad_tensor;   /* this tensor is written with one extra row */
    const char *skip_tensor;  /* this tensor is left out */
    const char *skip_key;     /* this llama.* key is left out, e.g. "block_count" */
    const char *rope_scaling; /* llama.rope.scaling.type value */
} tiny_cfg;

typedef struct {
    float *attn_norm, *wq, *wk, *wv, *wo, *ffn_norm, *wg, *wu, *wd;
    float *bq, *bk, *bv; /* qwen2 */
    float *qn, *kn;      /* qwen3 */
} tiny_layer;

typedef struct {
    tiny_cfg cfg;
    int head_dim;
    float *tok_embd, *output_norm, *output; /* output == tok_embd when tied */
    tiny_layer *layers;
} tiny_model;

/* 2 layers, d_model 32, 4 heads over 2 KV heads (GQA 2), d_ff 48, vocab 61, F32. */
void tiny_default(tiny_cfg *c);
/* Writes the model to a new temporary file (path receives it, >= 64 bytes) and, when m is
 * not NULL, keeps its weights (as dequantised from the file) for tiny_reference. */
hy_status tiny_write(const tiny_cfg *c, char *path, tiny_model *m);
void tiny_free(tiny_model *m);
/* logits[t][n_vocab] for every position t < n of the token sequence, in double. */
void tiny_reference(const tiny_model *m, const int32_t *tok, int n, double *logits);

#endif
