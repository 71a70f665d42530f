/* Fold phase 1, per (unit, query): the unit's ranking (query-head probabilities summed over
 * the GQA group, as a select unit ranks keys) as nested levels, and the exact full output
 * o = sum_j p_j v_j every set's error is measured against. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

void hy_fold_prep_item(void *arg, int64_t item) {
    hy_fold *f = arg;
    const hy_profile *p = f->p;
    const int32_t u = (int32_t)(item / f->Q), i = (int32_t)(item % f->Q);
    const int64_t n = hy_fold_nkeys(f, i), S = f->cap->key_stride;
    const float *pr = hy_fold_probs(f, u, i), *v = f->cap->v[u];
    float *score = malloc((size_t)n * sizeof *score);
    if (!score) {
        f->st[item] = hy_fail(HY_ENOMEM, "profile fold: scores of %lld keys", (long long)n);
        return;
    }
    for (int64_t j = 0; j < n; j++) {
        float s = 0.0f;
        for (int32_t h = 0; h < f->G; h++)
            s += pr[h * S + j];
        score[j] = s;
    }
    f->st[item] =
        hy_profiler_ranking(score, n, p->k_grid, p->n_k, p->sink, p->window,
                            (uint8_t *)hy_fold_level(f, u, i), (int32_t *)hy_fold_order(f, u, i));
    free(score);
    for (int32_t h = 0; h < f->G; h++) {
        double *o = f->o + (((size_t)u * f->Q + i) * f->G + h) * f->D;
        double pt = 0.0;
        for (int32_t d = 0; d < f->D; d++)
            o[d] = 0.0;
        for (int64_t j = 0; j < n; j++) {
            const double pj = pr[h * S + j];
            pt += pj;
            for (int32_t d = 0; d < f->D; d++)
                o[d] += pj * v[j * f->D + d];
        }
        double nn = 0.0;
        for (int32_t d = 0; d < f->D; d++)
            nn += o[d] * o[d];
        f->onorm[((size_t)u * f->Q + i) * f->G + h] = sqrt(nn);
        f->ptot[((size_t)u * f->Q + i) * f->G + h] = pt;
    }
}

double hy_fold_rel_err(const double *ms, double ps, const double *o, double onorm, int32_t D) {
    if (!(ps > 0.0)) return 1.0; /* the set kept no mass: the output is lost entirely */
    double e = 0.0;
    for (int32_t d = 0; d < D; d++) {
        const double x = ms[d] / ps - o[d];
        e += x * x;
    }
    if (onorm > 0.0) return sqrt(e) / onorm;
    return e > 0.0 ? INFINITY : 0.0;
}
