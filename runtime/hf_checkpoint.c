/* Hugging Face checkpoint directories (hf_checkpoint.h): config.json read with jansson and
 * written as the GGUF keys llama.cpp's converter would write for the same model (hf_config.c;
 * so the loader's checks and messages are the GGUF ones), the safetensors shards opened, and
 * GGUF tensor names mapped to the checkpoint's. */
#include "hf_checkpoint.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hy_hf {
    char *dir;
    const char *arch; /* GGUF architecture name */
    bool gemma, tied;
    hy_st_file **files;
    char **paths;
    int n_files;
    void *gguf_buf;
    size_t gguf_size;
    hy_gguf *g;
};

static const struct {
    const char *model_type, *arch, *act;
} k_types[] = {
    {"llama", "llama", "silu"},
    {"mistral", "llama", "silu"},
    {"qwen2", "qwen2", "silu"},
    {"qwen3", "qwen3", "silu"},
    {"gemma3_text", "gemma3", "gelu_pytorch_tanh"},
};

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The shard file names: the index's weight_map values, or model.safetensors. */
static hy_status list_files(hy_hf *h) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", h->dir);
    h->paths = hy_calloc(1, sizeof *h->paths, "shard list");
    if (!h->paths) return HY_ENOMEM;
    if (access(path, R_OK) != 0) {
        snprintf(path, sizeof path, "%s/model.safetensors", h->dir);
        h->paths[0] = strdup(path);
        h->n_files = 1;
        return h->paths[0] ? HY_OK : HY_ENOMEM;
    }
    json_error_t err;
    json_t *idx = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    json_t *map = json_object_get(idx, "weight_map");
    if (!json_is_object(map)) {
        json_decref(idx);
        return hy_fail(HY_EFORMAT, "%s: %s", path, idx ? "weight_map is not an object" : err.text);
    }
    const char *key;
    json_t *v;
    size_t cap = json_object_size(map) + 1;
    char **p = realloc(h->paths, cap * sizeof *p);
    if (!p) return json_decref(idx), HY_ENOMEM;
    h->paths = p;
    hy_status st = HY_OK;
    json_object_foreach(map, key, v) {
        const char *file = json_string_value(v);
        if (!file || strchr(file, '/')) {
            st = hy_fail(HY_EFORMAT, "%s: weight_map['%.100s'] is not a file name in %s", path, key,
                         h->dir);
            break;
        }
        bool seen = false;
        for (int i = 0; i < h->n_files && !seen; i++)
            seen = !strcmp(strrchr(h->paths[i], '/') + 1, file);
        if (seen) continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", h->dir, file);
        if (!(h->paths[h->n_files++] = strdup(full))) st = HY_ENOMEM;
    }
    json_decref(idx);
    qsort(h->paths, (size_t)h->n_files, sizeof *h->paths, cmp_str);
    return st;
}

static hy_status read_config(hy_hf *h) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", h->dir);
    json_error_t err;
    json_t *cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!cfg) return hy_fail(HY_EFORMAT, "%s: line %d: %s", path, err.line, err.text);
    const char *mt = json_string_value(json_object_get(cfg, "model_type"));
    size_t i = 0;
    while (mt && i < sizeof k_types / sizeof k_types[0] && strcmp(mt, k_types[i].model_type))
        i++;
    if (!mt || i == sizeof k_types / sizeof k_types[0]) {
        hy_status st = hy_fail(HY_EUNSUPPORTED,
                               "%s: model_type = \"%s\": the runtime does not run this family "
                               "(it runs llama, mistral, qwen2, qwen3, gemma3_text)",
                               path, mt ? mt : "(missing)");
        json_decref(cfg);
        return st;
    }
    h->arch = k_types[i].arch;
    h->gemma = !strcmp(h->arch, "gemma3");
    json_t *tie = json_object_get(cfg, "tie_word_embeddings");
    h->tied = tie ? json_is_true(tie) : h->gemma; /* transformers' default: Gemma ties */
    hy_gguf_writer *w = NULL;
    hy_status st = hy_gguf_writer_create(&w);
    if (!st) st = hy_gguf_writer_set_str(w, "general.architecture", h->arch);
    const char *base = strrchr(h->dir, '/');
    if (!st) st = hy_gguf_writer_set_str(w, "general.name", base ? base + 1 : h->dir);
    if (!st) st = hy_hf_config_keys(cfg, mt, h->arch, k_types[i].act, path, w);
    if (!st) st = hy_gguf_writer_write_memory(w, 32, &h->gguf_buf, &h->gguf_size);
    if (!st) st = hy_gguf_open_memory(h->gguf_buf, h->gguf_size, path, &h->g);
    hy_gguf_writer_free(w);
    json_decref(cfg);
    return st;
}

hy_status hy_hf_open(const char *dir, hy_hf **out) {
    *out = NULL;
    hy_hf *h = hy_calloc(1, sizeof *h, "checkpoint");
    if (!h) return HY_ENOMEM;
    h->dir = strdup(dir);
    hy_status st = h->dir ? read_config(h) : HY_ENOMEM;
    if (!st) st = list_files(h);
    if (!st) h->files = hy_calloc((size_t)h->n_files, sizeof *h->files, "shards");
    if (!st && !h->files) st = HY_ENOMEM;
    for (int i = 0; !st && i < h->n_files; i++)
        st = hy_st_open(h->paths[i], &h->files[i]);
    if (st) {
        hy_hf_close(h);
        return st;
    }
    *out = h;
    return HY_OK;
}

void hy_hf_close(hy_hf *h) {
    if (!h) return;
    for (int i = 0; i < h->n_files; i++) {
        if (h->files) hy_st_close(h->files[i]);
        free(h->paths[i]);
    }
    free(h->files), free(h->paths);
    hy_gguf_close(h->g);
    free(h->gguf_buf), free(h->dir);
    free(h);
}

const hy_gguf *hy_hf_gguf(const hy_hf *h) {
    return h->g;
}

bool hy_hf_norm_plus_one(const hy_hf *h) {
    return h->gemma;
}

/* GGUF per-layer names -> Hugging Face module paths (llama.cpp's converter, read backwards).
 * Gemma 3 has four norms per layer where Llama has two. */
static const struct {
    const char *gguf, *hf, *hf_gemma;
} k_names[] = {
    {"attn_norm.weight", "input_layernorm.weight", NULL},
    {"ffn_norm.weight", "post_attention_layernorm.weight", "pre_feedforward_layernorm.weight"},
    {"post_attention_norm.weight", NULL, "post_attention_layernorm.weight"},
    {"post_ffw_norm.weight", NULL, "post_feedforward_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight", NULL},
    {"attn_k.weight", "self_attn.k_proj.weight", NULL},
    {"attn_v.weight", "self_attn.v_proj.weight", NULL},
    {"attn_output.weight", "self_attn.o_proj.weight", NULL},
    {"attn_q.bias", "self_attn.q_proj.bias", NULL},
    {"attn_k.bias", "self_attn.k_proj.bias", NULL},
    {"attn_v.bias", "self_attn.v_proj.bias", NULL},
    {"attn_q_norm.weight", "self_attn.q_norm.weight", NULL},
    {"attn_k_norm.weight", "self_attn.k_norm.weight", NULL},
    {"ffn_gate.weight", "mlp.gate_proj.weight", NULL},
    {"ffn_up.weight", "mlp.up_proj.weight", NULL},
    {"ffn_down.weight", "mlp.down_proj.weight", NULL},
};

static bool hf_name(const hy_hf *h, const char *g, char *out, size_t cap) {
    if (!strcmp(g, "token_embd.weight")) return snprintf(out, cap, "model.embed_tokens.weight"), 1;
    if (!strcmp(g, "output_norm.weight")) return snprintf(out, cap, "model.norm.weight"), 1;
    if (!strcmp(g, "output.weight")) return !h->tied && snprintf(out, cap, "lm_head.weight");
    int layer, n = 0;
    if (sscanf(g, "blk.%d.%n", &layer, &n) != 1 || !n) return false;
    for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++) {
        if (strcmp(g + n, k_names[i].gguf)) continue;
        const char *s = h->gemma && k_names[i].hf_gemma ? k_names[i].hf_gemma : k_names[i].hf;
        if (!s) return false;
        snprintf(out, cap, "model.layers.%d.%s", layer, s);
        return true;
    }
    return false;
}

hy_status hy_hf_tensor(const hy_hf *h, const char *gguf_name, const hy_st_tensor **out) {
    char name[256];
    if (hf_name(h, gguf_name, name, sizeof name))
        for (int i = 0; i < h->n_files; i++) {
            if (hy_st_find(h->files[i], name, out) == HY_OK) return HY_OK;
            hy_clear_error();
        }
    else
        snprintf(name, sizeof name, "(no checkpoint name)");
    return hy_fail(HY_ENOTFOUND, "%s: tensor %s (%s, GGUF name %s) is in none of its %d files",
                   h->dir, name, h->arch, gguf_name, h->n_files);
}

hy_status hy_hf_sha256(const hy_hf *h, char hex[65]) {
    hy_sha256_ctx c;
    hy_sha256_init(&c);
    char one[65], path[4096];
    snprintf(path, sizeof path, "%s/config.json", h->dir);
    hy_status st = hy_sha256_file(path, one);
    if (!st) hy_sha256_update(&c, one, 64);
    for (int i = 0; !st && i < h->n_files; i++) {
        st = hy_sha256_file(h->paths[i], one);
        if (!st) hy_sha256_update(&c, one, 64);
    }
    uint8_t d[32];
    hy_sha256_final(&c, d);
    hy_sha256_hex(d, hex);
    return st;
}
