/* dpsolver/pareto: the cost/loss frontier. The DP's budget table gives every budget's
 * optimum in one pass; the Lagrangian sweep gives the convex hull without discretisation;
 * the ILP is run at a handful of budgets (it is the slow one). Written as pareto.json. */
#include "hy_dpsolver.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

void hy_pareto_free(hy_pareto *p) {
    free(p->dp), free(p->lagrange), free(p->ilp);
    p->dp = p->lagrange = p->ilp = NULL;
}

static hy_status dp_points(const hy_problem *pr, const hy_problem *layer_pr, int32_t steps,
                           hy_pareto *out) {
    double *fr = malloc(((size_t)steps + 1) * sizeof(double));
    /* the layer DP is cheap: run it 10x finer so its cost rounding (up to n_layers steps)
     * does not show as loss next to the ILP, which prices exactly */
    double *lf = malloc((10 * (size_t)steps + 1) * sizeof(double));
    out->dp = malloc(((size_t)steps + 1) * sizeof(hy_pareto_point));
    if (!fr || !lf || !out->dp) {
        free(fr), free(lf);
        return hy_fail(HY_ENOMEM, "pareto: out of memory");
    }
    double step = pr->dense_total / steps;
    hy_status st = hy_dp_frontier(pr, pr->dense_total, steps, fr);
    /* a layer plan expanded to heads has the same cost and loss in the head problem */
    const hy_problem *lp = layer_pr ? layer_pr : pr->heads_per_unit_layer == 1 ? pr : NULL;
    if (!st && lp) st = hy_dp_frontier(lp, pr->dense_total, 10 * steps, lf);
    for (int32_t b = 0; !st && lp && b <= steps; b++)
        fr[b] = fmin(fr[b], lf[10 * (size_t)b]);
    free(lf);
    for (int32_t b = 0; !st && b <= steps; b++) {
        if (fr[b] == INFINITY || (b > 0 && fr[b] >= fr[b - 1]))
            continue; /* only where it improves */
        out->dp[out->n_dp++] = (hy_pareto_point){b * step, b * step, fr[b], 0, 0};
    }
    free(fr);
    return st;
}

/* Prices from "cost is everything" to "loss is everything", log-spaced; keeps distinct points. */
static hy_status lagrange_points(const hy_problem *pr, hy_pareto *out) {
    enum { N = 60 };
    out->lagrange = malloc(N * sizeof(hy_pareto_point));
    hy_assign a;
    if (!out->lagrange || hy_assign_alloc(pr->n_units, &a))
        return hy_fail(HY_ENOMEM, "pareto: out of memory");
    for (int i = 0; i < N; i++) {
        double lambda = pow(10.0, 8.0 - 10.0 * i / (N - 1)) / pr->dense_total * 1e-6;
        double c, l;
        hy_status st = hy_dp_lagrange(pr, lambda, &a, &c, &l);
        if (st) {
            hy_assign_free(&a);
            return st;
        }
        if (out->n_lagrange && fabs(out->lagrange[out->n_lagrange - 1].cost_s - c) < 1e-15)
            continue;
        out->lagrange[out->n_lagrange++] = (hy_pareto_point){c, c, l, 0, 0};
    }
    hy_assign_free(&a);
    return HY_OK;
}

/* The ILP points are independent solves (GLPK keeps its state per thread): workers take the
 * next budget from a shared counter, each with its own DP warm start and scratch. Results
 * land by index, so the output does not depend on which thread solved what; an error is the
 * lowest failing point's, with its message carried over from the worker's thread. */
typedef struct {
    const hy_problem *pr, *layer_pr;
    const hy_ilp_opts *io;
    int32_t dp_steps, n;
    double lo, hi;
    hy_pareto_point *pts;
    hy_status *st;
    char (*msg)[256];
    pthread_mutex_t mu;
    int32_t next, done;
    hy_progress prog;
    int progress;
} ilp_job;

static void solve_point(ilp_job *j, int32_t i, hy_assign *dp, hy_assign *il) {
    const int32_t n = j->n;
    const double B = n == 1 ? j->hi : j->lo + (j->hi - j->lo) * (0.002 + 0.998 * i / (n - 1));
    hy_solve_info di, ii;
    hy_ilp_opts o = *j->io;
    o.warm = hy_dp_solve_best(j->pr, j->layer_pr, B, j->dp_steps, dp, &di) ? NULL : dp;
    hy_clear_error();
    j->st[i] = hy_ilp_solve(j->pr, B, &o, il, &ii);
    if (j->st[i] == HY_OK)
        j->pts[i] = (hy_pareto_point){B, ii.cost, ii.loss, ii.gap, ii.seconds};
    else
        snprintf(j->msg[i], sizeof j->msg[i], "%s", hy_last_error());
}

static void *ilp_worker(void *arg) {
    ilp_job *j = arg;
    hy_assign dp, il;
    const int ok = !hy_assign_alloc(j->pr->n_units, &dp);
    const int ok2 = ok && !hy_assign_alloc(j->pr->n_units, &il);
    for (;;) {
        pthread_mutex_lock(&j->mu);
        const int32_t i = j->next < j->n ? j->next++ : -1;
        pthread_mutex_unlock(&j->mu);
        if (i < 0) break;
        if (ok2)
            solve_point(j, i, &dp, &il);
        else
            j->st[i] = HY_ENOMEM, snprintf(j->msg[i], sizeof j->msg[i], "pareto: ILP scratch");
        pthread_mutex_lock(&j->mu);
        j->done++;
        if (j->progress) hy_progress_update(&j->prog, j->done);
        pthread_mutex_unlock(&j->mu);
    }
    if (ok) hy_assign_free(&dp);
    if (ok2) hy_assign_free(&il);
    return NULL;
}

hy_status hy_pareto_sweep(const hy_problem *pr, const hy_problem *layer_pr, int32_t dp_steps,
                          int32_t n_ilp, const hy_ilp_opts *io, int n_threads, int progress,
                          hy_pareto *out) {
    *out = (hy_pareto){0};
    out->dense_cost_s = pr->dense_total;
    hy_status st = dp_points(pr, layer_pr, dp_steps, out);
    if (!st) st = lagrange_points(pr, out);
    if (!st) st = hy_ilp_cheapest(pr, io, &out->cheapest_s);
    if (st || n_ilp <= 0) return st;
    ilp_job j = {.pr = pr,
                 .layer_pr = layer_pr,
                 .io = io,
                 .dp_steps = dp_steps,
                 .n = n_ilp,
                 .lo = out->cheapest_s,
                 .hi = pr->dense_total,
                 .progress = progress};
    out->ilp = malloc((size_t)n_ilp * sizeof *out->ilp);
    j.pts = out->ilp;
    j.st = calloc((size_t)n_ilp, sizeof *j.st);
    j.msg = calloc((size_t)n_ilp, sizeof *j.msg);
    if (!out->ilp || !j.st || !j.msg) {
        free(j.st), free(j.msg);
        return hy_fail(HY_ENOMEM, "pareto: out of memory");
    }
    if (n_threads < 1) n_threads = 1;
    if (n_threads > n_ilp) n_threads = n_ilp;
    pthread_mutex_init(&j.mu, NULL);
    if (progress) hy_progress_begin(&j.prog, "pareto: ILP", n_ilp, "points");
    pthread_t th[64];
    int started = 0;
    for (int t = 1; t < n_threads && t < 64; t++)
        if (pthread_create(&th[started], NULL, ilp_worker, &j) == 0) started++;
    ilp_worker(&j); /* this thread works too; with no extra thread the sweep is serial */
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    if (progress) hy_progress_end(&j.prog, j.done);
    pthread_mutex_destroy(&j.mu);
    for (int32_t i = 0; i < n_ilp && !st; i++) {
        if (j.st[i] == HY_ESOLVER) continue; /* below the cheapest after rounding: skip it */
        if (j.st[i])
            st = hy_fail(j.st[i], "%s", j.msg[i]);
        else
            out->ilp[out->n_ilp++] = j.pts[i];
    }
    free(j.st), free(j.msg);
    return st;
}

static json_t *points(const hy_pareto_point *p, int32_t n, double dense, int with_gap) {
    json_t *a = json_array();
    for (int32_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "budget", json_real(p[i].budget_s / dense));
        json_object_set_new(o, "cost_s", json_real(p[i].cost_s));
        json_object_set_new(o, "speedup", json_real(p[i].cost_s > 0 ? dense / p[i].cost_s : 0));
        json_object_set_new(o, "loss", json_real(p[i].loss));
        if (with_gap) {
            json_object_set_new(o, "gap", isfinite(p[i].gap) ? json_real(p[i].gap) : json_null());
            json_object_set_new(o, "seconds", json_real(p[i].seconds));
        }
        json_array_append_new(a, o);
    }
    return a;
}

hy_status hy_pareto_write_json(const hy_pareto *p, const hy_session *s, const char *path) {
    json_t *r = json_object();
    const hy_problem *pr = s->problem;
    json_object_set_new(r, "format", json_string("hylra-pareto"));
    json_object_set_new(r, "version", json_integer(1));
    json_object_set_new(r, "model", json_string(s->profile->model_name));
    json_object_set_new(r, "profile_sha256", json_string(s->profile_sha256));
    json_object_set_new(r, "k", json_integer(pr->opts.k));
    json_object_set_new(r, "context", json_integer(pr->opts.context));
    json_object_set_new(r, "granularity",
                        json_string(pr->heads_per_unit_layer > 1 ? "head" : "layer"));
    json_object_set_new(r, "loss",
                        json_string(pr->opts.loss == HY_LOSS_OUT_ERR ? "out_err" : "recall"));
    json_object_set_new(r, "costs", json_string(s->costs ? s->costs->device : "analytic"));
    json_object_set_new(r, "dense_cost_s", json_real(p->dense_cost_s));
    json_object_set_new(r, "cheapest_budget", json_real(p->cheapest_s / p->dense_cost_s));
    json_object_set_new(r, "dp", points(p->dp, p->n_dp, p->dense_cost_s, 0));
    json_object_set_new(r, "dp_lagrange", points(p->lagrange, p->n_lagrange, p->dense_cost_s, 0));
    json_object_set_new(r, "ilp", points(p->ilp, p->n_ilp, p->dense_cost_s, 1));
    int rc = json_dump_file(r, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
    json_decref(r);
    return rc ? hy_fail(HY_EIO, "%s: write failed", path) : HY_OK;
}
