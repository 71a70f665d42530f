/* The observer path (hy_observer.h): for each query of a work item inside the observer's
 * range, recomputes the group's softmax over all visible keys from the cached q/k in fp64
 * (one dgemm for the item's observed queries, then the softmax with its max subtracted), so what
 * the profiler sees is exact whatever the dense kernel's blocking, and hands it to the callback.
 * Runs on the attention worker threads. */
#include "hy_observer.h"
#include "runtime_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

hy_status hy_ctx_set_observer(hy_ctx *c, const hy_observer *obs) {
    if (!c) return hy_fail(HY_EINVAL, "hy_ctx_set_observer: context is NULL");
    if (obs && (!obs->fn || obs->pos_begin < 0 || obs->pos_end <= obs->pos_begin))
        return hy_fail(HY_EINVAL,
                       "hy_ctx_set_observer: fn %s, range [%lld, %lld), expected a function and "
                       "0 <= begin < end",
                       obs->fn ? "set" : "NULL", (long long)obs->pos_begin,
                       (long long)obs->pos_end);
    c->observer = (struct hy_observer *)obs;
    return HY_OK;
}

/* probs[h][j] for j < n_keys: the softmax of one row of scores (already scaled) in double. */
static void row_softmax(float *probs, const double *s, int64_t n_keys) {
    double mx = -INFINITY, z = 0.0;
    for (int64_t j = 0; j < n_keys; j++)
        mx = s[j] > mx ? s[j] : mx;
    double *e = (double *)s; /* the row is not read again: exponentials in place */
    for (int64_t j = 0; j < n_keys; j++) {
        e[j] = exp(s[j] - mx);
        z += e[j];
    }
    for (int64_t j = 0; j < n_keys; j++)
        probs[j] = (float)(e[j] / z);
}

void hy_observer_run(hy_ctx *c, int layer, int kv_head, int seq, const float *q, int64_t q_stride,
                     const float *out, int64_t out_stride, int64_t n_q, int64_t pos0) {
    const hy_observer *ob = c->observer;
    const hy_model_info *mi = hy_model_info_borrow(c->m);
    const int g = mi->n_heads / mi->n_kv_heads, hd = mi->head_dim;
    int64_t i0 = ob->pos_begin - pos0, i1 = ob->pos_end - pos0;
    if (i0 < 0) i0 = 0;
    if (i1 > n_q) i1 = n_q;
    if (i0 >= i1) return;
    const float *k = hy_ctx_k(c, seq, layer) + (int64_t)kv_head * c->n_ctx * hd;
    const float *v = hy_ctx_v(c, seq, layer) + (int64_t)kv_head * c->n_ctx * hd;
    const int64_t max_keys = pos0 + i1;
    /* The callback gets contiguous [g][hd] rows; q/out rows of one token are contiguous per
     * head already (heads of a group are adjacent), so only the key-side buffers are new. An
     * allocation failure here cannot be reported (a worker thread): the query is skipped. */
    const int64_t rows = (i1 - i0) * g;
    float *probs = malloc((size_t)g * (size_t)max_keys * sizeof *probs);
    double *qd = malloc((size_t)rows * (size_t)hd * sizeof *qd);
    double *kd = malloc((size_t)max_keys * (size_t)hd * sizeof *kd);
    double *sc = malloc((size_t)rows * (size_t)max_keys * sizeof *sc);
    if (probs && qd && kd && sc) {
        /* every score of the work item's observed queries in one dgemm: the products summed
         * in double, as exact as the per-key loops it replaces and ~10x faster */
        for (int64_t i = i0; i < i1; i++)
            for (int64_t c = 0; c < (int64_t)g * hd; c++)
                qd[(i - i0) * g * hd + c] = q[i * q_stride + c];
        for (int64_t c = 0; c < max_keys * hd; c++)
            kd[c] = k[c];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows, (blasint)max_keys, hd,
                    1.0 / sqrt((double)hd), qd, hd, kd, hd, 0.0, sc, (blasint)max_keys);
        for (int64_t i = i0; i < i1; i++) {
            const int64_t pos = pos0 + i, n_keys = pos + 1;
            const float *qi = q + i * q_stride;
            for (int h = 0; h < g; h++)
                row_softmax(probs + (int64_t)h * n_keys, sc + ((i - i0) * g + h) * max_keys,
                            n_keys);
            hy_observation o = {
                .layer = layer,
                .kv_head = kv_head,
                .seq = seq,
                .n_heads = g,
                .head_dim = hd,
                .pos = pos,
                .n_keys = n_keys,
                .q = qi,
                .probs = probs,
                .out = out + i * out_stride,
                .k = k,
                .v = v,
            };
            ob->fn(ob->user, &o);
        }
    }
    free(probs), free(qd), free(kd), free(sc);
}
