/* BOUNDS mode (Quest-like): pages ranked without a dense pass. Each page of P keys keeps the
 * per-channel minimum and maximum of its keys (folded in as tokens arrive); a query's upper
 * bound on q.k over the page is sum_c max(q_c min_c, q_c max_c), summed over the GQA group's
 * query heads; the best ceil(k/P) pages plus the sink and window pages are attended to. */
#include "plan_exec.h"

#include <stdlib.h>
#include <string.h>

/* Folds the keys the bounds have not seen yet into their pages' minima and maxima. */
static void fold_keys(hy_seq_plan *sp, int32_t u, const float *k, int64_t n, int P, int hd) {
    float *mn = sp->bmin + (size_t)u * sp->page_cap * hd,
          *mx = sp->bmax + (size_t)u * sp->page_cap * hd;
    for (int64_t t = sp->bounds_len[u]; t < n; t++) {
        const float *kt = k + t * hd;
        float *a = mn + (t / P) * hd, *b = mx + (t / P) * hd;
        if (t % P == 0) {
            memcpy(a, kt, (size_t)hd * sizeof(float));
            memcpy(b, kt, (size_t)hd * sizeof(float));
            continue;
        }
        for (int d = 0; d < hd; d++) {
            a[d] = kt[d] < a[d] ? kt[d] : a[d];
            b[d] = kt[d] > b[d] ? kt[d] : b[d];
        }
    }
    sp->bounds_len[u] = n;
}

hy_status hy_attn_bounds(hy_ctx *c, const hy_attn_item *it) {
    hy_seq_plan *sp = c->plans[it->seq];
    const hy_plan *p = sp->plan;
    const int32_t u = hy_item_unit(c, it);
    const int P = p->page_size, hd = it->head_dim;
    const int64_t n = it->pos0 + 1, n_pages = (n + P - 1) / P;
    if (hy_seq_plan_should_select(sp, u, it->q, it->n_heads, hd)) {
        fold_keys(sp, u, it->k, n, P, hd);
        float *score = hy_malloc((size_t)n_pages * sizeof *score, "page bound scores");
        if (!score) return HY_ENOMEM;
        const float *mn = sp->bmin + (size_t)u * sp->page_cap * hd;
        const float *mx = sp->bmax + (size_t)u * sp->page_cap * hd;
        for (int64_t pg = 0; pg < n_pages; pg++) {
            double s = 0.0;
            for (int h = 0; h < it->n_heads; h++) {
                const float *qh = it->q + h * hd;
                for (int d = 0; d < hd; d++) {
                    const double lo = (double)qh[d] * mn[pg * hd + d];
                    const double hi = (double)qh[d] * mx[pg * hd + d];
                    s += lo > hi ? lo : hi;
                }
            }
            score[pg] = (float)s;
        }
        hy_status st = hy_seq_plan_topk(sp, u, score, n);
        free(score);
        if (st) return st;
        hy_seq_plan_selected(sp, u, it->q, sp->set_n[u]);
        sp->kv_tokens[u] += (double)n_pages; /* min + max keys of a page: one token's K+V bytes */
    }
    return hy_attn_over_set(c, it, sp->set + (size_t)u * sp->set_cap, sp->set_n[u]);
}
