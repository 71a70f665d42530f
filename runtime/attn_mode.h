/* Attention-mode dispatch. Every (layer, kv_head) unit of a sequence has a mode (its plan's,
 * formats/plan/hy_plan.h; dense without a plan); the layer function hands the whole batch to
 * hy_attn_run, which cuts it into work items (unit x run x query slice) and calls the mode's
 * function through hy_attn_modes[]. Decode items of planned sequences run in two phases per
 * layer: every non-reuse unit first, so a reuse unit of the same layer finds its source's
 * set. The profiler's observer is a hook called after each item. */
#ifndef HY_RUNTIME_ATTN_MODE_H
#define HY_RUNTIME_ATTN_MODE_H

#include "runtime_internal.h"

/* One work item: the query heads of one KV head for a slice of one run. Pointers are
 * already offset to the unit: q/out point at the group's first query head, k/v at the
 * unit's [kv_cap][head_dim] cache rows. */
typedef struct {
    int layer, kv_head, seq;
    int n_heads; /* query heads in the group (n_heads / n_kv_heads of the model) */
    int head_dim;
    const float *q; /* [n_q] rows of q_stride floats */
    int64_t q_stride;
    const float *k, *v;
    int64_t kv_cap;
    float *out; /* [n_q] rows of out_stride floats */
    int64_t out_stride;
    int64_t n_q, pos0; /* query i is at position pos0 + i and sees keys 0..pos0+i */
    float scale;
} hy_attn_item;

/* Mode functions run on pool threads: the error message they record with hy_fail stays on
 * that thread, so a failing mode should fail only on conditions the caller checked first. */
typedef hy_status (*hy_attn_fn)(hy_ctx *c, const hy_attn_item *it);
extern const hy_attn_fn hy_attn_modes[HY_MODE_COUNT]; /* indexed by hy_unit_mode */

hy_status hy_attn_dense(hy_ctx *c, const hy_attn_item *it);  /* attn_mode_dense.c */
hy_status hy_attn_select(hy_ctx *c, const hy_attn_item *it); /* attn_mode_select.c */
hy_status hy_attn_reuse(hy_ctx *c, const hy_attn_item *it);  /* attn_mode_sparse.c */
hy_status hy_attn_window(hy_ctx *c, const hy_attn_item *it); /* attn_mode_sparse.c */
hy_status hy_attn_bounds(hy_ctx *c, const hy_attn_item *it); /* attn_mode_bounds.c */

/* Attention for every run of the batch at this layer: reads q from c->qkv (RoPE applied,
 * K/V already in the cache), writes c->att. Threads over items. */
hy_status hy_attn_run(hy_ctx *c, int layer, const hy_run *runs, int n_runs);

#endif
