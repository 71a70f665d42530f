/* The observer path (hy_observer.h): for each query of a work item inside the observer's
 * range, recomputes the group's softmax over all visible keys from the cached q/k in fp64
 * (max subtracted), so what the profiler sees is exact whatever the dense kernel's blocking,
 * and hands it to the callback. Runs on the attention worker threads. */
#include "hy_observer.h"
#include "runtime_internal.h"

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

/* probs[h][j] for j <= pos: softmax of scale * q_h . k_j, accumulated in double. */
static void group_softmax(float *probs, double *tmp, const float *q, int64_t q_stride_heads,
                          const float *k, int g, int hd, int64_t n_keys, double scale) {
    for (int h = 0; h < g; h++) {
        const float *qh = q + (int64_t)h * q_stride_heads;
        double mx = -INFINITY;
        for (int64_t j = 0; j < n_keys; j++) {
            const float *kj = k + j * hd;
            double s = 0.0;
            for (int d = 0; d < hd; d++)
                s += (double)qh[d] * (double)kj[d];
            tmp[j] = s * scale;
            if (tmp[j] > mx) mx = tmp[j];
        }
        double z = 0.0;
        for (int64_t j = 0; j < n_keys; j++) {
            tmp[j] = exp(tmp[j] - mx);
            z += tmp[j];
        }
        float *ph = probs + (int64_t)h * n_keys;
        for (int64_t j = 0; j < n_keys; j++)
            ph[j] = (float)(tmp[j] / z);
    }
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
    float *probs = malloc((size_t)g * (size_t)max_keys * sizeof *probs);
    double *tmp = malloc((size_t)max_keys * sizeof *tmp);
    if (probs && tmp) {
        for (int64_t i = i0; i < i1; i++) {
            const int64_t pos = pos0 + i, n_keys = pos + 1;
            const float *qi = q + i * q_stride;
            group_softmax(probs, tmp, qi, hd, k, g, hd, n_keys, 1.0 / sqrt((double)hd));
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
    free(probs);
    free(tmp);
}
