/* CUDA sparse decode attention over index sets with mixed unit modes in one launch
 * (attention_sparse.h). The same split-KV core as dense decode; a block of a sparse unit
 * maps its chunk positions through the index set (token, or page * P + offset) before the
 * 16-byte row loads, so one gather of K/V serves the whole GQA group; a skipped unit's
 * blocks return at entry. Bound: the gathered rows, count * page * 2 * head_dim * sizeof(kv)
 * per unit. */
#include "attention_core.cuh"
#include "attention_sparse.h"

extern "C" hy_status hy_cuda_attn_sparse(float *out, const float *q, const void *k, const void *v,
                                         hy_kv_dtype dt, const int32_t *lens, int64_t max_len,
                                         const hy_attn_shape *s, const uint8_t *modes,
                                         const hy_indexset *set, int64_t max_count,
                                         hy_cuda_attn_ws *ws, void *stream) {
    hy_core_args a;
    hy_status st = hy_attn_core_args_init(&a, out, q, k, v, lens, s, ws);
    if (st) return st;
    if (!modes || !set || !set->idx || !set->count)
        return hy_fail(HY_EINVAL, "attention sparse CUDA: NULL modes or index set");
    if (s->n_kv_heads > 64)
        return hy_fail(HY_EUNSUPPORTED, "attention sparse CUDA: %d KV heads, at most 64",
                       s->n_kv_heads);
    const int P = set->gran == HY_GRAN_PAGE ? set->page_size : 1;
    if (P < 1 || max_count < 0 || max_count > set->stride)
        return hy_fail(HY_EINVAL,
                       "attention sparse CUDA: page_size %d, max_count %lld, "
                       "stride %lld",
                       P, (long long)max_count, (long long)set->stride);
    unsigned long long mask = 0, skip = 0;
    int any_dense = 0;
    for (int g = 0; g < s->n_kv_heads; g++) {
        if (modes[g] == HY_UNIT_SPARSE)
            mask |= 1ull << g;
        else if (modes[g] == HY_UNIT_DENSE)
            any_dense = 1;
        else if (modes[g] == HY_UNIT_SKIP)
            skip |= 1ull << g;
        else
            return hy_fail(HY_EINVAL,
                           "attention sparse CUDA: modes[%d] = %d, expected %d (dense), %d "
                           "(sparse) or %d (skip)",
                           g, modes[g], HY_UNIT_DENSE, HY_UNIT_SPARSE, HY_UNIT_SKIP);
    }
    const int64_t gathered = max_count * P;
    const int64_t dense_n = s->window > 0 && s->window < max_len ? s->window : max_len;
    const int64_t n_iter = any_dense && dense_n > gathered ? dense_n : gathered;
    if (max_len < 1 || max_len > s->kv_cap || n_iter > ws->max_tokens)
        return hy_fail(HY_ERANGE,
                       "attention sparse CUDA: max_len %lld (kv_cap %lld), %lld "
                       "tokens per unit, workspace covers %lld",
                       (long long)max_len, (long long)s->kv_cap, (long long)n_iter,
                       (long long)ws->max_tokens);
    a.idx = set->idx;
    a.count = set->count;
    a.idx_stride = set->stride;
    a.page = P;
    a.sparse_mask = mask;
    a.skip_mask = skip;
    if (!any_dense && !mask) return HY_OK; /* every unit is skipped */
    const int units = s->batch * s->n_kv_heads;
    return hy_attn_core_launch<HY_CORE_INDEXED>(a, dt, s->head_dim, units, n_iter > 0 ? n_iter : 1,
                                                ws->sm_count, (cudaStream_t)stream);
}
