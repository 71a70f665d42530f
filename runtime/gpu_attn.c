/* CUDA backend, plan execution: the one translation from a plan's per-unit modes to the
 * kernels' launches, for one layer of a decode step, per segment (sequences sharing a plan
 * and a refresh pattern; gpu_internal.h). The semantics are the CPU runtime's
 * (docs/runtime.md, "Plan execution"):
 *   dense          attention over all n tokens;
 *   select, due    attention over all n tokens that also writes the GQA-summed probabilities,
 *                  top-k of them (sink and window merged in) published into the unit's store;
 *   select, not    sparse attention over sink + its stored set + the current window;
 *   reuse(src)     sparse attention over sink + src's stored set + the current window;
 *   window         sparse attention over the sink and the window;
 *   bounds, due    page key bounds folded up to date, pages scored by their upper bound on
 *                  q.k (Quest), top pages published; then sparse over its set;
 *   bounds, not    sparse attention over sink + its stored pages + the current window;
 *   qsim units     (refresh "qsim:t") run their reselecting launches every step; a decision
 *                  kernel first compares the query with the one of the last selection and
 *                  patches the publish slot (-2 keeps the stored set); a select unit also
 *                  attends sparsely to its set into scratch, kept where it did not reselect;
 *   score, sketch  (issue 12's cheap selectors) when due: scores from the keys alone (score)
 *                  or from the int8 / int4 key sketch (sketch8, sketch4; the sketch folds the
 *                  new tokens first), top-k published as select's; then, due or not, sparse
 *                  attention over sink + its stored set + the current window.
 * Which rows each set merge touches is a slot table filled here on the host once per captured
 * graph (hy_gpu_fill_slots); the kernels skip units whose mode another launch serves. */
#include "arch.h"
#include "attention_sparse.h"
#include "gpu_internal.h"
#include "indexset.h"
#include "page_bounds.h"
#include "qsim.h"
#include "sketch.h"
#include "topk.h"

#include <math.h>
#include <string.h>

/* RANK: a cheap selector reselecting (scores without the dense pass, then sparse) */
enum { ROLE_DENSE = 0, ROLE_SELECT, ROLE_SPARSE, ROLE_BOUNDS, ROLE_RANK };

/* A query-drift unit that was selected before: the device decides each step. */
static int qsim_check(const hy_gpu_segment *sg, int u) {
    return sg->sp && hy_mode_publishes(sg->sp->plan->units[u].mode) &&
           sg->sp->plan->units[u].refresh < 1 && !sg->refresh[u];
}

/* What unit (layer l, head h) does in this step for a segment. */
static int role(const hy_gpu_segment *sg, int u) {
    if (!sg->sp) return ROLE_DENSE;
    const hy_plan_unit *pu = &sg->sp->plan->units[u];
    const int due = sg->refresh[u] || qsim_check(sg, u);
    switch (pu->mode) {
    case HY_MODE_DENSE:
        return ROLE_DENSE;
    case HY_MODE_SELECT:
        return due ? ROLE_SELECT : ROLE_SPARSE;
    case HY_MODE_BOUNDS: /* reselecting or not, it attends to its own set sparsely */
        return due ? ROLE_BOUNDS : ROLE_SPARSE;
    case HY_MODE_SCORE:
    case HY_MODE_SKETCH8:
    case HY_MODE_SKETCH4:
        return due ? ROLE_RANK : ROLE_SPARSE;
    default: /* reuse, window */
        return ROLE_SPARSE;
    }
}

static int32_t store_slot(const hy_ctx *c, int unit, int seq) {
    const int nkv = c->m->info.n_kv_heads, l = unit / nkv, h = unit % nkv;
    return ((int32_t)l * c->n_seq + seq) * nkv + h;
}

void hy_gpu_fill_slots(const hy_ctx *c, const hy_gpu_segment *segs, int n_segs, int n_batch,
                       int32_t *h_slots) {
    const hy_model_info *mi = &c->m->info;
    const int nkv = mi->n_kv_heads;
    const int64_t per = (int64_t)n_batch * nkv;
    for (int64_t i = 0; i < (int64_t)mi->n_layers * 3 * per; i++)
        h_slots[i] = -2;
    for (int si = 0; si < n_segs; si++) {
        const hy_gpu_segment *sg = &segs[si];
        if (!sg->sp) continue;
        for (int l = 0; l < mi->n_layers; l++) {
            int32_t *pub = h_slots + (int64_t)l * 3 * per, *att = pub + per, *bnd = att + per;
            for (int b = 0; b < sg->n; b++)
                for (int h = 0; h < nkv; h++) {
                    const int u = l * nkv + h;
                    const int64_t r = (int64_t)(sg->row0 + b) * nkv + h;
                    const hy_plan_unit *pu = &sg->sp->plan->units[u];
                    const int ro = role(sg, u);
                    if (ro == ROLE_SELECT || ro == ROLE_RANK)
                        pub[r] = b * nkv + h; /* its row of the top-k */
                    if (ro == ROLE_BOUNDS) bnd[r] = b * nkv + h;
                    if (ro == ROLE_DENSE) continue;
                    /* a select unit's set is attended only when the device keeps it */
                    if (ro == ROLE_SELECT && !qsim_check(sg, u)) continue;
                    if (pu->mode == HY_MODE_WINDOW)
                        att[r] = -1;
                    else if (pu->mode == HY_MODE_REUSE)
                        att[r] = store_slot(c, pu->src, sg->seq0 + b);
                    else
                        att[r] = store_slot(c, u, sg->seq0 + b);
                }
        }
    }
}

static hy_status segment(hy_ctx *c, int l, const hy_gpu_step_attn *sa, const hy_gpu_segment *sg) {
    hy_gpu_ctx *g = c->gpu;
    const hy_model_info *mi = &c->m->info;
    const int nkv = mi->n_kv_heads, hd = mi->head_dim;
    const int64_t hq = (int64_t)mi->n_heads * hd;
    /* a sliding-window layer's dense units see its window; plans give such a layer dense and
     * window units only (plan_exec.c), whose sets the kernels take as they are */
    const hy_attn_shape s = {sg->n,
                             mi->n_heads,
                             nkv,
                             hd,
                             c->n_ctx,
                             g->seq_stride,
                             mi->attn_scale,
                             hy_model_layer_window(mi, l)};
    float *out = g->att + sg->row0 * hq;
    const float *q = g->q + sg->row0 * hq;
    const uint16_t *k = g->k + sg->seq0 * g->seq_stride + l * g->layer_stride;
    const uint16_t *v = g->v + sg->seq0 * g->seq_stride + l * g->layer_stride;
    const int32_t *lens = g->lens + sg->seq0;
    void *st = g->stream;
    if (!sg->sp)
        return hy_cuda_attn_decode(out, NULL, 0, q, k, v, HY_KV_BF16, lens, sa->max_len, &s,
                                   g->attn_ws, st);
    const hy_plan *p = sg->sp->plan;
    /* sel_modes: the dense pass with scores (dense and select units); rank_modes[i]: the
     * score, sketch8 and sketch4 units that reselect; sp_modes: the sparse pass */
    uint8_t sel_modes[64], sp_modes[64], rank_modes[3][64];
    int any_sel = 0, any_sparse = 0, any_bounds = 0, any_rank[3] = {0, 0, 0};
    for (int h = 0; h < nkv; h++) {
        const int u = l * nkv + h, ro = role(sg, u);
        const hy_unit_mode m = p->units[u].mode;
        const int ri = m == HY_MODE_SCORE ? 0 : (m == HY_MODE_SKETCH8 ? 1 : 2);
        any_sel |= ro == ROLE_SELECT;
        any_bounds |= ro == ROLE_BOUNDS;
        any_sparse |= ro != ROLE_DENSE && ro != ROLE_SELECT;
        for (int i = 0; i < 3; i++)
            rank_modes[i][h] = ro == ROLE_RANK && ri == i ? HY_UNIT_DENSE : HY_UNIT_SKIP;
        if (ro == ROLE_RANK) any_rank[ri] = 1;
    }
    /* query-drift units: the decision (forced for one never selected), one launch per publish
     * table (bounds units publish through their own) */
    uint8_t qmodes[2][64], qsel_modes[64];
    float qweight[64];
    int any_q[2] = {0, 0}, any_qsel = 0;
    for (int h = 0; h < nkv; h++) {
        const int u = l * nkv + h;
        const hy_plan_unit *pu = &p->units[u];
        const int q_on = hy_mode_publishes(pu->mode) && pu->refresh < 1;
        const int tab = pu->mode == HY_MODE_BOUNDS;
        const int P0 = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
        qmodes[0][h] = qmodes[1][h] = HY_QSIM_SKIP;
        if (q_on) qmodes[tab][h] = sg->refresh[u] ? HY_QSIM_FORCE : HY_QSIM_CHECK;
        any_q[tab] |= q_on;
        qsel_modes[h] = pu->mode == HY_MODE_SELECT && qsim_check(sg, u);
        any_qsel |= qsel_modes[h];
        /* what a reselection reads, in K+V rows per token (the CPU's counting) */
        qweight[h] = pu->mode == HY_MODE_SCORE     ? 0.5f
                     : pu->mode == HY_MODE_SKETCH8 ? (float)(hd + 4) / (4.0f * hd)
                     : pu->mode == HY_MODE_SKETCH4 ? (float)(hd / 2 + 4) / (4.0f * hd)
                     : pu->mode == HY_MODE_BOUNDS  ? 1.0f / (float)P0
                                                   : 1.0f;
    }
    const int ranking = any_sel || any_rank[0] || any_rank[1] || any_rank[2];
    for (int h = 0; h < nkv; h++) {
        const int ro = role(sg, l * nkv + h), sparse = ro != ROLE_DENSE && ro != ROLE_SELECT;
        sel_modes[h] = sparse ? HY_UNIT_SKIP : HY_UNIT_DENSE;
        sp_modes[h] = sparse ? HY_UNIT_SPARSE : (any_sel ? HY_UNIT_SKIP : HY_UNIT_DENSE);
    }
    const int64_t rows = (int64_t)sg->n * nkv;
    const int64_t per = g->n_batch * (int64_t)nkv;
    int32_t *pub = sa->slots + (int64_t)l * 3 * per + (int64_t)sg->row0 * nkv;
    int32_t *att = pub + per, *bnd = att + per;
    int32_t *due = g->qsim_due + (int64_t)sg->row0 * nkv;
    /* one launch per unit: each has its own threshold */
    for (int tab = 0; tab < 2; tab++)
        if (any_q[tab]) {
            for (int h = 0; h < nkv; h++) {
                if (qmodes[tab][h] == HY_QSIM_SKIP) continue;
                uint8_t one[64];
                memset(one, HY_QSIM_SKIP, sizeof one);
                one[h] = qmodes[tab][h];
                HY_TRY(hy_cuda_qsim_decide(
                    due, tab ? bnd : pub,
                    g->q_sel + ((int64_t)l * c->n_seq + sg->seq0) * nkv * (hq / nkv), q, lens, &s,
                    one, qweight, p->units[l * nkv + h].qsim, g->qsim_refreshes + sg->seq0,
                    g->qsim_rows + sg->seq0, st));
            }
        }
    const int P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
    if (ranking) {
        const int64_t off = (int64_t)sg->seq0 * nkv * g->score_stride;
        int32_t *tk = g->tk_idx + (int64_t)sg->seq0 * nkv * g->tk_stride;
        int32_t *tk_n = g->tk_n + (int64_t)sg->seq0 * nkv;
        /* with select units the dense pass also serves the layer's dense units; without,
         * they run in the sparse pass below */
        if (any_sel)
            HY_TRY(hy_cuda_attn_decode_units(out, g->scores + off, g->score_stride, q, k, v,
                                             HY_KV_BF16, lens, sa->max_len, &s, sel_modes,
                                             g->attn_ws, st));
        if (any_rank[0])
            HY_TRY(hy_cuda_attn_key_scores(g->scores + off, g->score_stride, q, k, HY_KV_BF16, lens,
                                           sa->max_len, &s, rank_modes[0], g->attn_ws, st));
        for (int w = 0; w < 2; w++) {
            if (!any_rank[1 + w]) continue;
            const int64_t row = ((int64_t)l * c->n_seq + sg->seq0) * nkv;
            const int bits = w == 0 ? 8 : 4;
            uint8_t *codes = g->sk[w] + row * c->n_ctx * (hd * bits / 8);
            float *scales = g->sks[w] + row * c->n_ctx;
            int32_t *folded = g->sk_folded[w] + row;
            HY_TRY(hy_cuda_sketch_fold(codes, scales, c->n_ctx, folded, k, lens, sa->max_len, &s,
                                       rank_modes[1 + w], bits, st));
            HY_TRY(hy_cuda_sketch_scores(g->scores + off, g->score_stride, folded, q, codes, scales,
                                         c->n_ctx, lens, sa->max_len, &s, rank_modes[1 + w], bits,
                                         g->attn_ws, st));
        }
        if (P == 1) {
            HY_TRY(hy_cuda_topk_rows_f32(tk, tk_n, g->tk_stride, g->scores + off, g->score_stride,
                                         rows, lens, nkv, sa->max_len, p->k, p->sink, p->window,
                                         st));
        } else {
            /* pages: window pages score -inf and the top-k runs with window 0, which picks
             * what the CPU's per-row window would (indexset.h); the publish adds the window */
            const int64_t max_pages = (sa->max_len + P - 1) / P;
            int32_t *np = g->n_pages + sg->seq0;
            HY_TRY(hy_cuda_page_scores_f32(g->pscores + off, g->score_stride, np, g->scores + off,
                                           g->score_stride, rows, lens, nkv, sa->max_len, P,
                                           p->window, st));
            HY_TRY(hy_cuda_topk_rows_f32(tk, tk_n, g->tk_stride, g->pscores + off, g->score_stride,
                                         rows, np, nkv, max_pages, (p->k + P - 1) / P,
                                         (p->sink + P - 1) / P, 0, st));
        }
        const int64_t base = ((int64_t)l * c->n_seq + sg->seq0) * nkv;
        HY_TRY(hy_cuda_set_merge_rows(g->store + base * g->set_cap, g->store_n + base, g->set_cap,
                                      tk, tk_n, g->tk_stride, pub, rows, lens, nkv, P, p->sink,
                                      p->window, NULL, st));
    }
    if (any_bounds) {
        /* Quest: bring the page bounds up to date, score pages by their upper bound on q.k
         * (window pages -inf), top pages, publish; the unit then attends to its set below */
        const int64_t off = (int64_t)sg->seq0 * nkv * g->score_stride;
        const int64_t brow = ((int64_t)l * c->n_seq + sg->seq0) * nkv;
        uint16_t *bmin = g->bmin + brow * g->page_cap_b * hd,
                 *bmax = g->bmax + brow * g->page_cap_b * hd;
        int32_t *folded = g->folded + brow, *np = g->n_pages + sg->seq0;
        int32_t *tk = g->tk_idx + (int64_t)sg->seq0 * nkv * g->tk_stride;
        int32_t *tk_n = g->tk_n + (int64_t)sg->seq0 * nkv;
        HY_TRY(hy_cuda_page_bounds_fold(bmin, bmax, g->page_cap_b, folded, k, lens, sa->max_len, &s,
                                        P, st));
        HY_TRY(hy_cuda_page_bound_scores(g->pscores + off, g->score_stride, np, folded, q, bmin,
                                         bmax, g->page_cap_b, lens, sa->max_len, &s, P, p->window,
                                         st));
        HY_TRY(hy_cuda_topk_rows_f32(tk, tk_n, g->tk_stride, g->pscores + off, g->score_stride,
                                     rows, np, nkv, (sa->max_len + P - 1) / P, (p->k + P - 1) / P,
                                     (p->sink + P - 1) / P, 0, st));
        HY_TRY(hy_cuda_set_merge_rows(g->store + brow * g->set_cap, g->store_n + brow, g->set_cap,
                                      tk, tk_n, g->tk_stride, bnd, rows, lens, nkv, P, p->sink,
                                      p->window, NULL, st));
    }
    if (!any_sparse && !any_qsel) {
        if (any_sel) return HY_OK;
        return hy_cuda_attn_decode(out, NULL, 0, q, k, v, HY_KV_BF16, lens, sa->max_len, &s,
                                   g->attn_ws, st);
    }
    int32_t *ai = g->att_idx + (int64_t)sg->seq0 * nkv * g->set_cap;
    int32_t *an = g->att_n + (int64_t)sg->seq0 * nkv;
    HY_TRY(hy_cuda_set_merge_rows(ai, an, g->set_cap, g->store, g->store_n, g->set_cap, att, rows,
                                  lens, nkv, P, p->sink, p->window, g->rows_read + sg->seq0, st));
    /* a merged set, in units of P tokens: the sink, at most k stored units, the stored window
     * now older than the current one, and the current window */
    const int64_t win_u = (p->window + P - 1) / P + 1;
    int64_t max_count = (p->k + P - 1) / P + (p->sink + P - 1) / P + 2 * win_u;
    if (max_count > g->set_cap) max_count = g->set_cap;
    if (max_count > (sa->max_len + P - 1) / P) max_count = (sa->max_len + P - 1) / P;
    const hy_indexset set = {ai, an, g->set_cap, P > 1 ? HY_GRAN_PAGE : HY_GRAN_TOKEN, P};
    if (any_sparse)
        HY_TRY(hy_cuda_attn_sparse(out, q, k, v, HY_KV_BF16, lens, sa->max_len, &s, sp_modes, &set,
                                   max_count, g->attn_ws, st));
    if (!any_qsel) return HY_OK;
    /* select units under query drift: their sparse output over the kept set, into scratch,
     * replaces the dense one where the decision kept the set */
    uint8_t qs_modes[64];
    for (int h = 0; h < nkv; h++)
        qs_modes[h] = qsel_modes[h] ? HY_UNIT_SPARSE : HY_UNIT_SKIP;
    float *alt = g->qsim_alt + sg->row0 * hq;
    HY_TRY(hy_cuda_attn_sparse(alt, q, k, v, HY_KV_BF16, lens, sa->max_len, &s, qs_modes, &set,
                               max_count, g->attn_ws, st));
    return hy_cuda_rows_keep_unless_due(out, alt, due, &s, qsel_modes, st);
}

hy_status hy_gpu_attn_layer(hy_ctx *c, int layer, void *arg) {
    const hy_gpu_step_attn *sa = arg;
    for (int i = 0; i < sa->n_segs; i++)
        HY_TRY(segment(c, layer, sa, &sa->segs[i]));
    return HY_OK;
}
