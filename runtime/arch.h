/* The architectures the CPU runtime runs, each a row of differences from the Llama forward
 * pass (forward.c computes Llama and consults the row), and the GGUF keys that configure
 * them. Private to the runtime. */
#ifndef HY_RUNTIME_ARCH_H
#define HY_RUNTIME_ARCH_H

#include "hy_runtime.h"
#include "qkv_store.h"
#include "rope.h"

#include <stdbool.h>

typedef struct hy_arch {
    const char *name;       /* general.architecture */
    hy_rope_layout rope;    /* NORM where llama.cpp's converter permuted Q/K rows, else NEOX */
    bool qkv_bias;          /* Qwen2: attn_{q,k,v}.bias added after the projection */
    bool qk_norm;           /* Qwen3, Gemma 3: RMSNorm of each Q and K head before RoPE */
    bool post_norms;        /* Gemma 3: RMSNorm of the attention and FFN outputs before each
                               residual add (post_attention_norm, post_ffw_norm) */
    bool gelu;              /* Gemma 3: GELU(tanh)-gated FFN instead of SwiGLU */
    bool embd_scale;        /* Gemma 3: embeddings times sqrt(d_model) */
    bool swa;               /* Gemma 3: interleaved sliding-window and global layers */
    int swa_period;         /* default when <arch>.attention.sliding_window_pattern is absent */
    float rope_theta_local; /* default when <arch>.rope.freq_base_swa is absent */
} hy_arch;

/* The row for a general.architecture value; NULL when the runtime cannot run it. */
const hy_arch *hy_arch_find(const char *name);
/* The names it can run, comma-separated (error messages). */
const char *hy_arch_names(void);
/* The pre-RoPE extras of a layer (kernels/qkv_store.h) from its bias and Q/K norm weights,
 * host or device pointers alike (NULL where the architecture has none). */
hy_qkv_extras hy_layer_qkv_extras(const hy_model_info *mi, const float *bias, const float *q_norm,
                                  const float *k_norm);

#endif
