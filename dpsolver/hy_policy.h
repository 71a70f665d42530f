/* dpsolver/policy: the peers' sparse-attention policies as built-in plan generators, the
 * predicted attention cost of any plan (solver plans and policy plans priced by one model),
 * and fitting a policy's free parameter to a cost budget so methods compare at matched
 * predicted cost. Specs and cost formulas: docs/policies.md. */
#ifndef HY_POLICY_H
#define HY_POLICY_H

#include "hy_dpsolver.h"

/* The largest token set a policy is fitted to: the runtimes' top-k limit (HY_TOPK_MAX_K in
 * kernels/topk.h; tests/policy checks the two agree). */
#define HY_POLICY_MAX_K 8192

typedef enum {
    HY_POLICY_DENSE = 0, /* "dense": every unit dense */
    HY_POLICY_WINDOW,    /* "window:W": every unit attends to sink + the last W tokens */
    HY_POLICY_QUEST,     /* "quest:P,k": every unit BOUNDS, pages of P tokens, k tokens kept */
    HY_POLICY_TIDAL,     /* "tidal:L1,L2,k": layers < L1 dense, layers L1 and L2 select, the
                            others reuse the nearest select layer before them (same head) */
    HY_POLICY_RECYCLED,  /* "recycled:s,k": every unit select with refresh s (temporal only) */
    HY_POLICY_PLAN,      /* "plan:FILE": a plan file (read and validated) */
} hy_policy_kind;

typedef struct {
    hy_policy_kind kind;
    int32_t window;       /* window:W (tokens after the sink) */
    int32_t page_size;    /* quest:P */
    int32_t k;            /* quest, tidal, recycled: tokens per set */
    int32_t dense_layers; /* tidal: L1 */
    int32_t reselect;     /* tidal: L2 (> L1) */
    int32_t stride;       /* recycled: s >= 1 */
    char path[1024];      /* plan:FILE */
} hy_policy;

/* Parses a --policy spec. Errors name the spec and what was expected, e.g.
 * `policy "quest:16": expected quest:P,k (page size, tokens kept)` (HY_EINVAL). */
hy_status hy_policy_parse(const char *spec, hy_policy *out);
/* The canonical spec of a policy ("quest:16,512"), for tables and plan provenance. */
void hy_policy_format(const hy_policy *p, char *buf, size_t len);

/* Model shape and set parameters a generated plan is built for. sink/window are the plan's
 * always-included tokens for quest/tidal/recycled (window:W sets the window to W). */
typedef struct {
    int32_t n_layers, n_heads, n_kv_heads, head_dim;
    const char *model_name, *model_sha256; /* may be NULL */
    int32_t sink, window;
    int32_t context; /* tokens the plan is for (k <= context is checked) */
    /* the model's sliding-window layers (Gemma 3; 0: none): layer l is windowed unless
     * (l + 1) % swa_period == 0; its units stay dense (they see only their window) */
    int32_t sliding_window, swa_period;
} hy_policy_shape;

/* The plan of a policy for this shape, with solver "policy:<kind>" and predicted cost_s /
 * dense_cost_s filled from cm at shape->context (loss NaN: policies predict none). For
 * plan:FILE the file is read, checked against the shape (hy_plan_check_model) and returned
 * with its own fields. Invalid parameters (L2 >= n_layers, k > context, P < 1) fail naming
 * them. Dense and window plans publish no set: their k is 1 (unused). */
hy_status hy_policy_plan(const hy_policy *p, const hy_policy_shape *shape, const hy_cost_model *cm,
                         hy_plan **out);

/* Predicted attention seconds per decode step of plan at context n, and of all-dense, with
 * the cost model (docs/policies.md): per unit its layer's mode cost / n_kv_heads; a select or
 * bounds unit refreshed every s steps costs (refresh + (s-1) * reuse-own) / s; qsim refresh is
 * priced at s = 1 (an upper bound: the rate is not known before running). The plan's own
 * sink, window and page_size replace cm's; HY_EMISMATCH when cm is for another n_kv_heads or
 * head_dim. */
hy_status hy_plan_predict_cost(const hy_cost_model *cm, const hy_plan *plan, int64_t n,
                               double *cost_s, double *dense_s);

/* Fits the policy's free parameter (window: W; quest, tidal, recycled: k) to the largest value
 * whose predicted cost at shape->context is <= budget_frac of dense, keeping the others as
 * given. HY_ESOLVER naming the cheapest reachable fraction when even the smallest value
 * (W = 0, k = 1 page or 1 token) does not fit. dense and plan:FILE are returned unchanged. */
hy_status hy_policy_fit(hy_policy *p, const hy_policy_shape *shape, const hy_cost_model *cm,
                        double budget_frac);

#endif
