/* What hylra eval and hylra sweep share: opening the model, its tokenizer and the long text,
 * the byte cost model that prices every method the same way, and turning a --policy spec
 * or a plan file into an eval method at a context. */
#ifndef HY_CLI_EVAL_COMMON_H
#define HY_CLI_EVAL_COMMON_H

#include "hy_eval.h"
#include "hy_gguf.h"
#include "hy_policy.h"

#define HY_DEFAULT_MODEL "data/models/SmolLM2-135M-Instruct.Q4_1.gguf"
#define HY_DEFAULT_EVALTEXT ".cache/evaltext/devil.txt"

typedef struct {
    hy_tokenizer *tok;
    hy_model *m;
    char *text;
} hy_cli_eval_env;

/* A comma list of task names (agree, ppl, hy_task_name() names) into o->tasks. */
int hy_cli_parse_tasks(const char *cmd, const char *list, hy_eval_opts *o);

/* Opens model and tokenizer, reads the text (errors name the file). */
hy_status hy_cli_eval_env_open(const char *model, hy_weights weights, const char *text_path,
                               hy_cli_eval_env *e);
void hy_cli_eval_env_close(hy_cli_eval_env *e);

/* Analytic cost model for the model's shape with launch_s (< 0: the model's default) and the
 * set parameters sink/window. */
void hy_cli_cost_model(const hy_model *m, double launch_s, int32_t sink, int32_t window,
                       hy_cost_model *cm);

/* A method for spec ("quest:16,512", "plan:FILE", ...) at context ctx: the plan (caller
 * frees *plan), name, group, predicted cost fraction (cm at ctx) and, for plan files, the
 * solver's predicted loss. When fit > 0 the policy's free parameter is fitted to that
 * fraction first. */
hy_status hy_cli_method(const char *spec, const hy_model *m, const hy_cost_model *cm, int64_t ctx,
                        int32_t sink, int32_t window, double fit, hy_eval_method *out,
                        hy_plan **plan);
/* Fills name/group/prediction for a method whose plan is already built (solver plans). */
void hy_cli_method_from_plan(hy_plan *plan, const char *name, const char *group, double budget,
                             const hy_cost_model *cm, int64_t ctx, hy_eval_method *out);

#endif
