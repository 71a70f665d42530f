/* Fold phase 1, per (unit, query): the unit's ranking (query-head probabilities summed over
 * the GQA group, as a select unit ranks keys) as nested levels, and the exact full output
 * o = sum_j p_j v_j every set's error is measured against. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
/* o[h][d] = sum_j p_hj v_jd in double, token by token as the generic loop sums, with the
 * accumulators of NH heads in registers (each product is exact in double, so the fused
 * multiply-add rounds as the loop's add did: the same bits). */
#define PREP_O_AVX512(NV, NH)                                                                      \
    __attribute__((target("avx512f"))) static void prep_o_##NV##_##NH(                             \
        const float *pr, int64_t S, const float *v, int64_t n, double *o, int32_t D) {             \
        __m512d acc[NH][NV];                                                                       \
        _Pragma("GCC unroll 4") for (int h = 0; h < NH; h++)                                       \
            _Pragma("GCC unroll 16") for (int c = 0; c < NV; c++) acc[h][c] = _mm512_setzero_pd(); \
        for (int64_t j = 0; j < n; j++) {                                                          \
            const float *vj = v + j * (NV * 8);                                                    \
            _Pragma("GCC unroll 4") for (int h = 0; h < NH; h++) {                                 \
                const __m512d pj = _mm512_set1_pd((double)pr[h * S + j]);                          \
                _Pragma("GCC unroll 16") for (int c = 0; c < NV; c++) acc[h][c] =                  \
                    _mm512_fmadd_pd(pj, _mm512_cvtps_pd(_mm256_loadu_ps(vj + 8 * c)), acc[h][c]);  \
            }                                                                                      \
        }                                                                                          \
        _Pragma("GCC unroll 4") for (int h = 0; h < NH; h++)                                       \
            _Pragma("GCC unroll 16") for (int c = 0; c < NV; c++)                                  \
                _mm512_storeu_pd(o + h * D + 8 * c, acc[h][c]);                                    \
    }
PREP_O_AVX512(8, 1)
PREP_O_AVX512(8, 2)
PREP_O_AVX512(16, 1)

/* Heads h0.. of one (unit, query) through the register kernels; returns how many it took. */
static int prep_o_fast(const float *pr, int64_t S, const float *v, int64_t n, double *o, int32_t D,
                       int32_t nh) {
    static int avx512 = -1; /* first set by the calling thread of a fold (hy_fold_prep_ready) */
    if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f");
    if (!avx512) return 0;
    if (D == 64 && nh >= 2) return prep_o_8_2(pr, S, v, n, o, D), 2;
    if (D == 64) return prep_o_8_1(pr, S, v, n, o, D), 1;
    if (D == 128) return prep_o_16_1(pr, S, v, n, o, D), 1;
    return 0;
}
#else
static int prep_o_fast(const float *pr, int64_t S, const float *v, int64_t n, double *o, int32_t D,
                       int32_t nh) {
    (void)pr, (void)S, (void)v, (void)n, (void)o, (void)D, (void)nh;
    return 0;
}
#endif

void hy_fold_prep_ready(void) {
    (void)prep_o_fast(NULL, 0, NULL, 0, NULL, 0, 0);
}

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
    double *o0 = f->o + ((size_t)u * f->Q + i) * f->G * f->D;
    for (int32_t h = 0; h < f->G;) {
        const int took = prep_o_fast(pr + h * S, S, v, n, o0 + (size_t)h * f->D, f->D, f->G - h);
        for (int32_t e = h; e < h + (took ? took : 1); e++) {
            double *o = o0 + (size_t)e * f->D, pt = 0.0;
            if (!took)
                for (int32_t d = 0; d < f->D; d++)
                    o[d] = 0.0;
            for (int64_t j = 0; j < n; j++) {
                const double pj = pr[e * S + j];
                pt += pj;
                if (!took)
                    for (int32_t d = 0; d < f->D; d++)
                        o[d] += pj * v[j * f->D + d];
            }
            double nn = 0.0;
            for (int32_t d = 0; d < f->D; d++)
                nn += o[d] * o[d];
            f->onorm[((size_t)u * f->Q + i) * f->G + e] = sqrt(nn);
            f->ptot[((size_t)u * f->Q + i) * f->G + e] = pt;
        }
        h += took ? took : 1;
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
