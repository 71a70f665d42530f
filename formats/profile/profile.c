/* formats/profile: the in-memory profile: allocation for a shape and grids, and the
 * per-cell accumulators (mean, sample std, count) that let samples be folded in one at a
 * time and a resumed run continue from what the file holds. */
#include "hy_profile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hy_status stat_alloc(hy_profile_stat *s, size_t n, const char *what) {
    s->mean = hy_malloc(n * sizeof(float), what);
    s->std = hy_malloc(n * sizeof(float), what);
    s->count = hy_calloc(n, sizeof(int32_t), what);
    if (!s->mean || !s->std || !s->count) return HY_ENOMEM;
    for (size_t i = 0; i < n; i++)
        s->mean[i] = s->std[i] = NAN;
    return HY_OK;
}

static void stat_free(hy_profile_stat *s) {
    free(s->mean);
    free(s->std);
    free(s->count);
}

static hy_status check_grid(const char *name, int32_t n, const int32_t *v) {
    if (n <= 0 || !v)
        return hy_fail(HY_EINVAL, "profile: %s grid has %d entries, expected >= 1", name, n);
    for (int32_t i = 0; i < n; i++) {
        if (v[i] <= 0)
            return hy_fail(HY_EINVAL, "profile: %s grid entry %d is %d, expected > 0", name, i,
                           v[i]);
        if (i && v[i] <= v[i - 1])
            return hy_fail(HY_EINVAL, "profile: %s grid entry %d is %d, expected > %d (ascending)",
                           name, i, v[i], v[i - 1]);
    }
    return HY_OK;
}

hy_status hy_profile_create(int32_t n_layers, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                            int32_t n_k, const int32_t *k_grid, int32_t n_strides,
                            const int32_t *strides, int32_t n_qsim_bins, const float *qsim_edges,
                            hy_profile **out) {
    *out = NULL;
    if (n_layers <= 0 || n_kv_heads <= 0 || n_heads < n_kv_heads || head_dim <= 0 ||
        n_heads % n_kv_heads)
        return hy_fail(HY_EINVAL,
                       "profile: shape n_layers=%d n_heads=%d n_kv_heads=%d head_dim=%d, expected "
                       "positive with n_heads a multiple of n_kv_heads",
                       n_layers, n_heads, n_kv_heads, head_dim);
    hy_status st = check_grid("k", n_k, k_grid);
    if (!st) st = check_grid("stride", n_strides, strides);
    if (st) return st;
    if (n_qsim_bins <= 0)
        return hy_fail(HY_EINVAL, "profile: n_qsim_bins is %d, expected >= 1", n_qsim_bins);
    hy_profile *p = hy_calloc(1, sizeof *p, "profile");
    if (!p) return HY_ENOMEM;
    p->n_layers = n_layers;
    p->n_heads = n_heads;
    p->n_kv_heads = n_kv_heads;
    p->head_dim = head_dim;
    p->n_k = n_k;
    p->n_strides = n_strides;
    p->n_qsim_bins = n_qsim_bins;
    snprintf(p->tool_version, sizeof p->tool_version, "hylra");
    p->k_grid = hy_malloc((size_t)n_k * sizeof(int32_t), "profile k grid");
    p->strides = hy_malloc((size_t)n_strides * sizeof(int32_t), "profile strides");
    p->qsim_edges = hy_malloc((size_t)(n_qsim_bins + 1) * sizeof(float), "profile qsim edges");
    size_t L = (size_t)n_layers, H = (size_t)n_kv_heads, U = L * H, K = (size_t)n_k;
    size_t S = (size_t)n_strides;
    p->temporal_qsim = hy_calloc(U * (size_t)n_qsim_bins, sizeof(float), "profile qsim");
    if (!p->k_grid || !p->strides || !p->qsim_edges || !p->temporal_qsim ||
        stat_alloc(&p->layer_recall, U * K, "profile layer/recall") ||
        stat_alloc(&p->layer_out_err, U * K, "profile layer/out_err") ||
        stat_alloc(&p->cross_recall, U * U * K, "profile cross/recall") ||
        stat_alloc(&p->cross_out_err, U * U * K, "profile cross/out_err") ||
        stat_alloc(&p->cross_jaccard, U * U * K, "profile cross/jaccard") ||
        stat_alloc(&p->cl_recall, L * L * K, "profile cross_layer/recall") ||
        stat_alloc(&p->cl_out_err, L * L * K, "profile cross_layer/out_err") ||
        stat_alloc(&p->cl_jaccard, L * L * K, "profile cross_layer/jaccard") ||
        stat_alloc(&p->temporal_recall, U * S, "profile temporal/recall") ||
        stat_alloc(&p->temporal_out_err, U * S, "profile temporal/out_err") ||
        stat_alloc(&p->sketch_overlap[0], U * K, "profile selector/sketch8_overlap") ||
        stat_alloc(&p->sketch_recall[0], U * K, "profile selector/sketch8_recall") ||
        stat_alloc(&p->sketch_out_err[0], U * K, "profile selector/sketch8_out_err") ||
        stat_alloc(&p->sketch_overlap[1], U * K, "profile selector/sketch4_overlap") ||
        stat_alloc(&p->sketch_recall[1], U * K, "profile selector/sketch4_recall") ||
        stat_alloc(&p->sketch_out_err[1], U * K, "profile selector/sketch4_out_err")) {
        hy_profile_free(p);
        return HY_ENOMEM;
    }
    memcpy(p->k_grid, k_grid, K * sizeof(int32_t));
    memcpy(p->strides, strides, S * sizeof(int32_t));
    for (int32_t i = 0; i <= n_qsim_bins; i++)
        p->qsim_edges[i] =
            qsim_edges ? qsim_edges[i] : -1.0f + 2.0f * (float)i / (float)n_qsim_bins;
    *out = p;
    return HY_OK;
}

void hy_profile_free(hy_profile *p) {
    if (!p) return;
    free(p->k_grid);
    free(p->strides);
    free(p->qsim_edges);
    free(p->temporal_qsim);
    hy_profile_stat *all[] = {
        &p->layer_recall,      &p->layer_out_err,     &p->cross_recall,      &p->cross_out_err,
        &p->cross_jaccard,     &p->cl_recall,         &p->cl_out_err,        &p->cl_jaccard,
        &p->temporal_recall,   &p->temporal_out_err,  &p->sketch_overlap[0], &p->sketch_recall[0],
        &p->sketch_out_err[0], &p->sketch_overlap[1], &p->sketch_recall[1],  &p->sketch_out_err[1]};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        stat_free(all[i]);
    free(p);
}

/* Welford's update, written against (mean, std, n) so the file's own numbers are the
 * accumulator: M2 = std^2 (n-1) is recovered, updated and turned back into a std. */
void hy_profile_stat_push(hy_profile_stat *s, size_t i, double x) {
    if (isnan(x)) return;
    int32_t n = s->count[i];
    if (n <= 0) {
        s->mean[i] = (float)x;
        s->std[i] = 0.0f;
        s->count[i] = 1;
        return;
    }
    double mean = s->mean[i], sd = s->std[i];
    double m2 = sd * sd * (double)(n - 1);
    double delta = x - mean;
    mean += delta / (double)(n + 1);
    m2 += delta * (x - mean);
    s->mean[i] = (float)mean;
    s->std[i] = (float)sqrt(m2 > 0 ? m2 / (double)n : 0.0);
    s->count[i] = n + 1;
}

void hy_profile_stat_set(hy_profile_stat *s, size_t i, float mean, float std, int32_t count) {
    s->mean[i] = mean;
    s->std[i] = std;
    s->count[i] = count;
}

int32_t hy_profile_k_index(const hy_profile *p, int32_t k) {
    for (int32_t i = 0; i < p->n_k; i++)
        if (p->k_grid[i] == k) return i;
    return -1;
}

int32_t hy_profile_stride_index(const hy_profile *p, int32_t stride) {
    for (int32_t i = 0; i < p->n_strides; i++)
        if (p->strides[i] == stride) return i;
    return -1;
}

hy_status hy_profile_check_complete(const hy_profile *p, const char *path) {
    if (p->samples_planned <= 0 || p->n_samples >= p->samples_planned) return HY_OK;
    return hy_fail(HY_EFORMAT,
                   "%s holds %d of the %d samples its run planned (interrupted); finish it with "
                   "hylra profile ... --samples %d -o %s --resume",
                   path, p->n_samples, p->samples_planned, p->samples_planned, path);
}
