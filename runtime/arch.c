/* The architecture table (arch.h). Facts from each family's published configuration and
 * from how llama.cpp's converter writes its GGUFs: Qwen2 keeps q/k/v biases; Qwen3 drops
 * them and normalises each Q/K head; Gemma 3 adds pre- and post-norms (the converter stores
 * Gemma's RMSNorm weights as 1 + w, so they apply as plain RMSNorm weights), GELU(tanh)
 * gating, sqrt(d_model)-scaled embeddings and five sliding-window layers (RoPE base 10000)
 * to each global one. Mistral files are written as "llama" and run as Llama; the sliding
 * window of Mistral 7B v0.1 is not in its GGUF, which llama.cpp ignores too. */
#include "arch.h"
#include "hy_runtime.h"

#include <string.h>

static const hy_arch k_arches[] = {
    {.name = "llama", .rope = HY_ROPE_NORM},
    {.name = "qwen2", .rope = HY_ROPE_NEOX, .qkv_bias = true},
    {.name = "qwen3", .rope = HY_ROPE_NEOX, .qk_norm = true},
    {.name = "gemma3",
     .rope = HY_ROPE_NEOX,
     .qk_norm = true,
     .post_norms = true,
     .gelu = true,
     .embd_scale = true,
     .swa = true,
     .swa_period = 6,
     .rope_theta_local = 10000.0f},
};

const hy_arch *hy_arch_find(const char *name) {
    for (size_t i = 0; i < sizeof k_arches / sizeof k_arches[0]; i++)
        if (name && !strcmp(k_arches[i].name, name)) return &k_arches[i];
    return NULL;
}

const char *hy_arch_names(void) {
    return "llama (also Mistral), qwen2, qwen3, gemma3";
}

hy_qkv_extras hy_layer_qkv_extras(const hy_model_info *mi, const float *bias, const float *q_norm,
                                  const float *k_norm) {
    return (hy_qkv_extras){.n_heads = mi->n_heads,
                           .n_kv_heads = mi->n_kv_heads,
                           .head_dim = mi->head_dim,
                           .bias = bias,
                           .q_norm = q_norm,
                           .k_norm = k_norm,
                           .eps = mi->rms_eps};
}

int hy_model_layer_window(const hy_model_info *mi, int layer) {
    if (!mi || mi->sliding_window <= 0) return 0;
    return mi->swa_period > 0 && (layer + 1) % mi->swa_period == 0 ? 0 : mi->sliding_window;
}

float hy_model_layer_rope_theta(const hy_model_info *mi, int layer) {
    return hy_model_layer_window(mi, layer) ? mi->rope_theta_local : mi->rope_theta;
}
