/* hy_capture: the per-sample store the observer fills. Slots are indexed by (unit, query), so
 * worker threads observing different units or positions never write the same memory. */
#include "hy_profiler.h"

#include <stdlib.h>
#include <string.h>

hy_status hy_capture_create(int32_t n_layers, int32_t n_kv_heads, int32_t group, int32_t head_dim,
                            int32_t n_queries, int64_t pos0, hy_capture **out) {
    *out = NULL;
    if (n_layers <= 0 || n_kv_heads <= 0 || group <= 0 || head_dim <= 0 || n_queries <= 0 ||
        pos0 < 0)
        return hy_fail(HY_EINVAL,
                       "capture: layers %d, kv heads %d, group %d, head_dim %d, queries %d, "
                       "pos0 %lld: expected all positive (pos0 >= 0)",
                       n_layers, n_kv_heads, group, head_dim, n_queries, (long long)pos0);
    hy_capture *c = hy_calloc(1, sizeof *c, "capture");
    if (!c) return HY_ENOMEM;
    const size_t U = (size_t)n_layers * (size_t)n_kv_heads;
    *c = (hy_capture){n_layers,         n_kv_heads, group, head_dim, n_queries, pos0,
                      pos0 + n_queries, NULL,       NULL,  NULL,     NULL,      NULL};
    c->probs =
        hy_malloc(U * (size_t)n_queries * (size_t)group * (size_t)c->key_stride * sizeof *c->probs,
                  "capture attention probabilities");
    c->q = hy_malloc(U * (size_t)n_queries * (size_t)group * (size_t)head_dim * sizeof *c->q,
                     "capture queries");
    c->v = hy_calloc(U, sizeof *c->v, "capture value pointers");
    c->k = hy_calloc(U, sizeof *c->k, "capture key pointers");
    c->seen = hy_calloc(U * (size_t)n_queries, 1, "capture seen flags");
    if (!c->probs || !c->q || !c->v || !c->k || !c->seen) {
        hy_capture_free(c);
        return HY_ENOMEM;
    }
    *out = c;
    return HY_OK;
}

void hy_capture_free(hy_capture *c) {
    if (!c) return;
    free(c->probs);
    free(c->q);
    free((void *)c->v);
    free((void *)c->k);
    free(c->seen);
    free(c);
}

hy_status hy_capture_reset(hy_capture *c, int64_t pos0) {
    if (pos0 < 0 || pos0 + c->n_queries > c->key_stride)
        return hy_fail(HY_ERANGE, "capture: pos0 %lld + %d queries exceeds key capacity %lld",
                       (long long)pos0, c->n_queries, (long long)c->key_stride);
    c->pos0 = pos0;
    memset(c->seen, 0, (size_t)c->n_layers * (size_t)c->n_kv_heads * (size_t)c->n_queries);
    return HY_OK;
}

void hy_capture_observe(void *user, const hy_observation *o) {
    hy_capture *c = user;
    const int64_t i = o->pos - c->pos0;
    if (i < 0 || i >= c->n_queries || o->layer >= c->n_layers || o->kv_head >= c->n_kv_heads ||
        o->n_heads != c->group || o->head_dim != c->head_dim || o->n_keys > c->key_stride)
        return; /* outside what this capture was made for: ignore, fold reports it unseen */
    const size_t u = (size_t)o->layer * (size_t)c->n_kv_heads + (size_t)o->kv_head;
    const size_t slot = u * (size_t)c->n_queries + (size_t)i;
    for (int h = 0; h < c->group; h++) {
        memcpy(c->probs + (slot * (size_t)c->group + (size_t)h) * (size_t)c->key_stride,
               o->probs + (int64_t)h * o->n_keys, (size_t)o->n_keys * sizeof(float));
        memcpy(c->q + (slot * (size_t)c->group + (size_t)h) * (size_t)c->head_dim,
               o->q + (int64_t)h * o->head_dim, (size_t)o->head_dim * sizeof(float));
    }
    c->v[u] = o->v;
    c->k[u] = o->k;
    c->seen[slot] = 1;
}
