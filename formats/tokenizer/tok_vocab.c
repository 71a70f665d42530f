/* Building the tokenizer from a spec: copies the token texts, validates types, merges and
 * special ids, builds the text->id and (left,right)->merge hash tables, precomputes every
 * token's decoded bytes and marks the end-of-generation tokens. Queries: tok_query.c. */
#include "tok_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tokens llama.cpp treats as end of generation by their text (llama-vocab.cpp, the
 * special_eog_ids list); the first present one is also the EOT token when the file names
 * none. */
static const char *const eog_texts[] = {
    "<|eot_id|>",      "<|im_end|>",         "<|end|>",    "<end_of_turn>",
    "<|endoftext|>",   "<|eom_id|>",         "<EOT>",      "_<EOT>",
    "<|end_of_text|>", "<end_of_utterance>", "<|return|>", "<|call|>",
};
/* Fill-in-the-middle pad / repo / file-separator tokens, which llama.cpp also ends
 * generation on: the first present text of each group. */
static const char *const fim_texts[][6] = {
    {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", NULL},
    {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL},
    {"<|file_sep|>", NULL},
};

hy_tokenizer_spec hy_tokenizer_spec_init(void) {
    hy_tokenizer_spec s;
    memset(&s, 0, sizeof s);
    s.bos_id = s.eos_id = s.eot_id = s.eom_id = s.unk_id = s.pad_id = HY_TOKEN_NONE;
    return s;
}

static const char *src_name(const hy_tokenizer_spec *s) {
    return s->source ? s->source : "tokenizer";
}

static size_t pow2_at_least(size_t n) {
    size_t p = 16;
    while (p < n)
        p <<= 1;
    return p;
}

hy_token hy_tok_lookup(const hy_tokenizer *t, const char *s, size_t n) {
    size_t i = (size_t)hy_tok_hash_bytes(s, n) & t->text_hash_mask;
    for (;;) {
        hy_token id = t->text_hash[i];
        if (id == HY_TOKEN_NONE) return HY_TOKEN_NONE;
        if (t->text_len[id] == n && !memcmp(t->text_arena + t->text_off[id], s, n)) return id;
        i = (i + 1) & t->text_hash_mask;
    }
}

static uint64_t merge_key(hy_token l, hy_token r) {
    return ((uint64_t)(uint32_t)l << 32) | (uint32_t)r;
}

static size_t merge_slot(uint64_t key, size_t mask) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & mask;
}

const hy_tok_merge *hy_tok_merge_find(const hy_tokenizer *t, hy_token left, hy_token right) {
    uint64_t key = merge_key(left, right);
    size_t i = merge_slot(key, t->merge_mask);
    for (;;) {
        const hy_tok_merge *m = &t->merges[i];
        if (m->key == key) return m;
        if (m->key == UINT64_MAX) return NULL;
        i = (i + 1) & t->merge_mask;
    }
}

static hy_status copy_tokens(hy_tokenizer *t, const hy_tokenizer_spec *s) {
    const char *src = src_name(s);
    size_t total = 0;
    for (int64_t i = 0; i < s->n_tokens; i++) {
        if (!s->tokens[i].ptr && s->tokens[i].len)
            return hy_fail(HY_EINVAL, "%s: tokenizer.ggml.tokens[%lld] has no text", src,
                           (long long)i);
        total += s->tokens[i].len + 1;
    }
    t->text_arena = hy_malloc(total ? total : 1, "token texts");
    t->text_off = hy_calloc((size_t)s->n_tokens, sizeof(size_t), "token offsets");
    t->text_len = hy_calloc((size_t)s->n_tokens, sizeof(size_t), "token lengths");
    t->type = hy_calloc((size_t)s->n_tokens, 1, "token types");
    t->eog = hy_calloc((size_t)s->n_tokens, 1, "eog flags");
    if (!t->text_arena || !t->text_off || !t->text_len || !t->type || !t->eog) return HY_ENOMEM;
    size_t off = 0;
    for (int64_t i = 0; i < s->n_tokens; i++) {
        t->text_off[i] = off;
        t->text_len[i] = s->tokens[i].len;
        if (s->tokens[i].len) memcpy(t->text_arena + off, s->tokens[i].ptr, s->tokens[i].len);
        off += s->tokens[i].len;
        t->text_arena[off++] = '\0';
        int32_t ty = s->token_types ? s->token_types[i] : HY_TOKTYPE_NORMAL;
        if (ty < HY_TOKTYPE_UNDEFINED || ty > HY_TOKTYPE_BYTE)
            return hy_fail(
                HY_EFORMAT,
                "%s: tokenizer.ggml.token_type[%lld] = %d, expected 0..6 (llama.cpp token types)",
                src, (long long)i, (int)ty);
        t->type[i] = (uint8_t)ty;
    }
    size_t cap = pow2_at_least((size_t)s->n_tokens * 2);
    t->text_hash = hy_malloc(cap * sizeof(hy_token), "token hash");
    if (!t->text_hash) return HY_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        t->text_hash[i] = HY_TOKEN_NONE;
    t->text_hash_mask = cap - 1;
    for (int64_t id = 0; id < s->n_tokens; id++) {
        const char *p = t->text_arena + t->text_off[id];
        size_t n = t->text_len[id];
        size_t i = (size_t)hy_tok_hash_bytes(p, n) & t->text_hash_mask;
        for (;;) {
            hy_token o = t->text_hash[i];
            /* a duplicate text maps to its last id, as in llama.cpp's token_to_id */
            if (o == HY_TOKEN_NONE ||
                (t->text_len[o] == n && !memcmp(t->text_arena + t->text_off[o], p, n))) {
                t->text_hash[i] = (hy_token)id;
                break;
            }
            i = (i + 1) & t->text_hash_mask;
        }
    }
    return HY_OK;
}

/* SentencePiece: a NORMAL token's text with each '▁' (U+2581) turned back into a space;
 * out has room for n bytes (the result is never longer). Returns the bytes written. */
static size_t spm_unescape(const char *p, size_t n, char *out) {
    size_t o = 0;
    for (size_t j = 0; j < n;) {
        if (n - j >= 3 && !memcmp(p + j, "\xe2\x96\x81", 3)) {
            out[o++] = ' ';
            j += 3;
        } else {
            out[o++] = p[j++];
        }
    }
    return o;
}

/* SentencePiece byte tokens are written <0xNN> (two upper-case hex digits); the byte, or -1
 * for any other text. */
static int spm_byte_of(const char *p, size_t n) {
    if (n != 6 || memcmp(p, "<0x", 3) || p[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decoded bytes: NORMAL tokens map each code point back through the byte map (a code point
 * outside it is kept as its UTF-8), or for SentencePiece turn '▁' into spaces; USER_DEFINED,
 * CONTROL and UNKNOWN are their text; SentencePiece BYTE tokens their byte; the other types
 * decode to nothing, as llama.cpp's token_to_piece does. */
static hy_status build_bytes(hy_tokenizer *t) {
    size_t total = 0;
    for (int64_t i = 0; i < t->n_vocab; i++)
        total += t->text_len[i];
    t->bytes_arena = hy_malloc(total ? total : 1, "token bytes");
    t->bytes_off = hy_calloc((size_t)t->n_vocab, sizeof(size_t), "token byte offsets");
    t->bytes_len = hy_calloc((size_t)t->n_vocab, sizeof(size_t), "token byte lengths");
    if (!t->bytes_arena || !t->bytes_off || !t->bytes_len) return HY_ENOMEM;
    size_t off = 0;
    for (int64_t i = 0; i < t->n_vocab; i++) {
        const unsigned char *p = (const unsigned char *)t->text_arena + t->text_off[i];
        size_t n = t->text_len[i];
        t->bytes_off[i] = off;
        switch (t->type[i]) {
        case HY_TOKTYPE_NORMAL:
            if (t->spm) {
                off += spm_unescape((const char *)p, n, t->bytes_arena + off);
                break;
            }
            for (size_t j = 0; j < n;) {
                uint32_t c;
                int k = hy_tok_utf8_next(p + j, n - j, &c);
                int b = k ? hy_tok_cpt_to_byte(c) : -1;
                if (b >= 0) {
                    t->bytes_arena[off++] = (char)b;
                    j += (size_t)k;
                } else { /* not from the byte map: keep as is */
                    size_t m = k ? (size_t)k : 1;
                    memcpy(t->bytes_arena + off, p + j, m);
                    off += m, j += m;
                }
            }
            break;
        case HY_TOKTYPE_USER_DEFINED:
        case HY_TOKTYPE_CONTROL:
        case HY_TOKTYPE_UNKNOWN:
            memcpy(t->bytes_arena + off, p, n);
            off += n;
            break;
        case HY_TOKTYPE_BYTE: {
            int b = t->spm ? spm_byte_of((const char *)p, n) : -1;
            if (b >= 0) t->bytes_arena[off++] = (char)b;
            break;
        }
        default:
            break;
        }
        t->bytes_len[i] = off - t->bytes_off[i];
    }
    return HY_OK;
}

static hy_status build_merges(hy_tokenizer *t, const hy_tokenizer_spec *s) {
    const char *src = src_name(s);
    if (s->n_merges < 0 || (s->n_merges > 0 && !s->merges))
        return hy_fail(HY_EINVAL, "%s: tokenizer.ggml.merges: %lld merges without data", src,
                       (long long)s->n_merges);
    size_t cap = pow2_at_least((size_t)s->n_merges * 2 + 1);
    t->merges = hy_malloc(cap * sizeof(hy_tok_merge), "merge table");
    if (!t->merges) return HY_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        t->merges[i].key = UINT64_MAX;
    t->merge_mask = cap - 1;
    char *buf = NULL;
    size_t buf_cap = 0;
    hy_status st = HY_OK;
    for (int64_t r = 0; r < s->n_merges && st == HY_OK; r++) {
        const char *m = s->merges[r].ptr;
        size_t n = s->merges[r].len;
        /* split at the first space after the first byte, as llama.cpp does */
        const char *sp = n > 1 && m ? memchr(m + 1, ' ', n - 1) : NULL;
        if (!sp) {
            st = hy_fail(HY_EFORMAT,
                         "%s: tokenizer.ggml.merges[%lld] = '%.*s': expected 'left right'", src,
                         (long long)r, (int)(n > 60 ? 60 : n), m ? m : "");
            break;
        }
        size_t nl = (size_t)(sp - m), nr = n - nl - 1;
        hy_token l = hy_tok_lookup(t, m, nl), rt = hy_tok_lookup(t, sp + 1, nr);
        if (l == HY_TOKEN_NONE || rt == HY_TOKEN_NONE) {
            st = hy_fail(HY_EFORMAT,
                         "%s: tokenizer.ggml.merges[%lld] = '%.*s': %s part '%.*s' is not a token",
                         src, (long long)r, (int)(n > 60 ? 60 : n), m,
                         l == HY_TOKEN_NONE ? "left" : "right", (int)(l == HY_TOKEN_NONE ? nl : nr),
                         l == HY_TOKEN_NONE ? m : sp + 1);
            break;
        }
        if (nl + nr > buf_cap) {
            buf_cap = (nl + nr) * 2;
            char *nb = realloc(buf, buf_cap);
            if (!nb) {
                st = hy_fail(HY_ENOMEM, "out of memory joining merge %lld", (long long)r);
                break;
            }
            buf = nb;
        }
        memcpy(buf, m, nl);
        memcpy(buf + nl, sp + 1, nr);
        hy_token res = hy_tok_lookup(t, buf, nl + nr);
        if (res == HY_TOKEN_NONE) {
            st = hy_fail(
                HY_EFORMAT,
                "%s: tokenizer.ggml.merges[%lld] = '%.*s': the merged text '%.*s' is not a token",
                src, (long long)r, (int)(n > 60 ? 60 : n), m, (int)(nl + nr > 60 ? 60 : nl + nr),
                buf);
            break;
        }
        uint64_t key = merge_key(l, rt);
        size_t i = merge_slot(key, t->merge_mask);
        while (t->merges[i].key != UINT64_MAX && t->merges[i].key != key)
            i = (i + 1) & t->merge_mask;
        if (t->merges[i].key == UINT64_MAX) /* a repeated pair keeps its first (lowest) rank */
            t->merges[i] = (hy_tok_merge){key, (int32_t)r, res};
    }
    free(buf);
    return st;
}

static int cmp_special(const void *a, const void *b, void *ctx) {
    const hy_tokenizer *t = ctx;
    hy_token x = *(const hy_token *)a, y = *(const hy_token *)b;
    if (t->text_len[x] != t->text_len[y]) return t->text_len[x] > t->text_len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static hy_status build_specials(hy_tokenizer *t) {
    t->specials = hy_calloc((size_t)t->n_vocab, sizeof(hy_token), "special token list");
    if (!t->specials) return HY_ENOMEM;
    for (int64_t i = 0; i < t->n_vocab; i++) {
        uint8_t ty = t->type[i];
        if ((ty == HY_TOKTYPE_CONTROL || ty == HY_TOKTYPE_USER_DEFINED ||
             ty == HY_TOKTYPE_UNKNOWN) &&
            t->text_len[i] > 0)
            t->specials[t->n_specials++] = (hy_token)i;
    }
    /* longest first, so a special that contains another wins, as in llama.cpp */
    qsort_r(t->specials, (size_t)t->n_specials, sizeof(hy_token), cmp_special, t);
    return HY_OK;
}

static hy_status check_id(const hy_tokenizer_spec *s, const char *what, hy_token id) {
    if (id != HY_TOKEN_NONE && (id < 0 || id >= s->n_tokens))
        return hy_fail(HY_EFORMAT,
                       "%s: tokenizer.ggml.%s = %d is outside the vocabulary of %lld tokens",
                       src_name(s), what, (int)id, (long long)s->n_tokens);
    return HY_OK;
}

/* Marks end-of-generation tokens; like llama.cpp, a token recognised by its text is made
 * a control token if the file typed it otherwise. Runs before the decoded bytes and the
 * special list are built, so they see the final types. */
static void set_eog(hy_tokenizer *t) {
    size_t n_texts = sizeof eog_texts / sizeof eog_texts[0];
    for (size_t i = 0; i < n_texts; i++) {
        hy_token id = hy_tok_lookup(t, eog_texts[i], strlen(eog_texts[i]));
        if (id == HY_TOKEN_NONE) continue;
        t->eog[id] = 1;
        t->type[id] = HY_TOKTYPE_CONTROL;
        if (t->eot == HY_TOKEN_NONE && strcmp(eog_texts[i], "<|eom_id|>")) t->eot = id;
    }
    for (size_t g = 0; g < sizeof fim_texts / sizeof fim_texts[0]; g++)
        for (size_t i = 0; fim_texts[g][i]; i++) {
            hy_token id = hy_tok_lookup(t, fim_texts[g][i], strlen(fim_texts[g][i]));
            if (id == HY_TOKEN_NONE) continue;
            t->eog[id] = 1;
            t->type[id] = HY_TOKTYPE_CONTROL;
            break;
        }
    if (t->eos != HY_TOKEN_NONE) t->eog[t->eos] = 1;
    if (t->eot != HY_TOKEN_NONE) t->eog[t->eot] = 1;
    if (t->eom != HY_TOKEN_NONE) t->eog[t->eom] = 1;
}

static hy_status build(hy_tokenizer *t, const hy_tokenizer_spec *s) {
    const char *src = src_name(s);
    if (!s->model) return hy_fail(HY_ENOTFOUND, "%s: tokenizer.ggml.model is missing", src);
    t->spm = !strcmp(s->model, "llama");
    if (strcmp(s->model, "gpt2") && !t->spm)
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: tokenizer.ggml.model = '%s' is not supported (supported: 'gpt2', "
                       "byte-level BPE; 'llama', SentencePiece-style)",
                       src, s->model);
    /* SentencePiece has no pre-tokenizer; the default one is kept only so that
     * hy_tokenizer_pre and hy_tokenizer_split answer */
    const char *pre = s->pre && !t->spm ? s->pre : "default";
    t->pre = hy_tok_pre_find(pre);
    if (!t->pre) {
        char names[512];
        hy_tok_pre_names(names, sizeof names);
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: tokenizer.ggml.pre = '%s' is not a known pre-tokenizer (known: %s)",
                       src, pre, names);
    }
    if (!s->tokens || s->n_tokens <= 0 || s->n_tokens >= INT32_MAX)
        return hy_fail(HY_EFORMAT, "%s: tokenizer.ggml.tokens: %lld tokens, expected 1..%d", src,
                       (long long)s->n_tokens, INT32_MAX - 1);
    if (s->token_types && s->n_token_types != s->n_tokens)
        return hy_fail(
            HY_EFORMAT,
            "%s: tokenizer.ggml.token_type has %lld entries, expected %lld (one per token)", src,
            (long long)s->n_token_types, (long long)s->n_tokens);
    if (s->scores && s->n_scores != s->n_tokens)
        return hy_fail(HY_EFORMAT,
                       "%s: tokenizer.ggml.scores has %lld entries, expected %lld (one per token)",
                       src, (long long)s->n_scores, (long long)s->n_tokens);
    if (t->spm && s->n_merges > 0)
        return hy_fail(HY_EFORMAT,
                       "%s: tokenizer.ggml.merges has %lld entries, expected none for the "
                       "'llama' (SentencePiece) model, which merges by score",
                       src, (long long)s->n_merges);
    hy_status st;
    if ((st = check_id(s, "bos_token_id", s->bos_id)) ||
        (st = check_id(s, "eos_token_id", s->eos_id)) ||
        (st = check_id(s, "eot_token_id", s->eot_id)) ||
        (st = check_id(s, "eom_token_id", s->eom_id)) ||
        (st = check_id(s, "unknown_token_id", s->unk_id)) ||
        (st = check_id(s, "padding_token_id", s->pad_id)))
        return st;
    t->n_vocab = s->n_tokens;
    t->bos = s->bos_id, t->eos = s->eos_id, t->eot = s->eot_id, t->eom = s->eom_id;
    t->unk = s->unk_id, t->pad = s->pad_id;
    t->add_bos = s->add_bos, t->add_eos = s->add_eos;
    t->add_space_prefix = s->add_space_prefix;
    if (t->spm && s->scores) {
        t->scores = hy_malloc((size_t)s->n_tokens * sizeof(float), "token scores");
        if (!t->scores) return HY_ENOMEM;
        memcpy(t->scores, s->scores, (size_t)s->n_tokens * sizeof(float));
    }
    if (s->add_bos && t->bos == HY_TOKEN_NONE)
        return hy_fail(HY_EFORMAT,
                       "%s: tokenizer.ggml.add_bos_token is true but there is no bos_token_id",
                       src);
    if (s->add_eos && t->eos == HY_TOKEN_NONE)
        return hy_fail(HY_EFORMAT,
                       "%s: tokenizer.ggml.add_eos_token is true but there is no eos_token_id",
                       src);
    if ((st = copy_tokens(t, s))) return st;
    set_eog(t);
    if ((st = build_bytes(t)) || (st = build_merges(t, s)) || (st = build_specials(t))) return st;
    for (int b = 0; b < 256; b++) {
        char u[8];
        int n;
        if (t->spm) /* <0xNN>, else the byte itself as a token (as llama.cpp falls back) */
            n = snprintf(u, sizeof u, "<0x%02X>", b);
        else
            hy_tok_byte_to_utf8((uint8_t)b, u, &n);
        t->byte_token[b] = hy_tok_lookup(t, u, (size_t)n);
        if (t->spm && t->byte_token[b] == HY_TOKEN_NONE) {
            u[0] = (char)b;
            t->byte_token[b] = hy_tok_lookup(t, u, 1);
        }
    }
    if (s->chat_template) {
        t->chat_template = hy_malloc(s->chat_template_len + 1, "chat template");
        if (!t->chat_template) return HY_ENOMEM;
        memcpy(t->chat_template, s->chat_template, s->chat_template_len);
        t->chat_template[s->chat_template_len] = '\0';
        t->chat_template_len = s->chat_template_len;
    }
    return hy_tok_pre_compile(t);
}

hy_status hy_tokenizer_create(const hy_tokenizer_spec *spec, hy_tokenizer **out) {
    if (!spec || !out) return hy_fail(HY_EINVAL, "hy_tokenizer_create: NULL argument");
    *out = NULL;
    hy_tokenizer *t = hy_calloc(1, sizeof *t, "tokenizer");
    if (!t) return HY_ENOMEM;
    t->bos = t->eos = t->eot = t->eom = t->unk = t->pad = HY_TOKEN_NONE;
    hy_status st = build(t, spec);
    if (st) {
        hy_tokenizer_free(t);
        return st;
    }
    *out = t;
    return HY_OK;
}

void hy_tokenizer_free(hy_tokenizer *t) {
    if (!t) return;
    for (int i = 0; i < HY_TOK_MAX_REGEX; i++)
        pcre2_code_free(t->re[i]);
    free(t->text_arena), free(t->text_off), free(t->text_len);
    free(t->bytes_arena), free(t->bytes_off), free(t->bytes_len);
    free(t->type), free(t->eog), free(t->text_hash), free(t->merges), free(t->specials);
    free(t->scores);
    free(t->chat_template);
    free(t);
}
