/* CPU reference for sparse (gather) decode attention with per-unit modes
 * (attention_sparse.h): for each (sequence, KV head) not skipped, build the list of tokens
 * the unit attends to, then the same softmax-weighted sum as dense decode, in double. */
#include "attention_sparse.h"

#include <math.h>
#include <stdlib.h>

/* Expands a unit's set into token indices; returns the number, or -1 on a bad index. */
static int64_t unit_tokens(int64_t *tok, const hy_indexset *set, int64_t row, int64_t len,
                           int64_t *bad) {
    const int32_t *ix = set->idx + row * set->stride;
    const int P = set->gran == HY_GRAN_PAGE ? set->page_size : 1;
    int64_t n = 0;
    for (int32_t i = 0; i < set->count[row]; i++) {
        int64_t first = (int64_t)ix[i] * P;
        if (ix[i] < 0 || first >= len) {
            *bad = ix[i];
            return -1;
        }
        for (int64_t t = first; t < first + P && t < len; t++)
            tok[n++] = t;
    }
    return n;
}

hy_status hy_attn_sparse_f32(float *out, const float *q, const float *k, const float *v,
                             const int32_t *lens, const hy_attn_shape *s, const uint8_t *modes,
                             const hy_indexset *set) {
    hy_status st = hy_attn_shape_check(s, lens);
    if (st) return st;
    if (!out || !q || !k || !v || !modes || !set || !set->idx || !set->count)
        return hy_fail(HY_EINVAL, "attention sparse: NULL buffer");
    if (set->gran == HY_GRAN_PAGE && set->page_size < 1)
        return hy_fail(HY_EINVAL, "attention sparse: page_size %d, expected >= 1", set->page_size);
    for (int g = 0; g < s->n_kv_heads; g++)
        if (modes[g] != HY_UNIT_DENSE && modes[g] != HY_UNIT_SPARSE && modes[g] != HY_UNIT_SKIP)
            return hy_fail(HY_EINVAL,
                           "attention sparse: modes[%d] = %d, expected %d (dense), %d (sparse) or "
                           "%d (skip)",
                           g, modes[g], HY_UNIT_DENSE, HY_UNIT_SPARSE, HY_UNIT_SKIP);
    const int d = s->head_dim, group = s->n_heads / s->n_kv_heads;
    int64_t max_len = 0;
    for (int b = 0; b < s->batch; b++)
        max_len = lens[b] > max_len ? lens[b] : max_len;
    /* distinct indices give at most max_len tokens; duplicates at most stride pages */
    const int64_t cap = max_len + set->stride * (set->gran == HY_GRAN_PAGE ? set->page_size : 1);
    int64_t *tok = malloc((size_t)cap * sizeof *tok);
    double *p = malloc((size_t)cap * sizeof *p);
    double *acc = malloc((size_t)d * sizeof *acc);
    if (!tok || !p || !acc) {
        free(tok), free(p), free(acc);
        return hy_fail(HY_ENOMEM, "attention sparse: token lists of %lld", (long long)max_len);
    }
    for (int b = 0; b < s->batch && !st; b++) {
        for (int g = 0; g < s->n_kv_heads && !st; g++) {
            const int64_t row = (int64_t)b * s->n_kv_heads + g;
            int64_t n = 0, bad = 0;
            if (modes[g] == HY_UNIT_SKIP) continue; /* out rows untouched, set not read */
            if (modes[g] == HY_UNIT_DENSE) {        /* all tokens, or the last s->window of them */
                const int64_t lo = s->window > 0 && lens[b] > s->window ? lens[b] - s->window : 0;
                for (n = 0; n < lens[b] - lo; n++)
                    tok[n] = lo + n;
            } else if (set->count[row] < 0 || set->count[row] > set->stride) {
                st = hy_fail(HY_ERANGE, "attention sparse: count[%lld] = %d, expected 0..%lld",
                             (long long)row, set->count[row], (long long)set->stride);
                break;
            } else if ((n = unit_tokens(tok, set, row, lens[b], &bad)) < 0) {
                st = hy_fail(HY_ERANGE,
                             "attention sparse: sequence %d kv head %d: index %lld, "
                             "expected < %s",
                             b, g, (long long)bad,
                             set->gran == HY_GRAN_PAGE ? "ceil(len / page_size)" : "len");
                break;
            }
            const float *kg = k + b * s->seq_stride + (int64_t)g * s->kv_cap * d;
            const float *vg = v + b * s->seq_stride + (int64_t)g * s->kv_cap * d;
            for (int h = g * group; h < (g + 1) * group; h++) {
                const float *qh = q + ((int64_t)b * s->n_heads + h) * d;
                double m = -INFINITY, l = 0.0;
                for (int64_t j = 0; j < n; j++) {
                    double dot = 0.0;
                    for (int i = 0; i < d; i++)
                        dot += (double)qh[i] * kg[tok[j] * d + i];
                    p[j] = dot * s->scale;
                    if (p[j] > m) m = p[j];
                }
                for (int64_t j = 0; j < n; j++) {
                    p[j] = exp(p[j] - m);
                    l += p[j];
                }
                for (int i = 0; i < d; i++)
                    acc[i] = 0.0;
                for (int64_t j = 0; j < n; j++)
                    for (int i = 0; i < d; i++)
                        acc[i] += p[j] / l * vg[tok[j] * d + i];
                float *oh = out + ((int64_t)b * s->n_heads + h) * d;
                for (int i = 0; i < d; i++)
                    oh[i] = n ? (float)acc[i] : 0.0f;
            }
        }
    }
    free(tok), free(p), free(acc);
    return st;
}
