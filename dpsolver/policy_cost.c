/* dpsolver/policy_cost: the predicted attention seconds per decode step of any plan, so that
 * solver plans and peer-policy plans are priced by one cost model (cost.c) with the plan's
 * own sink, window, k and pages. Formulas: docs/policies.md. */
#include "hy_policy.h"

#include <math.h>

/* Layer costs of one plan at context n, per mode; NaN for modes the plan does not use. */
typedef struct {
    double mode[HY_MODE_COUNT];
} layer_costs;

static hy_status price_modes(const hy_cost_model *cm, const hy_plan *plan, int64_t n,
                             layer_costs *lc) {
    int used[HY_MODE_COUNT] = {0};
    for (int32_t u = 0; u < hy_plan_n_units(plan); u++)
        used[plan->units[u].mode] = 1;
    used[HY_MODE_DENSE] = 1;
    /* a publishing unit that refreshes rarely attends to its own last set in between */
    for (int32_t u = 0; u < hy_plan_n_units(plan); u++)
        if (hy_mode_publishes(plan->units[u].mode))
            used[HY_MODE_REUSE] |= plan->units[u].refresh != 1;
    int64_t k = plan->k;
    /* a page set keeps ceil(k / P) whole pages: reuse and select move that many tokens */
    if (plan->granularity == HY_GRAN_PAGE && plan->page_size > 0)
        k = (k + plan->page_size - 1) / plan->page_size * plan->page_size;
    if (plan->k <= n && k > n) k = n; /* (a k above n itself is refused by hy_cost_layer) */
    for (int m = 0; m < HY_MODE_COUNT; m++) {
        lc->mode[m] = NAN;
        if (!used[m]) continue;
        /* bounds prices its own pages from the unrounded k */
        int64_t km = m == HY_MODE_BOUNDS ? plan->k : k;
        hy_status st = hy_cost_layer(cm, (hy_unit_mode)m, n, km, &lc->mode[m]);
        if (st)
            return hy_fail_ctx(st, "pricing the plan's %s units",
                               hy_unit_mode_name((hy_unit_mode)m));
    }
    return HY_OK;
}

hy_status hy_plan_predict_cost(const hy_cost_model *cm, const hy_plan *plan, int64_t n,
                               double *cost_s, double *dense_s) {
    if (n <= 0) return hy_fail(HY_EINVAL, "predict cost: context %lld, expected > 0", (long long)n);
    if (cm->n_kv_heads != plan->n_kv_heads || cm->head_dim != plan->head_dim)
        return hy_fail(HY_EMISMATCH,
                       "predict cost: the cost model is for n_kv_heads %d head_dim %d, the "
                       "plan's model has n_kv_heads %d head_dim %d",
                       cm->n_kv_heads, cm->head_dim, plan->n_kv_heads, plan->head_dim);
    hy_status st = hy_plan_validate(plan);
    if (st) return hy_fail_ctx(st, "predict cost");
    hy_cost_model m = *cm;
    m.sink = plan->sink, m.window = plan->window;
    if (plan->granularity == HY_GRAN_PAGE) m.page_size = plan->page_size;
    layer_costs lc;
    if ((st = price_modes(&m, plan, n, &lc))) return st;
    /* a dense unit of a sliding-window layer reads its window only */
    const bool swa = cm->sliding_window > 0 && cm->sliding_window < n;
    double dense_w = lc.mode[HY_MODE_DENSE];
    if (swa &&
        (st = hy_cost_layer(&m, HY_MODE_DENSE, cm->sliding_window,
                            plan->k < cm->sliding_window ? plan->k : cm->sliding_window, &dense_w)))
        return st;
    double H = plan->n_kv_heads, total = 0, dense_total = 0;
    for (int32_t l = 0; l < plan->n_layers; l++) {
        const bool w = swa && (cm->swa_period <= 0 || (l + 1) % cm->swa_period != 0);
        dense_total += w ? dense_w : lc.mode[HY_MODE_DENSE];
    }
    for (int32_t u = 0; u < hy_plan_n_units(plan); u++) {
        const hy_plan_unit *x = &plan->units[u];
        const int32_t l = u / plan->n_kv_heads;
        const bool w = swa && (cm->swa_period <= 0 || (l + 1) % cm->swa_period != 0);
        double c = w && x->mode == HY_MODE_DENSE ? dense_w : lc.mode[x->mode];
        if (hy_mode_publishes(x->mode) && x->refresh > 1) {
            double s = x->refresh; /* qsim (refresh 0) is priced as every step: an upper bound */
            c = (c + (s - 1.0) * lc.mode[HY_MODE_REUSE]) / s;
        }
        total += c / H;
    }
    *cost_s = total;
    *dense_s = dense_total;
    return HY_OK;
}
