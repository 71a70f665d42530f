/* Fold phase 3, per unit: temporal reuse. The set a select unit chose s steps ago (its top-k
 * at query t-s, sink included) plus the window at the current step (the window always
 * follows the newest token) is used at query t; recall and output error are those of query
 * t's attention over that set. Also the query drift between consecutive steps: the cosine of
 * q_{t-1} and q_t (mean over the group's heads) binned into the profile's histogram. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double cosine(const float *a, const float *b, int32_t D) {
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int32_t d = 0; d < D; d++) {
        ab += (double)a[d] * b[d];
        aa += (double)a[d] * a[d];
        bb += (double)b[d] * b[d];
    }
    return aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
}

/* The set of query i - s at the temporal k plus the window at query i, as a bitmap over the
 * keys of query i: the old set is a prefix of its ranking (hy_fold_order), so only the set's
 * tokens are touched, and reading the bitmap in key order keeps the sums in the order of a
 * scan of every key (the same bits as before the ranking was kept). */
static void temporal_set(const hy_fold *f, int32_t u, int32_t i, int32_t s, uint64_t *bits) {
    const hy_profile *p = f->p;
    const int64_t n = hy_fold_nkeys(f, i), n_old = hy_fold_nkeys(f, i - s);
    memset(bits, 0, (size_t)((n + 63) / 64) * sizeof *bits);
    const int64_t lo = p->sink < n_old ? p->sink : n_old;
    const int64_t hi = n_old - p->window > lo ? n_old - p->window : lo;
    const int64_t k = p->k_grid[f->tki], mid = hi - lo;
    const int64_t take = lo + (n_old - hi) + (k < mid ? k : mid);
    const int32_t *ord = hy_fold_order(f, u, i - s);
    for (int64_t r = 0; r < take; r++)
        bits[ord[r] >> 6] |= 1ull << (ord[r] & 63);
    for (int64_t j = n - p->window > 0 ? n - p->window : 0; j < n; j++)
        bits[j >> 6] |= 1ull << (j & 63);
}

void hy_fold_temporal_item(void *arg, int64_t item) {
    hy_fold *f = arg;
    const hy_profile *p = f->p;
    const int32_t u = (int32_t)item, G = f->G, D = f->D, Q = f->Q;
    const int64_t S = f->cap->key_stride;
    double *ms = malloc((size_t)D * sizeof *ms);
    uint64_t *bits = malloc((size_t)((S + 63) / 64) * sizeof *bits);
    if (!ms || !bits) f->scratch_failed = 1;
    for (int32_t si = 0; si < p->n_strides; si++) {
        const int32_t s = p->strides[si];
        double rsum = 0.0, esum = 0.0;
        int32_t nq = 0;
        for (int32_t i = s; ms && bits && i < Q; i++, nq++) {
            const int64_t n = hy_fold_nkeys(f, i);
            const float *pr = hy_fold_probs(f, u, i), *v = f->cap->v[u];
            temporal_set(f, u, i, s, bits);
            for (int32_t h = 0; h < G; h++) {
                const size_t qh = ((size_t)u * Q + i) * G + h;
                double ps = 0.0;
                for (int32_t d = 0; d < D; d++)
                    ms[d] = 0.0;
                for (int64_t w = 0; w < (n + 63) / 64; w++)
                    for (uint64_t b = bits[w]; b; b &= b - 1) {
                        const int64_t j = w * 64 + __builtin_ctzll(b);
                        const double pj = pr[h * S + j];
                        ps += pj;
                        for (int32_t d = 0; d < D; d++)
                            ms[d] += pj * v[j * D + d];
                    }
                rsum += f->ptot[qh] > 0.0 ? ps / f->ptot[qh] : 0.0;
                esum += hy_fold_rel_err(ms, ps, f->o + qh * D, f->onorm[qh], D);
            }
        }
        f->t_rec[(size_t)u * p->n_strides + si] = nq ? rsum / (nq * G) : NAN;
        f->t_err[(size_t)u * p->n_strides + si] = nq ? esum / (nq * G) : NAN;
    }
    free(bits);
    free(ms);
    double *cnt = f->qsim_counts + (size_t)u * p->n_qsim_bins;
    for (int32_t b = 0; b < p->n_qsim_bins; b++)
        cnt[b] = 0.0;
    for (int32_t i = 1; i < Q; i++) {
        double c = 0.0;
        for (int32_t h = 0; h < G; h++) {
            const float *q0 = f->cap->q + (((size_t)u * Q + i - 1) * G + h) * D;
            c += cosine(q0, q0 + (size_t)G * D, D) / G; /* same head, next query */
        }
        int32_t b = 0; /* bins [e_b, e_b+1); values at or beyond the ends go to the end bins */
        while (b + 1 < p->n_qsim_bins && c >= p->qsim_edges[b + 1])
            b++;
        cnt[b] += 1.0;
    }
}
