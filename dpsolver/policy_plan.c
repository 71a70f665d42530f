/* dpsolver/policy_plan: the peers' policies written as plans (one mode per unit), priced by
 * the same cost model as solver plans, and fitted to a cost budget by their free parameter
 * (W or k) so that methods are compared at matched predicted cost. docs/policies.md. */
#include "hy_policy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static hy_status check_shape(const hy_policy_shape *s) {
    if (s->context <= 0 || s->sink < 0 || s->window < 0)
        return hy_fail(HY_EINVAL,
                       "policy: context %d sink %d window %d, expected context > 0, "
                       "sink and window >= 0",
                       s->context, s->sink, s->window);
    return HY_OK;
}

/* Parameter checks a parsed spec already passed, repeated for hand-made policies, plus those
 * that depend on the shape (k and L2 against the context and the layer count). */
static bool window_layer(const hy_policy_shape *s, int32_t l) {
    return s->sliding_window > 0 && (s->swa_period <= 0 || (l + 1) % s->swa_period != 0);
}

static hy_status check_params(const hy_policy *p, const hy_policy_shape *s) {
    char spec[64];
    hy_policy_format(p, spec, sizeof spec);
    int sparse =
        p->kind == HY_POLICY_QUEST || p->kind == HY_POLICY_TIDAL || p->kind == HY_POLICY_RECYCLED;
    if (p->kind == HY_POLICY_WINDOW && p->window < 0)
        return hy_fail(HY_EINVAL, "policy %s: W %d, expected >= 0", spec, p->window);
    if (sparse && (p->k < 1 || p->k > s->context))
        return hy_fail(HY_ERANGE, "policy %s: k %d, expected 1..%d (the context)", spec, p->k,
                       s->context);
    if (p->kind == HY_POLICY_QUEST && p->page_size < 1)
        return hy_fail(HY_EINVAL, "policy %s: page size P %d, expected >= 1", spec, p->page_size);
    if (p->kind == HY_POLICY_RECYCLED && p->stride < 1)
        return hy_fail(HY_EINVAL, "policy %s: stride s %d, expected >= 1", spec, p->stride);
    if (p->kind == HY_POLICY_TIDAL &&
        (p->dense_layers < 0 || p->reselect <= p->dense_layers || p->reselect >= s->n_layers))
        return hy_fail(HY_ERANGE, "policy %s: L1 %d L2 %d, expected 0 <= L1 < L2 < n_layers (%d)",
                       spec, p->dense_layers, p->reselect, s->n_layers);
    if (p->kind == HY_POLICY_TIDAL &&
        (window_layer(s, p->dense_layers) || window_layer(s, p->reselect)))
        return hy_fail(HY_ERANGE,
                       "policy %s: L1 %d and L2 %d must be global layers: this model's layers "
                       "are sliding-window ones but every %d-th",
                       spec, p->dense_layers, p->reselect, s->swa_period);
    return HY_OK;
}

static void set_units(const hy_policy *p, const hy_policy_shape *s, hy_plan *pl) {
    int32_t H = pl->n_kv_heads;
    for (int32_t l = 0; l < pl->n_layers; l++)
        for (int32_t h = 0; h < H; h++) {
            hy_plan_unit *x = &pl->units[l * H + h];
            *x = (hy_plan_unit){HY_MODE_DENSE, -1, 1, NAN};
            /* a sliding-window layer already attends to its window only: it stays dense
             * (the runtime refuses sets there) */
            if (window_layer(s, l) && p->kind != HY_POLICY_WINDOW) continue;
            switch (p->kind) {
            case HY_POLICY_WINDOW:
                x->mode = HY_MODE_WINDOW;
                break;
            case HY_POLICY_QUEST:
                x->mode = HY_MODE_BOUNDS;
                break;
            case HY_POLICY_RECYCLED:
                x->mode = HY_MODE_SELECT, x->refresh = p->stride;
                break;
            case HY_POLICY_TIDAL:
                if (l == p->dense_layers || l == p->reselect)
                    x->mode = HY_MODE_SELECT;
                else if (l > p->dense_layers)
                    x->mode = HY_MODE_REUSE,
                    x->src = (l > p->reselect ? p->reselect : p->dense_layers) * H + h;
                break;
            default:
                break;
            }
        }
}

static hy_status from_file(const hy_policy *p, const hy_policy_shape *s, hy_plan **out) {
    hy_status st = hy_plan_read(p->path, out);
    if (!st)
        st = hy_plan_check_model(*out, s->model_sha256, s->n_layers, s->n_heads, s->n_kv_heads,
                                 s->head_dim);
    if (st) {
        hy_plan_free(*out);
        *out = NULL;
        return hy_fail_ctx(st, "policy plan:%s", p->path);
    }
    return HY_OK;
}

hy_status hy_policy_plan(const hy_policy *p, const hy_policy_shape *s, const hy_cost_model *cm,
                         hy_plan **out) {
    *out = NULL;
    if (p->kind == HY_POLICY_PLAN) return from_file(p, s, out);
    if ((int)p->kind < 0 || p->kind > HY_POLICY_PLAN)
        return hy_fail(HY_EINVAL, "policy: kind %d, expected 0..%d", (int)p->kind,
                       (int)HY_POLICY_PLAN);
    hy_status st = check_shape(s);
    if (!st) st = check_params(p, s);
    if (st) return st;
    hy_plan *pl = NULL;
    if ((st = hy_plan_create(s->n_layers, s->n_heads, s->n_kv_heads, s->head_dim, &pl))) return st;
    char spec[64];
    hy_policy_format(p, spec, sizeof spec);
    snprintf(pl->model_name, sizeof pl->model_name, "%s", s->model_name ? s->model_name : "");
    snprintf(pl->model_sha256, sizeof pl->model_sha256, "%s",
             s->model_sha256 ? s->model_sha256 : "");
    /* dense and window plans publish no set: k is 1, unused */
    pl->k = p->kind == HY_POLICY_DENSE || p->kind == HY_POLICY_WINDOW ? 1 : p->k;
    pl->sink = s->sink;
    pl->window = p->kind == HY_POLICY_WINDOW ? p->window : s->window;
    pl->context = s->context;
    if (p->kind == HY_POLICY_QUEST) pl->granularity = HY_GRAN_PAGE, pl->page_size = p->page_size;
    set_units(p, s, pl);
    snprintf(pl->solver, sizeof pl->solver, "policy:%.*s", (int)strcspn(spec, ":"), spec);
    pl->budget_kind[0] = 0, pl->loss_kind[0] = 0, pl->status[0] = 0;
    pl->budget_value = pl->budget_seconds = pl->gap = pl->loss = NAN;
    pl->solve_seconds = 0;
    st = hy_plan_validate(pl);
    if (!st) st = hy_plan_predict_cost(cm, pl, s->context, &pl->cost_s, &pl->dense_cost_s);
    if (st) {
        hy_plan_free(pl);
        return hy_fail_ctx(st, "policy %s", spec);
    }
    *out = pl;
    return HY_OK;
}

/* The policy's free parameter: W for window, k otherwise. */
static int32_t *free_param(hy_policy *p) {
    return p->kind == HY_POLICY_WINDOW ? &p->window : &p->k;
}

/* Predicted fraction of dense of p at the shape's context. */
static hy_status fraction(const hy_policy *p, const hy_policy_shape *s, const hy_cost_model *cm,
                          double *f) {
    hy_plan *pl = NULL;
    hy_status st = hy_policy_plan(p, s, cm, &pl);
    if (st) return st;
    *f = pl->cost_s / pl->dense_cost_s;
    hy_plan_free(pl);
    return HY_OK;
}

hy_status hy_policy_fit(hy_policy *p, const hy_policy_shape *s, const hy_cost_model *cm,
                        double budget_frac) {
    if (p->kind == HY_POLICY_DENSE || p->kind == HY_POLICY_PLAN) return HY_OK;
    if (!(budget_frac > 0) || !isfinite(budget_frac))
        return hy_fail(HY_EINVAL, "policy fit: budget %g, expected a fraction of dense > 0",
                       budget_frac);
    hy_status st = check_shape(s);
    if (st) return st;
    hy_policy q = *p;
    int32_t *v = free_param(&q);
    /* the smallest value: no window, or one page / one token per set; the largest: the
     * context (costs are flat beyond it), and for a set of tokens the runtime's top-k limit
     * (a quest set counts pages, so it stays below it at any context this runs at) */
    int32_t lo = p->kind == HY_POLICY_WINDOW ? 0 : p->kind == HY_POLICY_QUEST ? p->page_size : 1;
    int32_t hi = s->context;
    if (p->kind != HY_POLICY_WINDOW && p->kind != HY_POLICY_QUEST && hi > HY_POLICY_MAX_K)
        hi = HY_POLICY_MAX_K;
    if (lo > hi) lo = hi;
    double f;
    *v = lo;
    if ((st = fraction(&q, s, cm, &f))) return hy_fail_ctx(st, "policy fit");
    if (f > budget_frac) {
        char spec[64];
        hy_policy_format(&q, spec, sizeof spec);
        return hy_fail(HY_ESOLVER,
                       "policy fit: budget %.4g of dense is out of reach: the cheapest reachable "
                       "fraction is %.4g (%s at context %d)",
                       budget_frac, f, spec, s->context);
    }
    /* costs grow with the parameter: the largest value within the budget, invariant
     * fraction(lo) <= budget < fraction(hi + 1) */
    while (lo < hi) {
        int32_t mid = lo + (hi - lo + 1) / 2;
        *v = mid;
        if ((st = fraction(&q, s, cm, &f))) return hy_fail_ctx(st, "policy fit");
        if (f <= budget_frac)
            lo = mid;
        else
            hi = mid - 1;
    }
    *free_param(p) = lo;
    return HY_OK;
}
