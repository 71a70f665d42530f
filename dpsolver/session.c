/* dpsolver/session: the path from files to a plan that the CLI and the tests share: read the
 * profile (and cost table), build the problem, solve by the chosen method, fill the plan
 * with the model identity, the profile hash and the solver's numbers. */
#include "hy_dpsolver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hy_status hy_session_open(const char *profile_path, const char *costs_path, double launch_s,
                          const hy_problem_opts *o, hy_session **out) {
    *out = NULL;
    hy_session *s = hy_calloc(1, sizeof *s, "solver session");
    if (!s) return HY_ENOMEM;
    hy_status st = hy_profile_read(profile_path, &s->profile);
    if (!st) st = hy_profile_check_complete(s->profile, profile_path);
    if (!st) st = hy_sha256_file(profile_path, s->profile_sha256);
    if (!st && costs_path) st = hy_costs_read(costs_path, &s->costs);
    if (!st) {
        const hy_profile *p = s->profile;
        /* a table measured on another shape would price the wrong bytes */
        if (s->costs && s->costs->n_kv_heads > 0 &&
            (s->costs->n_kv_heads != p->n_kv_heads || s->costs->head_dim != p->head_dim))
            st = hy_fail(HY_EMISMATCH,
                         "%s: measured for n_kv_heads %d head_dim %d, the profile's "
                         "model has n_kv_heads %d head_dim %d",
                         costs_path, s->costs->n_kv_heads, s->costs->head_dim, p->n_kv_heads,
                         p->head_dim);
        hy_cost_model_init(&s->cm, p->head_dim, p->n_heads, p->n_kv_heads, s->costs);
        s->cm.sliding_window = p->sliding_window, s->cm.swa_period = p->swa_period;
        s->cm.sink = p->sink, s->cm.window = p->window; /* what sparse modes read besides k */
        if (launch_s >= 0) s->cm.launch_s = launch_s;
        hy_problem_opts po = *o;
        if (po.k_into_grid && p->n_k > 0) /* a 16K profile's grid may start above 256 */
            po.k = po.k < p->k_grid[0]            ? p->k_grid[0]
                   : po.k > p->k_grid[p->n_k - 1] ? p->k_grid[p->n_k - 1]
                                                  : po.k;
        if (!st) st = hy_problem_from_profile(p, &s->cm, &po, &s->problem);
        if (!st && o->granularity == HY_SOLVE_HEAD) {
            hy_problem_opts lo = po;
            lo.granularity = HY_SOLVE_LAYER;
            st = hy_problem_from_profile(p, &s->cm, &lo, &s->layer_problem);
        }
    }
    if (st) {
        hy_session_close(s);
        return st;
    }
    *out = s;
    return HY_OK;
}

void hy_session_close(hy_session *s) {
    if (!s) return;
    hy_problem_free(s->problem);
    hy_problem_free(s->layer_problem);
    hy_costs_free(s->costs);
    hy_profile_free(s->profile);
    free(s);
}

/* The DP plan: for head problems the better of the head-chain DP and the layer DP expanded
 * (the head chains round each of their many unit costs up to a budget step, the layer DP
 * rounds fewer, so either can win). */
hy_status hy_dp_solve_best(const hy_problem *pr, const hy_problem *layer_pr, double budget_s,
                           int32_t steps, hy_assign *out, hy_solve_info *info) {
    double t0 = hy_now();
    hy_status st = hy_dp_solve(pr, budget_s, steps, out, info);
    if (!layer_pr) return st;
    hy_assign la, ua;
    hy_solve_info li;
    if (hy_assign_alloc(layer_pr->n_units, &la)) return HY_ENOMEM;
    if (hy_assign_alloc(pr->n_units, &ua)) {
        hy_assign_free(&la);
        return HY_ENOMEM;
    }
    double c, l;
    if (!hy_dp_solve(layer_pr, budget_s, steps, &la, &li) &&
        !hy_assign_expand_layers(&la, pr->heads_per_unit_layer, &ua) &&
        !hy_assign_eval(pr, &ua, &c, &l) && c <= budget_s && (st || l < info->loss)) {
        for (int32_t u = 0; u < ua.n_units; u++)
            out->mode[u] = ua.mode[u], out->src[u] = ua.src[u], out->stride[u] = ua.stride[u];
        *info = (hy_solve_info){.cost = c,
                                .loss = l,
                                .gap = 0,
                                .optimal = true,
                                .status = "optimal",
                                .cheapest = NAN,
                                .method = "dp-layer-expanded"};
        st = HY_OK;
    }
    info->seconds = hy_now() - t0;
    hy_assign_free(&la);
    hy_assign_free(&ua);
    return st;
}

hy_status hy_session_solve(const hy_session *s, const char *method, double budget,
                           bool budget_is_seconds, int32_t dp_steps, const hy_ilp_opts *io,
                           hy_plan **out, hy_solve_info *info) {
    const hy_problem *pr = s->problem;
    if (!(budget > 0)) return hy_fail(HY_EINVAL, "budget %g, expected > 0", budget);
    double budget_s = budget_is_seconds ? budget : budget * pr->dense_total;
    int ilp = !strcmp(method, "ilp");
    if (!ilp && strcmp(method, "dp"))
        return hy_fail(HY_EINVAL, "method \"%s\", expected dp|ilp", method);
    hy_assign dp, best;
    hy_status st = hy_assign_alloc(pr->n_units, &dp);
    if (st) return st;
    if ((st = hy_assign_alloc(pr->n_units, &best))) {
        hy_assign_free(&dp);
        return st;
    }
    hy_solve_info di = {0}, ii = {0};
    st = hy_dp_solve_best(pr, s->layer_problem, budget_s, dp_steps, &dp, &di);
    const char *name = !st && di.method ? di.method : "dp";
    if (ilp) {
        hy_ilp_opts o = *io;
        o.warm = st ? NULL : &dp;
        hy_status is = hy_ilp_solve(pr, budget_s, &o, &best, &ii);
        if (!is) ii.seconds += st ? 0 : di.seconds; /* the warm start is part of the ILP's time */
        st = is;
        name = "ilp";
    }
    if (!st)
        st = hy_assign_to_plan(pr, ilp ? &best : &dp, ilp ? &ii : &di, name,
                               budget_is_seconds ? "seconds" : "fraction", budget, budget_s, out);
    if (!st)
        snprintf((*out)->profile_sha256, sizeof(*out)->profile_sha256, "%s", s->profile_sha256);
    if (!st && info) *info = ilp ? ii : di;
    hy_assign_free(&dp);
    hy_assign_free(&best);
    return st;
}
