/* A Hugging Face config.json as the GGUF keys llama.cpp's converter would write for the same
 * model (hf_checkpoint.h), for hf_checkpoint.c. Both config layouts transformers writes are
 * read: v4 (rope_theta, rope_local_base_freq, rope_scaling) and v5 (rope_parameters, per
 * layer type for Gemma 3). What the config asks for that the runtime does not compute (RoPE
 * scaling, partial RoPE, soft-capping, other activations, biases the family does not have,
 * bidirectional attention, per-layer windows outside Gemma's pattern) is refused here,
 * naming the config key, rather than ignored. */
#include "hf_checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const json_t *cfg;
    const char *arch, *path;
    hy_gguf_writer *w;
} cfg_ctx;

static hy_status set_u32(cfg_ctx *c, const char *field, uint32_t v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", c->arch, field);
    return hy_gguf_writer_set_u32(c->w, key, v);
}

static hy_status set_f32(cfg_ctx *c, const char *field, double v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", c->arch, field);
    return hy_gguf_writer_set_f32(c->w, key, (float)v);
}

static hy_status put_u32(cfg_ctx *c, const char *field, const char *cfg_key, bool required) {
    const json_t *v = json_object_get(c->cfg, cfg_key);
    if (!v || json_is_null(v)) {
        if (!required) return HY_OK;
        return hy_fail(HY_ENOTFOUND, "%s: %s is missing", c->path, cfg_key);
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
        return hy_fail(HY_EFORMAT, "%s: %s is not a count", c->path, cfg_key);
    return set_u32(c, field, (uint32_t)json_integer_value(v));
}

static hy_status put_f32(cfg_ctx *c, const char *field, const char *cfg_key, bool required) {
    const json_t *v = json_object_get(c->cfg, cfg_key);
    if (!v || json_is_null(v)) {
        if (!required) return HY_OK;
        return hy_fail(HY_ENOTFOUND, "%s: %s is missing", c->path, cfg_key);
    }
    if (!json_is_number(v)) return hy_fail(HY_EFORMAT, "%s: %s is not a number", c->path, cfg_key);
    return set_f32(c, field, json_number_value(v));
}

static bool is_true(const cfg_ctx *c, const char *key) {
    return json_is_true(json_object_get(c->cfg, key));
}

/* Config keys whose non-default values change the computation in ways the runtime does not
 * follow. Qwen2 always has q/k/v biases (no config key); in every other family
 * attention_bias adds biases the runtime would not load. */
static hy_status refuse_unsupported(cfg_ctx *c, const char *act) {
    static const char *const must_be_null[] = {"rope_scaling", "final_logit_softcapping",
                                               "attn_logit_softcapping"};
    for (size_t i = 0; i < sizeof must_be_null / sizeof must_be_null[0]; i++) {
        const json_t *v = json_object_get(c->cfg, must_be_null[i]);
        if (v && !json_is_null(v))
            return hy_fail(HY_EUNSUPPORTED, "%s: %s is set; the runtime does not support it",
                           c->path, must_be_null[i]);
    }
    const char *a = json_string_value(json_object_get(c->cfg, "hidden_act"));
    if (!a) a = json_string_value(json_object_get(c->cfg, "hidden_activation"));
    if (a && strcmp(a, act))
        return hy_fail(HY_EUNSUPPORTED, "%s: hidden_act = \"%s\", expected \"%s\" for this family",
                       c->path, a, act);
    if (is_true(c, "use_sliding_window"))
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: use_sliding_window = true (Qwen's per-layer windows) is not supported",
                       c->path);
    static const char *const must_not_be_true[] = {"attention_bias", "mlp_bias",
                                                   "use_bidirectional_attention"};
    for (size_t i = 0; i < sizeof must_not_be_true / sizeof must_not_be_true[0]; i++)
        if (is_true(c, must_not_be_true[i]))
            return hy_fail(HY_EUNSUPPORTED, "%s: %s = true is not supported for %s", c->path,
                           must_not_be_true[i], c->arch);
    /* transformers v5 writes layer_types for Qwen too; a window there is not followed */
    const json_t *lt = json_object_get(c->cfg, "layer_types");
    for (size_t l = 0; strcmp(c->arch, "gemma3") && l < json_array_size(lt); l++) {
        const char *s = json_string_value(json_array_get(lt, l));
        if (!s || strcmp(s, "full_attention"))
            return hy_fail(HY_EUNSUPPORTED,
                           "%s: layer_types[%zu] = \"%s\": only full_attention layers are "
                           "supported for %s",
                           c->path, l, s ? s : "?", c->arch);
    }
    return HY_OK;
}

/* One RoPE parameter set of transformers v5 ({"rope_type": "default", "rope_theta": x}):
 * its base into *theta; any other type or a partial rotary factor is refused. */
static hy_status read_rope_set(cfg_ctx *c, const json_t *p, const char *where, double *theta) {
    if (!json_is_object(p)) return hy_fail(HY_EFORMAT, "%s: %s is not an object", c->path, where);
    const json_t *ty = json_object_get(p, "rope_type");
    if (ty && (!json_is_string(ty) || strcmp(json_string_value(ty), "default")))
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: %s.rope_type = \"%s\": RoPE scaling is not supported (expected "
                       "\"default\")",
                       c->path, where, json_is_string(ty) ? json_string_value(ty) : "?");
    const json_t *prf = json_object_get(p, "partial_rotary_factor");
    if (prf && !(json_is_number(prf) && json_number_value(prf) == 1.0))
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: %s.partial_rotary_factor is set: partial RoPE is not supported",
                       c->path, where);
    const json_t *t = json_object_get(p, "rope_theta");
    if (!t) return HY_OK;
    if (!json_is_number(t) || !(json_number_value(t) > 0))
        return hy_fail(HY_EFORMAT, "%s: %s.rope_theta is not a positive number", c->path, where);
    *theta = json_number_value(t);
    return HY_OK;
}

/* RoPE bases: rope_theta (and Gemma's rope_local_base_freq) in v4 configs, rope_parameters
 * in v5 ones (Gemma: one set per layer type). Absent, transformers' default for the family:
 * 10000, Gemma 3's global layers 1e6. */
static hy_status put_rope(cfg_ctx *c) {
    const bool gemma = !strcmp(c->arch, "gemma3");
    double theta = gemma ? 1e6 : 1e4, local = 1e4;
    const json_t *rt = json_object_get(c->cfg, "rope_theta");
    const json_t *rl = json_object_get(c->cfg, "rope_local_base_freq");
    const json_t *rp = json_object_get(c->cfg, "rope_parameters");
    hy_status st = HY_OK;
    if (rt && !json_is_null(rt)) {
        if (!json_is_number(rt))
            return hy_fail(HY_EFORMAT, "%s: rope_theta is not a number", c->path);
        theta = json_number_value(rt);
    }
    if (rl && !json_is_null(rl)) {
        if (!json_is_number(rl))
            return hy_fail(HY_EFORMAT, "%s: rope_local_base_freq is not a number", c->path);
        local = json_number_value(rl);
    }
    if (rp && !json_is_null(rp)) {
        const json_t *full = gemma ? json_object_get(rp, "full_attention") : NULL;
        if (gemma && full) {
            st = read_rope_set(c, full, "rope_parameters.full_attention", &theta);
            const json_t *swa = json_object_get(rp, "sliding_attention");
            if (!st && swa) st = read_rope_set(c, swa, "rope_parameters.sliding_attention", &local);
        } else {
            st = read_rope_set(c, rp, "rope_parameters", &theta);
        }
    }
    if (!st) st = set_f32(c, "rope.freq_base", theta);
    if (!st && gemma) st = set_f32(c, "rope.freq_base_swa", local);
    return st;
}

/* Gemma 3's window layers: layer_types (newer configs) or sliding_window_pattern; its query
 * scale query_pre_attn_scalar^-1/2 (head_dim in the 270M-12B configs, d_model / n_heads in
 * 27B's) as attention.scale. */
static hy_status put_gemma(cfg_ctx *c) {
    hy_status st = put_u32(c, "attention.sliding_window", "sliding_window", true);
    if (!st) st = put_u32(c, "attention.sliding_window_pattern", "sliding_window_pattern", false);
    const json_t *q = json_object_get(c->cfg, "query_pre_attn_scalar");
    if (!st && q && !json_is_null(q)) {
        if (!json_is_number(q) || !(json_number_value(q) > 0))
            return hy_fail(HY_EFORMAT, "%s: query_pre_attn_scalar is not a positive number",
                           c->path);
        st = set_f32(c, "attention.scale", 1.0 / sqrt(json_number_value(q)));
    }
    const json_t *lt = json_object_get(c->cfg, "layer_types");
    if (st || !json_is_array(lt)) return st;
    size_t period = 0;
    while (period < json_array_size(lt)) {
        const char *s = json_string_value(json_array_get(lt, period));
        if (s && !strcmp(s, "full_attention")) break;
        period++;
    }
    period++;
    for (size_t l = 0; l < json_array_size(lt); l++) {
        const char *s = json_string_value(json_array_get(lt, l));
        const bool full = s && !strcmp(s, "full_attention");
        if (full != ((l + 1) % period == 0))
            return hy_fail(HY_EUNSUPPORTED,
                           "%s: layer_types[%zu] = \"%s\" breaks the period of %zu layers the "
                           "runtime supports (one global layer every period)",
                           c->path, l, s ? s : "?", period);
    }
    return set_u32(c, "attention.sliding_window_pattern", (uint32_t)period);
}

hy_status hy_hf_config_keys(const json_t *cfg, const char *model_type, const char *arch,
                            const char *act, const char *path, hy_gguf_writer *w) {
    cfg_ctx c = {cfg, arch, path, w};
    hy_status st = refuse_unsupported(&c, act);
    if (!st) st = put_u32(&c, "block_count", "num_hidden_layers", true);
    if (!st) st = put_u32(&c, "embedding_length", "hidden_size", true);
    if (!st) st = put_u32(&c, "feed_forward_length", "intermediate_size", true);
    if (!st) st = put_u32(&c, "attention.head_count", "num_attention_heads", true);
    if (!st) st = put_u32(&c, "attention.head_count_kv", "num_key_value_heads", false);
    if (!st) st = put_u32(&c, "context_length", "max_position_embeddings", true);
    if (!st) st = put_u32(&c, "attention.key_length", "head_dim", false);
    if (!st) st = put_u32(&c, "attention.value_length", "head_dim", false);
    if (!st) st = put_u32(&c, "vocab_size", "vocab_size", false);
    if (!st) st = put_rope(&c);
    if (!st) st = put_f32(&c, "attention.layer_norm_rms_epsilon", "rms_norm_eps", true);
    if (!st && !strcmp(arch, "gemma3")) st = put_gemma(&c);
    /* Mistral 7B v0.1 attends within 4096 positions in every layer (transformers applies
     * it; its GGUF files do not say so, and llama.cpp does not) */
    if (!st && !strcmp(model_type, "mistral"))
        st = put_u32(&c, "attention.sliding_window", "sliding_window", false);
    return st;
}
