/* CPU reference of the QKV post-processing (qkv_store.h): q rows copied out and rotated by
 * hy_rope_f32 itself, each token's k heads rotated the same way in a scratch row, then k and
 * v rounded to bf16 and placed in the cache. Reusing hy_rope_f32 makes "RoPE exactly as
 * rope.h" true by construction; the CUDA version is compared against this. */
#include "qkv_store.h"

#include <stdlib.h>
#include <string.h>

#include "bf16_ops.h"
#include "rmsnorm.h"

static hy_status qkv_shape_check(const hy_qkv_shape *s, int64_t row_stride, int64_t n_tok) {
    if (!s) return hy_fail(HY_EINVAL, "qkv_rope_store: shape is NULL");
    if (s->n_heads < 1 || s->n_kv_heads < 1)
        return hy_fail(HY_EINVAL, "qkv_rope_store: n_heads %d, n_kv_heads %d: expected >= 1",
                       s->n_heads, s->n_kv_heads);
    if (s->head_dim < 2 || s->head_dim % 2 || s->head_dim > 1024)
        return hy_fail(HY_EINVAL, "qkv_rope_store: head_dim %d, expected even, 2..1024",
                       s->head_dim);
    if (s->layout != HY_ROPE_NORM && s->layout != HY_ROPE_NEOX)
        return hy_fail(HY_EINVAL, "qkv_rope_store: layout %d, expected %d (norm) or %d (neox)",
                       (int)s->layout, HY_ROPE_NORM, HY_ROPE_NEOX);
    const int64_t d = s->head_dim;
    if (s->kv_cap < 1 || s->seq_stride < (int64_t)s->n_kv_heads * s->kv_cap * d)
        return hy_fail(HY_EINVAL,
                       "qkv_rope_store: kv_cap %lld, seq_stride %lld: expected kv_cap >= 1 and "
                       "seq_stride >= n_kv_heads*kv_cap*head_dim = %lld",
                       (long long)s->kv_cap, (long long)s->seq_stride,
                       (long long)s->n_kv_heads * s->kv_cap * d);
    if (row_stride < ((int64_t)s->n_heads + 2 * (int64_t)s->n_kv_heads) * d || n_tok < 0)
        return hy_fail(HY_EINVAL,
                       "qkv_rope_store: row_stride %lld, n_tok %lld: expected row_stride >= "
                       "(n_heads + 2*n_kv_heads)*head_dim = %lld and n_tok >= 0",
                       (long long)row_stride, (long long)n_tok,
                       ((long long)s->n_heads + 2LL * s->n_kv_heads) * d);
    return HY_OK;
}

hy_status hy_qkv_rope_store(float *q_out, uint16_t *k_cache, uint16_t *v_cache, const float *qkv,
                            int64_t row_stride, int64_t n_tok, const int32_t *seq,
                            const int32_t *pos, const hy_qkv_shape *s) {
    hy_status st = qkv_shape_check(s, row_stride, n_tok);
    if (st) return st;
    if (n_tok > 0 && (!q_out || !k_cache || !v_cache || !qkv || !seq || !pos))
        return hy_fail(HY_EINVAL, "qkv_rope_store: NULL buffer");
    for (int64_t t = 0; t < n_tok; t++)
        if (seq[t] < 0 || pos[t] < 0 || pos[t] >= s->kv_cap)
            return hy_fail(HY_ERANGE,
                           "qkv_rope_store: token %lld has seq %d, pos %d: expected seq >= 0 and "
                           "pos in [0, kv_cap = %lld)",
                           (long long)t, seq[t], pos[t], (long long)s->kv_cap);
    const int d = s->head_dim;
    const int64_t qw = (int64_t)s->n_heads * d, kw = (int64_t)s->n_kv_heads * d;
    float *k = hy_malloc((size_t)kw * sizeof *k, "qkv_rope_store k row");
    if (!k) return HY_ENOMEM;
    for (int64_t t = 0; t < n_tok; t++)
        memcpy(q_out + t * qw, qkv + t * row_stride, (size_t)qw * sizeof *q_out);
    hy_rope_f32(q_out, n_tok, s->n_heads, d, qw, pos, s->theta, s->layout);
    for (int64_t t = 0; t < n_tok; t++) {
        const float *row = qkv + t * row_stride;
        memcpy(k, row + qw, (size_t)kw * sizeof *k);
        hy_rope_f32(k, 1, s->n_kv_heads, d, kw, &pos[t], s->theta, s->layout);
        for (int g = 0; g < s->n_kv_heads; g++) {
            const int64_t at = seq[t] * s->seq_stride + ((int64_t)g * s->kv_cap + pos[t]) * d;
            for (int i = 0; i < d; i++) {
                k_cache[at + i] = hy_bf16_from_f32(k[(int64_t)g * d + i]);
                v_cache[at + i] = hy_bf16_from_f32(row[qw + kw + (int64_t)g * d + i]);
            }
        }
    }
    free(k);
    return HY_OK;
}

hy_status hy_qkv_extras_check(const hy_qkv_extras *e, int64_t row_stride, int64_t n_tok,
                              const char *who) {
    if (!e) return hy_fail(HY_EINVAL, "%s: extras are NULL", who);
    if (e->n_heads < 1 || e->n_kv_heads < 1 || e->head_dim < 1 || e->head_dim > 1024)
        return hy_fail(HY_EINVAL,
                       "%s: n_heads %d, n_kv_heads %d, head_dim %d: expected >= 1, head_dim "
                       "<= 1024",
                       who, e->n_heads, e->n_kv_heads, e->head_dim);
    if (!e->q_norm != !e->k_norm)
        return hy_fail(HY_EINVAL, "%s: q_norm %s, k_norm %s: expected both or neither", who,
                       e->q_norm ? "set" : "NULL", e->k_norm ? "set" : "NULL");
    const int64_t w = ((int64_t)e->n_heads + 2 * (int64_t)e->n_kv_heads) * e->head_dim;
    if (row_stride < w || n_tok < 0)
        return hy_fail(HY_EINVAL,
                       "%s: row_stride %lld, n_tok %lld: expected row_stride >= "
                       "(n_heads + 2*n_kv_heads)*head_dim = %lld and n_tok >= 0",
                       who, (long long)row_stride, (long long)n_tok, (long long)w);
    if (e->q_norm && !(e->eps >= 0.0f))
        return hy_fail(HY_EINVAL, "%s: eps %g, expected >= 0", who, (double)e->eps);
    return HY_OK;
}

hy_status hy_qkv_extras_f32(float *qkv, int64_t row_stride, int64_t n_tok, const hy_qkv_extras *e) {
    const hy_status st = hy_qkv_extras_check(e, row_stride, n_tok, "qkv_extras");
    if (st) return st;
    if (n_tok > 0 && !qkv && (e->bias || e->q_norm))
        return hy_fail(HY_EINVAL, "qkv_extras: qkv is NULL");
    const int64_t hd = e->head_dim, w = ((int64_t)e->n_heads + 2 * e->n_kv_heads) * hd;
    for (int64_t t = 0; t < n_tok; t++) {
        float *row = qkv + t * row_stride;
        if (e->bias)
            for (int64_t i = 0; i < w; i++)
                row[i] += e->bias[i];
        if (e->q_norm) {
            hy_rmsnorm_f32(row, row, e->q_norm, e->n_heads, hd, e->eps);
            hy_rmsnorm_f32(row + e->n_heads * hd, row + e->n_heads * hd, e->k_norm, e->n_kv_heads,
                           hd, e->eps);
        }
    }
    return HY_OK;
}

hy_status hy_seq_advance(int32_t *pos, int32_t *lens, int n) {
    if (n < 0 || (n > 0 && (!pos || !lens)))
        return hy_fail(HY_EINVAL,
                       "seq_advance: n %d with pos %p, lens %p: expected n >= 0 and "
                       "both arrays",
                       n, (void *)pos, (void *)lens);
    for (int i = 0; i < n; i++)
        if (lens[i] < 0 || lens[i] == INT32_MAX)
            return hy_fail(HY_ERANGE, "seq_advance: lens[%d] = %d, expected 0..%d", i, lens[i],
                           INT32_MAX - 1);
    for (int i = 0; i < n; i++) {
        pos[i] = lens[i];
        lens[i] += 1;
    }
    return HY_OK;
}
