/* What both merge loops share (byte-level BPE by rank, SentencePiece by score): the binary
 * min-heap of candidate merges (lowest prio pops first, leftmost on ties; popped pairs may be
 * stale, each loop checks its own against the symbols), the symbol list's join and their
 * growable scratch buffer. */
#include "tok_internal.h"

#include <stdlib.h>

void hy_tok_list_join(int32_t *prev, int32_t *next, int32_t left, int32_t right) {
    next[left] = next[right];
    if (next[right] >= 0) prev[next[right]] = left;
    next[right] = -1;
}

hy_status hy_tok_scratch(void **scratch, size_t *cap, size_t need, const char *what) {
    if (need <= *cap) return HY_OK;
    void *p = realloc(*scratch, need);
    if (!p) return hy_fail(HY_ENOMEM, "%s: out of memory (%zu bytes of scratch)", what, need);
    *scratch = p, *cap = need;
    return HY_OK;
}

static bool pair_less(const hy_tok_pair *a, const hy_tok_pair *b) {
    return a->prio < b->prio || (a->prio == b->prio && a->left < b->left);
}

void hy_tok_heap_push(hy_tok_pair *heap, int64_t *n, hy_tok_pair p) {
    int64_t i = (*n)++;
    while (i > 0) {
        int64_t parent = (i - 1) / 2;
        if (!pair_less(&p, &heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = p;
}

hy_tok_pair hy_tok_heap_pop(hy_tok_pair *heap, int64_t *n_heap) {
    hy_tok_pair top = heap[0], last = heap[--*n_heap];
    int64_t i = 0, n = *n_heap;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && pair_less(&heap[c + 1], &heap[c])) c++;
        if (!pair_less(&heap[c], &last)) break;
        heap[i] = heap[c];
        i = c;
    }
    if (n > 0) heap[i] = last;
    return top;
}
