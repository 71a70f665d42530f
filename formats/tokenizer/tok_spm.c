/* SentencePiece-style encoding (tokenizer.ggml.model = 'llama', as Llama 2 and Gemma ship):
 * spaces become U+2581 '▁' (with one prepended when the file asks for a space prefix), the
 * text starts as one symbol per UTF-8 character, and the adjacent pair whose concatenation
 * is the token of highest score merges (leftmost on ties) until no pair is a token. A symbol
 * that is not a token (a character outside the vocabulary) falls back to its bytes' <0xNN>
 * tokens. Same merge order as llama.cpp's SPM tokenizer; docs/tokenizer.md. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

static const char k_space[3] = {'\xe2', '\x96', '\x81'}; /* U+2581, SentencePiece's space */

typedef struct {
    const char *text; /* the escaped text */
    int32_t *off, *n, *prev, *next;
    hy_tok_pair *heap; /* a, b = the two symbols' lengths when pushed; prio = -score */
    int64_t n_heap;
} work;

/* Bytes of the character starting with byte c, by its lead bits alone (a stray continuation
 * byte counts as one), as SentencePiece and llama.cpp split. */
static int32_t char_len(unsigned char c) {
    return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static void try_pair(const hy_tokenizer *t, work *w, int32_t left) {
    if (left < 0) return;
    int32_t right = w->next[left];
    if (right < 0) return;
    hy_token id = hy_tok_lookup(t, w->text + w->off[left], (size_t)(w->n[left] + w->n[right]));
    if (id == HY_TOKEN_NONE) return;
    const double score = t->scores ? (double)t->scores[id] : 0.0;
    hy_tok_heap_push(w->heap, &w->n_heap,
                     (hy_tok_pair){-score, left, right, w->n[left], w->n[right]});
}

/* Emits symbol s: its token, or the byte tokens of its bytes (the unknown token for a byte
 * without one; dropped when there is neither). */
static hy_status emit(const hy_tokenizer *t, const work *w, int32_t s, hy_tok_ids *out) {
    const char *p = w->text + w->off[s];
    hy_token id = hy_tok_lookup(t, p, (size_t)w->n[s]);
    if (id != HY_TOKEN_NONE) return hy_tok_ids_push(out, id);
    for (int32_t i = 0; i < w->n[s]; i++) {
        hy_token b = t->byte_token[(unsigned char)p[i]];
        if (b == HY_TOKEN_NONE) b = t->unk;
        if (b == HY_TOKEN_NONE) continue;
        hy_status st = hy_tok_ids_push(out, b);
        if (st) return st;
    }
    return HY_OK;
}

hy_status hy_tok_spm_fragment(const hy_tokenizer *t, const char *text, size_t len,
                              bool space_prefix, hy_tok_ids *out, void **scratch,
                              size_t *scratch_cap) {
    if (len > INT32_MAX / 16)
        return hy_fail(HY_ERANGE, "SentencePiece: a fragment of %zu bytes is too long", len);
    const size_t m = 3 * (len + 1); /* escaped bytes at most, and so symbols at most */
    size_t need = 3 * m * sizeof(hy_tok_pair) + 4 * m * sizeof(int32_t) + m;
    hy_status st = hy_tok_scratch(scratch, scratch_cap, need, "SentencePiece");
    if (st) return st;
    work w;
    w.heap = *scratch;
    w.off = (int32_t *)(w.heap + 3 * m);
    w.n = w.off + m, w.prev = w.n + m, w.next = w.prev + m;
    char *esc = (char *)(w.next + m);
    size_t e = 0;
    if (space_prefix) memcpy(esc, k_space, 3), e = 3;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(esc + e, k_space, 3);
            e += 3;
        } else {
            esc[e++] = text[i];
        }
    }
    if (e == 0) return HY_OK;
    w.text = esc;
    w.n_heap = 0;
    int32_t n_sym = 0;
    for (size_t i = 0; i < e; n_sym++) {
        int32_t k = char_len((unsigned char)esc[i]);
        if ((size_t)k > e - i) k = (int32_t)(e - i);
        w.off[n_sym] = (int32_t)i, w.n[n_sym] = k;
        w.prev[n_sym] = n_sym - 1, w.next[n_sym] = n_sym + 1;
        i += (size_t)k;
    }
    w.next[n_sym - 1] = -1;
    for (int32_t i = 0; i + 1 < n_sym; i++)
        try_pair(t, &w, i);
    while (w.n_heap > 0) {
        hy_tok_pair p = hy_tok_heap_pop(w.heap, &w.n_heap);
        /* stale if the right symbol was merged away or either side grew since the push */
        if (w.next[p.left] != p.right || w.n[p.left] != p.a || w.n[p.right] != p.b) continue;
        w.n[p.left] += w.n[p.right];
        w.n[p.right] = 0;
        hy_tok_list_join(w.prev, w.next, p.left, p.right);
        try_pair(t, &w, w.prev[p.left]);
        try_pair(t, &w, p.left);
    }
    for (int32_t s = 0; s >= 0; s = w.next[s]) {
        st = emit(t, &w, s, out);
        if (st) return st;
    }
    return HY_OK;
}
