/* dpsolver/assign_plan: turns a solver's assignment into a plan (formats/plan) for the
 * problem's profile. Layer units expand to every KV head of the layer; a reuse layer's head
 * h reads the set of head h of its anchor layer, which is what the layer-level loss
 * (/cross_layer, the mean over heads of those pairs) measured. */
#include "hy_dpsolver.h"

#include <math.h>
#include <stdio.h>

hy_status hy_assign_to_plan(const hy_problem *pr, const hy_assign *a, const hy_solve_info *info,
                            const char *method, const char *budget_kind, double budget_value,
                            double budget_s, hy_plan **out) {
    const hy_profile *p = pr->profile;
    if (!p)
        return hy_fail(HY_EINVAL,
                       "plan: the problem has no profile to take the model identity from");
    hy_plan *pl = NULL;
    hy_status st = hy_plan_create(p->n_layers, p->n_heads, p->n_kv_heads, p->head_dim, &pl);
    if (st) return st;
    int32_t H = p->n_kv_heads, head = pr->heads_per_unit_layer > 1;
    snprintf(pl->model_name, sizeof pl->model_name, "%s", p->model_name);
    snprintf(pl->model_sha256, sizeof pl->model_sha256, "%s", p->model_sha256);
    pl->model_ctx_train = p->model_ctx_train;
    pl->k = pr->opts.k, pl->sink = p->sink, pl->window = p->window;
    pl->context = (int32_t)pr->opts.context;
    pl->granularity = HY_GRAN_TOKEN;
    for (int32_t l = 0; l < p->n_layers; l++)
        for (int32_t h = 0; h < H; h++) {
            int32_t u = head ? l * H + h : l;
            hy_plan_unit *x = &pl->units[l * H + h];
            x->mode = (hy_unit_mode)a->mode[u];
            x->refresh = pr->strides[hy_mode_publishes(x->mode) ? a->stride[u] : 0];
            x->src = -1;
            x->qsim = NAN;
            if (a->mode[u] == HY_MODE_REUSE) x->src = head ? a->src[u] : a->src[u] * H + h;
        }
    snprintf(pl->budget_kind, sizeof pl->budget_kind, "%s", budget_kind);
    pl->budget_value = budget_value;
    pl->budget_seconds = budget_s;
    snprintf(pl->solver, sizeof pl->solver, "%s", method);
    snprintf(pl->loss_kind, sizeof pl->loss_kind, "%s",
             pr->opts.loss == HY_LOSS_OUT_ERR ? "out_err" : "recall");
    if (info) {
        snprintf(pl->status, sizeof pl->status, "%s",
                 info->status    ? info->status
                 : info->optimal ? "optimal"
                                 : "feasible");
        pl->gap = info->gap;
        pl->solve_seconds = info->seconds;
        pl->cost_s = info->cost;
        pl->loss = info->loss;
    }
    pl->dense_cost_s = pr->dense_total;
    st = hy_plan_validate(pl);
    if (st) {
        hy_plan_free(pl);
        return hy_fail_ctx(st, "solver produced an invalid plan");
    }
    *out = pl;
    return HY_OK;
}

hy_status hy_assign_expand_layers(const hy_assign *layers, int32_t H, hy_assign *units) {
    if (units->n_units != layers->n_units * H)
        return hy_fail(HY_EMISMATCH, "expand: %d layer units x %d heads != %d units",
                       layers->n_units, H, units->n_units);
    for (int32_t l = 0; l < layers->n_units; l++)
        for (int32_t h = 0; h < H; h++) {
            int32_t u = l * H + h;
            units->mode[u] = layers->mode[l];
            units->stride[u] = layers->stride[l];
            units->src[u] = layers->mode[l] == HY_MODE_REUSE ? layers->src[l] * H + h : -1;
        }
    return HY_OK;
}
