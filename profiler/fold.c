/* hy_profile_fold: runs the three phases of one sample's reduction on worker threads, then
 * pushes the per-sample means into the profile's accumulators on the calling thread. The
 * layer aggregate /cross_layer[a][b] is head h of layer b using head h of layer a, averaged
 * over h (docs/profile-format.md), pushed as one value per sample. */
#include "parallel.h"
#include "stats.h"

#include <math.h>
#include <stdlib.h>

static void free_fold(hy_fold *f) {
    free(f->level), free(f->order), free(f->o), free(f->onorm), free(f->ptot), free(f->st);
    free(f->c_rec), free(f->c_err), free(f->c_jac), free(f->t_rec), free(f->t_err);
    free(f->qsim_counts);
    free(f->s_ov), free(f->s_rec), free(f->s_err);
}

static hy_status check(const hy_profile *p, const hy_capture *cap) {
    if (cap->n_layers != p->n_layers || cap->n_kv_heads != p->n_kv_heads ||
        cap->group * p->n_kv_heads != p->n_heads || cap->head_dim != p->head_dim)
        return hy_fail(HY_EMISMATCH,
                       "profile fold: capture has %d layers x %d kv heads x group %d x dim %d, "
                       "profile expects %d x %d x %d x %d",
                       cap->n_layers, cap->n_kv_heads, cap->group, cap->head_dim, p->n_layers,
                       p->n_kv_heads, p->n_heads / (p->n_kv_heads ? p->n_kv_heads : 1),
                       p->head_dim);
    const size_t slots = (size_t)cap->n_layers * cap->n_kv_heads * cap->n_queries;
    for (size_t s = 0; s < slots; s++)
        if (!cap->seen[s] || !cap->v[s / cap->n_queries])
            return hy_fail(HY_EINVAL,
                           "profile fold: unit %zu query %zu (position %lld) was never observed",
                           s / cap->n_queries, s % cap->n_queries,
                           (long long)(cap->pos0 + (int64_t)(s % cap->n_queries)));
    return HY_OK;
}

static void push_all(hy_profile *p, const hy_fold *f) {
    const int32_t U = f->U, K = f->K, H = p->n_kv_heads, L = p->n_layers;
    for (int32_t src = 0; src < U; src++)
        for (int32_t dst = 0; dst < U; dst++)
            for (int32_t ki = 0; ki < K; ki++) {
                const size_t c = ((size_t)src * U + dst) * K + ki;
                if (src == dst) {
                    const size_t i = hy_profile_idx_unit(p, dst / H, dst % H, ki);
                    hy_profile_stat_push(&p->layer_recall, i, f->c_rec[c]);
                    hy_profile_stat_push(&p->layer_out_err, i, f->c_err[c]);
                    continue;
                }
                const size_t i = hy_profile_idx_cross(p, src, dst, ki);
                hy_profile_stat_push(&p->cross_recall, i, f->c_rec[c]);
                hy_profile_stat_push(&p->cross_out_err, i, f->c_err[c]);
                hy_profile_stat_push(&p->cross_jaccard, i, f->c_jac[c]);
            }
    for (int32_t a = 0; a < L; a++)
        for (int32_t b = a + 1; b < L; b++)
            for (int32_t ki = 0; ki < K; ki++) {
                double r = 0.0, e = 0.0, j = 0.0;
                for (int32_t h = 0; h < H; h++) {
                    const size_t c = ((size_t)(a * H + h) * U + (b * H + h)) * K + ki;
                    r += f->c_rec[c], e += f->c_err[c], j += f->c_jac[c];
                }
                const size_t i = hy_profile_idx_cl(p, a, b, ki);
                hy_profile_stat_push(&p->cl_recall, i, r / H);
                hy_profile_stat_push(&p->cl_out_err, i, e / H);
                hy_profile_stat_push(&p->cl_jaccard, i, j / H);
            }
    for (int32_t u = 0; u < U; u++)
        for (int32_t si = 0; si < p->n_strides; si++) {
            const size_t i = hy_profile_idx_temporal(p, u / H, u % H, si);
            hy_profile_stat_push(&p->temporal_recall, i, f->t_rec[(size_t)u * p->n_strides + si]);
            hy_profile_stat_push(&p->temporal_out_err, i, f->t_err[(size_t)u * p->n_strides + si]);
        }
    for (int sk = 0; sk < HY_PROFILE_N_SKETCH; sk++)
        for (int32_t u = 0; u < U; u++)
            for (int32_t ki = 0; ki < K; ki++) {
                const size_t c = ((size_t)sk * U + u) * K + ki;
                const size_t i = hy_profile_idx_unit(p, u / H, u % H, ki);
                hy_profile_stat_push(&p->sketch_overlap[sk], i, f->s_ov[c]);
                hy_profile_stat_push(&p->sketch_recall[sk], i, f->s_rec[c]);
                hy_profile_stat_push(&p->sketch_out_err[sk], i, f->s_err[c]);
            }
    /* the histogram holds fractions: re-weight by the step pairs already folded in */
    const double before = (double)p->n_samples * (f->Q - 1), now = f->Q - 1;
    if (now > 0)
        for (size_t c = 0; c < (size_t)U * p->n_qsim_bins; c++)
            p->temporal_qsim[c] =
                (float)(((double)p->temporal_qsim[c] * before + f->qsim_counts[c]) /
                        (before + now));
    p->n_samples++;
}

hy_status hy_profile_fold(hy_profile *p, const hy_capture *cap, const hy_fold_opts *o) {
    if (o->cross_err_every < 1 || o->cross_err_every > cap->n_queries || o->n_threads < 1)
        return hy_fail(HY_EINVAL,
                       "profile fold: cross_err_every %d (expected 1..%d queries), %d threads",
                       o->cross_err_every, cap->n_queries, o->n_threads);
    hy_status st = check(p, cap);
    if (st) return st;
    const int32_t temporal_k = o->temporal_k;
    const int n_threads = o->n_threads;
    hy_fold f = {.p = p,
                 .cap = cap,
                 .U = hy_profile_n_units(p),
                 .Q = cap->n_queries,
                 .G = cap->group,
                 .D = cap->head_dim,
                 .K = p->n_k,
                 .tki = 0,
                 .err_every = o->cross_err_every};
    for (int32_t ki = 0; ki < p->n_k; ki++)
        if (p->k_grid[ki] <= temporal_k) f.tki = ki; /* largest grid k <= temporal_k */
    const size_t U = (size_t)f.U, Q = (size_t)f.Q, G = (size_t)f.G, D = (size_t)f.D,
                 K = (size_t)f.K;
    /* 4 bytes of slack: the Jaccard counts read a token's level with a 32-bit gather */
    f.level = hy_malloc(U * Q * (size_t)cap->key_stride + 4, "fold levels");
    f.order = hy_malloc(U * Q * (size_t)cap->key_stride * sizeof *f.order, "fold rankings");
    f.o = hy_malloc(U * Q * G * D * sizeof *f.o, "fold outputs");
    f.onorm = hy_malloc(U * Q * G * sizeof *f.onorm, "fold output norms");
    f.ptot = hy_malloc(U * Q * G * sizeof *f.ptot, "fold mass");
    f.st = hy_calloc(U * Q, sizeof *f.st, "fold status");
    f.c_rec = hy_malloc(U * U * K * sizeof(double), "fold cross recall");
    f.c_err = hy_malloc(U * U * K * sizeof(double), "fold cross out_err");
    f.c_jac = hy_malloc(U * U * K * sizeof(double), "fold cross jaccard");
    f.t_rec = hy_malloc(U * (size_t)p->n_strides * sizeof(double), "fold temporal recall");
    f.t_err = hy_malloc(U * (size_t)p->n_strides * sizeof(double), "fold temporal out_err");
    f.qsim_counts = hy_malloc(U * (size_t)p->n_qsim_bins * sizeof(double), "fold qsim");
    const size_t nsel = (size_t)HY_PROFILE_N_SKETCH * U * K;
    f.s_ov = hy_malloc(nsel * sizeof(double), "fold selector overlap");
    f.s_rec = hy_malloc(nsel * sizeof(double), "fold selector recall");
    f.s_err = hy_malloc(nsel * sizeof(double), "fold selector out_err");
    if (!f.level || !f.order || !f.o || !f.onorm || !f.ptot || !f.st || !f.c_rec || !f.c_err ||
        !f.c_jac || !f.t_rec || !f.t_err || !f.qsim_counts || !f.s_ov || !f.s_rec || !f.s_err) {
        free_fold(&f);
        return HY_ENOMEM;
    }
    hy_fold_cross_prepare();
    hy_fold_prep_ready();
    hy_prof_parallel_for(n_threads, (int64_t)(U * Q), hy_fold_prep_item, &f);
    for (size_t i = 0; i < U * Q && !st; i++)
        st = f.st[i];
    if (!st) {
        hy_prof_parallel_for(n_threads, f.U, hy_fold_cross_item, &f);
        hy_prof_parallel_for(n_threads, f.U, hy_fold_temporal_item, &f);
        hy_prof_parallel_for(n_threads, f.U, hy_fold_selector_item, &f);
        if (f.scratch_failed) /* nothing pushed: a half-measured sample would bias the means */
            st = hy_fail(HY_ENOMEM, "profile fold: scratch of a cross/temporal item (%d units)",
                         f.U);
        else
            push_all(p, &f);
    }
    free_fold(&f);
    return st;
}
