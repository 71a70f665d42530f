/* The binary min-heap of candidate merges that both merge loops use (byte-level BPE by
 * rank, SentencePiece by score): lowest prio pops first, leftmost on ties. Popped pairs may
 * be stale; each loop checks its own pairs against the symbols before merging. */
#include "tok_internal.h"

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
