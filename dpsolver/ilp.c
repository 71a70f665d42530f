/* dpsolver/ilp: unit-level facility location solved with GLPK. Facilities are (unit,
 * stride) select choices; every unit is dense, a facility, or served by one open facility
 * among its pruned candidate sources; one knapsack row holds the budget. The DP's plan is
 * handed to branch-and-bound as the first incumbent, so the ILP is never worse than it.
 * GLPK prints nothing (terminal output off); it aborts on API misuse, so inputs are checked
 * before they reach it. */
#include "hy_dpsolver.h"

#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hy_ilp_opts_default(hy_ilp_opts *o) {
    *o = (hy_ilp_opts){.max_candidates = 24,
                       .time_limit_s = 60.0,
                       .mip_gap = 1e-4,
                       .chain_only = false,
                       .warm = NULL,
                       .verbose = false};
}

typedef struct {
    const hy_problem *pr;
    int32_t U, S;
    int *col_d, *col_x; /* [U], [U*S] */
    int32_t *cand_off;  /* [U+1] into cand */
    int32_t *cand;      /* candidate sources of each unit */
    int *col_y;         /* [n_cand * S] */
    int ncols;
    /* callback state */
    const hy_assign *warm;
    int warm_given;
    double last_gap;
} model;

static void model_free(model *m) {
    free(m->col_d), free(m->col_x), free(m->cand_off), free(m->cand), free(m->col_y);
}

typedef struct {
    float loss;
    int32_t u;
} scand;

static int cmp_cand(const void *a, const void *b) {
    const scand *x = a, *y = b;
    return x->loss < y->loss ? -1 : x->loss > y->loss ? 1 : x->u - y->u;
}

/* Sources a unit may reuse: allowed pairs, lowest loss first, at most max_candidates, plus
 * whatever the warm start uses (so it stays representable). */
static hy_status pick_candidates(model *m, const hy_ilp_opts *o) {
    const hy_problem *pr = m->pr;
    int32_t U = m->U, cap = o->max_candidates > 0 ? o->max_candidates : U;
    scand *tmp = malloc((size_t)U * sizeof *tmp);
    m->cand_off = calloc((size_t)U + 1, sizeof(int32_t));
    m->cand = malloc((size_t)U * (size_t)(cap + 1) * sizeof(int32_t));
    if (!tmp || !m->cand_off || !m->cand) {
        free(tmp);
        return hy_fail(HY_ENOMEM, "ilp: out of memory for candidates");
    }
    int32_t n = 0;
    for (int32_t v = 0; v < U; v++) {
        m->cand_off[v] = n;
        if (pr->sensitive[v]) continue;
        int32_t c = 0;
        for (int32_t u = 0; u < U; u++) {
            float l = pr->loss[(size_t)u * U + v];
            if (u != v && !isnan(l)) tmp[c++] = (scand){l, u};
        }
        qsort(tmp, (size_t)c, sizeof *tmp, cmp_cand);
        int32_t keep = c < cap ? c : cap;
        for (int32_t i = 0; i < keep; i++)
            m->cand[n++] = tmp[i].u;
        if (o->warm && o->warm->mode[v] == HY_MODE_REUSE) {
            int32_t w = o->warm->src[v], have = 0;
            for (int32_t i = m->cand_off[v]; i < n; i++)
                have |= m->cand[i] == w;
            if (!have) m->cand[n++] = w;
        }
    }
    m->cand_off[U] = n;
    free(tmp);
    return HY_OK;
}

/* Builds the LP; budget_s = INFINITY drops the budget row; cost_objective minimises cost
 * instead of loss. */
static hy_status build(glp_prob *lp, model *m, const hy_ilp_opts *o, double budget_s,
                       int cost_objective) {
    const hy_problem *pr = m->pr;
    int32_t U = m->U, S = m->S, nc = m->cand_off[U];
    m->col_d = malloc((size_t)U * sizeof(int));
    m->col_x = malloc((size_t)U * S * sizeof(int));
    m->col_y = malloc(((size_t)nc * S + 1) * sizeof(int));
    if (!m->col_d || !m->col_x || !m->col_y) return hy_fail(HY_ENOMEM, "ilp: out of memory");
    glp_set_obj_dir(lp, GLP_MIN);
    int total = U + U * S + nc * S;
    glp_add_cols(lp, total);
    /* costs enter GLPK as fractions of all-dense: in seconds a unit's cost can be 1e-8, under
     * GLPK's feasibility tolerance (1e-7), which made small problems look infeasible */
    const double cs = pr->dense_total > 0 ? 1.0 / pr->dense_total : 1.0;
    int c = 1;
    for (int32_t v = 0; v < U; v++) {
        m->col_d[v] = c;
        glp_set_col_kind(lp, c, GLP_BV);
        glp_set_obj_coef(lp, c, cost_objective ? pr->cost_dense[v] * cs : 0.0);
        c++;
        for (int32_t s = 0; s < S; s++, c++) {
            m->col_x[v * S + s] = c;
            glp_set_col_kind(lp, c, GLP_BV);
            const double own = pr->own_pen[(size_t)v * S + s];
            if ((s > 0 && pr->sensitive[v]) || !isfinite(own))
                glp_set_col_bnds(lp, c, GLP_FX, 0.0, 0.0); /* full attention / not measured */
            glp_set_obj_coef(lp, c,
                             cost_objective  ? hy_problem_select_cost(pr, v, s) * cs
                             : isfinite(own) ? pr->stride_pen[(size_t)v * S + s] + own
                                             : 0.0);
        }
    }
    for (int32_t v = 0; v < U; v++)
        for (int32_t i = m->cand_off[v]; i < m->cand_off[v + 1]; i++)
            for (int32_t s = 0; s < S; s++, c++) {
                int32_t u = m->cand[i];
                m->col_y[(size_t)i * S + s] = c;
                glp_set_col_kind(lp, c, GLP_BV);
                glp_set_obj_coef(lp, c,
                                 cost_objective ? pr->cost_reuse[v] * cs
                                                : pr->loss[(size_t)u * U + v] +
                                                      pr->stride_pen[(size_t)u * S + s]);
            }
    m->ncols = total;
    /* rows: one assignment row per unit, one link row per y, the budget, chain rows */
    int nz_cap = total * 4 + 16; /* assignment + budget rows: 1 each per column; links: 2 per y */
    int *ia = malloc(((size_t)nz_cap + 1) * sizeof(int)),
        *ja = malloc(((size_t)nz_cap + 1) * sizeof(int));
    double *ar = malloc(((size_t)nz_cap + 1) * sizeof(double));
    if (!ia || !ja || !ar) {
        free(ia), free(ja), free(ar);
        return hy_fail(HY_ENOMEM, "ilp: out of memory");
    }
    int nz = 0, r = glp_add_rows(lp, U);
    for (int32_t v = 0; v < U; v++, r++) {
        glp_set_row_bnds(lp, r, GLP_FX, 1.0, 1.0);
        ia[++nz] = r, ja[nz] = m->col_d[v], ar[nz] = 1;
        for (int32_t s = 0; s < S; s++)
            ia[++nz] = r, ja[nz] = m->col_x[v * S + s], ar[nz] = 1;
        for (int32_t i = m->cand_off[v]; i < m->cand_off[v + 1]; i++)
            for (int32_t s = 0; s < S; s++)
                ia[++nz] = r, ja[nz] = m->col_y[(size_t)i * S + s], ar[nz] = 1;
    }
    if (nc * S > 0) r = glp_add_rows(lp, nc * S);
    for (int32_t v = 0; v < U; v++)
        for (int32_t i = m->cand_off[v]; i < m->cand_off[v + 1]; i++)
            for (int32_t s = 0; s < S; s++, r++) {
                glp_set_row_bnds(lp, r, GLP_UP, 0.0, 0.0);
                ia[++nz] = r, ja[nz] = m->col_y[(size_t)i * S + s], ar[nz] = 1;
                ia[++nz] = r, ja[nz] = m->col_x[m->cand[i] * S + s], ar[nz] = -1;
            }
    if (isfinite(budget_s)) {
        r = glp_add_rows(lp, 1);
        glp_set_row_name(lp, r, "budget");
        glp_set_row_bnds(lp, r, GLP_UP, 0.0, budget_s * cs);
        for (int32_t v = 0; v < U; v++) {
            ia[++nz] = r, ja[nz] = m->col_d[v], ar[nz] = pr->cost_dense[v] * cs;
            for (int32_t s = 0; s < S; s++)
                ia[++nz] = r, ja[nz] = m->col_x[v * S + s],
                ar[nz] = hy_problem_select_cost(pr, v, s) * cs;
            for (int32_t i = m->cand_off[v]; i < m->cand_off[v + 1]; i++)
                for (int32_t s = 0; s < S; s++)
                    ia[++nz] = r, ja[nz] = m->col_y[(size_t)i * S + s],
                    ar[nz] = pr->cost_reuse[v] * cs;
        }
    }
    glp_load_matrix(lp, nz, ia, ja, ar);
    free(ia), free(ja), free(ar);
    if (!o->chain_only) return HY_OK;
    /* chain: a unit may only reuse the latest select unit before it (docs/design.md's DP) */
    int ind[3 + 64];
    double val[3 + 64];
    for (int32_t v = 0; v < U; v++)
        for (int32_t i = m->cand_off[v]; i < m->cand_off[v + 1]; i++)
            for (int32_t w = m->cand[i] + 1; w < v; w++) {
                if (S > 64) return hy_fail(HY_EINVAL, "ilp: chain rows support at most 64 strides");
                int k = 0;
                for (int32_t s = 0; s < S; s++)
                    ind[++k] = m->col_y[(size_t)i * S + s], val[k] = 1;
                for (int32_t s = 0; s < S; s++)
                    ind[++k] = m->col_x[w * S + s], val[k] = 1;
                r = glp_add_rows(lp, 1);
                glp_set_row_bnds(lp, r, GLP_UP, 0.0, 1.0);
                glp_set_mat_row(lp, r, k, ind, val);
            }
    return HY_OK;
}

/* Column values of an assignment, for the heuristic-solution hook. */
static int warm_vector(const model *m, const hy_assign *a, double *x) {
    int32_t U = m->U, S = m->S;
    for (int i = 0; i <= m->ncols; i++)
        x[i] = 0;
    for (int32_t v = 0; v < U; v++) {
        if (a->mode[v] == HY_MODE_DENSE)
            x[m->col_d[v]] = 1;
        else if (hy_mode_publishes((hy_unit_mode)a->mode[v]))
            x[m->col_x[v * S + a->stride[v]]] = 1;
        else {
            int found = 0;
            for (int32_t i = m->cand_off[v]; i < m->cand_off[v + 1]; i++)
                if (m->cand[i] == a->src[v])
                    x[m->col_y[(size_t)i * S + a->stride[a->src[v]]]] = 1, found = 1;
            if (!found) return 0;
        }
    }
    return 1;
}

static void callback(glp_tree *tree, void *info) {
    model *m = info;
    int reason = glp_ios_reason(tree);
    if (reason == GLP_IHEUR && m->warm && !m->warm_given) {
        m->warm_given = 1;
        double *x = malloc(((size_t)m->ncols + 1) * sizeof(double));
        if (x && warm_vector(m, m->warm, x)) glp_ios_heur_sol(tree, x);
        free(x);
    }
    if (reason == GLP_ISELECT || reason == GLP_IBINGO) {
        double g = glp_ios_mip_gap(tree);
        if (isfinite(g)) m->last_gap = g;
    }
}

static hy_status run(const hy_problem *pr, double budget_s, const hy_ilp_opts *o,
                     int cost_objective, hy_assign *out, hy_solve_info *info) {
    double t0 = hy_now();
    if (pr->n_units > 8192) return hy_fail(HY_EINVAL, "ilp: %d units, at most 8192", pr->n_units);
    model m = {.pr = pr, .U = pr->n_units, .S = pr->n_strides, .warm = o->warm, .last_gap = NAN};
    glp_term_out(o->verbose || getenv("HY_ILP_VERBOSE") ? GLP_ON : GLP_OFF);
    hy_status st = pick_candidates(&m, o);
    glp_prob *lp = glp_create_prob();
    if (!st) st = build(lp, &m, o, budget_s, cost_objective);
    if (st) {
        glp_delete_prob(lp);
        model_free(&m);
        return st;
    }
    glp_smcp sm;
    glp_init_smcp(&sm);
    sm.msg_lev = o->verbose ? GLP_MSG_ON : GLP_MSG_OFF;
    sm.tm_lim = (int)fmin(o->time_limit_s * 1000.0, 2e9);
    sm.meth = getenv("HY_ILP_PRIMAL") ? GLP_PRIMAL : GLP_DUALP;
    int ret = glp_simplex(lp, &sm);
    int lps = glp_get_status(lp);
    if (ret == GLP_ETMLIM && o->warm) {
        /* the relaxation alone ran out of time: the warm start is the answer, gap unknown */
        glp_delete_prob(lp);
        model_free(&m);
        for (int32_t v = 0; v < pr->n_units; v++)
            out->mode[v] = o->warm->mode[v], out->src[v] = o->warm->src[v],
            out->stride[v] = o->warm->stride[v];
        hy_solve_info in = {
            .gap = NAN, .optimal = false, .status = "time_limit", .method = "ilp", .cheapest = NAN};
        hy_status st2 = hy_assign_eval(pr, out, &in.cost, &in.loss);
        in.seconds = hy_now() - t0;
        if (info) *info = in;
        return st2;
    }
    if (ret != 0 || lps == GLP_NOFEAS || lps == GLP_INFEAS) {
        glp_delete_prob(lp);
        model_free(&m);
        return hy_fail(HY_ESOLVER, "ilp: LP relaxation %s (glpk ret %d, status %d)",
                       lps == GLP_NOFEAS ? "infeasible: no plan fits the budget" : "failed", ret,
                       lps);
    }
    glp_iocp io;
    glp_init_iocp(&io);
    io.msg_lev = o->verbose ? GLP_MSG_ON : GLP_MSG_OFF;
    /* the limit covers the whole solve: what the LP relaxation used is taken off, and 1 %
     * is kept for GLPK to finish the node it is in when the clock runs out */
    io.tm_lim = (int)fmax(500.0, fmin((0.99 * o->time_limit_s - (hy_now() - t0)) * 1000.0, 2e9));
    io.mip_gap = o->mip_gap;
    io.br_tech = GLP_BR_DTH;
    io.bt_tech = GLP_BT_BLB;
    io.mir_cuts = getenv("HY_ILP_MIR") ? GLP_ON : GLP_OFF;
    /* Gomory cuts close the gap of the middle budgets, where the LP relaxation splits units
     * between modes: on the demo's SmolLM2 profile 3 of 6 pareto points hit a 5 s limit
     * without them (gaps up to 0.08) and 2 with them (up to 0.025); docs/solver.md */
    io.gmi_cuts = GLP_ON;
    io.cb_func = callback;
    io.cb_info = &m;
    ret = glp_intopt(lp, &io);
    int ms = glp_mip_status(lp);
    if (ms != GLP_OPT && ms != GLP_FEAS) {
        glp_delete_prob(lp);
        model_free(&m);
        return hy_fail(HY_ESOLVER, "ilp: no integer solution (glpk ret %d, status %d%s)", ret, ms,
                       ret == GLP_ETMLIM ? ", time limit hit" : "");
    }
    for (int32_t v = 0; v < m.U; v++) {
        out->mode[v] = HY_MODE_DENSE, out->src[v] = -1, out->stride[v] = 0;
        for (int32_t s = 0; s < m.S; s++)
            if (glp_mip_col_val(lp, m.col_x[v * m.S + s]) > 0.5)
                out->mode[v] = pr->choice_mode[s], out->stride[v] = s;
        for (int32_t i = m.cand_off[v]; i < m.cand_off[v + 1]; i++)
            for (int32_t s = 0; s < m.S; s++)
                if (glp_mip_col_val(lp, m.col_y[(size_t)i * m.S + s]) > 0.5)
                    out->mode[v] = HY_MODE_REUSE, out->src[v] = m.cand[i];
    }
    hy_solve_info in = {0};
    in.optimal = ms == GLP_OPT && ret == 0;
    in.method = "ilp";
    in.status = in.optimal ? "optimal" : ret == GLP_ETMLIM ? "time_limit" : "within_gap";
    in.gap = in.optimal ? 0.0 : (isfinite(m.last_gap) ? m.last_gap : NAN);
    if (ret == 0 && ms == GLP_OPT && io.mip_gap > 0 && isfinite(m.last_gap) &&
        m.last_gap <= io.mip_gap)
        in.gap = m.last_gap;
    glp_delete_prob(lp);
    model_free(&m);
    st = hy_assign_eval(pr, out, &in.cost, &in.loss);
    if (st) return hy_fail_ctx(st, "ilp produced an illegal assignment");
    in.seconds = hy_now() - t0, in.cheapest = NAN;
    if (info) *info = in;
    return HY_OK;
}

hy_status hy_ilp_cheapest(const hy_problem *pr, const hy_ilp_opts *o, double *cost) {
    hy_assign a;
    hy_status st = hy_assign_alloc(pr->n_units, &a);
    if (st) return st;
    hy_ilp_opts oo = *o;
    oo.warm = NULL;
    hy_solve_info info;
    st = run(pr, INFINITY, &oo, 1, &a, &info);
    if (!st) *cost = info.cost;
    hy_assign_free(&a);
    return st;
}

hy_status hy_ilp_solve(const hy_problem *pr, double budget_s, const hy_ilp_opts *o, hy_assign *out,
                       hy_solve_info *info) {
    if (!(budget_s > 0)) return hy_fail(HY_EINVAL, "ilp: budget %g s, expected > 0", budget_s);
    if (o->warm) {
        double c, l;
        hy_status st = hy_assign_eval(pr, o->warm, &c, &l);
        if (st) return hy_fail_ctx(st, "ilp warm start");
        if (c > budget_s * (1 + 1e-12))
            return hy_fail(HY_EINVAL, "ilp: warm start costs %g s, over the budget %g s", c,
                           budget_s);
    }
    hy_status st = run(pr, budget_s, o, 0, out, info);
    if (st == HY_ESOLVER && strstr(hy_last_error(), "infeasible")) {
        double cheap = NAN;
        char pruned[160] = "";
        if (o->max_candidates > 0)
            snprintf(pruned, sizeof pruned,
                     " (with each unit's reuse sources pruned to the %d best; --candidates 0 "
                     "considers them all and may reach lower)",
                     o->max_candidates);
        if (!hy_ilp_cheapest(pr, o, &cheap))
            return hy_fail(
                HY_ESOLVER,
                "budget %.4g s (%.4g of dense %.4g s) is infeasible: the cheapest feasible "
                "plan costs %.4g s (%.4g of dense)%s; ask for at least that budget",
                budget_s, budget_s / pr->dense_total, pr->dense_total, cheap,
                cheap / pr->dense_total, pruned);
    }
    return st;
}
