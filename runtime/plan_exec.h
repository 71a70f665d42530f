/* Per-sequence plan state of the CPU runtime: the attached plan, each unit's last published
 * set, when and from which query it was chosen (temporal refresh), the page key bounds of
 * BOUNDS units, and counters. A work item touches only its own unit's entries; reuse items
 * read their source's set after it was written (earlier layer, or the first phase of the
 * same layer), so no locks are needed. */
#ifndef HY_RUNTIME_PLAN_EXEC_H
#define HY_RUNTIME_PLAN_EXEC_H

#include "attn_mode.h"
#include "indexset.h" /* hy_set_merge */

typedef struct hy_seq_plan {
    hy_plan *plan;
    int32_t n_units, group_dim; /* group_dim = query heads per KV head * head_dim */
    int64_t set_cap;            /* entries per unit set (tokens, or pages) */
    int32_t *set;               /* [unit][set_cap] ascending token or page indices */
    int32_t *set_n;             /* [unit] entries; -1 = nothing selected yet */
    int64_t *sel_step;          /* [unit] step of the last selection */
    float *sel_q;               /* [unit][group_dim] query of the last selection (qsim) */
    int64_t page_cap;           /* pages per unit in the bounds arrays (0 = none) */
    float *bmin, *bmax;         /* [unit][page_cap][head_dim] per-channel key bounds */
    int64_t *bounds_len;        /* [unit] tokens folded into the bounds */
    int64_t step;               /* decode steps run with the plan */
    /* [unit] counters, summed by hy_ctx_attn_counters */
    int64_t *refreshes;
    double *kv_tokens, *kv_dense;
    int64_t unit_steps;
} hy_seq_plan;

void hy_seq_plan_free(hy_seq_plan *sp);
/* Forgets sets, bounds and counters (after a reset or copy of the sequence's cache). */
void hy_seq_plan_reset(hy_seq_plan *sp);
/* Called once per decode step of a planned sequence, after all layers ran. */
void hy_seq_plan_step_done(hy_seq_plan *sp);

/* Whether select/bounds unit u recomputes its set at this step: nothing selected yet, its
 * refresh stride has elapsed, or (qsim policy) the mean cosine over the group's heads between
 * q and the query of its last selection fell below the threshold. */
int hy_seq_plan_should_select(const hy_seq_plan *sp, int32_t u, const float *q, int n_heads,
                              int head_dim);
/* Records that u selected now from query q (n_stored entries already in its set). */
void hy_seq_plan_selected(hy_seq_plan *sp, int32_t u, const float *q, int32_t n_stored);

/* Top-k of one row of token or page scores into unit u's set, with the sink and window in
 * the same units (pages overlapping them). n is the sequence length in tokens. */
hy_status hy_seq_plan_topk(hy_seq_plan *sp, int32_t u, const float *scores, int64_t n);

/* attn_rows.c: one query per head of a g-head group over n K/V rows (contiguous [n][hd]):
 * out[g][hd] (may be NULL: no P.V product); psum[n] (may be NULL) = sum over the heads of
 * the post-softmax probabilities. fp32 through BLAS; n == 0 writes zeros. */
hy_status hy_attn_rows_f32(float *out, float *psum, const float *q, const float *k, const float *v,
                           int64_t n, int g, int hd, float scale);

/* Sparse attention of one decode item over a set (token or page indices), through the
 * kernels' reference (attention_sparse.h); adds the rows read to the unit's counter. */
hy_status hy_attn_over_set(hy_ctx *c, const hy_attn_item *it, const int32_t *set, int64_t n_set);

/* The item's unit index and its sequence's plan state. */
static inline int32_t hy_item_unit(const hy_ctx *c, const hy_attn_item *it) {
    return it->layer * c->m->info.n_kv_heads + it->kv_head;
}

#endif
