/* profiler: turns observed attention (runtime/include/hy_observer.h) into the statistics of the
 * HDF5 profile (formats/profile/hy_profile.h). One calibration sample at a time: the runtime
 * prefills the sample with an observer attached, a hy_capture keeps the last Q queries of
 * every unit, and hy_profile_fold reduces it to per-sample means pushed into the profile's
 * accumulators (so std and count are across samples). Usage: docs/profiler.md. */
#ifndef HY_PROFILER_H
#define HY_PROFILER_H

#include "hy_observer.h"
#include "hy_profile.h"
#include "hy_runtime.h"

#include <stdint.h>

/* What one sample's observer saw: the last n_queries positions of every unit. Query i is at
 * position pos0 + i and sees keys 0..pos0+i. */
typedef struct {
    int32_t n_layers, n_kv_heads, group, head_dim;
    int32_t n_queries;
    int64_t pos0;
    int64_t key_stride; /* >= pos0 + n_queries */
    float *probs;       /* [U][Q][group][key_stride], per query head, post-softmax */
    float *q;           /* [U][Q][group][head_dim] */
    const float **v;    /* [U] value rows [key][head_dim] (the context's cache, or test data) */
    const float **k;    /* [U] key rows, likewise (the key sketches are computed from them) */
    uint8_t *seen;      /* [U][Q] 1 once observed */
} hy_capture;

hy_status hy_capture_create(int32_t n_layers, int32_t n_kv_heads, int32_t group, int32_t head_dim,
                            int32_t n_queries, int64_t pos0, hy_capture **out);
void hy_capture_free(hy_capture *cap);
/* Forgets what was seen (keeps the buffers) and moves the queries to start at pos0. */
hy_status hy_capture_reset(hy_capture *cap, int64_t pos0);
/* The hy_observer_fn: user is the hy_capture. Thread-safe (one slot per unit and query). */
void hy_capture_observe(void *user, const hy_observation *o);

/* Nested top-k sets of one score row in one pass: level[j] = the smallest grid index ki whose
 * set (sink + window + the k_grid[ki] best middle tokens, kernels/topk.h's rule: higher score
 * first, equal scores -> lower index, NaN last) holds token j, or n_k when none does. Equal
 * to running hy_topk_rows_f32 once per k (tested), at the cost of one sort. n_k <= 254. */
hy_status hy_profiler_levels(const float *scores, int64_t n, const int32_t *k_grid, int32_t n_k,
                             int32_t sink, int32_t window, uint8_t *level);
/* The same levels, and when order is not NULL the ranking itself: order[0..n) lists the sink
 * and window tokens first (ascending), then the middle tokens best first, so the set of grid
 * index ki is order[0 .. sink + window + min(k_grid[ki], middle)). */
hy_status hy_profiler_ranking(const float *scores, int64_t n, const int32_t *k_grid, int32_t n_k,
                              int32_t sink, int32_t window, uint8_t *level, int32_t *order);

/* Settings of the reduction. */
typedef struct {
    int32_t temporal_k;      /* k of the temporal statistics (their datasets have no k axis):
                                the largest grid k not above it */
    int32_t cross_err_every; /* cross out_err (src != dst) on queries i % every == every - 1
                                only (it is the one O(pairs x keys x head_dim) statistic);
                                1 = all. Recall, Jaccard, own-set and temporal use all queries */
    int n_threads;
} hy_fold_opts;

/* Reduces one capture to per-sample means (over its queries and a group's query heads) of
 * every statistic and pushes them into p's accumulators; p->n_samples grows by one.
 * HY_EMISMATCH if the shapes disagree, HY_EINVAL if a unit/query was never observed or an
 * option is out of range. */
hy_status hy_profile_fold(hy_profile *p, const hy_capture *cap, const hy_fold_opts *o);

/* Seeded choice of calibration samples: the token stream is cut into floor(n_tokens / ctx)
 * disjoint windows, shuffled by seed; starts[0..n_samples) are the first n_samples window
 * offsets. HY_ERANGE when the text holds fewer windows than samples. */
hy_status hy_calib_starts(int64_t n_tokens, int32_t ctx, int32_t n_samples, uint64_t seed,
                          int64_t *starts);

/* Profiles one sample: resets sequence 0 of c, prefills tokens[0..ctx) with cap observing the
 * last cap->n_queries positions, detaches, folds into p. seconds[0] = forward (with the
 * observer), seconds[1] = fold, when seconds is not NULL. */
hy_status hy_profile_sample(hy_ctx *c, hy_capture *cap, const int32_t *tokens, int32_t ctx,
                            hy_profile *p, const hy_fold_opts *o, double *seconds);

#endif
