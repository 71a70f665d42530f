/* formats/plan: plan objects and their rules. Validation lives here, apart from the JSON
 * code, so that the solver's output and a file read from disk pass the same checks. */
#include "hy_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hy_status hy_plan_create(int32_t n_layers, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                         hy_plan **out) {
    *out = NULL;
    if (n_layers <= 0 || n_layers > 65536 || n_kv_heads <= 0 || n_kv_heads > 4096 ||
        n_heads < n_kv_heads || head_dim <= 0 || (int64_t)n_layers * n_kv_heads > (1 << 24))
        return hy_fail(HY_EINVAL,
                       "plan: shape n_layers=%d n_heads=%d n_kv_heads=%d head_dim=%d, expected "
                       "positive with n_heads >= n_kv_heads",
                       n_layers, n_heads, n_kv_heads, head_dim);
    hy_plan *p = hy_calloc(1, sizeof *p, "plan");
    if (!p) return HY_ENOMEM;
    p->n_layers = n_layers;
    p->n_heads = n_heads;
    p->n_kv_heads = n_kv_heads;
    p->head_dim = head_dim;
    p->units = hy_calloc((size_t)hy_plan_n_units(p), sizeof *p->units, "plan units");
    if (!p->units) {
        free(p);
        return HY_ENOMEM;
    }
    for (int32_t u = 0; u < hy_plan_n_units(p); u++)
        p->units[u] = (hy_plan_unit){HY_MODE_DENSE, -1, 1, NAN};
    p->k = 1;
    p->page_size = 0;
    snprintf(p->budget_kind, sizeof p->budget_kind, "fraction");
    snprintf(p->solver, sizeof p->solver, "manual");
    snprintf(p->loss_kind, sizeof p->loss_kind, "out_err");
    snprintf(p->status, sizeof p->status, "feasible");
    *out = p;
    return HY_OK;
}

void hy_plan_free(hy_plan *p) {
    if (!p) return;
    free(p->units);
    free(p);
}

hy_status hy_plan_copy(const hy_plan *src, hy_plan **out) {
    hy_status st = hy_plan_create(src->n_layers, src->n_heads, src->n_kv_heads, src->head_dim, out);
    if (st) return st;
    hy_plan_unit *units = (*out)->units;
    **out = *src;
    (*out)->units = units;
    memcpy(units, src->units, (size_t)hy_plan_n_units(src) * sizeof *units);
    return HY_OK;
}

const char *hy_unit_mode_name(hy_unit_mode m) {
    switch (m) {
    case HY_MODE_DENSE:
        return "dense";
    case HY_MODE_SELECT:
        return "select";
    case HY_MODE_REUSE:
        return "reuse";
    case HY_MODE_WINDOW:
        return "window";
    case HY_MODE_BOUNDS:
        return "bounds";
    case HY_MODE_SCORE:
        return "score";
    case HY_MODE_SKETCH8:
        return "sketch8";
    case HY_MODE_SKETCH4:
        return "sketch4";
    case HY_MODE_COUNT:
        break;
    }
    return "unknown";
}

static hy_status check_refresh(const hy_plan *p, int32_t u) {
    const hy_plan_unit *x = &p->units[u];
    if (x->refresh >= 1) return HY_OK;
    if (x->refresh == 0 && x->qsim > -1.0f && x->qsim <= 1.0f) return HY_OK;
    int32_t H = p->n_kv_heads;
    return hy_fail(HY_EFORMAT,
                   "plan: units[%d] (layer %d head %d) refresh %d qsim %g, expected refresh >= "
                   "1 or a qsim threshold in (-1, 1]",
                   u, u / H, u % H, x->refresh, (double)x->qsim);
}

static hy_status check_unit(const hy_plan *p, int32_t u) {
    const hy_plan_unit *x = &p->units[u];
    int32_t H = p->n_kv_heads, l = u / H, h = u % H;
    switch (x->mode) {
    case HY_MODE_DENSE:
    case HY_MODE_WINDOW:
        return HY_OK;
    case HY_MODE_SELECT:
    case HY_MODE_SCORE:
    case HY_MODE_SKETCH8:
    case HY_MODE_SKETCH4:
        return check_refresh(p, u);
    case HY_MODE_BOUNDS:
        /* bounds rank pages by their key min/max; a token plan has no pages to rank */
        if (p->granularity != HY_GRAN_PAGE)
            return hy_fail(HY_EFORMAT,
                           "plan: units[%d] (layer %d head %d) has mode bounds, which needs "
                           "granularity page (the plan's is token)",
                           u, l, h);
        return check_refresh(p, u);
    case HY_MODE_REUSE:
        break;
    default:
        return hy_fail(HY_EFORMAT,
                       "plan: units[%d] (layer %d head %d) has mode %d, expected "
                       "dense|select|reuse|window|bounds|score|sketch8|sketch4",
                       u, l, h, (int)x->mode);
    }
    if (x->src < 0 || x->src >= hy_plan_n_units(p))
        return hy_fail(HY_ERANGE,
                       "plan: units[%d] (layer %d head %d) reuses unit %d, expected 0..%d", u, l, h,
                       x->src, hy_plan_n_units(p) - 1);
    int32_t sl = x->src / H, sh = x->src % H;
    if (x->src == u)
        return hy_fail(HY_EFORMAT, "plan: units[%d] (layer %d head %d) reuses itself", u, l, h);
    if (sl > l)
        return hy_fail(HY_EFORMAT,
                       "plan: units[%d] (layer %d head %d) reuses layer %d head %d, which runs "
                       "after its user (source layer must be <= %d)",
                       u, l, h, sl, sh, l);
    const hy_plan_unit *s = &p->units[x->src];
    if (!hy_mode_publishes(s->mode))
        return hy_fail(HY_EFORMAT,
                       "plan: units[%d] (layer %d head %d) reuses layer %d head %d whose mode is "
                       "%s, expected select, bounds, score, sketch8 or sketch4 (the modes that "
                       "publish a set)",
                       u, l, h, sl, sh, hy_unit_mode_name(s->mode));
    return HY_OK;
}

hy_status hy_plan_validate(const hy_plan *p) {
    if (p->n_layers <= 0 || p->n_kv_heads <= 0 || p->n_heads < p->n_kv_heads || p->head_dim <= 0)
        return hy_fail(HY_EFORMAT,
                       "plan: model shape n_layers=%d n_heads=%d n_kv_heads=%d "
                       "head_dim=%d is not a valid shape",
                       p->n_layers, p->n_heads, p->n_kv_heads, p->head_dim);
    if (p->k <= 0) return hy_fail(HY_ERANGE, "plan: k is %d, expected > 0", p->k);
    if (p->context > 0 && p->k > p->context)
        return hy_fail(HY_ERANGE, "plan: k %d is larger than the context %d", p->k, p->context);
    if (p->sink < 0 || p->window < 0)
        return hy_fail(HY_ERANGE, "plan: sink %d window %d, expected >= 0", p->sink, p->window);
    if (p->granularity == HY_GRAN_PAGE && p->page_size <= 0)
        return hy_fail(HY_ERANGE, "plan: granularity page with page_size %d, expected > 0",
                       p->page_size);
    if (p->granularity != HY_GRAN_PAGE && p->granularity != HY_GRAN_TOKEN)
        return hy_fail(HY_EFORMAT, "plan: granularity %d, expected token|page",
                       (int)p->granularity);
    for (int32_t u = 0; u < hy_plan_n_units(p); u++) {
        hy_status st = check_unit(p, u);
        if (st) return st;
    }
    return HY_OK;
}

hy_status hy_plan_check_model(const hy_plan *p, const char *sha256, int32_t n_layers,
                              int32_t n_heads, int32_t n_kv_heads, int32_t head_dim) {
    const char *names[] = {"n_layers", "n_heads", "n_kv_heads", "head_dim"};
    int32_t have[] = {p->n_layers, p->n_heads, p->n_kv_heads, p->head_dim};
    int32_t want[] = {n_layers, n_heads, n_kv_heads, head_dim};
    for (int i = 0; i < 4; i++)
        if (have[i] != want[i])
            return hy_fail(HY_EMISMATCH, "plan: model %s is %d, the model has %d (shape mismatch)",
                           names[i], have[i], want[i]);
    if (sha256 && sha256[0] && p->model_sha256[0] && strcmp(sha256, p->model_sha256))
        return hy_fail(HY_EMISMATCH, "plan: model sha256 is %s, the model's is %s", p->model_sha256,
                       sha256);
    return HY_OK;
}

hy_status hy_plan_check_context(const hy_plan *p, int64_t n) {
    if ((int64_t)p->k > n)
        return hy_fail(HY_ERANGE, "plan: k %d is larger than the context %lld", p->k, (long long)n);
    return HY_OK;
}
