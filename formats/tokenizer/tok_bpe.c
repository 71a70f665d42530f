/* Byte-level BPE of one pre-tokenized piece: every byte starts as the token of its mapped
 * code point, then the adjacent pair with the lowest merge rank (leftmost on ties) merges
 * until no pair has a merge. Symbols form a linked list over an array and candidate pairs
 * live in a binary min-heap (tok_heap.c); a popped pair whose symbols changed since it was pushed
 * is stale and skipped, so each merge costs O(log n). */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    hy_token *sym;
    int32_t *prev, *next;
    hy_tok_pair *heap; /* a = left token, b = right token when pushed; prio = merge rank */
    int64_t n_heap;
} work;

static void try_pair(const hy_tokenizer *t, work *w, int32_t left) {
    if (left < 0) return;
    int32_t right = w->next[left];
    if (right < 0 || w->sym[left] == HY_TOKEN_NONE || w->sym[right] == HY_TOKEN_NONE) return;
    const hy_tok_merge *m = hy_tok_merge_find(t, w->sym[left], w->sym[right]);
    if (m)
        hy_tok_heap_push(w->heap, &w->n_heap,
                         (hy_tok_pair){(double)m->rank, left, right, w->sym[left], w->sym[right]});
}

hy_status hy_tok_bpe_piece(const hy_tokenizer *t, const char *piece, size_t len, hy_tok_ids *out,
                           void **scratch, size_t *scratch_cap) {
    if (len == 0) return HY_OK;
    if (len > INT32_MAX / 4)
        return hy_fail(HY_ERANGE, "BPE: a piece of %zu bytes is too long", len);
    /* each merge pushes at most two pairs: n-1 initial + 2(n-1) */
    size_t need = len * (sizeof(hy_token) + 2 * sizeof(int32_t)) + 3 * len * sizeof(hy_tok_pair);
    hy_status st = hy_tok_scratch(scratch, scratch_cap, need, "BPE");
    if (st) return st;
    work w;
    w.heap = *scratch;
    w.sym = (hy_token *)(w.heap + 3 * len);
    w.prev = (int32_t *)(w.sym + len);
    w.next = w.prev + len;
    w.n_heap = 0;
    const int32_t n = (int32_t)len;
    for (int32_t i = 0; i < n; i++) {
        /* a byte without a token stays a symbol that merges with nothing and is dropped at
         * the end, as llama.cpp drops it (its byte fallback finds no token either) */
        w.sym[i] = t->byte_token[(unsigned char)piece[i]];
        w.prev[i] = i - 1;
        w.next[i] = i + 1 < n ? i + 1 : -1;
    }
    for (int32_t i = 0; i + 1 < n; i++)
        try_pair(t, &w, i);
    while (w.n_heap > 0) {
        hy_tok_pair p = hy_tok_heap_pop(w.heap, &w.n_heap);
        /* stale if either side was merged away or changed since the push */
        if (w.next[p.left] != p.right || w.sym[p.left] != p.a || w.sym[p.right] != p.b) continue;
        const hy_tok_merge *m = hy_tok_merge_find(t, p.a, p.b);
        w.sym[p.left] = m->result;
        w.sym[p.right] = HY_TOKEN_NONE;
        hy_tok_list_join(w.prev, w.next, p.left, p.right);
        try_pair(t, &w, w.prev[p.left]);
        try_pair(t, &w, p.left);
    }
    for (int32_t i = 0; i >= 0; i = w.next[i]) {
        if (w.sym[i] == HY_TOKEN_NONE) continue;
        st = hy_tok_ids_push(out, w.sym[i]);
        if (st) return st;
    }
    return HY_OK;
}
