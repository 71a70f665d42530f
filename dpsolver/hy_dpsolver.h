/* dpsolver: compiles a profile (formats/profile) and a cost model (formats/costs or the
 * analytic default) into a reuse plan (formats/plan) under a speed budget. One problem
 * form (hy_problem: units in execution order, per-mode costs, pairwise reuse loss) feeds
 * three solvers: the exact chain DP, the unit-level ILP (GLPK) and the Pareto sweep.
 * Method and constants: docs/solver.md. */
#ifndef HY_DPSOLVER_H
#define HY_DPSOLVER_H

#include "hy_common.h"
#include "hy_costs.h"
#include "hy_plan.h"
#include "hy_profile.h"

#include <stdbool.h>
#include <stdint.h>

/* ---------- cost model (cost.c) ---------- */

/* Seconds of one layer's attention (all heads) in one decode step. With a table the
 * measured numbers are used (interpolated); otherwise the analytic model: bytes moved over
 * bandwidth plus a launch overhead per kernel. Sparse modes read the sink and window tokens
 * besides their set: min(n, k + sink + window) tokens. */
typedef struct {
    const hy_costs *table; /* borrowed; NULL = analytic */
    double bandwidth_Bps;  /* analytic: effective memory bandwidth */
    double launch_s;       /* analytic: overhead per kernel launch */
    int32_t elem_bytes;    /* K/V element size (2 = bf16) */
    int32_t head_dim, n_heads, n_kv_heads;
    int32_t batch;
    int32_t sink, window; /* tokens every sparse set includes (defaults 4, 64) */
    int32_t page_size;    /* tokens per page of bounds units (default 16) */
    /* the model's sliding-window layers (Gemma 3; 0: none): layer l is windowed unless
     * (l + 1) % swa_period == 0, and a dense unit there reads its window, not the context */
    int32_t sliding_window, swa_period;
} hy_cost_model;

#define HY_H100_HBM3_BPS 3.35e12 /* H100 SXM5 HBM3 peak, NVIDIA datasheet */
#define HY_LAUNCH_S 3e-6 /* one kernel launch + tail, typical on H100 (costs.json default) */

/* Analytic defaults for a model shape; table may be NULL. When the table has a measured
 * copy bandwidth, the analytic part uses it instead of the datasheet peak. */
void hy_cost_model_init(hy_cost_model *m, int32_t head_dim, int32_t n_heads, int32_t n_kv_heads,
                        const hy_costs *table);
hy_status hy_cost_layer(const hy_cost_model *m, hy_unit_mode mode, int64_t n, int64_t k,
                        double *seconds);
/* A costs.json-shaped table of the analytic model over a grid (device "analytic"). */
hy_status hy_cost_analytic_table(const hy_cost_model *m, hy_costs **out);

/* ---------- problem (problem.c) ---------- */

typedef enum { HY_LOSS_OUT_ERR = 0, HY_LOSS_RECALL } hy_loss_kind;
typedef enum { HY_SOLVE_LAYER = 0, HY_SOLVE_HEAD } hy_solve_granularity;

typedef struct {
    int32_t k;        /* within the profile's k grid (between points: interpolated) */
    bool k_into_grid; /* sessions: a k outside the grid moves to its nearer end (k was a
                         default, not a choice; hy_session_open) */
    int64_t context;  /* n the costs are for; 0 = the profile's ctx */
    int32_t batch;    /* 1 by default */
    hy_loss_kind loss;
    hy_solve_granularity granularity;
    double sensitive_threshold; /* own-set loss above this: the unit may not reuse */
    bool temporal;              /* offer the profile's strides as refresh choices of select units */
    /* selector modes offered besides select, as bits (1u << HY_MODE_SCORE | ...): a unit
     * may then choose its set with score, sketch8 or sketch4 (plan v3), priced by the cost
     * model, its own output then sparse (loss: the profile's own-set or sketch out_err) */
    uint32_t selectors;
} hy_problem_opts;

void hy_problem_opts_default(hy_problem_opts *o);

/* Units in execution order. unit u is in layer layer_of[u]; a reuse of src by dst is allowed
 * when loss[src * n_units + dst] is not NaN (then src runs before dst or in the same layer).
 * Costs are seconds per decode step; losses are in "per layer" units (a head unit's loss is
 * divided by the number of KV heads) so that layer and head problems compare. */
typedef struct {
    int32_t n_units, n_layers, heads_per_unit_layer; /* 1 (layer units) or Hkv (head units) */
    int32_t *layer_of;
    double *cost_dense, *cost_select, *cost_reuse;
    float *loss;        /* [n_units * n_units] (src, dst) */
    uint8_t *sensitive; /* may not reuse, and selects only with choice 0 (select, stride 1:
                           full attention) */
    /* The select choices of a unit: choice c runs mode choice_mode[c] (select or a cheaper
     * selector), refreshing every strides[c] steps; choice 0 is select with stride 1. */
    int32_t n_strides; /* number of choices (the name predates the selectors) */
    int32_t *strides;
    int8_t *choice_mode; /* [n_strides] hy_unit_mode, a publishing mode */
    double *cost_choice; /* [n_units * n_strides] refresh cost of the choice's mode (before the
                            stride is averaged in); NULL: cost_select */
    float *stride_pen;   /* [n_units * n_strides]: loss added per step-consumer of a select unit
                            refreshed every strides[s] steps (0 for s = 1) */
    float *own_pen;      /* [n_units * n_strides]: loss of the selecting unit's own output under
                            the choice (0 for select: its output is dense) */
    double dense_total;
    /* provenance for the plan */
    const hy_profile *profile;
    hy_problem_opts opts;
} hy_problem;

hy_status hy_problem_from_profile(const hy_profile *p, const hy_cost_model *cm,
                                  const hy_problem_opts *o, hy_problem **out);
/* Empty problem for tests and synthetic instances (arrays allocated, losses NaN). */
hy_status hy_problem_alloc(int32_t n_units, int32_t n_layers, int32_t n_strides, hy_problem **out);
void hy_problem_free(hy_problem *pr);
/* Cost of selecting unit u with choice s: the refresh step plus strides[s]-1 reuse steps. */
double hy_problem_select_cost(const hy_problem *pr, int32_t u, int32_t s);

/* One choice per unit: mode, source unit (reuse) and stride index (select). */
typedef struct {
    int32_t n_units;
    int8_t *mode; /* hy_unit_mode */
    int32_t *src;
    int32_t *stride;
} hy_assign;

hy_status hy_assign_alloc(int32_t n_units, hy_assign *a); /* all dense */
void hy_assign_free(hy_assign *a);
/* Checks the assignment is legal for pr and returns its cost and loss. */
hy_status hy_assign_eval(const hy_problem *pr, const hy_assign *a, double *cost, double *loss);

/* ---------- solvers ---------- */

typedef struct {
    double cost, loss;
    double seconds; /* solver wall time */
    double gap;     /* relative MIP gap (0 for the DP) */
    bool optimal;
    const char *status; /* "optimal", "within_gap" (stopped at the asked gap) or "time_limit" */
    const char *method; /* "dp", "dp-head-chains", "dp-layer-expanded", "ilp" */
    double cheapest;    /* cheapest feasible cost found (for infeasible-budget messages) */
} hy_solve_info;

/* Budget DP, exact for chains: each unit is dense, select(stride) or reuses the most recent
 * select unit before it in units (layer problems: the chain of docs/design.md). Costs rounded up
 * to budget/steps (the plan never exceeds the budget). HY_ESOLVER naming the cheapest
 * feasible budget when none fits. O(U * U*S * steps). */
hy_status hy_dp_solve(const hy_problem *pr, double budget_s, int32_t steps, hy_assign *out,
                      hy_solve_info *info);
/* Head problems: each KV head's chain of units solved by the DP, chains combined by a
 * min-plus convolution of their frontiers (exact for "unit (l,h) reuses (a,h)"). */
hy_status hy_dp_solve_head_chains(const hy_problem *pr, int32_t n_kv_heads, double budget_s,
                                  int32_t steps, hy_assign *out, hy_solve_info *info);
/* The whole frontier at once: best loss for every budget b * max_s / steps, b = 0..steps
 * (INFINITY where infeasible). frontier has steps + 1 entries. */
hy_status hy_dp_frontier(const hy_problem *pr, double max_s, int32_t steps, double *frontier);
/* Lagrangian relaxation: minimise loss + lambda * cost (no budget; exact for that lambda,
 * a point of the convex hull of the frontier). */
hy_status hy_dp_lagrange(const hy_problem *pr, double lambda, hy_assign *out, double *cost,
                         double *loss);

typedef struct {
    int32_t max_candidates; /* sources kept per unit (lowest loss first); 0 = all */
    double time_limit_s;
    double mip_gap;        /* stop when the relative gap is below this */
    bool chain_only;       /* add "no select between source and user" (chain = DP) */
    const hy_assign *warm; /* a feasible assignment handed to GLPK as first incumbent */
    bool verbose;
} hy_ilp_opts;

void hy_ilp_opts_default(hy_ilp_opts *o);
hy_status hy_ilp_solve(const hy_problem *pr, double budget_s, const hy_ilp_opts *o, hy_assign *out,
                       hy_solve_info *info);
/* Cheapest cost any assignment can reach (an ILP minimising cost). */
hy_status hy_ilp_cheapest(const hy_problem *pr, const hy_ilp_opts *o, double *cost);

/* ---------- plans (assign_plan.c) ---------- */

/* Writes an assignment of pr into a plan for pr's profile (layer units expand to every head
 * of the layer, reusing the same head of the anchor layer). */
hy_status hy_assign_to_plan(const hy_problem *pr, const hy_assign *a, const hy_solve_info *info,
                            const char *method, const char *budget_kind, double budget_value,
                            double budget_s, hy_plan **out);

/* ---------- sessions (session.c): what `hylra solve` and `hylra pareto` share ---------- */

typedef struct {
    hy_profile *profile;
    hy_costs *costs; /* NULL: analytic model */
    hy_cost_model cm;
    hy_problem *problem;
    hy_problem *layer_problem; /* head problems: the same profile at layer granularity, whose
                                  DP plan (expanded) is the other warm start */
    char profile_sha256[65];
} hy_session;

/* Reads the profile (refusing other formats and versions) and the optional cost table,
 * and builds the problem, priced with the profile's sink and window and a launch overhead of
 * launch_s (< 0: the cost table's, or the analytic default without one). costs_path may be
 * NULL. */
hy_status hy_session_open(const char *profile_path, const char *costs_path, double launch_s,
                          const hy_problem_opts *o, hy_session **out);
void hy_session_close(hy_session *s);

/* Solves at a budget (seconds when budget_is_seconds, else a fraction of the dense
 * attention cost) with "dp" or "ilp" (warm-started from the DP when the DP is feasible).
 * For head problems "dp" is the better of the per-head chain DP and the layer DP expanded
 * to heads. */
hy_status hy_session_solve(const hy_session *s, const char *method, double budget,
                           bool budget_is_seconds, int32_t dp_steps, const hy_ilp_opts *io,
                           hy_plan **out, hy_solve_info *info);

/* The DP plan of pr: for head problems (layer_pr given, the same profile at layer
 * granularity) the better of the per-head chain DP and the layer DP expanded to heads. */
hy_status hy_dp_solve_best(const hy_problem *pr, const hy_problem *layer_pr, double budget_s,
                           int32_t steps, hy_assign *out, hy_solve_info *info);

/* ---------- Pareto (pareto.c, svg.c) ---------- */

typedef struct {
    double budget_s, cost_s, loss, gap, seconds;
} hy_pareto_point;

typedef struct {
    int32_t n_dp, n_lagrange, n_ilp;
    hy_pareto_point *dp, *lagrange, *ilp;
    double dense_cost_s, cheapest_s;
} hy_pareto;

/* DP frontier over [cheapest, dense] in dp_steps, Lagrangian hull points, and the ILP at
 * n_ilp budgets spread over the same range (each with io's time limit), solved on up to
 * n_threads threads (the points are independent; the result does not depend on the count
 * except through the time limit). progress: a progress line on stderr for the ILP points. */
hy_status hy_pareto_sweep(const hy_problem *pr, const hy_problem *layer_pr, int32_t dp_steps,
                          int32_t n_ilp, const hy_ilp_opts *io, int n_threads, int progress,
                          hy_pareto *out);
void hy_pareto_free(hy_pareto *p);
hy_status hy_pareto_write_json(const hy_pareto *p, const hy_session *s, const char *path);
/* A self-contained SVG: predicted loss against cost (fraction of dense), DP and ILP. */
hy_status hy_pareto_write_svg(const hy_pareto *p, const char *title, const char *path);

/* Expands a layer assignment onto head units: every head takes its layer's mode, head h of a
 * reuse layer reads head h of the anchor layer. */
hy_status hy_assign_expand_layers(const hy_assign *layers, int32_t n_kv_heads, hy_assign *units);

/* ---------- synthetic profiles (synth.c) ---------- */

/* A seeded profile with the structure real ones show: recall decaying with layer distance,
 * a few sensitive layers, retrieval-like heads, temporal recall decaying with stride. */
hy_status hy_synth_profile(int32_t n_layers, int32_t n_kv_heads, uint64_t seed, hy_profile **out);

#endif
