/* Sparse attention modes of a decode step: REUSE (the set its source unit published this
 * step) and WINDOW (sink and window only), and the shared path that merges the sink and the
 * current window into a stored set and attends over it through the kernels' sparse
 * reference (attention_sparse.h), counting the K/V rows it reads. */
#include "attention_sparse.h"
#include "plan_exec.h"

#include <stdlib.h>

hy_status hy_attn_over_set(hy_ctx *c, const hy_attn_item *it, const int32_t *set, int64_t n_set) {
    hy_seq_plan *sp = c->plans[it->seq];
    const hy_plan *p = sp->plan;
    const int P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
    const int64_t n = it->pos0 + 1;
    int32_t *merged = hy_malloc((size_t)(n_set + ((int64_t)p->sink + P - 1) / P +
                                         ((int64_t)p->window + P - 1) / P + 2) *
                                    sizeof *merged,
                                "merged set");
    if (!merged) return HY_ENOMEM;
    const int64_t m = hy_set_merge(merged, set, n_set, n, P, p->sink, p->window);
    const hy_attn_shape shape = {.batch = 1,
                                 .n_heads = it->n_heads,
                                 .n_kv_heads = 1,
                                 .head_dim = it->head_dim,
                                 .kv_cap = it->kv_cap,
                                 .seq_stride = it->kv_cap * it->head_dim,
                                 .scale = it->scale};
    const int32_t len = (int32_t)n, cnt = (int32_t)m;
    const uint8_t mode = HY_UNIT_SPARSE;
    const hy_indexset is = {merged, (int32_t *)&cnt, m > 0 ? m : 1, p->granularity, P};
    hy_status st = hy_attn_sparse_f32(it->out, it->q, it->k, it->v, &len, &shape, &mode, &is);
    if (!st) {
        const int32_t u = hy_item_unit(c, it);
        double rows = 0.0;
        for (int64_t i = 0; i < m; i++) {
            const int64_t first = (int64_t)merged[i] * P;
            rows += (double)(first + P <= n ? P : n - first);
        }
        sp->kv_tokens[u] += rows;
        sp->kv_dense[u] += (double)n;
    }
    free(merged);
    return st;
}

hy_status hy_attn_reuse(hy_ctx *c, const hy_attn_item *it) {
    hy_seq_plan *sp = c->plans[it->seq];
    const int32_t u = hy_item_unit(c, it), src = sp->plan->units[u].src;
    if (sp->set_n[src] < 0) /* the dispatch runs sources first; this means a broken plan */
        return hy_fail(HY_EINVAL, "plan: unit %d (layer %d head %d) reuses unit %d, which has "
                       "published no set yet", u, it->layer, it->kv_head, src);
    return hy_attn_over_set(c, it, sp->set + (size_t)src * sp->set_cap, sp->set_n[src]);
}

hy_status hy_attn_window(hy_ctx *c, const hy_attn_item *it) {
    return hy_attn_over_set(c, it, NULL, 0);
}
