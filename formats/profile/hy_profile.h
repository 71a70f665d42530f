/* formats/profile: the HDF5 profile (format "hylra-profile", version 1) that the profiler
 * fills and the solver reads. hy_profile is the in-memory form: every statistic is kept as
 * mean, std and count per cell so that samples can be folded in one at a time (Welford) and
 * a resumed run continues the same accumulators. Schema and an h5py example:
 * docs/profile-format.md. */
#ifndef HY_PROFILE_H
#define HY_PROFILE_H

#include "hy_common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HY_PROFILE_FORMAT "hylra-profile"
#define HY_PROFILE_VERSION 2  /* written; 1 is read (its selector statistics are NaN) */
#define HY_PROFILE_N_SKETCH 2 /* selector statistics: [0] sketch8, [1] sketch4 */

/* One statistic over a dense array of cells: mean, sample standard deviation (n-1) and the
 * number of samples folded in. Cells where the statistic is not defined (reuse not allowed,
 * k above the context) hold NaN in mean and std and 0 in count. */
typedef struct {
    float *mean;
    float *std;
    int32_t *count;
} hy_profile_stat;

typedef struct {
    /* identity and provenance (root attributes) */
    char model_name[128];
    char arch[64];
    char model_sha256[65];
    char calib_source[256];
    char tool_version[32];
    uint64_t seed;
    /* shape of the model */
    int32_t n_layers, n_heads, n_kv_heads, head_dim;
    /* measurement settings */
    int32_t ctx;             /* tokens of context per calibration sample */
    int32_t n_queries;       /* decode-like query positions per sample */
    int32_t n_samples;       /* samples folded in so far */
    int32_t samples_planned; /* samples the run asked for (0: unknown, an older file); a
                                profile with fewer is an interrupted run's */
    int32_t sink, window;
    int32_t model_ctx_train; /* the model's trained context (0: unknown, an older file);
                                solve warns for --ctx beyond it */
    /* the model's sliding-window layers (Gemma 3; 0: none, or an older file): layer l sees
     * only its last sliding_window positions unless (l + 1) % swa_period == 0. The solver
     * keeps those layers dense (their window) and out of every reuse. */
    int32_t sliding_window, swa_period;
    /* grids (dimension scales) */
    int32_t n_k;
    int32_t *k_grid; /* ascending */
    int32_t n_strides;
    int32_t *strides; /* ascending, temporal reuse distances in decode steps */
    int32_t n_qsim_bins;
    float *qsim_edges; /* n_qsim_bins + 1 ascending bin edges of query cosine similarity */

    /* [L, Hkv, K]: unit attends to its own top-k */
    hy_profile_stat layer_recall, layer_out_err;
    /* [U, U, K], U = L*Hkv, index (src, dst): dst attends to src's top-k */
    hy_profile_stat cross_recall, cross_out_err, cross_jaccard;
    /* [L, L, K]: layer-level aggregates (mean over the KV heads of both layers) */
    hy_profile_stat cl_recall, cl_out_err, cl_jaccard;
    /* [L, Hkv, S]: the set selected s steps ago used now */
    hy_profile_stat temporal_recall, temporal_out_err;
    /* [L, Hkv, bins]: fraction of step pairs (t-1, t) whose query cosine falls in each bin */
    float *temporal_qsim;
    /* [L, Hkv, K] per key sketch (version 2): the share of the exact top-k (the middle
     * tokens select would choose) that the sketch's top-k also holds, and the attention mass
     * kept and relative output error when the unit attends to the sketch's set */
    hy_profile_stat sketch_overlap[HY_PROFILE_N_SKETCH], sketch_recall[HY_PROFILE_N_SKETCH],
        sketch_out_err[HY_PROFILE_N_SKETCH];
} hy_profile;

/* Allocates every array for the given shape and grids (copied), statistics set to NaN with
 * count 0, qsim histogram to 0. qsim_edges may be NULL for n_qsim_bins uniform bins on
 * [-1, 1]. The caller fills identity fields and frees with hy_profile_free. */
hy_status hy_profile_create(int32_t n_layers, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                            int32_t n_k, const int32_t *k_grid, int32_t n_strides,
                            const int32_t *strides, int32_t n_qsim_bins, const float *qsim_edges,
                            hy_profile **out);
void hy_profile_free(hy_profile *p);
/* HY_OK for a profile that holds every sample its run planned; else HY_EFORMAT naming path,
 * what it holds and how to finish it (solve and report refuse interrupted profiles). */
hy_status hy_profile_check_complete(const hy_profile *p, const char *path);

static inline int32_t hy_profile_n_units(const hy_profile *p) {
    return p->n_layers * p->n_kv_heads;
}
/* Flat cell indices of the three statistic shapes. */
static inline size_t hy_profile_idx_unit(const hy_profile *p, int32_t layer, int32_t head,
                                         int32_t ki) {
    return ((size_t)layer * (size_t)p->n_kv_heads + (size_t)head) * (size_t)p->n_k + (size_t)ki;
}
static inline size_t hy_profile_idx_cross(const hy_profile *p, int32_t src, int32_t dst,
                                          int32_t ki) {
    size_t u = (size_t)hy_profile_n_units(p);
    return ((size_t)src * u + (size_t)dst) * (size_t)p->n_k + (size_t)ki;
}
static inline size_t hy_profile_idx_cl(const hy_profile *p, int32_t src, int32_t dst, int32_t ki) {
    return ((size_t)src * (size_t)p->n_layers + (size_t)dst) * (size_t)p->n_k + (size_t)ki;
}
static inline size_t hy_profile_idx_temporal(const hy_profile *p, int32_t layer, int32_t head,
                                             int32_t si) {
    return ((size_t)layer * (size_t)p->n_kv_heads + (size_t)head) * (size_t)p->n_strides +
           (size_t)si;
}

/* Folds one sample x into cell i (Welford on mean/std/count; NaN x is ignored). */
void hy_profile_stat_push(hy_profile_stat *s, size_t i, double x);
/* Sets a cell directly (synthetic profiles, tests). */
void hy_profile_stat_set(hy_profile_stat *s, size_t i, float mean, float std, int32_t count);

/* Index of k in the k grid, or -1. */
int32_t hy_profile_k_index(const hy_profile *p, int32_t k);
int32_t hy_profile_stride_index(const hy_profile *p, int32_t stride);

/* Writes the whole profile to path: first to "<path>.tmp", renamed over path once complete,
 * so a reader never sees a half-written file. */
hy_status hy_profile_write(const hy_profile *p, const char *path);
/* Reads and checks a profile: format and version attributes (HY_EUNSUPPORTED naming the
 * value found and expected), every required dataset present with the shape the attributes
 * imply (HY_ENOTFOUND / HY_EFORMAT naming the dataset, the shape found and expected). */
hy_status hy_profile_read(const char *path, hy_profile **out);

#endif
