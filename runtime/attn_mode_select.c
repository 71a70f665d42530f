/* The publishing modes that rank tokens (SELECT, SCORE, SKETCH8, SKETCH4): when the unit must
 * reselect, score every token, take the top-k of the scores (or of their page maxima) as the
 * unit's published set, and compute the unit's output:
 *   SELECT   the GQA-summed post-softmax probabilities (attention_decode.h's contract,
 *            computed by attn_rows.c); output dense, from the very kernel dense units use
 *            (hy_attn_dense), so a select unit's output is bit-identical to dense's: on native
 *            weights the int8 activations of the next projections turn a 1e-6 difference into
 *            logit changes that `hylra eval` would charge to the plan;
 *   SCORE    the same probabilities from the keys alone (the GPU kernel reads no V); output
 *            sparse over the new set;
 *   SKETCH*  the probabilities of an int8 / int4 sketch of the keys (kernels/sketch.h);
 *            output sparse over the new set.
 * With a refresh stride or a query-similarity threshold, steps that do not reselect attend
 * only to the unit's own last set (Recycled-Attention-like). */
#include "indexset.h"
#include "plan_exec.h"
#include "sketch.h"

#include <stdlib.h>

/* Top-k of one row of token probabilities into unit u's set; records the selection. */
static hy_status publish(hy_seq_plan *sp, int32_t u, const hy_attn_item *it, float *scores,
                         int64_t n) {
    const hy_plan *p = sp->plan;
    const int P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
    const float *rank = scores;
    hy_status st = HY_OK;
    if (P > 1) {
        const int32_t len = (int32_t)n;
        st = hy_page_max_f32(scores + n, (n + P - 1) / P, scores, n, 1, &len, 1, P);
        rank = scores + n;
    }
    if (!st) st = hy_seq_plan_topk(sp, u, rank, n);
    if (!st) hy_seq_plan_selected(sp, u, it->q, sp->set_n[u]);
    return st;
}

/* The sketch's scores: each key quantised (the GPU keeps the sketch beside the cache,
 * written with K; here it is recomputed from the fp32 cache, the same values). */
static hy_status sketch_scores(const hy_attn_item *it, int bits, float *scores, int64_t n) {
    int8_t *kq = hy_malloc((size_t)(n * it->head_dim) + 1, "key sketch");
    float *ks = hy_malloc((size_t)n * sizeof *ks + 1, "key sketch scales");
    hy_status st = kq && ks ? HY_OK : HY_ENOMEM;
    if (!st) st = hy_sketch_quantize(kq, ks, it->k, n, it->head_dim, bits);
    if (!st) st = hy_sketch_scores(scores, it->q, it->n_heads, kq, ks, n, it->head_dim, it->scale);
    free(kq), free(ks);
    return st;
}

hy_status hy_attn_select(hy_ctx *c, const hy_attn_item *it) {
    hy_seq_plan *sp = c->plans[it->seq];
    const int32_t u = hy_item_unit(c, it);
    if (!hy_seq_plan_should_select(sp, u, it->q, it->n_heads, it->head_dim))
        return hy_attn_over_set(c, it, sp->set + (size_t)u * sp->set_cap, sp->set_n[u]);
    const hy_unit_mode mode = sp->plan->units[u].mode;
    const int P = sp->plan->granularity == HY_GRAN_PAGE ? sp->plan->page_size : 1;
    const int64_t n = it->pos0 + 1, n_pages = (n + P - 1) / P;
    float *scores = hy_malloc((size_t)(n + n_pages) * sizeof *scores, "select scores");
    if (!scores) return HY_ENOMEM;
    hy_status st = HY_OK;
    /* K/V rows the scoring reads, in units of one token's K + V (a bf16 sketch row of D
     * values at b bits plus a 4-byte scale is (D b / 8 + 4) / (4 D) of one) */
    double rows = (double)n;
    if (mode == HY_MODE_SKETCH8 || mode == HY_MODE_SKETCH4) {
        const int bits = mode == HY_MODE_SKETCH8 ? 8 : 4;
        st = sketch_scores(it, bits, scores, n);
        rows = (double)n * ((double)it->head_dim * bits / 8.0 + 4.0) / (4.0 * it->head_dim);
    } else {
        /* exact probabilities only (no P.V): SELECT's output comes from the dense kernel
         * below, SCORE's from the sparse pass */
        st = hy_attn_rows_f32(NULL, scores, it->q, it->k, it->v, n, it->n_heads, it->head_dim,
                              it->scale);
        if (mode == HY_MODE_SCORE) rows = 0.5 * (double)n; /* K only */
        if (!st && mode == HY_MODE_SELECT) st = hy_attn_dense(c, it);
    }
    if (!st) st = publish(sp, u, it, scores, n);
    free(scores);
    if (st) return st;
    if (mode == HY_MODE_SELECT) {
        sp->kv_tokens[u] += (double)n;
        sp->kv_dense[u] += (double)n;
        return HY_OK;
    }
    sp->kv_tokens[u] += rows; /* the sparse pass adds its rows and the dense count */
    return hy_attn_over_set(c, it, sp->set + (size_t)u * sp->set_cap, sp->set_n[u]);
}
