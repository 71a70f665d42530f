/* hy_tokenizer_from_hf_json: a Hugging Face tokenizer.json (with tokenizer_config.json beside
 * it, when present) into a spec. Supported: the byte-level BPE models (model.type "BPE"
 * without byte fallback, a ByteLevel pre-tokenizer, alone or after a Split whose regex is one
 * of the pre-tokenizer table's), merges as "a b" strings or [a, b] pairs, added tokens
 * (special ones as control tokens, the others user-defined). SentencePiece-converted files
 * (byte fallback, a Metaspace or normalizer-based space marker) and unknown regexes are
 * refused by name. */
#include "tok_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    hy_tokenizer_spec s;
    hy_tok_text *tokens, *merges;
    int32_t *types;
    char **owned; /* merge strings built from pairs */
    int64_t n_owned;
    char *tmpl;
    const char *path;
} hf_spec;

/* The pre-tokenizer name: ByteLevel with its own regex is GPT-2's; a Split before a ByteLevel
 * without regex names the table entry with that single regex. */
static hy_status pre_name(const hf_spec *h, json_t *pt, const char **out) {
    const char *type = json_string_value(json_object_get(pt, "type"));
    if (type && !strcmp(type, "ByteLevel") && json_is_true(json_object_get(pt, "use_regex")) &&
        !json_is_true(json_object_get(pt, "add_prefix_space")))
        return *out = "gpt-2", HY_OK;
    json_t *seq = json_object_get(pt, "pretokenizers");
    json_t *a = json_array_get(seq, 0), *b = json_array_get(seq, 1);
    const char *re = json_string_value(json_object_get(json_object_get(a, "pattern"), "Regex"));
    const char *btype = json_string_value(json_object_get(b, "type"));
    if (type && !strcmp(type, "Sequence") && json_array_size(seq) == 2 && re && btype &&
        !strcmp(btype, "ByteLevel") && !json_is_true(json_object_get(b, "use_regex"))) {
        const char *name = hy_tok_pre_for_regex(re);
        if (name) return *out = name, HY_OK;
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: pre_tokenizer Split regex '%.120s' is not one hylra knows", h->path,
                       re);
    }
    return hy_fail(HY_EUNSUPPORTED,
                   "%s: pre_tokenizer of type '%s' is not supported (expected ByteLevel, or a "
                   "Split with a known regex then ByteLevel)",
                   h->path, type ? type : "(none)");
}

static hy_status read_vocab(hf_spec *h, json_t *model, json_t *added) {
    json_t *vocab = json_object_get(model, "vocab");
    if (!json_is_object(vocab)) return hy_fail(HY_EFORMAT, "%s: model.vocab is missing", h->path);
    int64_t n = 0;
    const char *k;
    json_t *v;
    size_t i;
    json_object_foreach(vocab, k, v) if (json_integer_value(v) + 1 > n) n =
        json_integer_value(v) + 1;
    json_array_foreach(added, i, v) {
        json_int_t id = json_integer_value(json_object_get(v, "id"));
        if (id + 1 > n) n = id + 1;
    }
    if (n <= 0 || n > INT32_MAX / 2)
        return hy_fail(HY_EFORMAT, "%s: %lld tokens", h->path, (long long)n);
    h->tokens = hy_calloc((size_t)n, sizeof *h->tokens, "tokens");
    h->types = hy_calloc((size_t)n, sizeof *h->types, "token types");
    if (!h->tokens || !h->types) return HY_ENOMEM;
    json_object_foreach(vocab, k, v) {
        const json_int_t id = json_integer_value(v);
        if (!json_is_integer(v) || id < 0)
            return hy_fail(HY_EFORMAT, "%s: model.vocab['%.60s'] is not a token id", h->path, k);
        h->tokens[id] = (hy_tok_text){k, strlen(k)}, h->types[id] = HY_TOKTYPE_NORMAL;
    }
    json_array_foreach(added, i, v) {
        const json_int_t id = json_integer_value(json_object_get(v, "id"));
        const char *c = json_string_value(json_object_get(v, "content"));
        if (!c || id < 0)
            return hy_fail(HY_EFORMAT, "%s: added_tokens[%zu] has no id or content", h->path, i);
        h->tokens[id] = (hy_tok_text){c, strlen(c)};
        h->types[id] = json_is_true(json_object_get(v, "special")) ? HY_TOKTYPE_CONTROL
                                                                   : HY_TOKTYPE_USER_DEFINED;
    }
    for (int64_t id = 0; id < n; id++)
        if (!h->tokens[id].ptr)
            return hy_fail(HY_EFORMAT, "%s: no token has id %lld (ids must be 0..%lld)", h->path,
                           (long long)id, (long long)n - 1);
    h->s.tokens = h->tokens, h->s.token_types = h->types;
    h->s.n_tokens = h->s.n_token_types = n;
    return HY_OK;
}

static hy_status read_merges(hf_spec *h, json_t *merges) {
    const size_t n = json_array_size(merges);
    h->merges = hy_calloc(n ? n : 1, sizeof *h->merges, "merges");
    h->owned = hy_calloc(n ? n : 1, sizeof *h->owned, "merges");
    if (!h->merges || !h->owned) return HY_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(merges, i);
        const char *s = json_string_value(m);
        if (!s && json_array_size(m) == 2) { /* newer files: [left, right] */
            const char *l = json_string_value(json_array_get(m, 0));
            const char *r = json_string_value(json_array_get(m, 1));
            char *j = l && r ? malloc(strlen(l) + strlen(r) + 2) : NULL;
            if (j) sprintf(j, "%s %s", l, r);
            s = h->owned[h->n_owned++] = j;
        }
        if (!s) return hy_fail(HY_EFORMAT, "%s: model.merges[%zu] is not a merge", h->path, i);
        h->merges[i] = (hy_tok_text){s, strlen(s)};
    }
    h->s.merges = h->merges, h->s.n_merges = (int64_t)n;
    return HY_OK;
}

/* tokenizer_config.json beside it: BOS/EOS by text, add_bos_token, the chat template. */
static void read_config(hf_spec *h, const char *dir, json_t **cfg) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    *cfg = json_load_file(path, 0, NULL);
    if (!*cfg) return;
    h->s.add_bos = json_is_true(json_object_get(*cfg, "add_bos_token"));
    h->s.add_eos = json_is_true(json_object_get(*cfg, "add_eos_token"));
    const char *keys[2] = {"bos_token", "eos_token"};
    hy_token *ids[2] = {&h->s.bos_id, &h->s.eos_id};
    for (int k = 0; k < 2; k++) {
        json_t *t = json_object_get(*cfg, keys[k]);
        const char *text = json_is_string(t) ? json_string_value(t)
                                             : json_string_value(json_object_get(t, "content"));
        for (int64_t id = 0; text && id < h->s.n_tokens; id++)
            if (h->tokens[id].len == strlen(text) && !memcmp(h->tokens[id].ptr, text, strlen(text)))
                *ids[k] = (hy_token)id;
    }
    const char *tmpl = json_string_value(json_object_get(*cfg, "chat_template"));
    if (tmpl) h->s.chat_template = tmpl, h->s.chat_template_len = strlen(tmpl);
}

hy_status hy_tokenizer_from_hf_json(const char *dir, hy_tokenizer **out) {
    if (!dir || !out) return hy_fail(HY_EINVAL, "hy_tokenizer_from_hf_json: NULL argument");
    *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err), *cfg = NULL;
    if (!root) return hy_fail(HY_EFORMAT, "%s: line %d: %s", path, err.line, err.text);
    hf_spec h = {.s = hy_tokenizer_spec_init(), .path = path};
    h.s.source = path, h.s.model = "gpt2";
    json_t *model = json_object_get(root, "model");
    const char *type = json_string_value(json_object_get(model, "type"));
    hy_status st = HY_OK;
    if (!type || strcmp(type, "BPE") || json_is_true(json_object_get(model, "byte_fallback")))
        st = hy_fail(HY_EUNSUPPORTED,
                     "%s: model.type = '%s'%s: only byte-level BPE tokenizer.json files are "
                     "read (SentencePiece-converted ones are not yet)",
                     path, type ? type : "(none)",
                     json_is_true(json_object_get(model, "byte_fallback")) ? " with byte_fallback"
                                                                           : "");
    if (!st) st = pre_name(&h, json_object_get(root, "pre_tokenizer"), &h.s.pre);
    if (!st) st = read_vocab(&h, model, json_object_get(root, "added_tokens"));
    if (!st) st = read_merges(&h, json_object_get(model, "merges"));
    if (!st) read_config(&h, dir, &cfg);
    if (!st) st = hy_tokenizer_create(&h.s, out);
    for (int64_t i = 0; i < h.n_owned; i++)
        free(h.owned[i]);
    free(h.owned), free(h.merges), free(h.tokens), free(h.types);
    json_decref(cfg);
    json_decref(root);
    return st ? hy_fail_ctx(st, "tokenizer") : HY_OK;
}

hy_status hy_tokenizer_open(const char *model_path, hy_tokenizer **out) {
    struct stat sb;
    if (model_path && stat(model_path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return hy_tokenizer_from_hf_json(model_path, out);
    hy_gguf *g = NULL;
    hy_status st = hy_gguf_open(model_path, &g);
    if (!st) st = hy_tokenizer_from_gguf(g, out);
    hy_gguf_close(g);
    return st;
}
