/* hy_tokenizer_from_gguf: reads the tokenizer.ggml.* keys (and tokenizer.chat_template) of
 * an open GGUF file into a spec, pointing into the mapping, and builds the tokenizer from it.
 * Key names and defaults follow llama.cpp's vocabulary loader. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

static hy_status get_cstr(const hy_gguf *g, const char *key, char **out) {
    hy_gguf_str s;
    hy_status st = hy_gguf_get_str(g, key, &s);
    if (st) return st;
    *out = hy_malloc(s.len + 1, key);
    if (!*out) return HY_ENOMEM;
    memcpy(*out, s.ptr, s.len);
    (*out)[s.len] = '\0';
    return HY_OK;
}

/* A string array as texts pointing into the mapping; absent -> HY_ENOTFOUND. */
static hy_status get_texts(const hy_gguf *g, const char *key, hy_tok_text **out, int64_t *n) {
    hy_gguf_vtype et;
    uint64_t count;
    const void *data;
    *out = NULL, *n = 0;
    hy_status st = hy_gguf_get_arr(g, key, &et, &count, &data);
    if (st) return st;
    if (et != HY_GGUF_STRING)
        return hy_fail(HY_EFORMAT, "%s: %s is an array of type %d, expected strings (type %d)",
                       hy_gguf_path(g), key, (int)et, (int)HY_GGUF_STRING);
    if (count >= INT32_MAX)
        return hy_fail(HY_EFORMAT, "%s: %s has %llu entries, more than a token id can index",
                       hy_gguf_path(g), key, (unsigned long long)count);
    hy_tok_text *v = hy_calloc(count ? count : 1, sizeof *v, key);
    if (!v) return HY_ENOMEM;
    for (uint64_t i = 0; i < count; i++) {
        hy_gguf_str s;
        if ((st = hy_gguf_get_arr_str(g, key, i, &s))) {
            free(v);
            return st;
        }
        v[i] = (hy_tok_text){s.ptr, (size_t)s.len};
    }
    *out = v, *n = (int64_t)count;
    return HY_OK;
}

/* A numeric per-token array of 4-byte elements (token types: I32/U32; scores: F32) copied
 * into *out; absent -> NULL and HY_OK, as llama.cpp treats both as optional (every token
 * NORMAL; every score 0). */
static hy_status get_arr32(const hy_gguf *g, const char *key, hy_gguf_vtype t1, hy_gguf_vtype t2,
                           const char *expected, void **out, int64_t *n) {
    hy_gguf_vtype et;
    uint64_t count;
    const void *data;
    *out = NULL, *n = 0;
    hy_status st = hy_gguf_get_arr(g, key, &et, &count, &data);
    if (st == HY_ENOTFOUND) {
        hy_clear_error();
        return HY_OK;
    }
    if (st) return st;
    if (et != t1 && et != t2)
        return hy_fail(HY_EFORMAT, "%s: %s is an array of type %d, expected %s", hy_gguf_path(g),
                       key, (int)et, expected);
    void *v = hy_calloc(count ? count : 1, 4, key);
    if (!v) return HY_ENOMEM;
    memcpy(v, data, count * 4); /* little-endian on every host we build for */
    *out = v, *n = (int64_t)count;
    return HY_OK;
}

static hy_status get_id(const hy_gguf *g, const char *key, hy_token *id) {
    uint32_t v;
    hy_status st = hy_gguf_get_u32(g, key, &v);
    if (st == HY_ENOTFOUND) {
        hy_clear_error();
        return HY_OK;
    }
    if (st) return st;
    if (v >= INT32_MAX)
        return hy_fail(HY_EFORMAT, "%s: %s = %u is not a token id", hy_gguf_path(g), key, v);
    *id = (hy_token)v;
    return HY_OK;
}

static hy_status get_flag(const hy_gguf *g, const char *key, bool *b) {
    hy_status st = hy_gguf_get_bool(g, key, b);
    if (st == HY_ENOTFOUND) {
        hy_clear_error();
        return HY_OK;
    }
    return st;
}

hy_status hy_tokenizer_from_gguf(const hy_gguf *g, hy_tokenizer **out) {
    return hy_tokenizer_from_gguf_pre(g, NULL, out);
}

hy_status hy_tokenizer_from_gguf_pre(const hy_gguf *g, const char *pre_override,
                                     hy_tokenizer **out) {
    if (!g || !out) return hy_fail(HY_EINVAL, "hy_tokenizer_from_gguf: NULL argument");
    *out = NULL;
    hy_tokenizer_spec s = hy_tokenizer_spec_init();
    s.source = hy_gguf_path(g);
    char *model = NULL, *pre = NULL;
    hy_tok_text *tokens = NULL, *merges = NULL;
    int32_t *types = NULL;
    hy_gguf_str tmpl;
    hy_status st = get_cstr(g, "tokenizer.ggml.model", &model);
    if (st == HY_OK) {
        s.model = model;
        if (strcmp(model, "gpt2") && strcmp(model, "llama"))
            st = hy_fail(HY_EUNSUPPORTED,
                         "%s: tokenizer.ggml.model = '%s' is not supported (supported: 'gpt2', "
                         "byte-level BPE; 'llama', SentencePiece-style)",
                         s.source, model);
    }
    if (st == HY_OK && pre_override) {
        s.pre = pre_override;
    } else if (st == HY_OK) {
        st = get_cstr(g, "tokenizer.ggml.pre", &pre);
        if (st == HY_ENOTFOUND) { /* llama.cpp falls back to the default regexes */
            hy_clear_error();
            st = HY_OK;
        }
        s.pre = pre;
    }
    if (st == HY_OK) st = get_texts(g, "tokenizer.ggml.tokens", &tokens, &s.n_tokens);
    if (st == HY_OK)
        st = get_arr32(g, "tokenizer.ggml.token_type", HY_GGUF_I32, HY_GGUF_U32, "32-bit integers",
                       (void **)&types, &s.n_token_types);
    const bool spm = model && !strcmp(model, "llama");
    float *scores = NULL;
    if (st == HY_OK && spm) {
        st = get_arr32(g, "tokenizer.ggml.scores", HY_GGUF_F32, HY_GGUF_F32, "F32",
                       (void **)&scores, &s.n_scores);
        s.add_space_prefix = true; /* llama.cpp's default for this model */
    } else if (st == HY_OK) {
        st = get_texts(g, "tokenizer.ggml.merges", &merges, &s.n_merges);
    }
    s.tokens = tokens, s.token_types = types, s.merges = merges, s.scores = scores;
    if (st == HY_OK) st = get_id(g, "tokenizer.ggml.bos_token_id", &s.bos_id);
    if (st == HY_OK) st = get_id(g, "tokenizer.ggml.eos_token_id", &s.eos_id);
    if (st == HY_OK) st = get_id(g, "tokenizer.ggml.eot_token_id", &s.eot_id);
    if (st == HY_OK) st = get_id(g, "tokenizer.ggml.eom_token_id", &s.eom_id);
    if (st == HY_OK) st = get_id(g, "tokenizer.ggml.unknown_token_id", &s.unk_id);
    if (st == HY_OK) st = get_id(g, "tokenizer.ggml.padding_token_id", &s.pad_id);
    if (st == HY_OK) st = get_flag(g, "tokenizer.ggml.add_bos_token", &s.add_bos);
    if (st == HY_OK) st = get_flag(g, "tokenizer.ggml.add_eos_token", &s.add_eos);
    if (st == HY_OK) st = get_flag(g, "tokenizer.ggml.add_space_prefix", &s.add_space_prefix);
    if (st == HY_OK) {
        st = hy_gguf_get_str(g, "tokenizer.chat_template", &tmpl);
        if (st == HY_OK) {
            s.chat_template = tmpl.ptr, s.chat_template_len = (size_t)tmpl.len;
        } else if (st == HY_ENOTFOUND) {
            hy_clear_error();
            st = HY_OK;
        }
    }
    if (st == HY_OK) st = hy_tokenizer_create(&s, out);
    free(model), free(pre), free(tokens), free(merges), free(types), free(scores);
    if (st) return hy_fail_ctx(st, "tokenizer");
    return HY_OK;
}
