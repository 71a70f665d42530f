/* Fold phase 2, per dst unit: how much of dst's attention a set chosen by src keeps, for src
 * = dst (own set), src in an earlier layer, and src a different head of the same layer. For
 * one (src, dst, query, head) a single pass over the keys drops each key's probability and
 * p_j v_j into the bucket of src's level for it; prefix sums over the buckets then give the
 * mass and the value sum of every nested set of the k grid. The last level (the largest set)
 * is taken as the complement of "in no set", which skips about half the vector work. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int allowed(const hy_fold *f, int32_t src, int32_t dst) {
    const int32_t H = f->p->n_kv_heads;
    return src / H <= dst / H; /* earlier layer, same layer (other head), or itself */
}

typedef struct {
    double *pb;           /* [G][K+1] mass per level */
    float *mb;            /* [G][K+1][D] value sum per level */
    double *ms;           /* [D] */
    int64_t *jmax, *jmin; /* [K+1] */
} cross_scratch;

/* Adds the mean over dst's query heads of recall (and of the error when err is not NULL) for
 * each k to rec/err, and the Jaccard of the two sets to jac when not NULL. Keys at the last
 * level are never visited: that set's mass and value sum are the totals minus "in no set". */
static void pair_query(const hy_fold *f, cross_scratch *s, int32_t src, int32_t dst, int32_t i,
                       double *rec, double *err, double *jac) {
    const int32_t K = f->K, G = f->G, D = f->D;
    const int64_t n = hy_fold_nkeys(f, i), S = f->cap->key_stride;
    const uint8_t *ls = hy_fold_level(f, src, i), *ld = hy_fold_level(f, dst, i);
    const float *pr = hy_fold_probs(f, dst, i), *v = f->cap->v[dst];
    const int skip = K - 1;
    memset(s->pb, 0, (size_t)G * (K + 1) * sizeof *s->pb);
    if (err) {
        memset(s->mb, 0, (size_t)G * (K + 1) * D * sizeof *s->mb);
        for (int64_t j = 0; j < n; j++) {
            const int l = ls[j];
            if (l == skip) continue;
            const float *vj = v + j * D;
            for (int32_t h = 0; h < G; h++) {
                const float pj = pr[h * S + j];
                float *m = s->mb + ((size_t)h * (K + 1) + l) * D;
                s->pb[h * (K + 1) + l] += pj;
                for (int32_t d = 0; d < D; d++)
                    m[d] += pj * vj[d];
            }
        }
    } else {
        for (int64_t j = 0; j < n; j++) {
            const int l = ls[j];
            if (l == skip) continue;
            for (int32_t h = 0; h < G; h++)
                s->pb[h * (K + 1) + l] += pr[h * S + j];
        }
    }
    for (int32_t h = 0; h < G; h++) {
        const size_t qh = ((size_t)dst * f->Q + i) * G + h;
        const double *o = f->o + qh * D, on = f->onorm[qh], pt = f->ptot[qh];
        double ps = 0.0;
        for (int32_t d = 0; d < D; d++)
            s->ms[d] = 0.0;
        for (int32_t ki = 0; ki < K; ki++) {
            if (ki < skip) {
                ps += s->pb[h * (K + 1) + ki];
                if (err) {
                    const float *m = s->mb + ((size_t)h * (K + 1) + ki) * D;
                    for (int32_t d = 0; d < D; d++)
                        s->ms[d] += m[d];
                }
            } else { /* largest set = everything minus the keys in no set */
                ps = pt - s->pb[h * (K + 1) + K];
                if (err) {
                    const float *m = s->mb + ((size_t)h * (K + 1) + K) * D;
                    for (int32_t d = 0; d < D; d++)
                        s->ms[d] = o[d] - m[d];
                }
            }
            rec[ki] += (pt > 0.0 ? ps / pt : 0.0) / G;
            if (err) err[ki] += hy_fold_rel_err(s->ms, ps, o, on, D) / G;
        }
    }
    if (!jac) return;
    memset(s->jmax, 0, (size_t)(K + 1) * sizeof *s->jmax);
    memset(s->jmin, 0, (size_t)(K + 1) * sizeof *s->jmin);
    for (int64_t j = 0; j < n; j++) {
        const int a = ls[j], b = ld[j];
        s->jmax[a > b ? a : b]++;
        s->jmin[a < b ? a : b]++;
    }
    int64_t inter = 0, uni = 0;
    for (int32_t ki = 0; ki < K; ki++) {
        inter += s->jmax[ki], uni += s->jmin[ki];
        jac[ki] += uni > 0 ? (double)inter / (double)uni : 1.0;
    }
}

void hy_fold_cross_item(void *arg, int64_t item) {
    hy_fold *f = arg;
    /* late units have the most sources: hand them out first */
    const int32_t U = f->U, dst = U - 1 - (int32_t)item, K = f->K, G = f->G, D = f->D;
    cross_scratch s = {
        .pb = malloc((size_t)G * (K + 1) * sizeof(double)),
        .mb = malloc((size_t)G * (K + 1) * D * sizeof(float)),
        .ms = malloc((size_t)D * sizeof(double)),
        .jmax = malloc((size_t)(K + 1) * sizeof(int64_t)),
        .jmin = malloc((size_t)(K + 1) * sizeof(int64_t)),
    };
    const int ok = s.pb && s.mb && s.ms && s.jmax && s.jmin;
    if (!ok) f->scratch_failed = 1;
    for (int32_t src = 0; src < U; src++) {
        double *rec = f->c_rec + ((size_t)src * U + dst) * K;
        double *err = f->c_err + ((size_t)src * U + dst) * K;
        double *jac = f->c_jac + ((size_t)src * U + dst) * K;
        for (int32_t ki = 0; ki < K; ki++)
            rec[ki] = err[ki] = jac[ki] = NAN;
        if (!ok || !allowed(f, src, dst)) continue; /* NaN cells are not pushed */
        for (int32_t ki = 0; ki < K; ki++)
            rec[ki] = err[ki] = jac[ki] = 0.0;
        int32_t n_err = 0;
        for (int32_t i = 0; i < f->Q; i++) {
            const int with_err = src == dst || i % f->err_every == f->err_every - 1;
            n_err += with_err;
            pair_query(f, &s, src, dst, i, rec, with_err ? err : NULL, src == dst ? NULL : jac);
        }
        for (int32_t ki = 0; ki < K; ki++) {
            rec[ki] /= f->Q, err[ki] /= n_err;
            jac[ki] = src == dst ? 1.0 : jac[ki] / f->Q;
        }
    }
    free(s.pb), free(s.mb), free(s.ms), free(s.jmax), free(s.jmin);
}
