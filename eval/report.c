/* eval/report: turns hy_eval_result's per-sample numbers into cells relative to dense
 * (method 0) with bootstrap CIs, the measured loss the solver check compares against, and the
 * Spearman check itself. The table, JSON and SVG writers (report_*.c) only format cells. */
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

hy_eval_kind hy_eval_task_kind(const char *task) {
    if (!strcmp(task, "agree")) return HY_EVAL_KIND_AGREE;
    if (!strcmp(task, "ppl")) return HY_EVAL_KIND_PPL;
    return HY_EVAL_KIND_GEN;
}

uint64_t hy_eval_task_seed(const hy_eval_result *r, int32_t task) {
    /* splitmix64's finaliser over (run seed, task): tasks get unrelated resampling streams */
    uint64_t z = r->seed + 0x9e3779b97f4a7c15ull * (uint64_t)(task + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static hy_ci exp_ci(hy_ci c) {
    return (hy_ci){exp(c.mean), exp(c.lo), exp(c.hi), c.n};
}

hy_status hy_eval_cell_get(const hy_eval_result *r, int32_t task, int32_t method,
                           hy_eval_cell *out) {
    if (!r || !out) return hy_fail(HY_EINVAL, "eval report: result or cell is NULL");
    if (task < 0 || task >= r->n_tasks || !r->tasks)
        return hy_fail(HY_ERANGE, "eval report: task %d, expected 0..%d", (int)task,
                       (int)r->n_tasks - 1);
    if (method < 0 || method >= r->n_methods || !r->methods)
        return hy_fail(HY_ERANGE, "eval report: method %d, expected 0..%d", (int)method,
                       (int)r->n_methods - 1);
    const hy_eval_task_result *t = &r->tasks[task];
    const char *mname = r->methods[method].name;
    if (t->n <= 0 || !t->score)
        return hy_fail(HY_EINVAL, "eval report: task %.16s has %d samples%s, expected >= 1",
                       t->task, (int)t->n, t->score ? "" : " (score NULL)");
    memset(out, 0, sizeof *out);
    const double *x = t->score + (size_t)method * (size_t)t->n, *d = t->score;
    uint64_t seed = hy_eval_task_seed(r, task);
    hy_eval_kind kind = hy_eval_task_kind(t->task);
    hy_status st = hy_ci_mean(x, t->n, seed, HY_EVAL_REPORT_B, &out->value);
    if (!st) st = hy_ci_paired_diff(x, d, t->n, seed, HY_EVAL_REPORT_B, &out->delta);
    if (!st && kind == HY_EVAL_KIND_AGREE && t->kl)
        st = hy_ci_mean(t->kl + (size_t)method * (size_t)t->n, t->n, seed, HY_EVAL_REPORT_B,
                        &out->kl);
    if (st) return hy_fail_ctx(st, "eval report: task %.16s method %.96s", t->task, mname);
    if (kind == HY_EVAL_KIND_PPL) { /* exp is monotone: the NLL intervals map exactly */
        out->value = exp_ci(out->value);
        out->delta = exp_ci(out->delta);
    }
    return HY_OK;
}

static int32_t find_task(const hy_eval_result *r, const char *name) {
    for (int32_t t = 0; r && r->tasks && t < r->n_tasks; t++)
        if (!strcmp(r->tasks[t].task, name) && r->tasks[t].n > 0 && r->tasks[t].score) return t;
    return -1;
}

double hy_eval_measured_loss(const hy_eval_result *r, int32_t method) {
    if (!r || method < 0 || method >= r->n_methods) return NAN;
    /* KL rather than 1 - agreement: continuous, so plans that agree on every sampled step
     * still rank by how far their distributions moved */
    int32_t t = find_task(r, "agree");
    int ppl = t < 0;
    if (ppl) t = find_task(r, "ppl");
    if (t < 0) return NAN;
    const hy_eval_task_result *k = &r->tasks[t];
    const double *x = (ppl ? k->score : k->kl) + (size_t)method * (size_t)k->n;
    double s = 0;
    for (int32_t i = 0; i < k->n; i++)
        s += ppl ? x[i] - k->score[i] : x[i];
    return s / k->n;
}

double hy_eval_spearman(const hy_eval_result *r, int32_t *n_used) {
    if (n_used) *n_used = 0;
    if (!r || r->n_methods <= 0 || !r->methods) return NAN;
    double *buf = malloc(2 * (size_t)r->n_methods * sizeof *buf);
    if (!buf) return NAN;
    double *pred = buf, *meas = buf + r->n_methods;
    int32_t n = 0;
    for (int32_t m = 0; m < r->n_methods; m++) {
        const char *g = r->methods[m].group;
        if (strcmp(g, "dp") && strcmp(g, "ilp")) continue;
        double p = r->methods[m].pred_loss, q = hy_eval_measured_loss(r, m);
        if (!isfinite(p) || !isfinite(q)) continue; /* nothing to rank */
        pred[n] = p, meas[n] = q, n++;
    }
    double rho = hy_spearman(pred, meas, n);
    free(buf);
    if (n_used) *n_used = n;
    return rho;
}
