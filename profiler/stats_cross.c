/* Fold phase 2, per dst unit: how much of dst's attention a set chosen by src keeps, for src
 * = dst (own set), src in an earlier layer, and src a different head of the same layer.
 * src's ranking (hy_profiler_ranking's order) lists its tokens level by level, so each level
 * is one contiguous run of it: a pass down the run sums dst's probabilities and p_j v_j in
 * registers, and prefix sums over the levels give the mass and the value sum of every
 * nested set of the k grid. The largest level is never visited: its sums are the totals
 * minus the other levels' (at the default grid it holds about half the row). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int allowed(const hy_fold *f, int32_t src, int32_t dst) {
    const int32_t H = f->p->n_kv_heads;
    return src / H <= dst / H; /* earlier layer, same layer (other head), or itself */
}

typedef struct {
    double *pb;     /* [G][K+1] mass per level */
    float *mb;      /* [G][K+1][D] value sum per level */
    double *ms;     /* [D] */
    int64_t *cnt;   /* [4][K+1] Jaccard intersections, four interleaved copies */
    int64_t b[256]; /* level l is order[b[l-1], b[l]), b[-1] = 0 */
} cross_scratch;

/* Sum of p[ord[r]] over the run [r0, r1), in float with four chains (the values are
 * probabilities: the sum of a run stays within float's precision of the double total). */
static double run_mass(const int32_t *ord, int64_t r0, int64_t r1, const float *p) {
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        a0 += p[ord[r]], a1 += p[ord[r + 1]];
        a2 += p[ord[r + 2]], a3 += p[ord[r + 3]];
    }
    for (; r < r1; r++)
        a0 += p[ord[r]];
    return (double)((a0 + a1) + (a2 + a3));
}

static void run_mass_generic(const int32_t *ord, int64_t r0, int64_t r1, const float *pr, int64_t S,
                             int32_t G, double *out) {
    for (int32_t h = 0; h < G; h++)
        out[h] = run_mass(ord, r0, r1, pr + h * S);
}

/* Jaccard counts of one run of src level a: cnt[max(a, ld[j])]++ for j = ord[r]. */
static void run_jac_generic(const int32_t *ord, int64_t r0, int64_t r1, const uint8_t *ld, int a,
                            int32_t K, int64_t *cnt) {
    for (int64_t r = r0; r < r1; r++) {
        const int l = ld[ord[r]];
        cnt[(r & 3) * (K + 1) + (l > a ? l : a)]++;
    }
}

/* out[d] = sum of p[j] v[j][d] over j = ord[r], r in [r0, r1). */
static void run_vsum_generic(const int32_t *ord, int64_t r0, int64_t r1, const float *p,
                             const float *v, int32_t D, float *out) {
    memset(out, 0, (size_t)D * sizeof *out);
    for (int64_t r = r0; r < r1; r++) {
        const int32_t j = ord[r];
        const float pj = p[j], *vj = v + (int64_t)j * D;
        for (int32_t d = 0; d < D; d++)
            out[d] += pj * vj[d];
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HY_AVX512 __attribute__((target("avx512f")))

/* The accumulators (NH heads x NV x 16 floats) stay in registers for the whole run, and each
 * token's value row is loaded once for the NH heads; the generic loop reads and writes its
 * accumulator through L1 once per token and head, which bound it by stores. */
#define RUN_VSUM_AVX512(NV, NH)                                                                    \
    HY_AVX512 static void run_vsum_##NV##_##NH(const int32_t *ord, int64_t r0, int64_t r1,         \
                                               const float *p, int64_t S, const float *v,          \
                                               float *out, int64_t ostride) {                      \
        __m512 acc[NH][NV];                                                                        \
        _Pragma("GCC unroll 4") for (int h = 0; h < NH; h++)                                       \
            _Pragma("GCC unroll 16") for (int c = 0; c < NV; c++) acc[h][c] = _mm512_setzero_ps(); \
        for (int64_t r = r0; r < r1; r++) {                                                        \
            const int32_t j = ord[r];                                                              \
            const float *vj = v + (int64_t)j * (NV * 16);                                          \
            __m512 vr[NV];                                                                         \
            _Pragma("GCC unroll 16") for (int c = 0; c < NV; c++) vr[c] =                          \
                _mm512_loadu_ps(vj + 16 * c);                                                      \
            _Pragma("GCC unroll 4") for (int h = 0; h < NH; h++) {                                 \
                const __m512 pj = _mm512_set1_ps(p[h * S + j]);                                    \
                _Pragma("GCC unroll 16") for (int c = 0; c < NV; c++) acc[h][c] =                  \
                    _mm512_fmadd_ps(pj, vr[c], acc[h][c]);                                         \
            }                                                                                      \
        }                                                                                          \
        _Pragma("GCC unroll 4") for (int h = 0; h < NH; h++)                                       \
            _Pragma("GCC unroll 16") for (int c = 0; c < NV; c++)                                  \
                _mm512_storeu_ps(out + h * ostride + 16 * c, acc[h][c]);                           \
    }
RUN_VSUM_AVX512(4, 1)
RUN_VSUM_AVX512(4, 2)
RUN_VSUM_AVX512(4, 3)
RUN_VSUM_AVX512(4, 4)
RUN_VSUM_AVX512(8, 1)
RUN_VSUM_AVX512(8, 2)
RUN_VSUM_AVX512(16, 1)

/* The masses of G heads over one run: 16 tokens a step through gathers, one index load for
 * all heads (the scalar loop was two loads a token and head). */
HY_AVX512 static void run_mass_avx512(const int32_t *ord, int64_t r0, int64_t r1, const float *pr,
                                      int64_t S, int32_t G, double *out) {
    for (int32_t h = 0; h < G; h++) {
        const float *p = pr + h * S;
        __m512 acc = _mm512_setzero_ps();
        int64_t r = r0;
        for (; r + 16 <= r1; r += 16)
            acc = _mm512_add_ps(acc, _mm512_i32gather_ps(_mm512_loadu_si512(ord + r), p, 4));
        double t = (double)_mm512_reduce_add_ps(acc);
        for (; r < r1; r++)
            t += p[ord[r]];
        out[h] = t;
    }
}

/* Jaccard counts of a run by compares: the levels of 16 tokens at once (a 32-bit gather of
 * each token's level byte; the level rows carry 4 bytes of slack for the last one). */
HY_AVX512 static void run_jac_avx512(const int32_t *ord, int64_t r0, int64_t r1, const uint8_t *ld,
                                     int a, int32_t K, int64_t *cnt) {
    int64_t r = r0;
    const __m512i bytes = _mm512_set1_epi32(0xff), va = _mm512_set1_epi32(a);
    for (; r + 16 <= r1; r += 16) {
        const __m512i lv = _mm512_and_si512(
            _mm512_i32gather_epi32(_mm512_loadu_si512(ord + r), (const void *)ld, 1), bytes);
        cnt[a] += __builtin_popcount(_mm512_cmple_epi32_mask(lv, va));
        for (int x = a + 1; x <= K; x++)
            cnt[x] += __builtin_popcount(_mm512_cmpeq_epi32_mask(lv, _mm512_set1_epi32(x)));
    }
    run_jac_generic(ord, r, r1, ld, a, K, cnt);
}

static int have_avx512(void) {
    static int cached = -1; /* set by the first fold, on the calling thread, before workers */
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f");
    }
    return cached;
}

/* Value sums of up to nh heads (from p, head stride S) over one run into out + h * ostride;
 * returns the heads it took (0: none, the caller takes the generic loop). */
static int run_vsum_heads(const int32_t *ord, int64_t r0, int64_t r1, const float *p, int64_t S,
                          const float *v, int32_t D, int32_t nh, float *out, int64_t ostride) {
    if (!have_avx512()) return 0;
    if (D == 64 && nh >= 4) return run_vsum_4_4(ord, r0, r1, p, S, v, out, ostride), 4;
    if (D == 64 && nh == 3) return run_vsum_4_3(ord, r0, r1, p, S, v, out, ostride), 3;
    if (D == 64 && nh == 2) return run_vsum_4_2(ord, r0, r1, p, S, v, out, ostride), 2;
    if (D == 64) return run_vsum_4_1(ord, r0, r1, p, S, v, out, ostride), 1;
    if (D == 128 && nh >= 2) return run_vsum_8_2(ord, r0, r1, p, S, v, out, ostride), 2;
    if (D == 128) return run_vsum_8_1(ord, r0, r1, p, S, v, out, ostride), 1;
    if (D == 256) return run_vsum_16_1(ord, r0, r1, p, S, v, out, ostride), 1;
    return 0;
}
static void run_mass_heads(const int32_t *ord, int64_t r0, int64_t r1, const float *pr, int64_t S,
                           int32_t G, double *out) {
    if (have_avx512())
        run_mass_avx512(ord, r0, r1, pr, S, G, out);
    else
        run_mass_generic(ord, r0, r1, pr, S, G, out);
}

static void run_jac(const int32_t *ord, int64_t r0, int64_t r1, const uint8_t *ld, int a, int32_t K,
                    int64_t *cnt) {
    if (have_avx512())
        run_jac_avx512(ord, r0, r1, ld, a, K, cnt);
    else
        run_jac_generic(ord, r0, r1, ld, a, K, cnt);
}
#else
static int have_avx512(void) {
    return 0;
}
static int run_vsum_heads(const int32_t *ord, int64_t r0, int64_t r1, const float *p, int64_t S,
                          const float *v, int32_t D, int32_t nh, float *out, int64_t ostride) {
    (void)ord, (void)r0, (void)r1, (void)p, (void)S, (void)v, (void)D, (void)nh, (void)out;
    (void)ostride;
    return 0;
}
#define run_mass_heads run_mass_generic
#define run_jac run_jac_generic
#endif

void hy_fold_cross_prepare(void) {
    (void)have_avx512();
}

/* Level boundaries of query i's rankings (the same for every unit: they depend on the row
 * length, sink, window and grid only); returns the level not visited, the largest. */
static int32_t boundaries(const hy_fold *f, int32_t i, int64_t *b) {
    const hy_profile *p = f->p;
    const int64_t n = hy_fold_nkeys(f, i);
    const int64_t lo = p->sink < n ? p->sink : n, hi = n - p->window > lo ? n - p->window : lo;
    const int64_t fixed = lo + (n - hi), mid = hi - lo;
    int32_t skip = 0;
    for (int32_t l = 0; l <= f->K; l++) {
        b[l] = l == f->K ? n : fixed + (f->p->k_grid[l] < mid ? f->p->k_grid[l] : mid);
        const int64_t size = b[l] - (l ? b[l - 1] : 0), best = b[skip] - (skip ? b[skip - 1] : 0);
        if (size > best) skip = l;
    }
    return skip;
}

/* Adds the mean over dst's query heads of recall (and of the error when err is not NULL) for
 * each k to rec/err, and the Jaccard of the two sets to jac when not NULL. */
static void pair_query(const hy_fold *f, cross_scratch *s, int32_t src, int32_t dst, int32_t i,
                       int32_t skip, double *rec, double *err, double *jac) {
    const int32_t K = f->K, G = f->G, D = f->D;
    const int64_t S = f->cap->key_stride, *b = s->b;
    const int32_t *ord = hy_fold_order(f, src, i);
    const float *pr = hy_fold_probs(f, dst, i), *v = f->cap->v[dst];
    double mass[HY_FOLD_MAX_GROUP];
    for (int32_t l = 0; l <= K; l++) {
        if (l == skip) continue;
        const int64_t r0 = l ? b[l - 1] : 0;
        run_mass_heads(ord, r0, b[l], pr, S, G, mass);
        for (int32_t h = 0; h < G; h++)
            s->pb[h * (K + 1) + l] = mass[h];
        for (int32_t h = 0; err && h < G;) {
            float *out = s->mb + ((size_t)h * (K + 1) + l) * D;
            const int took = run_vsum_heads(ord, r0, b[l], pr + h * S, S, v, D, G - h, out,
                                            (int64_t)(K + 1) * D);
            if (!took) run_vsum_generic(ord, r0, b[l], pr + h * S, v, D, out);
            h += took ? took : 1;
        }
    }
    for (int32_t h = 0; h < G; h++) {
        const size_t qh = ((size_t)dst * f->Q + i) * G + h;
        const double *o = f->o + qh * D, on = f->onorm[qh], pt = f->ptot[qh];
        const double *pb = s->pb + h * (K + 1);
        /* the skipped level: totals minus every other level, the none-level included */
        double pskip = pt;
        for (int32_t l = 0; l <= K; l++)
            if (l != skip) pskip -= pb[l];
        if (err) {
            for (int32_t d = 0; d < D; d++)
                s->ms[d] = o[d];
            for (int32_t l = 0; l <= K; l++) {
                if (l == skip) continue;
                const float *m = s->mb + ((size_t)h * (K + 1) + l) * D;
                for (int32_t d = 0; d < D; d++)
                    s->ms[d] -= m[d];
            }
            /* s->ms holds the skipped level's value sum; rebuild prefixes from level 0 */
        }
        double ps = 0.0;
        double *acc = s->ms + D; /* prefix value sum, D doubles after the skipped level's */
        if (err)
            for (int32_t d = 0; d < D; d++)
                acc[d] = 0.0;
        for (int32_t ki = 0; ki < K; ki++) {
            ps += ki == skip ? pskip : pb[ki];
            if (err) {
                if (ki == skip)
                    for (int32_t d = 0; d < D; d++)
                        acc[d] += s->ms[d];
                else {
                    const float *m = s->mb + ((size_t)h * (K + 1) + ki) * D;
                    for (int32_t d = 0; d < D; d++)
                        acc[d] += m[d];
                }
            }
            rec[ki] += (pt > 0.0 ? ps / pt : 0.0) / G;
            if (err) err[ki] += hy_fold_rel_err(acc, ps, o, on, D) / G;
        }
    }
    if (!jac) return;
    /* |A_k and B_k| counted down src's run; both sets have b[ki] tokens. A level whose set is
     * the whole row (b = n) needs no count: its intersection is the row. */
    const int64_t n = hy_fold_nkeys(f, i);
    int32_t kj = 0;
    while (kj < K && b[kj] < n)
        kj++;
    memset(s->cnt, 0, 4 * (size_t)(K + 1) * sizeof *s->cnt);
    const uint8_t *ld = hy_fold_level(f, dst, i);
    for (int32_t a = 0; a < kj; a++)
        run_jac(ord, a ? b[a - 1] : 0, b[a], ld, a, K, s->cnt);
    int64_t inter = 0;
    for (int32_t ki = 0; ki < K; ki++) {
        for (int c = 0; c < 4; c++)
            inter += s->cnt[c * (K + 1) + ki];
        const int64_t in_k = ki < kj ? inter : n, uni = 2 * b[ki] - in_k;
        jac[ki] += uni > 0 ? (double)in_k / (double)uni : 1.0;
    }
}

void hy_fold_cross_item(void *arg, int64_t item) {
    hy_fold *f = arg;
    /* late units have the most sources: hand them out first */
    const int32_t U = f->U, dst = U - 1 - (int32_t)item, K = f->K, G = f->G, D = f->D;
    cross_scratch s = {
        .pb = malloc((size_t)G * (K + 1) * sizeof(double)),
        .mb = malloc((size_t)G * (K + 1) * D * sizeof(float)),
        .ms = malloc(2 * (size_t)D * sizeof(double)),
        .cnt = malloc(4 * (size_t)(K + 1) * sizeof(int64_t)),
    };
    const int ok = s.pb && s.mb && s.ms && s.cnt && K < 255 && G <= HY_FOLD_MAX_GROUP;
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
            const int32_t skip = boundaries(f, i, s.b);
            pair_query(f, &s, src, dst, i, skip, rec, with_err ? err : NULL,
                       src == dst ? NULL : jac);
        }
        for (int32_t ki = 0; ki < K; ki++) {
            rec[ki] /= f->Q, err[ki] /= n_err;
            jac[ki] = src == dst ? 1.0 : jac[ki] / f->Q;
        }
    }
    free(s.pb), free(s.mb), free(s.ms), free(s.cnt);
}
