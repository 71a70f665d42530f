/* eval/report_svg: the `hylra sweep` picture through common/svg_plot: one panel per result
 * (context length), x = predicted attention cost / dense, y = the task's value with 95% CI
 * whiskers, one curve per method group in a colour fixed across panels, dense dashed. A group
 * without cost predictions (peer policies) is placed at its measured KV fraction instead,
 * drawn with open markers and a note, rather than left out. */
#include "hy_svg.h"
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_GROUPS = 64 };

typedef struct {
    char name[MAX_GROUPS][32];
    int32_t n;
} groups;

static int32_t group_id(groups *g, const char *name) {
    for (int32_t i = 0; i < g->n; i++)
        if (!strcmp(g->name[i], name)) return i;
    if (g->n == MAX_GROUPS) return -1;
    snprintf(g->name[g->n], sizeof g->name[0], "%.31s", name);
    return g->n++;
}

static int is_dense(const hy_eval_result *r, int32_t m) {
    return m == 0 || !strcmp(r->methods[m].group, "dense");
}

/* y of a cell on the picture: ppl as the ratio to dense, agree's KL when the picture is of
 * "kl", the others as the value itself. */
static hy_ci shown(hy_eval_kind kind, int kl, const hy_eval_cell *c) {
    return kl ? c->kl : kind == HY_EVAL_KIND_PPL ? c->delta : c->value;
}

typedef struct {
    double *x, *y, *lo, *hi; /* n_methods each, points grouped by series */
    hy_svg_series ser[MAX_GROUPS];
    char label[MAX_GROUPS][64];
    char title[96];
} panel_buf;

/* Fills one panel for result r: series per group present (colour = global group index). */
static hy_status fill_panel(const hy_eval_result *r, int32_t t, int kl, groups *gs, panel_buf *b,
                            hy_svg_panel *p, int *any_measured_x) {
    int32_t nm = r->n_methods, used = 0, ns = 0;
    hy_eval_kind kind = hy_eval_task_kind(r->tasks[t].task);
    double *mem = hy_malloc(4 * (size_t)nm * sizeof *mem, "sweep plot points");
    if (!mem) return HY_ENOMEM;
    b->x = mem, b->y = mem + nm, b->lo = mem + 2 * nm, b->hi = mem + 3 * nm;
    hy_eval_cell dense;
    hy_status st = hy_eval_cell_get(r, t, 0, &dense);
    for (int32_t m = 1; m < nm && !st; m++) {
        if (is_dense(r, m) || group_id(gs, r->methods[m].group) < 0) continue;
        int32_t gid = group_id(gs, r->methods[m].group);
        int done = 0; /* was this group already drawn in this panel? */
        for (int32_t s = 0; s < ns; s++)
            done |= b->ser[s].color == gid;
        if (done) continue;
        int predicted = 1; /* the whole curve on one x meaning */
        for (int32_t k = m; k < nm; k++)
            if (!is_dense(r, k) && !strcmp(r->methods[k].group, r->methods[m].group))
                predicted &= isfinite(r->methods[k].pred_cost_frac);
        int32_t first = used;
        for (int32_t k = m; k < nm && !st; k++) {
            if (is_dense(r, k) || strcmp(r->methods[k].group, r->methods[m].group)) continue;
            hy_eval_cell c;
            st = hy_eval_cell_get(r, t, k, &c);
            hy_ci v = shown(kind, kl, &c);
            b->x[used] =
                predicted ? r->methods[k].pred_cost_frac : (r->kv_frac ? r->kv_frac[k] : NAN);
            b->y[used] = v.mean, b->lo[used] = v.lo, b->hi[used] = v.hi;
            used++;
        }
        snprintf(b->label[ns], sizeof b->label[0], "%.31s%s", r->methods[m].group,
                 predicted ? "" : " (x: measured)");
        *any_measured_x |= !predicted;
        b->ser[ns] =
            (hy_svg_series){b->label[ns], b->x + first, b->y + first, b->lo + first, b->hi + first,
                            used - first, gid,          true,         !predicted};
        ns++;
    }
    if (st) return hy_fail_ctx(st, "sweep plot: ctx %lld", (long long)r->ctx);
    snprintf(b->title, sizeof b->title, "ctx %lld, %d %s", (long long)r->ctx, (int)r->tasks[t].n,
             kind == HY_EVAL_KIND_GEN ? "samples" : "docs");
    static const char *ylabels[] = {"top-1 agreement with dense", "perplexity / dense perplexity",
                                    NULL};
    *p = (hy_svg_panel){.title = b->title,
                        .xlabel = "predicted attention cost (fraction of dense)",
                        .ylabel = kl              ? "mean KL(dense || method), nats"
                                  : ylabels[kind] ? ylabels[kind]
                                                  : "task score (0-1)",
                        .series = b->ser,
                        .n_series = ns,
                        .ref_y = kl                         ? 0.0
                                 : kind == HY_EVAL_KIND_GEN ? dense.value.mean
                                                            : 1.0,
                        .ref_label = "dense",
                        .x0 = 0,
                        .x1 = NAN,
                        .y0 = NAN,
                        .y1 = NAN};
    return HY_OK;
}

/* One x and y range for all panels, so contexts compare at a glance. */
static void share_axes(hy_svg_panel *ps, int32_t n) {
    double xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    for (int32_t i = 0; i < n; i++) {
        if (isfinite(ps[i].ref_y)) yl = fmin(yl, ps[i].ref_y), yh = fmax(yh, ps[i].ref_y);
        for (int32_t s = 0; s < ps[i].n_series; s++) {
            const hy_svg_series *q = &ps[i].series[s];
            for (int32_t k = 0; k < q->n; k++) {
                if (!isfinite(q->x[k]) || !isfinite(q->y[k])) continue;
                xh = fmax(xh, q->x[k]);
                double lo = isfinite(q->lo[k]) ? q->lo[k] : q->y[k];
                double hi = isfinite(q->hi[k]) ? q->hi[k] : q->y[k];
                yl = fmin(yl, fmin(lo, q->y[k])), yh = fmax(yh, fmax(hi, q->y[k]));
            }
        }
    }
    if (!(xh > 0) || !(yh >= yl)) return; /* nothing plotted: leave each panel to itself */
    double d = yh - yl > 1e-9 ? yh - yl : 0.1;
    for (int32_t i = 0; i < n; i++)
        ps[i].x1 = xh * 1.05, ps[i].y0 = yl - 0.05 * d, ps[i].y1 = yh + 0.05 * d;
}

hy_status hy_eval_write_svg(const hy_eval_result *const *rs, int32_t n_results, const char *task,
                            const char *title, const char *path) {
    if (!rs || n_results <= 0 || !task || !path)
        return hy_fail(HY_EINVAL, "sweep plot: %d results, task %s, path %s: expected >= 1, set",
                       (int)n_results, task ? task : "NULL", path ? path : "NULL");
    /* "kl" pictures the KL column of the agree task */
    const int kl = !strcmp(task, "kl");
    const char *find = kl ? "agree" : task;
    int32_t *tix = hy_calloc((size_t)n_results, sizeof *tix, "sweep plot tasks");
    if (!tix) return HY_ENOMEM;
    for (int32_t i = 0; i < n_results; i++) {
        tix[i] = -1;
        for (int32_t t = 0; rs[i] && rs[i]->tasks && t < rs[i]->n_tasks; t++)
            if (!strcmp(rs[i]->tasks[t].task, find)) tix[i] = t;
        if (tix[i] < 0 || rs[i]->n_methods <= 0) {
            free(tix);
            return hy_fail(HY_ENOTFOUND, "sweep plot: result %d has no task \"%s\"", (int)i, task);
        }
    }
    groups gs = {.n = 0};
    panel_buf *bufs = hy_calloc((size_t)n_results, sizeof *bufs, "sweep plot panels");
    hy_svg_panel *ps = hy_calloc((size_t)n_results, sizeof *ps, "sweep plot panels");
    hy_status st = bufs && ps ? HY_OK : HY_ENOMEM;
    int measured = 0;
    for (int32_t i = 0; i < n_results && !st; i++)
        st = fill_panel(rs[i], tix[i], kl, &gs, &bufs[i], &ps[i], &measured);
    if (!st) share_axes(ps, n_results);
    char deftitle[96];
    snprintf(deftitle, sizeof deftitle, "hylra sweep: %.16s vs predicted cost", task);
    const char *note = measured ? "open markers: no cost prediction, x is the measured KV fraction "
                                  "attended; whiskers: 95% bootstrap CI"
                                : "whiskers: 95% bootstrap CI over samples";
    if (!st)
        st = hy_svg_plot_file(path, title ? title : deftitle, note, ps, n_results,
                              n_results < 3 ? n_results : 2);
    for (int32_t i = 0; bufs && i < n_results; i++)
        free(bufs[i].x);
    free(bufs), free(ps), free(tix);
    return st;
}
