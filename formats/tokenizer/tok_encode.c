/* Encoding: special tokens are cut out of the text first (longest text first, as llama.cpp's
 * tokenizer_st_partition does; control tokens only when HY_TOK_PARSE_SPECIAL, user-defined
 * ones always), then each remaining stretch is pre-tokenized and every piece goes through
 * byte-level BPE, or (SentencePiece-style vocabularies) goes whole through tok_spm.c. BOS/EOS are
 * added only where the file's add_bos/add_eos ask for them. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t off, len;
    hy_token id; /* HY_TOKEN_NONE for raw text */
} fragment;

typedef struct {
    fragment *v;
    int64_t n, cap;
} fragments;

static hy_status frag_push(fragments *f, fragment x) {
    if (f->n == f->cap) {
        int64_t cap = f->cap ? f->cap * 2 : 16;
        fragment *v = realloc(f->v, (size_t)cap * sizeof *v);
        if (!v)
            return hy_fail(HY_ENOMEM, "out of memory splitting special tokens (%lld fragments)",
                           (long long)cap);
        f->v = v, f->cap = cap;
    }
    f->v[f->n++] = x;
    return HY_OK;
}

/* Splits every raw fragment of *cur at each occurrence of special token id. */
static hy_status split_special(const hy_tokenizer *t, const char *text, hy_token id, fragments *cur,
                               fragments *next) {
    const char *s = t->text_arena + t->text_off[id];
    size_t sl = t->text_len[id];
    next->n = 0;
    bool found = false;
    hy_status st = HY_OK;
    for (int64_t i = 0; i < cur->n && st == HY_OK; i++) {
        fragment f = cur->v[i];
        if (f.id != HY_TOKEN_NONE || f.len < sl) {
            st = frag_push(next, f);
            continue;
        }
        size_t pos = f.off, end = f.off + f.len;
        while (st == HY_OK && pos < end) {
            const char *hit = memmem(text + pos, end - pos, s, sl);
            if (!hit) break;
            size_t h = (size_t)(hit - text);
            found = true;
            if (h > pos) st = frag_push(next, (fragment){pos, h - pos, HY_TOKEN_NONE});
            if (st == HY_OK) st = frag_push(next, (fragment){h, sl, id});
            pos = h + sl;
        }
        if (st == HY_OK && pos < end)
            st = frag_push(next, (fragment){pos, end - pos, HY_TOKEN_NONE});
    }
    if (st == HY_OK && found) {
        fragments tmp = *cur;
        *cur = *next, *next = tmp;
    }
    return st;
}

static hy_status encode_raw(const hy_tokenizer *t, const char *text, size_t len, hy_tok_ids *out,
                            hy_tok_offsets *pieces, void **scratch, size_t *scratch_cap) {
    pieces->n = 0;
    hy_status st = hy_tok_pretokenize(t, text, len, pieces);
    size_t start = 0;
    for (int64_t i = 0; i < pieces->n && st == HY_OK; i++) {
        st = hy_tok_bpe_piece(t, text + start, pieces->v[i] - start, out, scratch, scratch_cap);
        start = pieces->v[i];
    }
    return st;
}

hy_status hy_tokenizer_encode(const hy_tokenizer *t, const char *text, size_t len, unsigned flags,
                              hy_token **ids, int64_t *n_ids) {
    if (!t || (!text && len) || !ids || !n_ids)
        return hy_fail(HY_EINVAL, "hy_tokenizer_encode: NULL argument");
    *ids = NULL, *n_ids = 0;
    fragments cur = {0}, next = {0};
    hy_tok_ids out = {0};
    hy_tok_offsets pieces = {0};
    void *scratch = NULL;
    size_t scratch_cap = 0;
    hy_status st = HY_OK;
    if (len) st = frag_push(&cur, (fragment){0, len, HY_TOKEN_NONE});
    for (int64_t k = 0; k < t->n_specials && st == HY_OK; k++) {
        hy_token id = t->specials[k];
        uint8_t ty = t->type[id];
        if (!(flags & HY_TOK_PARSE_SPECIAL) &&
            (ty == HY_TOKTYPE_CONTROL || ty == HY_TOKTYPE_UNKNOWN))
            continue;
        st = split_special(t, text, id, &cur, &next);
    }
    if (st == HY_OK && (flags & HY_TOK_ADD_SPECIAL) && t->add_bos)
        st = hy_tok_ids_push(&out, t->bos);
    bool after_special = true; /* SentencePiece's space prefix goes at the start and after
                                  each special token, as llama.cpp places it */
    for (int64_t i = 0; i < cur.n && st == HY_OK; i++) {
        const fragment *f = &cur.v[i];
        if (f->id != HY_TOKEN_NONE)
            st = hy_tok_ids_push(&out, f->id);
        else if (t->spm)
            st = hy_tok_spm_fragment(t, text + f->off, f->len, t->add_space_prefix && after_special,
                                     &out, &scratch, &scratch_cap);
        else
            st = encode_raw(t, text + f->off, f->len, &out, &pieces, &scratch, &scratch_cap);
        after_special = f->id != HY_TOKEN_NONE;
    }
    if (st == HY_OK && (flags & HY_TOK_ADD_SPECIAL) && t->add_eos)
        st = hy_tok_ids_push(&out, t->eos);
    if (st == HY_OK && !out.v) {
        out.v = malloc(sizeof(hy_token));
        if (!out.v) st = hy_fail(HY_ENOMEM, "hy_tokenizer_encode: out of memory");
    }
    free(cur.v), free(next.v), free(pieces.v), free(scratch);
    if (st) {
        free(out.v);
        return st;
    }
    *ids = out.v;
    *n_ids = out.n;
    return HY_OK;
}
