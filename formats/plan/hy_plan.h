/* formats/plan: the reuse plan (JSON, format "hylra-plan", version 2; version 1 files are
 * still read) that the solver and the peer-policy generators write and the runtime executes:
 * model identity and shape, profile hash, k / sink / window, token or page granularity, one
 * mode per unit (layer, kv_head), the budget asked for, the solver's optimality and the
 * predicted cost and loss. Schema: docs/plan-format.md. */
#ifndef HY_PLAN_H
#define HY_PLAN_H

#include "hy_common.h"

#include <stdint.h>

#define HY_PLAN_FORMAT "hylra-plan"
#define HY_PLAN_VERSION 3 /* written; 1 to 3 are read */

/* Per decode step, what a unit attends to (prefill is always dense):
 *   DENSE   all tokens; publishes nothing.
 *   SELECT  all tokens, then publishes its top-k set (GQA-summed attention probabilities).
 *   REUSE   the set its source unit uses in this step (sink and window merged in).
 *   WINDOW  only the sink and window tokens (StreamingLLM-like); publishes nothing. (v2)
 *   BOUNDS  the top-k pages ranked by per-channel min/max key bounds without a dense pass
 *           (Quest-like); needs page granularity; publishes its set. (v2)
 *   SCORE   ranks tokens by exact scores from K alone (no V pass: the GQA-summed softmax of
 *           q.k, the very ranking SELECT uses), publishes the top-k set and attends to that
 *           set only (its own output is sparse). (v3)
 *   SKETCH8, SKETCH4  rank tokens by scores from an int8 / int4 copy of each key (symmetric,
 *           one scale per token and head), publish the top-k and attend to it; the set is an
 *           approximation of SELECT's. (v3)
 * The publishing modes (SELECT, BOUNDS, SCORE, SKETCH8, SKETCH4) may refresh their set only
 * every `refresh` steps (or on query drift) and attend to their own last set in between. Sets
 * are counted in tokens: with page granularity a unit keeps ceil(k / page_size) pages. */
typedef enum {
    HY_MODE_DENSE = 0,
    HY_MODE_SELECT,
    HY_MODE_REUSE,
    HY_MODE_WINDOW,
    HY_MODE_BOUNDS,
    HY_MODE_SCORE,
    HY_MODE_SKETCH8,
    HY_MODE_SKETCH4,
    HY_MODE_COUNT
} hy_unit_mode;

/* Modes that choose and publish a set (reuse sources; refresh and qsim apply to them). */
static inline int hy_mode_publishes(hy_unit_mode m) {
    return m == HY_MODE_SELECT || m == HY_MODE_BOUNDS || m == HY_MODE_SCORE ||
           m == HY_MODE_SKETCH8 || m == HY_MODE_SKETCH4;
}

typedef struct {
    hy_unit_mode mode;
    int32_t src;     /* reuse: unit index (layer * n_kv_heads + head) of a publishing unit;
                        else -1 */
    int32_t refresh; /* publishing modes: recompute the set every `refresh` decode steps (1 =
                        always); 0 when the query-similarity policy is used */
    float qsim;      /* refresh 0: recompute when the query cosine (mean over the group's
                        heads) to the step that last selected drops below qsim */
} hy_plan_unit;

typedef struct {
    /* model identity: the runtime refuses a plan whose identity or shape differ */
    char model_name[128];
    char model_sha256[65];
    int32_t n_layers, n_heads, n_kv_heads, head_dim;
    int32_t model_ctx_train; /* the model's trained context, 0 = unknown; a plan whose context
                                exceeds it was solved from statistics the model never showed */
    char profile_sha256[65];
    /* sparse-set parameters */
    int32_t k, sink, window;
    int32_t context; /* tokens of context the prediction is for; k must not exceed it */
    hy_granularity granularity;
    int32_t page_size;   /* tokens per page when granularity is page */
    hy_plan_unit *units; /* n_layers * n_kv_heads, in (layer, head) order */
    /* what was asked and what the solver says */
    char budget_kind[16]; /* "fraction" of dense attention cost, or "seconds" */
    double budget_value;
    double budget_seconds;
    char solver[32];    /* "dp", "dp-head", "ilp", "ilp-chain", "manual", or a peer policy
                           generator: "policy:window", "policy:quest", "policy:tidal",
                           "policy:recycled", "policy:dense" */
    char loss_kind[16]; /* "out_err" or "recall" (1 - recall) */
    char status[16];    /* "optimal" or "feasible" (time limit hit, gap > 0) */
    double gap;         /* relative MIP gap; 0 for the DP */
    double solve_seconds;
    double cost_s;       /* predicted attention seconds per decode step */
    double dense_cost_s; /* same with every unit dense */
    double loss;         /* predicted summed loss over units */
} hy_plan;

static inline int32_t hy_plan_n_units(const hy_plan *p) {
    return p->n_layers * p->n_kv_heads;
}

/* A plan for the given shape with every unit dense and refresh 1. */
hy_status hy_plan_create(int32_t n_layers, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                         hy_plan **out);
void hy_plan_free(hy_plan *p);
hy_status hy_plan_copy(const hy_plan *src, hy_plan **out);

const char *hy_unit_mode_name(hy_unit_mode m);

/* Internal consistency: shape, k (> 0, <= context when context is set), sink/window >= 0,
 * page size, and per unit: refresh >= 1 or a qsim in (-1, 1]; a reuse source that exists, is
 * not the unit itself, does not run after its user (a later layer) and is a select or bounds
 * unit; bounds units only with page granularity.
 * Errors name units[i] with its layer and head. */
hy_status hy_plan_validate(const hy_plan *p);
/* The plan was compiled for this model: HY_EMISMATCH naming the field, found and expected.
 * sha256 may be NULL or "" to skip the hash check. */
hy_status hy_plan_check_model(const hy_plan *p, const char *sha256, int32_t n_layers,
                              int32_t n_heads, int32_t n_kv_heads, int32_t head_dim);
/* The runtime's context n can hold the plan's sets: HY_ERANGE when k > n. */
hy_status hy_plan_check_context(const hy_plan *p, int64_t n);

/* JSON. Reading validates (hy_plan_validate) before returning the plan. */
hy_status hy_plan_write(const hy_plan *p, const char *path);
hy_status hy_plan_to_json(const hy_plan *p, char **json); /* caller frees */
hy_status hy_plan_read(const char *path, hy_plan **out);
/* name is used in messages only. */
hy_status hy_plan_from_json(const char *json, size_t len, const char *name, hy_plan **out);

#endif
