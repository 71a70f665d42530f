/* Dense attention mode: full causal attention of one unit over its sequence's cache, through
 * the CPU prefill/decode kernel (one KV head, its query-head group). In a sliding-window
 * layer (Gemma 3) "full" is the last sliding_window positions: queries whose window still
 * starts at 0 go in one call, each later one attends its window alone. */
#include "attention_prefill.h"
#include "attn_mode.h"

hy_status hy_attn_dense(hy_ctx *c, const hy_attn_item *it) {
    const int64_t W = hy_model_layer_window(&c->m->info, it->layer);
    int64_t n_full = W ? W - it->pos0 : it->n_q; /* queries that see positions 0.. */
    if (n_full > it->n_q) n_full = it->n_q;
    /* prefill blocks take the bf16 AMX kernel when the context asked for it and its products
     * run on AMX (c->xbf16, qweights.c); the fp32 weights path stays fp32 throughout */
    if (n_full >= 32 && c->bf16_attention && c->xbf16 &&
        hy_attn_prefill_bf16_usable(it->head_dim, it->n_heads)) {
        HY_TRY(hy_attn_prefill_bf16(it->out, it->out_stride, it->q, it->q_stride, it->k, it->v,
                                    n_full, it->pos0, it->n_heads, 1, it->head_dim, it->kv_cap,
                                    it->scale));
    } else if (n_full > 0)
        hy_attn_prefill_f32(it->out, it->out_stride, it->q, it->q_stride, it->k, it->v, n_full,
                            it->pos0, it->n_heads, 1, it->head_dim, it->kv_cap, it->scale);
    for (int64_t i = n_full > 0 ? n_full : 0; i < it->n_q; i++) {
        const int64_t lo = it->pos0 + i - W + 1, hd = it->head_dim; /* first key it sees */
        hy_attn_prefill_f32(it->out + i * it->out_stride, it->out_stride, it->q + i * it->q_stride,
                            it->q_stride, it->k + lo * hd, it->v + lo * hd, 1, W - 1, it->n_heads,
                            1, it->head_dim, it->kv_cap - lo, it->scale);
    }
    return HY_OK;
}
