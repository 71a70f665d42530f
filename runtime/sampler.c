/* Token sampling: greedy (argmax, lowest index on ties) at temperature 0; otherwise softmax at
 * the temperature over the top_k most likely tokens, cut to the nucleus top_p, and one
 * uniform draw; the choice and the counter-based RNG are kernels/sample.h's, which the CUDA
 * runtime's device sampling shares. Draw number i counts from 0 since create or reset, so the
 * i-th token of a run depends only on (seed, i, logits), whatever ran before. */
#include "argmax.h"
#include "hy_runtime.h"
#include "sample.h"

#include <math.h>
#include <stdlib.h>

struct hy_sampler {
    hy_sampler_params p;
    int n_vocab;
    uint64_t counter;
    int32_t *idx;
};

double hy_sampler_uniform(uint64_t seed, uint64_t counter) {
    return hy_rng_uniform(seed, counter);
}

hy_status hy_sampler_create(const hy_sampler_params *p, int n_vocab, hy_sampler **out) {
    if (!out || !p) return hy_fail(HY_EINVAL, "hy_sampler_create: NULL argument");
    *out = NULL;
    if (n_vocab < 1)
        return hy_fail(HY_EINVAL, "hy_sampler_create: n_vocab = %d, expected >= 1", n_vocab);
    if (!(p->temperature >= 0.0f) || isinf(p->temperature))
        return hy_fail(HY_EINVAL,
                       "hy_sampler_create: temperature = %g, expected a finite value "
                       ">= 0",
                       (double)p->temperature);
    if (p->top_k < 0)
        return hy_fail(HY_EINVAL, "hy_sampler_create: top_k = %d, expected >= 0 (0 = all)",
                       p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return hy_fail(HY_EINVAL, "hy_sampler_create: top_p = %g, expected in (0, 1]",
                       (double)p->top_p);
    hy_sampler *s = hy_calloc(1, sizeof *s, "sampler");
    if (!s) return HY_ENOMEM;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->idx = hy_malloc((size_t)n_vocab * sizeof(int32_t), "sampler candidates");
    if (!s->idx) {
        hy_sampler_free(s);
        return HY_ENOMEM;
    }
    *out = s;
    return HY_OK;
}

void hy_sampler_free(hy_sampler *s) {
    if (!s) return;
    free(s->idx);
    free(s);
}

void hy_sampler_reset(hy_sampler *s) {
    if (s) s->counter = 0;
}

/* a ranks before b: larger logit first, lower index on ties, NaN last */
static int ranks_before(const float *x, int32_t a, int32_t b) {
    const float xa = x[a], xb = x[b];
    if (xa != xa) return 0;
    if (xb != xb) return 1;
    return xa > xb || (xa == xb && a < b);
}

static _Thread_local const float *sort_logits;
static int cmp_rank(const void *pa, const void *pb) {
    const int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    return ranks_before(sort_logits, a, b) ? -1 : (ranks_before(sort_logits, b, a) ? 1 : 0);
}

/* Sift-down on a heap whose root is the worst-ranked kept candidate. */
static void sift(const float *x, int32_t *h, int n, int i) {
    for (;;) {
        int w = i, l = 2 * i + 1, r = l + 1;
        if (l < n && ranks_before(x, h[w], h[l])) w = l;
        if (r < n && ranks_before(x, h[w], h[r])) w = r;
        if (w == i) return;
        int32_t t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* Puts the best k token ids, best first, in s->idx; returns k. */
static int rank_top(hy_sampler *s, const float *x, int k) {
    int32_t *h = s->idx;
    const int n = s->n_vocab;
    if (k <= 0 || k > n) k = n;
    if (k == n) {
        for (int i = 0; i < n; i++)
            h[i] = i;
    } else {
        for (int i = 0; i < k; i++)
            h[i] = i;
        for (int i = k / 2 - 1; i >= 0; i--)
            sift(x, h, k, i);
        for (int i = k; i < n; i++)
            if (ranks_before(x, i, h[0])) {
                h[0] = i;
                sift(x, h, k, 0);
            }
    }
    sort_logits = x;
    qsort(h, (size_t)k, sizeof *h, cmp_rank);
    return k;
}

int32_t hy_sampler_sample(hy_sampler *s, const float *logits) {
    if (!s || !logits) return 0;
    if (s->p.temperature == 0.0f) {
        int32_t best;
        hy_argmax_rows_f32(&best, logits, 1, s->n_vocab);
        s->counter++;
        return best;
    }
    const int k = rank_top(s, logits, s->p.top_k);
    const int i = hy_sample_ranked(logits, s->idx, k, s->p.temperature, s->p.top_p,
                                   hy_rng_uniform(s->p.seed, s->counter++));
    return i < 0 ? 0 : s->idx[i]; /* every logit NaN: token 0 */
}
