/* Private to profiler/: the working state of one hy_profile_fold. Per-sample results are
 * plain sums divided at the end into means over the sample's queries and query heads. */
#ifndef HY_PROFILER_STATS_H
#define HY_PROFILER_STATS_H

#include "hy_profiler.h"

#define HY_FOLD_MAX_GROUP 64 /* query heads per KV head the fold handles */

typedef struct {
    const hy_profile *p;
    const hy_capture *cap;
    int32_t U, Q, G, D, K;
    int32_t tki;       /* grid index of the temporal k */
    int32_t err_every; /* cross out_err on every err_every-th query (hy_fold_opts) */
    uint8_t *level;    /* [U][Q][key_stride], hy_profiler_levels of the group-summed probs */
    int32_t *order;    /* [U][Q][key_stride], the ranking behind them (hy_profiler_ranking) */
    double *o;         /* [U][Q][G][D] full attention output recomputed from probs and v */
    double *onorm;     /* [U][Q][G] ||o|| */
    double *ptot;      /* [U][Q][G] sum of probs (1 up to rounding) */
    hy_status *st;     /* [U*Q] status of the prep items */
    _Atomic int scratch_failed; /* a cross/temporal item could not allocate (set, never cleared) */
    /* per-sample means; NaN where not defined */
    double *c_rec, *c_err, *c_jac; /* [U src][U dst][K] */
    double *t_rec, *t_err;         /* [U][S] */
    double *qsim_counts;           /* [U][bins] */
    double *s_ov, *s_rec, *s_err;  /* [sketch][U][K] selector statistics */
} hy_fold;

static inline int64_t hy_fold_nkeys(const hy_fold *f, int32_t i) {
    return f->cap->pos0 + i + 1;
}
static inline const float *hy_fold_probs(const hy_fold *f, int32_t u, int32_t i) {
    return f->cap->probs + ((size_t)u * f->Q + i) * (size_t)f->G * (size_t)f->cap->key_stride;
}
static inline const uint8_t *hy_fold_level(const hy_fold *f, int32_t u, int32_t i) {
    return f->level + ((size_t)u * f->Q + i) * (size_t)f->cap->key_stride;
}

static inline const int32_t *hy_fold_order(const hy_fold *f, int32_t u, int32_t i) {
    return f->order + ((size_t)u * f->Q + i) * (size_t)f->cap->key_stride;
}

/* stats_prep.c: item = u * Q + i: levels, o, ||o||, sum of probs. */
void hy_fold_prep_item(void *f, int64_t item);
/* Settles the CPU-feature choice of the prep items on the calling thread, before workers. */
void hy_fold_prep_ready(void);
/* stats_cross.c: item = dst unit: own set and every allowed src (earlier layer, or same
 * layer) into c_rec/c_err/c_jac[src][dst]. */
void hy_fold_cross_item(void *f, int64_t dst);
/* Settles the CPU-feature choice of the cross items on the calling thread, before workers. */
void hy_fold_cross_prepare(void);
/* stats_temporal.c: item = unit: temporal recall/out_err per stride and the qsim counts. */
void hy_fold_temporal_item(void *f, int64_t u);
/* stats_selector.c: item = unit: the key sketches' overlap, recall and out_err per k. */
void hy_fold_selector_item(void *f, int64_t u);

/* Relative output error of the set whose probability mass is ps and weighted value sum ms
 * (o_S = ms / ps) against the full output o of norm onorm. */
double hy_fold_rel_err(const double *ms, double ps, const double *o, double onorm, int32_t D);

#endif
