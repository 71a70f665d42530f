/* dpsolver/dp: the exact chain DP. Units are taken in order; the state is the most recent
 * select unit and its choice (the selector mode and refresh stride: hy_problem's choices), so
 * a reuse unit's loss is loss(anchor -> unit). The
 * budget is discretised (costs rounded up, so the plan never exceeds it) and the table is
 * indexed by the budget used exactly, which also yields the whole frontier in one pass.
 * Head problems run one chain per KV head and combine frontiers by min-plus convolution. */
#include "hy_dpsolver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ACT_DENSE = 1, ACT_REUSE = 2 };

typedef struct {
    const hy_problem *pr;
    const int32_t *units; /* chain, in execution order */
    int32_t m, S, B, n_states;
    int32_t *cd, *cr, *cs; /* integer costs: dense, reuse, select[m*S] */
    double *f, *g;         /* [n_states][B+1] */
    uint8_t *act;          /* [m][n_states][B+1]: how a non-new state was reached */
    int32_t *prev;         /* [m][S][B+1]: previous state of a new select state */
    double *fmin;          /* [B+1] scratch: best over states per budget */
    int32_t *farg;         /* [B+1] scratch: its state */
} chain;

static inline int8_t pr_choice_mode(const hy_problem *pr, int32_t s) {
    return pr->choice_mode[s];
}

/* Costs in budget steps: rounded up (a plan that fits never exceeds the budget) or down (every
 * plan that truly fits is representable; the caller checks the true cost). */
static int32_t to_int(double c, double step, int down) {
    double q = down ? floor(c / step + 1e-9) : ceil(c / step - 1e-9);
    return q < 0 ? 0 : q > 1e9 ? 1000000000 : (int32_t)q;
}

static void chain_free(chain *c) {
    free(c->cd), free(c->cr), free(c->cs), free(c->f), free(c->g), free(c->act), free(c->prev);
    free(c->fmin), free(c->farg);
}

static hy_status chain_init(chain *c, const hy_problem *pr, const int32_t *units, int32_t m,
                            double step, int32_t B, int down) {
    memset(c, 0, sizeof *c);
    c->pr = pr, c->units = units, c->m = m, c->S = pr->n_strides, c->B = B;
    c->n_states = 1 + m * c->S;
    size_t W = (size_t)B + 1, NS = (size_t)c->n_states;
    c->cd = hy_malloc((size_t)m * sizeof(int32_t), "dp costs");
    c->cr = hy_malloc((size_t)m * sizeof(int32_t), "dp costs");
    c->cs = hy_malloc((size_t)m * (size_t)c->S * sizeof(int32_t), "dp costs");
    c->f = hy_malloc(NS * W * sizeof(double), "dp table");
    c->g = hy_malloc(NS * W * sizeof(double), "dp table");
    c->act = hy_calloc((size_t)m * NS * W, 1, "dp choices");
    c->prev = hy_malloc((size_t)m * (size_t)c->S * W * sizeof(int32_t), "dp choices");
    c->fmin = hy_malloc(W * sizeof(double), "dp scratch");
    c->farg = hy_malloc(W * sizeof(int32_t), "dp scratch");
    if (!c->cd || !c->cr || !c->cs || !c->f || !c->g || !c->act || !c->prev || !c->fmin ||
        !c->farg) {
        chain_free(c);
        return HY_ENOMEM;
    }
    for (int32_t j = 0; j < m; j++) {
        int32_t u = units[j];
        c->cd[j] = to_int(pr->cost_dense[u], step, down);
        c->cr[j] = to_int(pr->cost_reuse[u], step, down);
        for (int32_t s = 0; s < c->S; s++)
            c->cs[j * c->S + s] = to_int(hy_problem_select_cost(pr, u, s), step, down);
    }
    return HY_OK;
}

static inline void relax(double *g, uint8_t *act, size_t i, double v, uint8_t a) {
    if (v < g[i]) g[i] = v, act[i] = a;
}

/* Fills f with the best loss of every (state, budget used) after the whole chain. */
static void chain_run(chain *c) {
    const hy_problem *pr = c->pr;
    size_t W = (size_t)c->B + 1;
    int32_t U = pr->n_units, S = c->S;
    for (size_t i = 0; i < (size_t)c->n_states * W; i++)
        c->f[i] = INFINITY;
    c->f[0] = 0.0; /* no anchor, nothing spent */
    double *fmin = c->fmin;
    int32_t *farg = c->farg;
    for (int32_t j = 0; j < c->m; j++) {
        int32_t v = c->units[j];
        uint8_t *act = c->act + (size_t)j * c->n_states * W;
        for (size_t i = 0; i < (size_t)c->n_states * W; i++)
            c->g[i] = INFINITY;
        int32_t live = 1 + j * S; /* states that can hold before unit j */
        for (size_t b = 0; b < W; b++)
            fmin[b] = INFINITY, farg[b] = -1;
        for (int32_t a = 0; a < live; a++) {
            const double *fa = c->f + (size_t)a * W;
            double *ga = c->g + (size_t)a * W;
            uint8_t *aa = act + (size_t)a * W;
            double rl = INFINITY;
            if (a > 0 && !pr->sensitive[v]) {
                int32_t ja = (a - 1) / S, sa = (a - 1) % S, ua = c->units[ja];
                float l = pr->loss[(size_t)ua * U + v];
                if (!isnan(l)) rl = l + pr->stride_pen[(size_t)ua * S + sa];
            }
            for (size_t b = 0; b < W; b++) {
                double x = fa[b];
                if (x == INFINITY) continue;
                if (x < fmin[b]) fmin[b] = x, farg[b] = a;
                if (b + (size_t)c->cd[j] < W) relax(ga, aa, b + (size_t)c->cd[j], x, ACT_DENSE);
                if (rl < INFINITY && b + (size_t)c->cr[j] < W)
                    relax(ga, aa, b + (size_t)c->cr[j], x + rl, ACT_REUSE);
            }
        }
        for (int32_t s = 0; s < (pr->sensitive[v] ? 1 : S); s++) { /* sensitive: full attention */
            int32_t ns = 1 + j * S + s, cs = c->cs[j * S + s];
            /* staleness and, for a cheaper selector, its own sparse output */
            double pen = pr->stride_pen[(size_t)v * S + s] + pr->own_pen[(size_t)v * S + s];
            double *gn = c->g + (size_t)ns * W;
            int32_t *pv = c->prev + ((size_t)j * S + s) * W;
            for (size_t b = 0; b + (size_t)cs < W; b++) {
                if (fmin[b] == INFINITY) continue;
                gn[b + (size_t)cs] = fmin[b] + pen;
                pv[b + (size_t)cs] = farg[b];
            }
        }
        double *t = c->f;
        c->f = c->g, c->g = t;
    }
}

/* best[b] = min over states of f[.][b]; arg[b] the state. */
static void chain_best(const chain *c, double *best, int32_t *arg) {
    size_t W = (size_t)c->B + 1;
    for (size_t b = 0; b < W; b++) {
        best[b] = INFINITY;
        if (arg) arg[b] = -1;
        for (int32_t a = 0; a < c->n_states; a++)
            if (c->f[(size_t)a * W + b] < best[b]) {
                best[b] = c->f[(size_t)a * W + b];
                if (arg) arg[b] = a;
            }
    }
}

/* Walks the choices back from (state, b) after the last unit into the assignment. */
static void chain_backtrack(const chain *c, int32_t state, int32_t b, hy_assign *out) {
    size_t W = (size_t)c->B + 1;
    int32_t S = c->S;
    for (int32_t j = c->m - 1; j >= 0; j--) {
        int32_t v = c->units[j];
        if (state > 0 && (state - 1) / S == j) { /* unit j opened this anchor */
            int32_t s = (state - 1) % S;
            out->mode[v] = pr_choice_mode(c->pr, s), out->stride[v] = s, out->src[v] = -1;
            int32_t p = c->prev[((size_t)j * S + s) * W + (size_t)b];
            b -= c->cs[j * S + s];
            state = p;
            continue;
        }
        uint8_t a = c->act[((size_t)j * c->n_states + (size_t)state) * W + (size_t)b];
        if (a == ACT_REUSE) {
            out->mode[v] = HY_MODE_REUSE, out->src[v] = c->units[(state - 1) / S];
            b -= c->cr[j];
        } else {
            out->mode[v] = HY_MODE_DENSE, out->src[v] = -1;
            b -= c->cd[j];
        }
        out->stride[v] = 0;
    }
}

static int32_t *chain_units(const hy_problem *pr, int32_t h, int32_t H, int32_t *m) {
    int32_t *u = malloc((size_t)pr->n_units * sizeof(int32_t));
    *m = 0;
    if (!u) return NULL;
    for (int32_t i = 0; i < pr->n_units; i++)
        if (H <= 1 || i % H == h) u[(*m)++] = i;
    return u;
}

/* Frontier of chain h (exact budget used), into best[0..B]. */
static hy_status chain_frontier(const hy_problem *pr, int32_t h, int32_t H, double step, int32_t B,
                                int down, double *best) {
    int32_t m;
    int32_t *units = chain_units(pr, h, H, &m);
    chain c;
    hy_status st = units ? chain_init(&c, pr, units, m, step, B, down) : HY_ENOMEM;
    if (!st) {
        chain_run(&c);
        chain_best(&c, best, NULL);
        chain_free(&c);
    }
    free(units);
    return st;
}

static hy_status chain_assign(const hy_problem *pr, int32_t h, int32_t H, double step, int32_t B,
                              int down, int32_t b, hy_assign *out) {
    int32_t m;
    int32_t *units = chain_units(pr, h, H, &m);
    chain c;
    hy_status st = units ? chain_init(&c, pr, units, m, step, B, down) : HY_ENOMEM;
    if (st) {
        free(units);
        return st;
    }
    double *best = malloc(((size_t)B + 1) * sizeof(double));
    int32_t *arg = malloc(((size_t)B + 1) * sizeof(int32_t));
    if (!best || !arg) st = hy_fail(HY_ENOMEM, "dp: out of memory");
    if (!st) {
        chain_run(&c);
        chain_best(&c, best, arg);
        chain_backtrack(&c, arg[b], b, out);
    }
    chain_free(&c);
    free(units), free(best), free(arg);
    return st;
}

/* Min-plus convolution of H chain frontiers; split[h][b] = budget given to chain h when the
 * first h+1 chains together use b. */
static hy_status combine(const hy_problem *pr, int32_t H, double step, int32_t B, int down,
                         double *total, int32_t *split) {
    size_t W = (size_t)B + 1;
    double *fr = malloc(W * sizeof(double)), *acc = malloc(W * sizeof(double)),
           *nx = malloc(W * sizeof(double));
    hy_status st = fr && acc && nx ? HY_OK : hy_fail(HY_ENOMEM, "dp: out of memory");
    for (int32_t h = 0; !st && h < H; h++) {
        st = chain_frontier(pr, h, H, step, B, down, fr);
        if (st) break;
        int32_t *sp = split + (size_t)h * W;
        if (h == 0) {
            memcpy(acc, fr, W * sizeof(double));
            for (size_t b = 0; b < W; b++)
                sp[b] = (int32_t)b;
            continue;
        }
        for (size_t b = 0; b < W; b++) {
            nx[b] = INFINITY, sp[b] = -1;
            for (size_t x = 0; x <= b; x++) {
                double v = fr[x] + acc[b - x];
                if (v < nx[b]) nx[b] = v, sp[b] = (int32_t)x;
            }
        }
        memcpy(acc, nx, W * sizeof(double));
    }
    if (!st) memcpy(total, acc, W * sizeof(double));
    free(fr), free(acc), free(nx);
    return st;
}

static hy_status infeasible(const hy_problem *pr, double budget_s) {
    hy_assign a;
    double cost = NAN, loss;
    if (!hy_assign_alloc(pr->n_units, &a)) {
        hy_dp_lagrange(pr, 1e12, &a, &cost, &loss); /* weight cost only: the cheapest chain plan */
        hy_assign_free(&a);
    }
    return hy_fail(HY_ESOLVER,
                   "budget %.4g s (%.4g of dense %.4g s) is infeasible: the cheapest feasible "
                   "plan costs %.4g s (%.4g of dense); ask for at least that budget",
                   budget_s, budget_s / pr->dense_total, pr->dense_total, cost,
                   cost / pr->dense_total);
}

/* One discretised DP over the head chains at budget_s: the plan with the least loss among
 * those whose rounded cost fits (costs rounded down or up). HY_ESOLVER when none fits. */
static hy_status solve_rounded(const hy_problem *pr, int32_t H, double budget_s, int32_t steps,
                               int down, hy_assign *out) {
    double step = budget_s / steps;
    size_t W = (size_t)steps + 1;
    double *total = malloc(W * sizeof(double));
    int32_t *split = malloc((size_t)H * W * sizeof(int32_t));
    hy_status st = total && split ? HY_OK : hy_fail(HY_ENOMEM, "dp: out of memory");
    if (!st) st = combine(pr, H, step, steps, down, total, split);
    int32_t bstar = -1;
    for (size_t b = 0; !st && b < W; b++)
        if (total[b] < INFINITY && (bstar < 0 || total[b] < total[bstar])) bstar = (int32_t)b;
    if (!st && bstar < 0) st = HY_ESOLVER;
    for (int32_t h = H - 1, b = bstar; !st && h >= 0; h--) {
        int32_t x = split[(size_t)h * W + (size_t)b];
        st = chain_assign(pr, h, H, step, steps, down, x, out);
        b -= x;
    }
    free(total);
    free(split);
    return st;
}

/* The budget is discretised, so the DP is exact over rounded costs. It is made exact over true
 * costs where it can be shown: with costs rounded down every plan that truly fits is
 * representable, so that DP's least loss is a lower bound; if its plan also fits in true cost
 * it is the optimum. Otherwise the rounded-up DP's plan (which fits) is returned with the gap
 * to that bound; and if even that DP finds none, the cheapest chain plan, when it fits. */
hy_status hy_dp_solve_head_chains(const hy_problem *pr, int32_t H, double budget_s, int32_t steps,
                                  hy_assign *out, hy_solve_info *info) {
    double t0 = hy_now();
    if (!(budget_s > 0))
        return hy_fail(HY_EINVAL, "dp: budget %g s, expected a positive time", budget_s);
    if (steps <= 0 || steps > 100000000)
        return hy_fail(HY_EINVAL, "dp: %d budget steps, expected 1..100000000", steps);
    if (H < 1 || pr->n_units % H)
        return hy_fail(HY_EINVAL, "dp: %d units do not split into %d head chains", pr->n_units, H);
    hy_solve_info in = {0};
    const double fits = budget_s * (1.0 + 1e-12);
    double lower = NAN;
    hy_status st = solve_rounded(pr, H, budget_s, steps, 1, out);
    if (st == HY_ESOLVER) return infeasible(pr, budget_s); /* not even with costs rounded down */
    if (!st) st = hy_assign_eval(pr, out, &in.cost, &in.loss);
    if (st) return st == HY_ESOLVER ? infeasible(pr, budget_s) : st;
    lower = in.loss;
    if (in.cost > fits) {
        st = solve_rounded(pr, H, budget_s, steps, 0, out);
        if (st == HY_ESOLVER) { /* the cheapest chain plan may still fit */
            double c = NAN, l;
            st = hy_dp_lagrange(pr, 1e12, out, &c, &l);
            if (!st && !(c <= fits)) st = HY_ESOLVER;
        }
        if (st == HY_ESOLVER) return infeasible(pr, budget_s);
        if (!st) st = hy_assign_eval(pr, out, &in.cost, &in.loss);
        if (st) return hy_fail_ctx(st, "dp produced an illegal assignment");
    }
    in.seconds = hy_now() - t0, in.cheapest = NAN;
    in.gap = in.loss > lower && in.loss > 0 ? (in.loss - lower) / in.loss : 0.0;
    in.optimal = in.gap == 0.0;
    in.status = in.optimal ? "optimal" : "within_gap";
    in.method = H > 1 ? "dp-head-chains" : "dp";
    if (info) *info = in;
    return HY_OK;
}

hy_status hy_dp_solve(const hy_problem *pr, double budget_s, int32_t steps, hy_assign *out,
                      hy_solve_info *info) {
    return hy_dp_solve_head_chains(pr, pr->heads_per_unit_layer, budget_s, steps, out, info);
}

hy_status hy_dp_frontier(const hy_problem *pr, double max_s, int32_t steps, double *frontier) {
    if (steps <= 0 || !(max_s > 0))
        return hy_fail(HY_EINVAL, "dp: frontier needs max > 0 and steps > 0");
    int32_t H = pr->heads_per_unit_layer;
    int32_t *split = malloc((size_t)H * ((size_t)steps + 1) * sizeof(int32_t));
    if (!split) return hy_fail(HY_ENOMEM, "dp: out of memory");
    hy_status st = combine(pr, H, max_s / steps, steps, 0, frontier, split);
    free(split);
    for (int32_t b = 1; !st && b <= steps; b++) /* at most b, not exactly b */
        if (frontier[b - 1] < frontier[b]) frontier[b] = frontier[b - 1];
    return st;
}

/* Lagrangian DP: value = loss + lambda * cost, state = anchor (unit, stride). Exact for
 * that lambda over chain plans; O(U * U*S). Head problems use per-head chains, which are
 * independent once the budget is priced, so the same pass over each chain suffices. */
hy_status hy_dp_lagrange(const hy_problem *pr, double lambda, hy_assign *out, double *cost,
                         double *loss) {
    int32_t H = pr->heads_per_unit_layer, S = pr->n_strides, U = pr->n_units;
    for (int32_t h = 0; h < H; h++) {
        int32_t m;
        int32_t *units = chain_units(pr, h, H, &m);
        int32_t NS = 1 + m * S;
        double *f = malloc((size_t)NS * sizeof(double)), *g = malloc((size_t)NS * sizeof(double));
        uint8_t *act = calloc((size_t)m * NS, 1);
        int32_t *prev = malloc((size_t)m * S * sizeof(int32_t));
        if (!units || !f || !g || !act || !prev) {
            free(units), free(f), free(g), free(act), free(prev);
            return hy_fail(HY_ENOMEM, "dp: out of memory");
        }
        for (int32_t a = 0; a < NS; a++)
            f[a] = INFINITY;
        f[0] = 0;
        for (int32_t j = 0; j < m; j++) {
            int32_t v = units[j], live = 1 + j * S, arg = -1;
            double fmin = INFINITY;
            for (int32_t a = 0; a < NS; a++)
                g[a] = INFINITY;
            for (int32_t a = 0; a < live; a++) {
                if (f[a] == INFINITY) continue;
                if (f[a] < fmin) fmin = f[a], arg = a;
                relax(g, act + (size_t)j * NS, (size_t)a, f[a] + lambda * pr->cost_dense[v],
                      ACT_DENSE);
                if (a > 0 && !pr->sensitive[v]) {
                    int32_t ua = units[(a - 1) / S], sa = (a - 1) % S;
                    float l = pr->loss[(size_t)ua * U + v];
                    if (!isnan(l))
                        relax(g, act + (size_t)j * NS, (size_t)a,
                              f[a] + l + pr->stride_pen[(size_t)ua * S + sa] +
                                  lambda * pr->cost_reuse[v],
                              ACT_REUSE);
                }
            }
            for (int32_t s = 0; s < (pr->sensitive[v] ? 1 : S); s++) {
                g[1 + j * S + s] = fmin + pr->stride_pen[(size_t)v * S + s] +
                                   pr->own_pen[(size_t)v * S + s] +
                                   lambda * hy_problem_select_cost(pr, v, s);
                prev[j * S + s] = arg;
            }
            double *t = f;
            f = g, g = t;
        }
        int32_t state = 0;
        for (int32_t a = 1; a < NS; a++)
            if (f[a] < f[state]) state = a;
        for (int32_t j = m - 1; j >= 0; j--) {
            int32_t v = units[j];
            out->stride[v] = 0, out->src[v] = -1;
            if (state > 0 && (state - 1) / S == j) {
                out->mode[v] = pr_choice_mode(pr, (state - 1) % S),
                out->stride[v] = (state - 1) % S;
                state = prev[state - 1];
            } else if (act[(size_t)j * NS + (size_t)state] == ACT_REUSE) {
                out->mode[v] = HY_MODE_REUSE, out->src[v] = units[(state - 1) / S];
            } else {
                out->mode[v] = HY_MODE_DENSE;
            }
        }
        free(units), free(f), free(g), free(act), free(prev);
    }
    return hy_assign_eval(pr, out, cost, loss);
}
