/* eval/report_table: the plain-text table `hylra eval` prints. A header names the run (ctx,
 * seed, text, sample counts); then one row per method: name, predicted cost fraction,
 * measured KV fraction and per task "value (delta [lo, hi])", columns padded to align. */
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CELL = 64 };

static void num_or_dash(char *out, double v, const char *fmt) {
    if (isfinite(v))
        snprintf(out, CELL, fmt, v);
    else
        snprintf(out, CELL, "-");
}

static void format_cell(char *out, hy_eval_kind kind, const hy_eval_cell *c) {
    if (kind == HY_EVAL_KIND_PPL) /* delta is a ratio to dense's perplexity */
        snprintf(out, CELL, "%.3f (x%.4f [%.4f, %.4f])", c->value.mean, c->delta.mean, c->delta.lo,
                 c->delta.hi);
    else
        snprintf(out, CELL, "%.3f (%+.3f [%+.3f, %+.3f])", c->value.mean, c->delta.mean,
                 c->delta.lo, c->delta.hi);
}

/* Column layout: name, pred_cost, kv_frac, then per task one column (agree also a kl one). */
typedef struct {
    int32_t n_cols, n_rows;
    char (*cell)[CELL]; /* (1 + n_rows) x n_cols, row 0 = header */
} grid;

static hy_status fill(const hy_eval_result *r, grid *g) {
    int32_t nc = 3;
    for (int32_t t = 0; t < r->n_tasks; t++)
        nc += 1 + (hy_eval_task_kind(r->tasks[t].task) == HY_EVAL_KIND_AGREE && r->tasks[t].kl);
    g->n_cols = nc, g->n_rows = r->n_methods;
    g->cell = hy_calloc((size_t)(r->n_methods + 1) * (size_t)nc, CELL, "eval table cells");
    if (!g->cell) return HY_ENOMEM;
    char(*h)[CELL] = g->cell;
    snprintf(h[0], CELL, "method"), snprintf(h[1], CELL, "pred_cost"),
        snprintf(h[2], CELL, "kv_frac");
    for (int32_t t = 0, c = 3; t < r->n_tasks; t++) {
        const hy_eval_task_result *k = &r->tasks[t];
        hy_eval_kind kind = hy_eval_task_kind(k->task);
        snprintf(h[c++], CELL, "%.16s%s", k->task, kind == HY_EVAL_KIND_PPL ? " (ratio)" : "");
        if (kind == HY_EVAL_KIND_AGREE && k->kl) snprintf(h[c++], CELL, "kl [95%% CI]");
    }
    for (int32_t m = 0; m < r->n_methods; m++) {
        char(*row)[CELL] = g->cell + (size_t)(m + 1) * (size_t)nc;
        snprintf(row[0], CELL, "%.63s", r->methods[m].name);
        num_or_dash(row[1], r->methods[m].pred_cost_frac, "%.3f");
        num_or_dash(row[2], r->kv_frac ? r->kv_frac[m] : NAN, "%.3f");
        for (int32_t t = 0, c = 3; t < r->n_tasks; t++) {
            hy_eval_cell cl;
            hy_status st = hy_eval_cell_get(r, t, m, &cl);
            if (st) return st;
            hy_eval_kind kind = hy_eval_task_kind(r->tasks[t].task);
            format_cell(row[c++], kind, &cl);
            if (kind == HY_EVAL_KIND_AGREE && r->tasks[t].kl)
                snprintf(row[c++], CELL, "%.4f [%.4f, %.4f]", cl.kl.mean, cl.kl.lo, cl.kl.hi);
        }
    }
    return HY_OK;
}

static void header(const hy_eval_result *r, FILE *f) {
    fprintf(f, "# hylra eval: ctx %lld tokens, seed %llu, text: %s, %.1f s\n", (long long)r->ctx,
            (unsigned long long)r->seed, r->text_source[0] ? r->text_source : "(none)", r->seconds);
    fputs("# samples:", f);
    for (int32_t t = 0; t < r->n_tasks; t++) {
        hy_eval_kind kind = hy_eval_task_kind(r->tasks[t].task);
        fprintf(f, "%s %.16s %d %s", t ? "," : "", r->tasks[t].task, (int)r->tasks[t].n,
                kind == HY_EVAL_KIND_GEN ? "samples" : "docs");
    }
    fprintf(f,
            "\n# cells: value (delta vs dense [95%% CI]), paired percentile bootstrap over "
            "samples, B=%d\n",
            HY_EVAL_REPORT_B);
    fputs("# agree: top-1 agreement with dense, kl: mean KL(dense||method) nats; ppl: perplexity"
          " (x ratio to dense); generated tasks: mean score in [0,1]\n",
          f);
}

hy_status hy_eval_write_table(const hy_eval_result *r, FILE *f) {
    if (!r || !f) return hy_fail(HY_EINVAL, "eval table: result or stream is NULL");
    if (r->n_methods <= 0 || !r->methods)
        return hy_fail(HY_EINVAL, "eval table: %d methods, expected >= 1", (int)r->n_methods);
    if (r->n_tasks < 0 || r->n_tasks > HY_EVAL_MAX_TASKS)
        return hy_fail(HY_ERANGE, "eval table: %d tasks, expected 0..%d", (int)r->n_tasks,
                       HY_EVAL_MAX_TASKS);
    grid g = {0};
    hy_status st = fill(r, &g);
    if (st) {
        free(g.cell);
        return hy_fail_ctx(st, "eval table");
    }
    int w[3 + 2 * HY_EVAL_MAX_TASKS] = {0}; /* fill() makes at most 2 columns per task */
    int32_t nc = g.n_cols;
    for (int32_t i = 0; i <= g.n_rows; i++)
        for (int32_t c = 0; c < nc; c++) {
            int l = (int)strlen(g.cell[(size_t)i * (size_t)g.n_cols + (size_t)c]);
            if (l > w[c]) w[c] = l;
        }
    header(r, f);
    for (int32_t i = 0; i <= g.n_rows; i++) {
        for (int32_t c = 0; c < nc; c++) /* text left-aligned, numbers right-aligned */
            fprintf(f, c ? "  %*s" : "%-*s", c ? w[c] : w[c] + 1,
                    g.cell[(size_t)i * (size_t)g.n_cols + (size_t)c]);
        fputc('\n', f);
    }
    free(g.cell);
    return ferror(f) ? hy_fail(HY_EIO, "eval table: write failed") : HY_OK;
}
