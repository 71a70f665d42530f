/* dpsolver/problem: turns a profile and a cost model into the solvers' common instance
 * (units, per-mode costs, pairwise reuse loss, sensitivity, temporal penalties), and checks
 * and scores assignments against it. Every solver's answer is re-scored here. */
#include "hy_dpsolver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hy_problem_opts_default(hy_problem_opts *o) {
    *o = (hy_problem_opts){.k = 256,
                           .context = 0,
                           .batch = 1,
                           .loss = HY_LOSS_OUT_ERR,
                           .granularity = HY_SOLVE_LAYER,
                           .sensitive_threshold = 0.1,
                           .temporal = false};
}

hy_status hy_problem_alloc(int32_t n_units, int32_t n_layers, int32_t n_strides, hy_problem **out) {
    *out = NULL;
    if (n_units <= 0 || n_units > 8192 || n_layers <= 0 || n_layers > n_units || n_strides <= 0 ||
        n_strides > 64)
        return hy_fail(HY_EINVAL, "problem: %d units, %d layers, %d strides out of range", n_units,
                       n_layers, n_strides);
    hy_problem *pr = hy_calloc(1, sizeof *pr, "problem");
    if (!pr) return HY_ENOMEM;
    size_t U = (size_t)n_units;
    pr->n_units = n_units, pr->n_layers = n_layers, pr->n_strides = n_strides;
    pr->heads_per_unit_layer = n_units / n_layers;
    pr->layer_of = hy_calloc(U, sizeof(int32_t), "problem layers");
    pr->cost_dense = hy_calloc(U, sizeof(double), "problem costs");
    pr->cost_select = hy_calloc(U, sizeof(double), "problem costs");
    pr->cost_reuse = hy_calloc(U, sizeof(double), "problem costs");
    pr->loss = hy_malloc(U * U * sizeof(float), "problem losses");
    pr->sensitive = hy_calloc(U, 1, "problem sensitivity");
    pr->strides = hy_calloc((size_t)n_strides, sizeof(int32_t), "problem strides");
    pr->stride_pen = hy_calloc(U * (size_t)n_strides, sizeof(float), "problem stride penalties");
    pr->own_pen = hy_calloc(U * (size_t)n_strides, sizeof(float), "problem own-output losses");
    pr->choice_mode = hy_malloc((size_t)n_strides, "problem choice modes");
    if (!pr->layer_of || !pr->cost_dense || !pr->cost_select || !pr->cost_reuse || !pr->loss ||
        !pr->sensitive || !pr->strides || !pr->stride_pen || !pr->own_pen || !pr->choice_mode) {
        hy_problem_free(pr);
        return HY_ENOMEM;
    }
    for (size_t i = 0; i < U * U; i++)
        pr->loss[i] = NAN;
    for (int32_t s = 0; s < n_strides; s++)
        pr->strides[s] = 1 << s, pr->choice_mode[s] = HY_MODE_SELECT;
    for (int32_t u = 0; u < n_units; u++)
        pr->layer_of[u] = u / pr->heads_per_unit_layer;
    *out = pr;
    return HY_OK;
}

void hy_problem_free(hy_problem *pr) {
    if (!pr) return;
    free(pr->layer_of);
    free(pr->cost_dense);
    free(pr->cost_select);
    free(pr->cost_reuse);
    free(pr->loss);
    free(pr->sensitive);
    free(pr->strides);
    free(pr->stride_pen);
    free(pr->own_pen);
    free(pr->choice_mode);
    free(pr->cost_choice);
    free(pr);
}

double hy_problem_select_cost(const hy_problem *pr, int32_t u, int32_t s) {
    double st = pr->strides[s];
    const double refresh =
        pr->cost_choice ? pr->cost_choice[(size_t)u * pr->n_strides + s] : pr->cost_select[u];
    return (refresh + (st - 1.0) * pr->cost_reuse[u]) / st;
}

/* Loss of a statistic cell: out_err as measured, or 1 - recall. NaN stays NaN. */
static double cell_loss(const hy_profile_stat *err, const hy_profile_stat *rec, size_t i,
                        hy_loss_kind kind) {
    return kind == HY_LOSS_OUT_ERR ? err->mean[i] : 1.0 - rec->mean[i];
}

/* Where k sits in the profile's grid: on point i0 (t == 0), or between i0 and i0 + 1 at
 * fraction t of the way in log k. A k between two grid points gets the loss of each cell
 * interpolated linearly in log k. Averaged over units, loss falls convexly in log k in the
 * profiles we have (docs/profiler.md: SmolLM2's own-set out_err by k), so there the line
 * between two points lies above the curve and errs on the side of caution; a single cell
 * need not be convex. */
typedef struct {
    int32_t i0, i1;
    double t;
} k_bracket;

static hy_status find_k(const hy_profile *p, int32_t k, k_bracket *b) {
    for (int32_t i = 0; i < p->n_k; i++) {
        if (p->k_grid[i] == k) {
            *b = (k_bracket){i, i, 0.0};
            return HY_OK;
        }
        if (i + 1 < p->n_k && p->k_grid[i] < k && k < p->k_grid[i + 1]) {
            const double lo = p->k_grid[i], hi = p->k_grid[i + 1];
            *b = (k_bracket){i, i + 1, log(k / lo) / log(hi / lo)};
            return HY_OK;
        }
    }
    char grid[256] = "";
    for (int32_t i = 0; i < p->n_k && strlen(grid) < 200; i++)
        snprintf(grid + strlen(grid), sizeof grid - strlen(grid), "%s%d", i ? "," : "",
                 p->k_grid[i]);
    return hy_fail(HY_ENOTFOUND,
                   "problem: k %d is outside the profile's k grid [%s] (a k between two grid "
                   "points is interpolated; none beyond its ends)",
                   k, grid);
}

/* cell_loss at k: idx(i) is the cell's index at grid point i. */
static double k_loss(const hy_profile_stat *err, const hy_profile_stat *rec, size_t i0, size_t i1,
                     const k_bracket *b, hy_loss_kind kind) {
    const double a = cell_loss(err, rec, i0, kind);
    if (b->t == 0.0) return a;
    return (1.0 - b->t) * a + b->t * cell_loss(err, rec, i1, kind);
}

static hy_status fill_costs(hy_problem *pr, const hy_profile *p, const hy_cost_model *cm, int64_t n,
                            int32_t k) {
    double d, s, r;
    hy_status st = hy_cost_layer(cm, HY_MODE_DENSE, n, k, &d);
    if (!st) st = hy_cost_layer(cm, HY_MODE_SELECT, n, k, &s);
    if (!st) st = hy_cost_layer(cm, HY_MODE_REUSE, n, k, &r);
    if (st) return st;
    double share = 1.0 / pr->heads_per_unit_layer; /* head units split their layer's cost */
    for (int32_t u = 0; u < pr->n_units; u++) {
        pr->cost_dense[u] = d * share;
        pr->cost_select[u] = s * share;
        pr->cost_reuse[u] = r * share;
        pr->dense_total += d * share;
    }
    (void)p;
    return HY_OK;
}

/* A sliding-window layer (Gemma 3) sees only its window: nothing to select beyond it, and
 * no set to offer or take. Its units are fixed dense, costed at the window's length, and left
 * out of every reuse pair: sensitive (no reuse into them) with every select choice given an
 * infinite own loss (never chosen), and NaN as a source. */
static hy_status fix_window_units(hy_problem *pr, const hy_profile *p, const hy_cost_model *cm,
                                  int64_t n, int32_t k) {
    if (p->sliding_window <= 0) return HY_OK;
    const int64_t w = p->sliding_window < n ? p->sliding_window : n;
    double d;
    hy_status st = hy_cost_layer(cm, HY_MODE_DENSE, w, k < w ? k : (int32_t)w, &d);
    if (st) return st;
    const int32_t U = pr->n_units, C = pr->n_strides;
    for (int32_t u = 0; u < U; u++) {
        const int32_t l = pr->layer_of[u];
        if (p->swa_period > 0 && (l + 1) % p->swa_period == 0) continue; /* a global layer */
        pr->dense_total += d / pr->heads_per_unit_layer - pr->cost_dense[u];
        pr->cost_dense[u] = d / pr->heads_per_unit_layer;
        pr->sensitive[u] = 1;
        for (int32_t c = 0; c < C; c++)
            pr->own_pen[(size_t)u * C + c] = INFINITY;
        for (int32_t v = 0; v < U; v++)
            pr->loss[(size_t)u * U + v] = pr->loss[(size_t)v * U + u] = NAN;
    }
    return HY_OK;
}

hy_status hy_problem_from_profile(const hy_profile *p, const hy_cost_model *cm,
                                  const hy_problem_opts *o, hy_problem **out) {
    *out = NULL;
    k_bracket kb = {0, 0, 0.0};
    hy_status st = find_k(p, o->k, &kb);
    if (st) return st;
    const int32_t ki = kb.i0, kj = kb.i1;
    int64_t n = o->context > 0 ? o->context : p->ctx;
    if (n <= 0)
        return hy_fail(HY_EINVAL, "problem: no context length (profile ctx %d, option %lld)",
                       p->ctx, (long long)o->context);
    if (o->k > n)
        return hy_fail(HY_ERANGE, "problem: k %d is larger than the context %lld", o->k,
                       (long long)n);
    int32_t L = p->n_layers, H = p->n_kv_heads, head = o->granularity == HY_SOLVE_HEAD;
    int32_t U = head ? L * H : L, S = o->temporal ? p->n_strides : 1;
    /* the select choices: each offered selector mode times each stride */
    int8_t flavors[4] = {HY_MODE_SELECT};
    int32_t F = 1;
    const hy_unit_mode extra[3] = {HY_MODE_SCORE, HY_MODE_SKETCH8, HY_MODE_SKETCH4};
    for (int i = 0; i < 3; i++)
        if (o->selectors & (1u << extra[i])) flavors[F++] = (int8_t)extra[i];
    if (o->selectors & ~((1u << HY_MODE_SCORE) | (1u << HY_MODE_SKETCH8) | (1u << HY_MODE_SKETCH4)))
        return hy_fail(HY_EINVAL, "problem: selectors 0x%x, expected score, sketch8, sketch4",
                       o->selectors);
    const int32_t C = F * S;
    if (o->temporal && p->strides[0] != 1)
        return hy_fail(HY_EFORMAT, "problem: profile strides start at %d, expected 1",
                       p->strides[0]);
    hy_problem *pr = NULL;
    st = hy_problem_alloc(U, L, C, &pr);
    if (st) return st;
    pr->profile = p;
    pr->opts = *o;
    pr->opts.context = n;
    for (int32_t c = 0; c < C; c++)
        pr->strides[c] = p->strides[c % S], pr->choice_mode[c] = flavors[c / S];
    st = fill_costs(pr, p, cm, n, o->k);
    if (!st && F > 1) {
        pr->cost_choice = hy_malloc((size_t)U * C * sizeof(double), "problem choice costs");
        if (!pr->cost_choice) st = HY_ENOMEM;
        for (int32_t f = 0; !st && f < F; f++) {
            double cf = 0;
            st = hy_cost_layer(cm, (hy_unit_mode)flavors[f], n, o->k, &cf);
            for (int32_t u = 0; !st && u < U; u++)
                for (int32_t s = 0; s < S; s++)
                    pr->cost_choice[(size_t)u * C + f * S + s] = cf / pr->heads_per_unit_layer;
        }
    }
    if (st) {
        hy_problem_free(pr);
        return st;
    }
    for (int32_t l = 0; l < L; l++) {
        for (int32_t h = 0; h < H; h++) {
            const size_t i = hy_profile_idx_unit(p, l, h, ki), j = hy_profile_idx_unit(p, l, h, kj);
            double own = k_loss(&p->layer_out_err, &p->layer_recall, i, j, &kb, o->loss);
            int32_t u = head ? l * H + h : l;
            /* a layer unit is sensitive when any of its heads is (they all reuse together) */
            if (!(own <= o->sensitive_threshold)) pr->sensitive[u] = 1;
            for (int32_t s = 1; s < S; s++) {
                size_t ti = hy_profile_idx_temporal(p, l, h, s);
                double t = o->loss == HY_LOSS_OUT_ERR && !isnan(p->temporal_out_err.mean[ti])
                               ? p->temporal_out_err.mean[ti]
                               : 1.0 - p->temporal_recall.mean[ti];
                if (isnan(t)) t = INFINITY;
                /* stale on (stride-1) of every stride steps */
                double pen = t * (p->strides[s] - 1.0) / p->strides[s];
                for (int32_t f = 0; f < F; f++)
                    pr->stride_pen[(size_t)u * C + f * S + s] += (float)(pen / H);
            }
            /* the cheaper selectors: the unit's own output is its set's (own-set loss, or the
             * sketch's), and a sketch's consumers lose what the sketch's set loses against
             * the exact one (the profile has the unit's own; it stands in for theirs) */
            for (int32_t f = 1; f < F; f++) {
                const int sk = flavors[f] == HY_MODE_SKETCH8 ? 0 : 1;
                double fl =
                    flavors[f] == HY_MODE_SCORE
                        ? own
                        : k_loss(&p->sketch_out_err[sk], &p->sketch_recall[sk], i, j, &kb, o->loss);
                const double deficit = flavors[f] == HY_MODE_SCORE || !(fl > own) ? 0.0 : fl - own;
                if (isnan(fl)) fl = INFINITY; /* not measured (a version 1 profile): not offered */
                for (int32_t s = 0; s < S; s++) {
                    pr->own_pen[(size_t)u * C + f * S + s] += (float)(fl / H);
                    pr->stride_pen[(size_t)u * C + f * S + s] += (float)(deficit / H);
                }
            }
        }
    }
    if (head) {
        for (int32_t a = 0; a < U; a++)
            for (int32_t b = 0; b < U; b++) {
                if (a == b || a / H > b / H) continue;
                double x =
                    k_loss(&p->cross_out_err, &p->cross_recall, hy_profile_idx_cross(p, a, b, ki),
                           hy_profile_idx_cross(p, a, b, kj), &kb, o->loss);
                pr->loss[(size_t)a * U + b] = isnan(x) ? NAN : (float)(x / H);
            }
    } else {
        for (int32_t a = 0; a < L; a++)
            for (int32_t b = a + 1; b < L; b++) {
                double x = k_loss(&p->cl_out_err, &p->cl_recall, hy_profile_idx_cl(p, a, b, ki),
                                  hy_profile_idx_cl(p, a, b, kj), &kb, o->loss);
                pr->loss[(size_t)a * U + b] = (float)x;
            }
    }
    st = fix_window_units(pr, p, cm, n, o->k);
    if (st) {
        hy_problem_free(pr);
        return st;
    }
    *out = pr;
    return HY_OK;
}

hy_status hy_assign_alloc(int32_t n_units, hy_assign *a) {
    a->n_units = n_units;
    a->mode = hy_calloc((size_t)n_units, 1, "assignment");
    a->src = hy_malloc((size_t)n_units * sizeof(int32_t), "assignment");
    a->stride = hy_calloc((size_t)n_units, sizeof(int32_t), "assignment");
    if (!a->mode || !a->src || !a->stride) {
        hy_assign_free(a);
        return HY_ENOMEM;
    }
    for (int32_t u = 0; u < n_units; u++)
        a->src[u] = -1;
    return HY_OK;
}

void hy_assign_free(hy_assign *a) {
    free(a->mode);
    free(a->src);
    free(a->stride);
    a->mode = NULL, a->src = NULL, a->stride = NULL;
}

hy_status hy_assign_eval(const hy_problem *pr, const hy_assign *a, double *cost, double *loss) {
    double c = 0, l = 0;
    int32_t U = pr->n_units;
    if (a->n_units != U)
        return hy_fail(HY_EMISMATCH, "assignment has %d units, problem %d", a->n_units, U);
    for (int32_t v = 0; v < U; v++) {
        switch (a->mode[v]) {
        case HY_MODE_DENSE:
            c += pr->cost_dense[v];
            break;
        case HY_MODE_SELECT:
        case HY_MODE_SCORE:
        case HY_MODE_SKETCH8:
        case HY_MODE_SKETCH4:
            if (a->stride[v] < 0 || a->stride[v] >= pr->n_strides)
                return hy_fail(HY_ERANGE, "assignment: unit %d choice %d, expected 0..%d", v,
                               a->stride[v], pr->n_strides - 1);
            if (a->stride[v] > 0 && pr->sensitive[v])
                return hy_fail(HY_EINVAL,
                               "assignment: unit %d is sensitive: it selects with select, every "
                               "step, not %s every %d steps",
                               v, hy_unit_mode_name((hy_unit_mode)pr->choice_mode[a->stride[v]]),
                               pr->strides[a->stride[v]]);
            if (pr->choice_mode[a->stride[v]] != a->mode[v])
                return hy_fail(HY_EINVAL, "assignment: unit %d has mode %s but choice %d is %s", v,
                               hy_unit_mode_name((hy_unit_mode)a->mode[v]), a->stride[v],
                               hy_unit_mode_name((hy_unit_mode)pr->choice_mode[a->stride[v]]));
            c += hy_problem_select_cost(pr, v, a->stride[v]);
            l += pr->stride_pen[(size_t)v * pr->n_strides + a->stride[v]] +
                 pr->own_pen[(size_t)v * pr->n_strides + a->stride[v]];
            break;
        case HY_MODE_REUSE: {
            int32_t u = a->src[v];
            if (u < 0 || u >= U || !hy_mode_publishes((hy_unit_mode)a->mode[u]) ||
                pr->sensitive[v] || isnan(pr->loss[(size_t)u * U + v]))
                return hy_fail(HY_EINVAL,
                               "assignment: unit %d reuses unit %d, which is not an "
                               "allowed select source%s",
                               v, u, pr->sensitive[v] ? " (unit is sensitive)" : "");
            c += pr->cost_reuse[v];
            l += pr->loss[(size_t)u * U + v] +
                 pr->stride_pen[(size_t)u * pr->n_strides + a->stride[u]];
            break;
        }
        default:
            return hy_fail(HY_EINVAL, "assignment: unit %d has mode %d", v, a->mode[v]);
        }
    }
    *cost = c, *loss = l;
    return HY_OK;
}
