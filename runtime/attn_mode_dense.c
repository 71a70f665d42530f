/* Dense attention mode: full causal attention of one unit over its sequence's cache, through
 * the CPU prefill/decode kernel (one KV head, its query-head group). */
#include "attention_prefill.h"
#include "attn_mode.h"

hy_status hy_attn_dense(hy_ctx *c, const hy_attn_item *it) {
    (void)c;
    hy_attn_prefill_f32(it->out, it->out_stride, it->q, it->q_stride, it->k, it->v, it->n_q,
                        it->pos0, it->n_heads, 1, it->head_dim, it->kv_cap, it->scale);
    return HY_OK;
}
