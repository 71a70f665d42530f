/* eval: accuracy of plans and peer policies relative to dense attention on one model.
 * The engine (engine*.c) runs every method as one sequence of a shared context: the prompt is
 * prefilled once (prefill is dense for every method), its cache copied to each method's
 * sequence, then all methods decode in lockstep batches, the dense sequence being the
 * reference. Tasks: `agree` and `ppl` (teacher-forced decoding over long documents) and the
 * generated long-context tasks of hy_tasks.h. report.c turns the per-sample numbers into
 * tables with 95% CIs, JSON and SVG. Definitions: docs/eval.md. */
#ifndef HY_EVAL_H
#define HY_EVAL_H

#include "hy_common.h"
#include "hy_evalstats.h"
#include "hy_plan.h"
#include "hy_runtime.h"
#include "hy_tasks.h"
#include "hy_tokenizer.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HY_EVAL_MAX_TASKS 16

typedef struct {
    char name[96];  /* row label: "dense", "dp@0.30", "window:1020", "plan:x.json" */
    char group[32]; /* curve / family: dense, dp, ilp, window, quest, tidal, recycled, plan */
    hy_plan *plan;  /* NULL = dense; borrowed */
    double budget;  /* the budget fraction the method was built for; NaN if none */
    double pred_cost_frac; /* predicted attention cost / dense (NaN when unknown) */
    double pred_loss;      /* the solver's predicted loss (NaN for policies) */
} hy_eval_method;

typedef struct {
    int64_t ctx;       /* tokens per sample (prompt + decoded), <= the model's context */
    int32_t n_docs;    /* agree / ppl: documents of ctx tokens cut from the text */
    int32_t tf_tokens; /* agree / ppl: teacher-forced decode steps at the end of each doc */
    int32_t n_samples; /* per generated task */
    uint64_t seed;
    double depth;            /* needle depth for generated tasks; < 0: random per sample */
    const char *text;        /* long public-domain text: documents and haystack (NUL-terminated) */
    const char *text_source; /* where the text came from (recorded in the output) */
    int32_t n_tasks;
    char tasks[HY_EVAL_MAX_TASKS][16]; /* "agree", "ppl", or hy_task_name() names */
    bool progress;                     /* progress lines (samples, tok/s, ETA) on stderr */
    hy_device device;                  /* where the methods run (HY_DEVICE_CPU by default) */
} hy_eval_opts;

void hy_eval_opts_default(hy_eval_opts *o); /* ctx 2048, 4 docs x 64 steps, 4 samples, seed 0 */

/* Per task, per method, per sample. Method 0 is always dense (the reference). */
typedef struct {
    char task[16];
    int32_t n; /* samples (documents for agree/ppl) */
    /* score[m * n + i]:
     *   agree: fraction of the doc's tf_tokens steps whose top-1 token equals dense's;
     *   ppl:   mean negative log-likelihood (nats) of the doc's true next tokens;
     *   generated tasks: hy_task_score of the method's greedy output, in [0, 1]. */
    double *score;
    double *kl;    /* agree only (else NULL): mean KL(dense || method) per doc, nats */
    char **output; /* generated tasks only (else NULL): [m * n + i] the decoded text */
} hy_eval_task_result;

typedef struct {
    int64_t ctx;
    int32_t n_methods;
    hy_eval_method *methods; /* copies (plan pointers borrowed) */
    int32_t n_tasks;
    hy_eval_task_result *tasks;
    /* measured per method over all decode steps: K+V token rows attended (sets; page bounds
     * count one row per page scored) / rows dense attention would read */
    double *kv_frac;
    double seconds; /* wall time of the whole run */
    char text_source[256];
    uint64_t seed;
} hy_eval_result;

/* Runs every task for every method. methods[0] must be dense (plan NULL); at most 64
 * methods. Plans are checked against the model (shape, sha256) and ctx (k <= ctx). */
hy_status hy_eval_run(const hy_model *m, const hy_tokenizer *tok, const hy_eval_method *methods,
                      int32_t n_methods, const hy_eval_opts *o, hy_eval_result **out);
void hy_eval_result_free(hy_eval_result *r);

/* ---------- report.c ---------- */
/* One task's summary for one method, relative to dense (method 0):
 *   agree:  value = top-1 agreement, delta = value - dense's (1.0), kl = mean KL;
 *   ppl:    value = exp(mean NLL) (perplexity); delta = ratio to dense's, CI from the paired
 *           bootstrap of the per-doc NLL difference, exponentiated;
 *   tasks:  value = mean score; delta = value - dense's, paired bootstrap CI. */
typedef struct {
    hy_ci value, delta, kl; /* kl.n == 0 when not applicable */
} hy_eval_cell;
hy_status hy_eval_cell_get(const hy_eval_result *r, int32_t task, int32_t method,
                           hy_eval_cell *out);

/* Plain-text table: one row per method, one column per task ("value (delta [lo, hi])"),
 * plus predicted cost, measured KV fraction. */
hy_status hy_eval_write_table(const hy_eval_result *r, FILE *f);
/* JSON (schema in docs/eval.md): options, per method and task the cells and the raw
 * per-sample numbers. */
hy_status hy_eval_write_json(const hy_eval_result *r, const char *path);

/* Measured loss of a method for the solver check: its mean KL(dense || method) when the run
 * has `agree`, else the mean per-doc NLL increase over dense when it has `ppl`; NaN
 * otherwise. */
double hy_eval_measured_loss(const hy_eval_result *r, int32_t method);
/* Spearman's rho between pred_loss and hy_eval_measured_loss over methods whose group is dp
 * or ilp (n_used set to how many); NaN when fewer than 3. */
double hy_eval_spearman(const hy_eval_result *r, int32_t *n_used);

/* report_read.c: a result back from report JSON (plans not restored, generated outputs not
 * read); errors name the file and the field. */
hy_status hy_eval_read_json(const char *path, hy_eval_result **out);

/* The sweep picture: one panel per result (context), x = predicted attention cost (fraction
 * of dense), y = the task's value (agree: top-1 agreement; "kl": agree's mean KL(dense ||
 * method); ppl: ratio to dense; tasks: score)
 * with CI whiskers, one curve per method group, dense as a horizontal reference line. */
hy_status hy_eval_write_svg(const hy_eval_result *const *rs, int32_t n_results, const char *task,
                            const char *title, const char *path);

#endif
