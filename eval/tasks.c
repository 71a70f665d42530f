/* eval/tasks: the task registry behind hy_tasks.h: names, parsing, parameter checks and
 * defaults, the per-sample RNG, dispatch to the generators (task_needle.c, task_vt.c,
 * task_fwe.c) and freeing a sample. */
#include "task_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const names[HY_TASK_GEN_COUNT] = {"passkey",    "niah", "multikey", "multivalue",
                                                     "multiquery", "vt",   "fwe"};

const char *hy_task_name(hy_task_kind k) {
    return (unsigned)k < HY_TASK_GEN_COUNT ? names[k] : "unknown";
}

hy_status hy_task_parse(const char *name, hy_task_kind *out) {
    for (int k = 0; name && k < HY_TASK_GEN_COUNT; k++)
        if (strcmp(name, names[k]) == 0) {
            *out = (hy_task_kind)k;
            return HY_OK;
        }
    return hy_fail(HY_EINVAL,
                   "tasks: unknown task '%s', expected one of passkey, niah, multikey, "
                   "multivalue, multiquery, vt, fwe",
                   name ? name : "(null)");
}

hy_trng hy_trng_make(uint64_t seed, int64_t index, hy_task_kind kind) {
    /* Distinct odd multipliers keep (seed, index, kind) triples from colliding in practice. */
    hy_trng r = {seed * 0xD1B54A32D192ED03ull ^ (uint64_t)index * 0x9E3779B97F4A7C15ull ^
                 ((uint64_t)kind + 1) * 0xA0761D6478BD642Full};
    hy_trng_next(&r);
    return r;
}

uint64_t hy_trng_next(hy_trng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t hy_trng_below(hy_trng *r, uint64_t n) {
    return (uint64_t)(((unsigned __int128)hy_trng_next(r) * n) >> 64);
}

double hy_trng_unit(hy_trng *r) {
    return (double)(hy_trng_next(r) >> 11) * 0x1.0p-53;
}

static hy_status check_range(const char *field, int32_t v, int32_t lo, int32_t hi) {
    if (v < lo || v > hi)
        return hy_fail(HY_ERANGE, "tasks: params.%s = %d, expected %d..%d", field, v, lo, hi);
    return HY_OK;
}

/* Copies p with the documented defaults filled in, or fails naming the bad field. */
static hy_status check_params(hy_task_kind kind, const hy_task_params *p, hy_task_params *q) {
    if (!p) return hy_fail(HY_EINVAL, "tasks: params is NULL");
    *q = *p;
    if (!q->tok) return hy_fail(HY_EINVAL, "tasks: params.tok is NULL");
    if (!q->haystack) return hy_fail(HY_EINVAL, "tasks: params.haystack is NULL");
    size_t hl = strnlen(q->haystack, 65536);
    if (hl < 65536)
        return hy_fail(HY_EINVAL, "tasks: params.haystack has %zu bytes, expected >= 65536", hl);
    if (q->target_tokens < 256 || q->target_tokens > 131072)
        return hy_fail(HY_ERANGE, "tasks: params.target_tokens = %lld, expected 256..131072",
                       (long long)q->target_tokens);
    if (!(q->depth <= 1.0)) /* also rejects NaN */
        return hy_fail(HY_ERANGE, "tasks: params.depth = %g, expected 0..1 (< 0: random)",
                       q->depth);
    if (q->n_keys == 0) q->n_keys = 4;
    if (q->n_values == 0) q->n_values = 4;
    if (q->n_queries == 0) q->n_queries = 2;
    if (q->vt_chains == 0) q->vt_chains = 1;
    if (q->vt_hops == 0) q->vt_hops = 4;
    hy_status st = check_range("n_keys", q->n_keys, 1, 64);
    if (!st) st = check_range("n_values", q->n_values, 1, 64);
    if (!st) st = check_range("n_queries", q->n_queries, 1, q->n_keys);
    if (!st) st = check_range("vt_chains", q->vt_chains, 1, 16);
    if (!st) st = check_range("vt_hops", q->vt_hops, 1, 32);
    (void)kind;
    return st;
}

hy_status hy_task_generate(hy_task_kind kind, const hy_task_params *p, hy_task_sample *out) {
    if (!out) return hy_fail(HY_EINVAL, "tasks: out is NULL");
    memset(out, 0, sizeof *out);
    if ((unsigned)kind >= HY_TASK_GEN_COUNT)
        return hy_fail(HY_EINVAL, "tasks: kind %d, expected 0..%d", (int)kind,
                       HY_TASK_GEN_COUNT - 1);
    hy_task_params q;
    hy_status st = check_params(kind, p, &q);
    if (st) return st;
    out->kind = kind;
    switch (kind) {
    case HY_TASK_VT:
        st = hy_task_gen_vt(&q, out);
        break;
    case HY_TASK_FWE:
        st = hy_task_gen_fwe(&q, out);
        break;
    default:
        st = hy_task_gen_needle(kind, &q, out);
        break;
    }
    if (st) {
        hy_task_sample_free(out);
        return hy_fail_ctx(st, "tasks: %s (target %lld tokens, seed %llu, index %lld)", names[kind],
                           (long long)q.target_tokens, (unsigned long long)q.seed,
                           (long long)q.index);
    }
    return HY_OK;
}

void hy_task_sample_free(hy_task_sample *s) {
    if (!s) return;
    free(s->prompt);
    free(s->answer_prefix);
    for (int32_t i = 0; s->answers && i < s->n_answers; i++)
        free(s->answers[i]);
    free(s->answers);
    memset(s, 0, sizeof *s);
}
