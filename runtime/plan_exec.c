/* Plan execution state (plan_exec.h): attaching a plan to a sequence (with the checks that
 * keep a wrong plan from giving a wrong result), copying a sequence's cache to another, and the
 * counters. The merged sink + stored + window set of a sparse unit is kernels/indexset.h's
 * hy_set_merge (shared with the CUDA runtime's batched merge). */
#include "plan_exec.h"
#ifdef HY_HAVE_CUDA
#include "gpu_internal.h"
#endif
#include "qsim.h"
#include "topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hy_seq_plan_free(hy_seq_plan *sp) {
    if (!sp) return;
    hy_plan_free(sp->plan);
    free(sp->set), free(sp->set_n), free(sp->sel_step), free(sp->sel_q);
    free(sp->bmin), free(sp->bmax), free(sp->bounds_len);
    free(sp->refreshes), free(sp->kv_tokens), free(sp->kv_dense);
    free(sp);
}

void hy_seq_plan_reset(hy_seq_plan *sp) {
    if (!sp) return;
    for (int32_t u = 0; u < sp->n_units; u++) {
        sp->set_n[u] = -1;
        sp->sel_step[u] = 0;
        sp->bounds_len[u] = 0;
        sp->refreshes[u] = 0;
        sp->kv_tokens[u] = sp->kv_dense[u] = 0.0;
    }
    sp->step = 0;
    sp->unit_steps = 0;
}

void hy_seq_plan_step_done(hy_seq_plan *sp) {
    if (!sp) return;
    sp->step++;
    sp->unit_steps += sp->n_units;
}

static int has_mode(const hy_plan *p, hy_unit_mode m) {
    for (int32_t u = 0; u < hy_plan_n_units(p); u++)
        if (p->units[u].mode == m) return 1;
    return 0;
}

static hy_status check_plan(const hy_ctx *c, const hy_plan *p) {
    const hy_model_info *mi = &c->m->info;
    hy_status st = hy_plan_validate(p);
    if (!st)
        st = hy_plan_check_model(p, mi->sha256, mi->n_layers, mi->n_heads, mi->n_kv_heads,
                                 mi->head_dim);
    if (!st) st = hy_plan_check_context(p, c->n_ctx);
    if (st) return hy_fail_ctx(st, "hy_ctx_set_plan");
    const int P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
    if ((p->k + P - 1) / P > HY_TOPK_MAX_K)
        return hy_fail(HY_ERANGE,
                       "hy_ctx_set_plan: k %d keeps %d %s per unit, the top-k limit is %d", p->k,
                       (p->k + P - 1) / P, P > 1 ? "pages" : "tokens", HY_TOPK_MAX_K);
    /* A sliding-window layer (Gemma 3) attends to its window and nothing else: it has no
     * set to select or reuse beyond it, so only dense (its window) and window units run. */
    for (int32_t u = 0; u < hy_plan_n_units(p); u++) {
        const int layer = u / mi->n_kv_heads, W = hy_model_layer_window(mi, layer);
        const hy_unit_mode m = p->units[u].mode;
        if (W && m != HY_MODE_DENSE && m != HY_MODE_WINDOW)
            return hy_fail(HY_EINVAL,
                           "hy_ctx_set_plan: unit %d (layer %d, kv head %d) has mode %s, but "
                           "layer %d is a sliding-window layer (%d positions): expected dense "
                           "or window",
                           u, layer, u % mi->n_kv_heads, hy_unit_mode_name(m), layer, W);
    }
    return HY_OK;
}

static hy_status alloc_state(const hy_ctx *c, const hy_plan *p, hy_seq_plan **out) {
    const hy_model_info *mi = &c->m->info;
    hy_seq_plan *sp = hy_calloc(1, sizeof *sp, "sequence plan");
    if (!sp) return HY_ENOMEM;
    const int P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
    const size_t U = (size_t)hy_plan_n_units(p);
    sp->n_units = (int32_t)U;
    sp->group_dim = mi->n_heads / mi->n_kv_heads * mi->head_dim;
    /* the top-k writes k + sink + window entries at most, the merge fewer than all units + 1 */
    sp->set_cap = (c->n_ctx + P - 1) / P + (p->k + P - 1) / P + p->sink + p->window + 1;
    sp->set = hy_malloc(U * (size_t)sp->set_cap * sizeof(int32_t), "plan sets");
    sp->set_n = hy_malloc(U * sizeof(int32_t), "plan set sizes");
    sp->sel_step = hy_calloc(U, sizeof(int64_t), "plan selection steps");
    sp->sel_q = hy_calloc(U * (size_t)sp->group_dim, sizeof(float), "plan selection queries");
    sp->bounds_len = hy_calloc(U, sizeof(int64_t), "plan bounds lengths");
    sp->refreshes = hy_calloc(U, sizeof(int64_t), "plan counters");
    sp->kv_tokens = hy_calloc(U, sizeof(double), "plan counters");
    sp->kv_dense = hy_calloc(U, sizeof(double), "plan counters");
    int ok = sp->set && sp->set_n && sp->sel_step && sp->sel_q && sp->bounds_len && sp->refreshes &&
             sp->kv_tokens && sp->kv_dense;
    if (ok && has_mode(p, HY_MODE_BOUNDS)) {
        sp->page_cap = (c->n_ctx + P - 1) / P;
        const size_t nb = U * (size_t)sp->page_cap * (size_t)mi->head_dim * sizeof(float);
        sp->bmin = hy_malloc(nb, "page key minima");
        sp->bmax = hy_malloc(nb, "page key maxima");
        ok = sp->bmin && sp->bmax;
    }
    if (ok) ok = hy_plan_copy(p, &sp->plan) == HY_OK;
    if (!ok) {
        hy_seq_plan_free(sp);
        return HY_ENOMEM;
    }
    hy_seq_plan_reset(sp);
    *out = sp;
    return HY_OK;
}

hy_status hy_ctx_set_plan(hy_ctx *c, int seq, const hy_plan *plan) {
    if (!c) return hy_fail(HY_EINVAL, "hy_ctx_set_plan: context is NULL");
    if (seq < 0 || seq >= c->n_seq)
        return hy_fail(HY_ERANGE, "hy_ctx_set_plan: seq = %d, expected 0..%d", seq, c->n_seq - 1);
#ifdef HY_HAVE_CUDA
    if (c->gpu) {
        if (plan) HY_TRY(check_plan(c, plan));
        return hy_gpu_set_plan(c, seq, plan);
    }
#endif
    hy_seq_plan *sp = NULL;
    if (plan) {
        hy_status st = check_plan(c, plan);
        if (!st) st = alloc_state(c, plan, &sp);
        if (st) return st;
    }
    hy_seq_plan_free(c->plans[seq]);
    c->plans[seq] = sp;
    return HY_OK;
}

hy_status hy_ctx_seq_copy(hy_ctx *c, int dst, int src) {
    if (!c) return hy_fail(HY_EINVAL, "hy_ctx_seq_copy: context is NULL");
    if (dst < 0 || dst >= c->n_seq || src < 0 || src >= c->n_seq)
        return hy_fail(HY_ERANGE, "hy_ctx_seq_copy: dst %d, src %d, expected 0..%d", dst, src,
                       c->n_seq - 1);
    if (dst == src) return HY_OK;
#ifdef HY_HAVE_CUDA
    if (c->gpu) return hy_gpu_seq_copy(c, dst, src);
#endif
    const hy_model_info *mi = &c->m->info;
    const int64_t n = c->seq_len[src], hd = mi->head_dim;
    /* only the filled rows of each unit's [n_ctx][hd] block */
    for (int l = 0; l < mi->n_layers; l++)
        for (int h = 0; h < mi->n_kv_heads; h++) {
            const int64_t off = (int64_t)h * c->n_ctx * hd;
            memcpy(hy_ctx_k(c, dst, l) + off, hy_ctx_k(c, src, l) + off,
                   (size_t)(n * hd) * sizeof(float));
            memcpy(hy_ctx_v(c, dst, l) + off, hy_ctx_v(c, src, l) + off,
                   (size_t)(n * hd) * sizeof(float));
        }
    c->seq_len[dst] = n;
    hy_seq_plan_reset(c->plans[dst]);
    return HY_OK;
}

hy_status hy_ctx_attn_counters(const hy_ctx *c, int seq, hy_attn_counters *out) {
    if (!c || !out) return hy_fail(HY_EINVAL, "hy_ctx_attn_counters: NULL argument");
    if (seq < 0 || seq >= c->n_seq)
        return hy_fail(HY_ERANGE, "hy_ctx_attn_counters: seq = %d, expected 0..%d", seq,
                       c->n_seq - 1);
    *out = (hy_attn_counters){0};
#ifdef HY_HAVE_CUDA
    if (c->gpu) return hy_gpu_attn_counters(c, seq, out);
#endif
    const hy_seq_plan *sp = c->plans[seq];
    if (!sp) return HY_OK;
    out->steps = sp->step;
    out->unit_steps = sp->unit_steps;
    for (int32_t u = 0; u < sp->n_units; u++) {
        out->refreshes += sp->refreshes[u];
        out->kv_tokens += sp->kv_tokens[u];
        out->kv_tokens_dense += sp->kv_dense[u];
    }
    return HY_OK;
}

int hy_seq_plan_should_select(const hy_seq_plan *sp, int32_t u, const float *q, int n_heads,
                              int head_dim) {
    const hy_plan_unit *pu = &sp->plan->units[u];
    if (sp->set_n[u] < 0) return 1;
    if (pu->refresh >= 1) return sp->step - sp->sel_step[u] >= pu->refresh;
    const float *old = sp->sel_q + (size_t)u * sp->group_dim;
    return hy_qsim_mean_cos(q, old, n_heads, head_dim) < pu->qsim;
}

void hy_seq_plan_selected(hy_seq_plan *sp, int32_t u, const float *q, int32_t n_stored) {
    sp->set_n[u] = n_stored;
    sp->sel_step[u] = sp->step;
    sp->refreshes[u]++;
    if (sp->plan->units[u].refresh == 0)
        memcpy(sp->sel_q + (size_t)u * sp->group_dim, q, (size_t)sp->group_dim * sizeof(float));
}

hy_status hy_seq_plan_topk(hy_seq_plan *sp, int32_t u, const float *scores, int64_t n) {
    const hy_plan *p = sp->plan;
    const int P = p->granularity == HY_GRAN_PAGE ? p->page_size : 1;
    const int64_t units = (n + P - 1) / P;
    const int32_t k_u = (p->k + P - 1) / P;
    int64_t sink_u = ((int64_t)p->sink + P - 1) / P, win_u = 0;
    if (sink_u > units) sink_u = units;
    if (p->window > 0) win_u = units - (n - p->window > 0 ? n - p->window : 0) / P;
    const int32_t nu = (int32_t)units;
    int32_t cnt = 0;
    hy_status st = hy_topk_rows_f32(sp->set + (size_t)u * sp->set_cap, &cnt, sp->set_cap, scores,
                                    units, 1, &nu, 1, k_u, (int)sink_u, (int)win_u);
    if (st) return st;
    sp->set_n[u] = cnt;
    return HY_OK;
}
