/* Fold phase 2b, per unit: how well the key sketches (kernels/sketch.h, the `sketch8` and
 * `sketch4` plan modes) select. For each sketch and query, the sketch's scores are ranked
 * into nested levels exactly as the exact ranking was (hy_profiler_levels); per k of the grid
 * the overlap is the share of the exact set's middle tokens (those not in the sink or the
 * window, which both sets always hold) that the sketch's set holds too, and the recall and
 * output error are those of the unit attending to the sketch's set. Queries are subsampled
 * as the cross out_err is (every err_every-th): the sketch scores cost a pass over the keys. */
#include "sketch.h"
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int8_t *kq;
    float *ks, *psum;
    uint8_t *lv;
    double *pb, *mb, *ms;
    int64_t *he, *hb;
} sel_scratch;

static void scratch_free(sel_scratch *s) {
    free(s->kq), free(s->ks), free(s->psum), free(s->lv);
    free(s->pb), free(s->mb), free(s->ms), free(s->he), free(s->hb);
}

/* One query of one sketch: adds overlap, recall and error per k to the sums. */
static void one_query(const hy_fold *f, sel_scratch *s, int32_t u, int32_t i, double *ov,
                      double *rec, double *err, int32_t *n_ov) {
    const hy_profile *p = f->p;
    const int32_t K = f->K, G = f->G, D = f->D;
    const int64_t n = hy_fold_nkeys(f, i), S = f->cap->key_stride;
    const float *q = f->cap->q + ((size_t)u * f->Q + i) * G * D;
    if (hy_sketch_scores(s->psum, q, G, s->kq, s->ks, n, D, 1.0f / sqrtf((float)D)) ||
        hy_profiler_levels(s->psum, n, p->k_grid, K, p->sink, p->window, s->lv)) {
        hy_clear_error();
        return;
    }
    const uint8_t *le = hy_fold_level(f, u, i);
    const float *pr = hy_fold_probs(f, u, i), *v = f->cap->v[u];
    memset(s->he, 0, (size_t)(K + 1) * sizeof *s->he);
    memset(s->hb, 0, (size_t)(K + 1) * sizeof *s->hb);
    memset(s->pb, 0, (size_t)G * (K + 1) * sizeof *s->pb);
    memset(s->mb, 0, (size_t)G * (K + 1) * D * sizeof *s->mb);
    const int64_t mid0 = p->sink, mid1 = n - p->window;
    for (int64_t j = 0; j < n; j++) {
        const int le_j = le[j], ls_j = s->lv[j];
        if (j >= mid0 && j < mid1) { /* middle: in the exact set from level le_j on */
            s->he[le_j]++;
            s->hb[le_j > ls_j ? le_j : ls_j]++;
        }
        if (ls_j >= K) continue; /* in no sketch set */
        const float *vj = v + j * D;
        for (int32_t h = 0; h < G; h++) {
            const double pj = pr[h * S + j];
            double *m = s->mb + ((size_t)h * (K + 1) + ls_j) * D;
            s->pb[h * (K + 1) + ls_j] += pj;
            for (int32_t d = 0; d < D; d++)
                m[d] += pj * vj[d];
        }
    }
    int64_t ce = 0, cb = 0;
    for (int32_t ki = 0; ki < K; ki++) {
        ce += s->he[ki], cb += s->hb[ki];
        if (ce > 0) ov[ki] += (double)cb / (double)ce, n_ov[ki]++;
        double r = 0.0, e = 0.0;
        for (int32_t h = 0; h < G; h++) {
            double ps = 0.0;
            for (int32_t d = 0; d < D; d++)
                s->ms[d] = 0.0;
            for (int32_t l = 0; l <= ki; l++) {
                ps += s->pb[h * (K + 1) + l];
                const double *m = s->mb + ((size_t)h * (K + 1) + l) * D;
                for (int32_t d = 0; d < D; d++)
                    s->ms[d] += m[d];
            }
            const size_t qh = ((size_t)u * f->Q + i) * G + h;
            r += f->ptot[qh] > 0.0 ? ps / f->ptot[qh] : 0.0;
            e += hy_fold_rel_err(s->ms, ps, f->o + qh * D, f->onorm[qh], D);
        }
        rec[ki] += r / G, err[ki] += e / G;
    }
}

void hy_fold_selector_item(void *arg, int64_t u64) {
    hy_fold *f = arg;
    const int32_t u = (int32_t)u64, K = f->K, G = f->G, D = f->D, U = f->U;
    for (int sk = 0; sk < HY_PROFILE_N_SKETCH; sk++)
        for (int32_t ki = 0; ki < K; ki++) {
            const size_t c = ((size_t)sk * U + u) * K + ki;
            f->s_ov[c] = f->s_rec[c] = f->s_err[c] = NAN;
        }
    if (!f->cap->k || !f->cap->k[u]) return; /* a capture without keys (tests): not measured */
    const int64_t nmax = f->cap->pos0 + f->Q;
    sel_scratch s = {0};
    s.kq = malloc((size_t)(nmax * D));
    s.ks = malloc((size_t)nmax * sizeof *s.ks);
    s.psum = malloc((size_t)nmax * sizeof *s.psum);
    s.lv = malloc((size_t)nmax);
    s.pb = malloc((size_t)G * (K + 1) * sizeof *s.pb);
    s.mb = malloc((size_t)G * (K + 1) * D * sizeof *s.mb);
    s.ms = malloc((size_t)D * sizeof *s.ms);
    s.he = malloc((size_t)(K + 1) * sizeof *s.he);
    s.hb = malloc((size_t)(K + 1) * sizeof *s.hb);
    double *acc = calloc((size_t)3 * K, sizeof *acc);
    int32_t *n_ov = calloc((size_t)K, sizeof *n_ov);
    if (!s.kq || !s.ks || !s.psum || !s.lv || !s.pb || !s.mb || !s.ms || !s.he || !s.hb || !acc ||
        !n_ov) {
        f->scratch_failed = 1;
        scratch_free(&s), free(acc), free(n_ov);
        return;
    }
    for (int sk = 0; sk < HY_PROFILE_N_SKETCH; sk++) {
        if (hy_sketch_quantize(s.kq, s.ks, f->cap->k[u], nmax, D, sk == 0 ? 8 : 4)) {
            hy_clear_error();
            continue;
        }
        memset(acc, 0, (size_t)3 * K * sizeof *acc);
        memset(n_ov, 0, (size_t)K * sizeof *n_ov);
        int32_t used = 0;
        for (int32_t i = f->err_every - 1; i < f->Q; i += f->err_every, used++)
            one_query(f, &s, u, i, acc, acc + K, acc + 2 * K, n_ov);
        for (int32_t ki = 0; ki < K && used > 0; ki++) {
            const size_t c = ((size_t)sk * U + u) * K + ki;
            f->s_ov[c] = n_ov[ki] ? acc[ki] / n_ov[ki] : NAN;
            f->s_rec[c] = acc[K + ki] / used;
            f->s_err[c] = acc[2 * K + ki] / used;
        }
    }
    scratch_free(&s), free(acc), free(n_ov);
}
