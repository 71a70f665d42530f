/* Sparse attention modes of a decode step: REUSE (the set its source unit published this
 * step) and WINDOW (sink and window only), and the shared path that merges the sink and the
 * current window into a stored set, gathers those K/V rows and attends over them
 * (attn_rows.c; the contract of attention_sparse.h), counting the rows it reads. */
#include "plan_exec.h"

#include <stdlib.h>
#include <string.h>

hy_status hy_attn_over_set(hy_ctx *c, const hy_attn_item *it, const int32_t *set, int64_t n_set) {
    hy_seq_plan *sp = c->plans[it->seq];
    const hy_plan *p = sp->plan;
    const int P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
    const int64_t n = it->pos0 + 1;
    int32_t *merged = hy_malloc(
        (size_t)(n_set + ((int64_t)p->sink + P - 1) / P + ((int64_t)p->window + P - 1) / P + 2) *
            sizeof *merged,
        "merged set");
    if (!merged) return HY_ENOMEM;
    const int64_t m = hy_set_merge(merged, set, n_set, n, P, p->sink, p->window);
    /* gather the set's rows, then the same two-GEMM attention as select units */
    int64_t rows = 0;
    for (int64_t i = 0; i < m; i++) {
        const int64_t first = (int64_t)merged[i] * P;
        rows += first + P <= n ? P : n - first;
    }
    const int hd = it->head_dim;
    float *kv = hy_malloc((size_t)(2 * rows * hd + 1) * sizeof *kv, "gathered K/V rows");
    hy_status st = kv ? HY_OK : HY_ENOMEM;
    if (!st) {
        float *kg = kv, *vg = kv + rows * hd;
        int64_t r = 0;
        for (int64_t i = 0; i < m; i++) {
            const int64_t first = (int64_t)merged[i] * P, cnt = first + P <= n ? P : n - first;
            memcpy(kg + r * hd, it->k + first * hd, (size_t)(cnt * hd) * sizeof(float));
            memcpy(vg + r * hd, it->v + first * hd, (size_t)(cnt * hd) * sizeof(float));
            r += cnt;
        }
        st = hy_attn_rows_f32(it->out, NULL, it->q, kg, vg, rows, it->n_heads, hd, it->scale);
    }
    if (!st) {
        const int32_t u = hy_item_unit(c, it);
        /* what dense would read here: the layer's window in a sliding-window layer */
        const int64_t W = hy_model_layer_window(&c->m->info, it->layer);
        sp->kv_tokens[u] += (double)rows;
        sp->kv_dense[u] += (double)(W && W < n ? W : n);
    }
    free(kv);
    free(merged);
    return st;
}

hy_status hy_attn_reuse(hy_ctx *c, const hy_attn_item *it) {
    hy_seq_plan *sp = c->plans[it->seq];
    const int32_t u = hy_item_unit(c, it), src = sp->plan->units[u].src;
    if (sp->set_n[src] < 0) /* the dispatch runs sources first; this means a broken plan */
        return hy_fail(HY_EINVAL,
                       "plan: unit %d (layer %d head %d) reuses unit %d, which has "
                       "published no set yet",
                       u, it->layer, it->kv_head, src);
    return hy_attn_over_set(c, it, sp->set + (size_t)src * sp->set_cap, sp->set_n[src]);
}

hy_status hy_attn_window(hy_ctx *c, const hy_attn_item *it) {
    return hy_attn_over_set(c, it, NULL, 0);
}
