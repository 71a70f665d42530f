/* SELECT mode: full attention that also yields the GQA-summed post-softmax probabilities
 * (attention_decode.h's contract, computed by attn_rows.c), then the top-k of them (or of their page maxima) becomes
 * the unit's published set. With a refresh stride or a query-similarity threshold, steps
 * that do not reselect attend only to the unit's own last set (Recycled-Attention-like). */
#include "indexset.h"
#include "plan_exec.h"

#include <stdlib.h>

hy_status hy_attn_select(hy_ctx *c, const hy_attn_item *it) {
    hy_seq_plan *sp = c->plans[it->seq];
    const int32_t u = hy_item_unit(c, it);
    if (!hy_seq_plan_should_select(sp, u, it->q, it->n_heads, it->head_dim))
        return hy_attn_over_set(c, it, sp->set + (size_t)u * sp->set_cap, sp->set_n[u]);
    const hy_plan *p = sp->plan;
    const int P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
    const int64_t n = it->pos0 + 1, n_pages = (n + P - 1) / P;
    float *scores = hy_malloc((size_t)(n + n_pages) * sizeof *scores, "select scores");
    if (!scores) return HY_ENOMEM;
    const int32_t len = (int32_t)n;
    hy_status st = hy_attn_rows_f32(it->out, scores, it->q, it->k, it->v, n, it->n_heads,
                                    it->head_dim, it->scale);
    const float *rank = scores;
    if (!st && P > 1) {
        st = hy_page_max_f32(scores + n, n_pages, scores, n, 1, &len, 1, P);
        rank = scores + n;
    }
    if (!st) st = hy_seq_plan_topk(sp, u, rank, n);
    if (!st) {
        hy_seq_plan_selected(sp, u, it->q, sp->set_n[u]);
        sp->kv_tokens[u] += (double)n;
        sp->kv_dense[u] += (double)n;
    }
    free(scores);
    return st;
}
