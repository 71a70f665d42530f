/* Shared set-up of hylra eval and hylra sweep (eval_common.h). */
#include "eval_common.h"
#include "commands.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hy_cli_parse_tasks(const char *cmd, const char *list, hy_eval_opts *o) {
    o->n_tasks = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        hy_task_kind k;
        if (strcmp(t, "agree") && strcmp(t, "ppl") && hy_task_parse(t, &k)) {
            hy_clear_error();
            fprintf(stderr,
                    "hylra %s: --task %s: unknown task, expected a comma list of agree, ppl, "
                    "passkey, niah, multikey, multivalue, multiquery, vt, fwe\n",
                    cmd, t);
            return -1;
        }
        if (o->n_tasks == HY_EVAL_MAX_TASKS) {
            fprintf(stderr, "hylra %s: --task: at most %d tasks\n", cmd, HY_EVAL_MAX_TASKS);
            return -1;
        }
        snprintf(o->tasks[o->n_tasks++], sizeof o->tasks[0], "%s", t);
    }
    if (!o->n_tasks) fprintf(stderr, "hylra %s: --task is empty\n", cmd);
    return o->n_tasks ? 0 : -1;
}

hy_status hy_cli_eval_env_open(const char *model, hy_weights weights, const char *text_path,
                               hy_cli_eval_env *e) {
    const hy_model_opts mo = {weights};
    *e = (hy_cli_eval_env){0};
    hy_status st = hy_tokenizer_open(model, &e->tok);
    if (!st) st = hy_model_load_opts(model, &mo, &e->m);
    if (st) return hy_fail_ctx(st, "%s", model);
    e->text = hy_cli_read_file(text_path, "eval text", NULL);
    if (!e->text)
        return hy_fail_ctx(HY_EIO, "eval text (run scripts/fetch-evaltext for the default)");
    return HY_OK;
}

void hy_cli_eval_env_close(hy_cli_eval_env *e) {
    hy_model_free(e->m);
    hy_tokenizer_free(e->tok);
    free(e->text);
    *e = (hy_cli_eval_env){0};
}

void hy_cli_cost_model(const hy_model *m, double launch_s, int32_t sink, int32_t window,
                       hy_cost_model *cm) {
    const hy_model_info *mi = hy_model_info_borrow(m);
    hy_cost_model_init(cm, mi->head_dim, mi->n_heads, mi->n_kv_heads, NULL);
    cm->sliding_window = mi->sliding_window, cm->swa_period = mi->swa_period;
    cm->launch_s = hy_cli_launch_s(launch_s, 0, cm->launch_s);
    cm->sink = sink, cm->window = window;
}

void hy_cli_method_from_plan(hy_plan *plan, const char *name, const char *group, double budget,
                             const hy_cost_model *cm, int64_t ctx, hy_eval_method *out) {
    *out =
        (hy_eval_method){.plan = plan, .budget = budget, .pred_cost_frac = NAN, .pred_loss = NAN};
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->group, sizeof out->group, "%s", group);
    double c = 0, d = 0;
    if (plan && hy_plan_predict_cost(cm, plan, ctx, &c, &d) == HY_OK && d > 0)
        out->pred_cost_frac = c / d;
    else if (!plan)
        out->pred_cost_frac = 1.0;
    if (plan && strncmp(plan->solver, "policy:", 7)) out->pred_loss = plan->loss;
}

hy_status hy_cli_method(const char *spec, const hy_model *m, const hy_cost_model *cm, int64_t ctx,
                        int32_t sink, int32_t window, double fit, hy_eval_method *out,
                        hy_plan **plan) {
    const hy_model_info *mi = hy_model_info_borrow(m);
    *plan = NULL;
    hy_policy p;
    hy_status st = hy_policy_parse(spec, &p);
    if (st) return st;
    const hy_policy_shape shape = {.n_layers = mi->n_layers,
                                   .n_heads = mi->n_heads,
                                   .n_kv_heads = mi->n_kv_heads,
                                   .head_dim = mi->head_dim,
                                   .model_name = mi->name,
                                   .model_sha256 = mi->sha256,
                                   .sink = sink,
                                   .window = window,
                                   .context = (int32_t)ctx,
                                   .sliding_window = mi->sliding_window,
                                   .swa_period = mi->swa_period};
    if (fit > 0 && (st = hy_policy_fit(&p, &shape, cm, fit)))
        return hy_fail_ctx(st, "policy %s at %.2f of dense", spec, fit);
    if (p.kind != HY_POLICY_DENSE && (st = hy_policy_plan(&p, &shape, cm, plan)))
        return st; /* its message names the policy */
    char name[96];
    hy_policy_format(&p, name, sizeof name);
    const char *group = p.kind == HY_POLICY_DENSE      ? "dense"
                        : p.kind == HY_POLICY_WINDOW   ? "window"
                        : p.kind == HY_POLICY_QUEST    ? "quest"
                        : p.kind == HY_POLICY_TIDAL    ? "tidal"
                        : p.kind == HY_POLICY_RECYCLED ? "recycled"
                                                       : "plan";
    /* a plan file keeps the budget it was solved for (--fit does not refit a plan); a fitted
     * policy was built for --fit */
    double budget = NAN;
    if (p.kind == HY_POLICY_PLAN && *plan)
        budget = !strcmp((*plan)->budget_kind, "fraction") ? (*plan)->budget_value : NAN;
    else if (fit > 0)
        budget = fit;
    hy_cli_method_from_plan(*plan, name, group, budget, cm, ctx, out);
    return HY_OK;
}
