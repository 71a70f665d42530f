/* eval/engine_lm: the teacher-forced pass behind `agree` and `ppl`. Documents are disjoint
 * windows of ctx + 1 tokens of the long text, picked in a seeded order; each is prefilled up to
 * ctx - tf_tokens tokens (dense for all), then every method decodes the true next tokens for
 * tf_tokens steps. Per step: top-1 agreement with dense, KL(dense || method) and the
 * method's negative log-likelihood of the true token; per document their means. */
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t hy_eval_lm_work(const hy_eval_opts *o, int32_t nm) {
    return (int64_t)o->n_docs * (o->ctx - o->tf_tokens + (int64_t)o->tf_tokens * nm);
}

static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* log-softmax of one logits row into lp (double), returns the argmax (lowest index on ties) */
static int64_t log_softmax(const float *x, int64_t n, double *lp) {
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
        if (x[j] > x[best]) best = j;
    double z = 0.0;
    for (int64_t j = 0; j < n; j++)
        z += exp((double)x[j] - x[best]);
    const double lse = x[best] + log(z);
    for (int64_t j = 0; j < n; j++)
        lp[j] = (double)x[j] - lse;
    return best;
}

hy_status hy_eval_lm(hy_eval_state *s, hy_eval_task_result *agree, hy_eval_task_result *ppl) {
    const hy_eval_opts *o = s->o;
    const int64_t V = s->n_vocab, win = o->ctx + 1, T = o->tf_tokens, nm = s->nm;
    hy_token *ids = NULL;
    int64_t n_ids = 0;
    hy_status st = hy_tokenizer_encode(s->tok, o->text, strlen(o->text), 0, &ids, &n_ids);
    if (st) return hy_fail_ctx(st, "eval: tokenizing the text");
    const int64_t n_win = n_ids / win;
    if (n_win < o->n_docs) {
        free(ids);
        return hy_fail(HY_ERANGE,
                       "eval: the text (%s) has %lld tokens: %lld windows of %lld, "
                       "%d documents asked",
                       o->text_source, (long long)n_ids, (long long)n_win, (long long)win,
                       o->n_docs);
    }
    int64_t *order = hy_malloc((size_t)n_win * sizeof *order, "document order");
    double *lp_d = hy_malloc((size_t)V * sizeof *lp_d, "log-probs");
    double *lp_m = hy_malloc((size_t)V * sizeof *lp_m, "log-probs");
    double *acc = hy_calloc((size_t)nm * 3, sizeof *acc, "per-doc sums");
    if (!order || !lp_d || !lp_m || !acc) st = HY_ENOMEM;
    for (int64_t i = 0; i < n_win && !st; i++)
        order[i] = i;
    for (int64_t i = n_win - 1; i > 0 && !st; i--) { /* seeded Fisher-Yates */
        int64_t j = (int64_t)(mix(o->seed * 0x100000001b3ull + (uint64_t)i) % (uint64_t)(i + 1));
        int64_t t = order[i];
        order[i] = order[j], order[j] = t;
    }
    for (int32_t d = 0; d < o->n_docs && !st; d++) {
        const hy_token *doc = ids + order[d] * win;
        const int64_t n0 =
            o->ctx - T; /* prefilled; steps feed doc[n0 + i], predict doc[n0 + i + 1] */
        st = hy_eval_prefill_all(s, doc, n0);
        memset(acc, 0, (size_t)nm * 3 * sizeof *acc);
        for (int64_t i = 0; i < T && !st; i++) {
            for (int32_t m = 0; m < nm; m++)
                s->batch[m] = doc[n0 + i];
            st = hy_forward_batch(s->c, s->seqs, s->batch, (int)nm, s->logits);
            if (st) break;
            const hy_token target = doc[n0 + i + 1];
            const int64_t top_d = log_softmax(s->logits, V, lp_d);
            for (int32_t m = 0; m < nm; m++) {
                const int64_t top_m = m ? log_softmax(s->logits + m * V, V, lp_m) : top_d;
                const double *lp = m ? lp_m : lp_d;
                double kl = 0.0;
                for (int64_t j = 0; m && j < V; j++)
                    kl += exp(lp_d[j]) * (lp_d[j] - lp[j]);
                acc[m * 3 + 0] += top_m == top_d;
                acc[m * 3 + 1] += kl > 0.0 ? kl : 0.0; /* rounding can give -1e-17 */
                acc[m * 3 + 2] -= lp[target];
            }
            if (o->progress) hy_progress_update(&s->prog, s->prog_done += nm);
        }
        for (int32_t m = 0; m < nm && !st; m++) {
            if (agree) {
                agree->score[m * agree->n + d] = acc[m * 3 + 0] / (double)T;
                agree->kl[m * agree->n + d] = acc[m * 3 + 1] / (double)T;
            }
            if (ppl) ppl->score[m * ppl->n + d] = acc[m * 3 + 2] / (double)T;
        }
    }
    free(ids), free(order), free(lp_d), free(lp_m), free(acc);
    return st;
}
