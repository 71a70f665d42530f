/* Tiny hand-made byte-level BPE vocabularies for the tokenizer unit tests: the 256 byte
 * tokens (ids 0..255, in GPT-2's byte<->unicode encoding, written out here independently
 * of the library), then the given extra tokens and merges. Texts are given raw ("he llo",
 * " w") and encoded by the helper, so tests read naturally. */
#ifndef TOK_TEST_UTIL_H
#define TOK_TEST_UTIL_H

#include "hy_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GPT-2: printable Latin-1 bytes map to themselves, the other 68 to U+0100.. in order. */
static inline unsigned tt_byte_cpt(unsigned b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return b;
    unsigned n = 0;
    for (unsigned c = 0; c < b; c++)
        if (!((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF)))
            n++;
    return 256 + n;
}

/* Encodes raw bytes s[0..n) into GPT-2 form; returns a malloc'd NUL-terminated string. */
static inline char *tt_encode_n(const char *s, size_t n) {
    char *out = malloc(2 * n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned c = tt_byte_cpt((unsigned char)s[i]);
        if (c < 0x80) {
            *o++ = (char)c;
        } else {
            *o++ = (char)(0xC0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *o = '\0';
    return out;
}
static inline char *tt_encode(const char *s) {
    return tt_encode_n(s, strlen(s));
}

typedef struct {
    const char *text; /* raw text; specials are stored as is (not encoded) */
    int type;         /* hy_token_type; 0 means NORMAL */
} tt_token;

typedef struct {
    hy_tokenizer_spec spec;
    hy_tok_text *tokens, *merges;
    int32_t *types;
    char **owned;
    int n_owned;
} tt_vocab;

/* Builds a spec: 256 byte tokens, then extra[i] (id 256 + i), merges given raw as
 * "left right" with a single ASCII space between the parts. */
static inline void tt_vocab_build(tt_vocab *v, const char *pre, const tt_token *extra, int n_extra,
                                  const char *const *merges, int n_merges) {
    memset(v, 0, sizeof *v);
    int n = 256 + n_extra;
    v->tokens = calloc((size_t)n, sizeof *v->tokens);
    v->types = calloc((size_t)n, sizeof *v->types);
    v->merges = calloc((size_t)(n_merges ? n_merges : 1), sizeof *v->merges);
    v->owned = calloc((size_t)(n + n_merges), sizeof(char *));
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        char *e = tt_encode_n(&c, 1);
        v->owned[v->n_owned++] = e;
        v->tokens[b] = (hy_tok_text){e, strlen(e)};
        v->types[b] = HY_TOKTYPE_NORMAL;
    }
    for (int i = 0; i < n_extra; i++) {
        int ty = extra[i].type ? extra[i].type : HY_TOKTYPE_NORMAL;
        char *e = ty == HY_TOKTYPE_NORMAL ? tt_encode(extra[i].text) : strdup(extra[i].text);
        v->owned[v->n_owned++] = e;
        v->tokens[256 + i] = (hy_tok_text){e, strlen(e)};
        v->types[256 + i] = ty;
    }
    for (int i = 0; i < n_merges; i++) {
        const char *sp = strchr(merges[i] + 1, ' ');
        char *l = tt_encode_n(merges[i], (size_t)(sp - merges[i])), *r = tt_encode(sp + 1);
        char *m = malloc(strlen(l) + strlen(r) + 2);
        sprintf(m, "%s %s", l, r);
        free(l), free(r);
        v->owned[v->n_owned++] = m;
        v->merges[i] = (hy_tok_text){m, strlen(m)};
    }
    v->spec = hy_tokenizer_spec_init();
    v->spec.source = "test vocab";
    v->spec.model = "gpt2";
    v->spec.pre = pre;
    v->spec.tokens = v->tokens;
    v->spec.n_tokens = n;
    v->spec.token_types = v->types;
    v->spec.n_token_types = n;
    v->spec.merges = v->merges;
    v->spec.n_merges = n_merges;
}

static inline void tt_vocab_free(tt_vocab *v) {
    for (int i = 0; i < v->n_owned; i++)
        free(v->owned[i]);
    free(v->owned), free(v->tokens), free(v->types), free(v->merges);
}

/* Encodes text and compares with the expected ids; prints both on mismatch. */
static inline int tt_ids_are(const hy_tokenizer *t, const char *text, unsigned flags,
                             const hy_token *want, int64_t n_want) {
    hy_token *ids;
    int64_t n;
    if (hy_tokenizer_encode(t, text, strlen(text), flags, &ids, &n)) {
        fprintf(stderr, "  encode '%s' failed: %s\n", text, hy_last_error());
        return 0;
    }
    int ok = n == n_want && (n == 0 || !memcmp(ids, want, (size_t)n * sizeof *ids));
    if (!ok) {
        fprintf(stderr, "  '%s' -> [", text);
        for (int64_t i = 0; i < n; i++)
            fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, " ], expected [");
        for (int64_t i = 0; i < n_want; i++)
            fprintf(stderr, " %d", want[i]);
        fprintf(stderr, " ]\n");
    }
    free(ids);
    return ok;
}
#define TT_IDS_ARE(t, text, flags, ...)                                                            \
    do {                                                                                           \
        const hy_token want_[] = {__VA_ARGS__};                                                    \
        HY_CHECK(tt_ids_are(t, text, flags, want_, (int64_t)(sizeof want_ / sizeof want_[0])));    \
    } while (0)

#endif
