/* Weight matrices held in their file's block format (runtime_internal.h's hy_qmat): row
 * access as fp32 (prefill tiles, the embedding, the CUDA upload), release, the scratch a
 * context needs to multiply by them (with the bf16 AMX packs where the CPU has AMX, and the
 * context's choice of bf16 prefill attention), and the --weights option's names. */
#include "bf16_gemm.h"
#include "hy_gguf.h"
#include "qmatmul.h"
#include "runtime_internal.h"

#include <stdlib.h>
#include <string.h>

hy_status hy_weights_parse(const char *s, hy_weights *out) {
    if (s && !strcmp(s, "native"))
        *out = HY_WEIGHTS_NATIVE;
    else if (s && !strcmp(s, "f32"))
        *out = HY_WEIGHTS_F32;
    else
        return hy_fail(HY_EINVAL,
                       "weights \"%s\": expected \"native\" (the file's format) or \"f32\"",
                       s ? s : "(null)");
    return HY_OK;
}

static size_t row_bytes(const hy_qpart *p, int64_t n_in) {
    return (size_t)(n_in / hy_qtype_block_elems((hy_qtype)p->type)) *
           hy_qtype_block_bytes((hy_qtype)p->type);
}

void hy_qmat_rows_f32(const hy_qmat *w, int64_t n_in, int64_t r0, int64_t n, float *dst) {
    for (int i = 0; i < w->n_parts && n > 0; i++) {
        const hy_qpart *p = &w->part[i];
        if (r0 >= p->rows) {
            r0 -= p->rows;
            continue;
        }
        const int64_t k = p->rows - r0 < n ? p->rows - r0 : n;
        /* the types were checked at load, so this cannot fail */
        (void)hy_ggml_dequantize((hy_ggml_type)p->type, p->data + (size_t)r0 * row_bytes(p, n_in),
                                 dst, k * n_in);
        dst += k * n_in, n -= k, r0 = 0;
    }
}

void hy_qmat_free(hy_qmat *w) {
    for (int i = 0; i < w->n_parts; i++)
        free(w->part[i].data);
    memset(w, 0, sizeof *w);
}

static hy_status to_f32(const hy_qmat *w, int64_t n_in, float **out, const char *what) {
    if (*out || !w->n_parts) return HY_OK;
    int64_t rows = 0;
    for (int i = 0; i < w->n_parts; i++)
        rows += w->part[i].rows;
    *out = hy_malloc((size_t)(rows * n_in) * sizeof(float), what);
    if (!*out) return HY_ENOMEM;
    hy_qmat_rows_f32(w, n_in, 0, rows, *out);
    return HY_OK;
}

hy_status hy_model_need_f32(hy_model *m) {
    if (m->weights == HY_WEIGHTS_F32 || !m->layers) return HY_OK;
    const hy_model_info *mi = &m->info;
    const int64_t d = mi->d_model, att = (int64_t)mi->n_heads * mi->head_dim;
    HY_TRY(to_f32(&m->q_embd, d, &m->tok_embd, "token_embd.weight (fp32)"));
    if (mi->tied_output)
        m->output = m->tok_embd;
    else
        HY_TRY(to_f32(&m->q_output, d, &m->output, "output.weight (fp32)"));
    for (int l = 0; l < mi->n_layers; l++) {
        hy_layer_weights *w = &m->layers[l];
        HY_TRY(to_f32(&w->q_qkv, d, &w->wqkv, "attn_qkv (fp32)"));
        HY_TRY(to_f32(&w->q_o, att, &w->wo, "attn_output (fp32)"));
        HY_TRY(to_f32(&w->q_gu, d, &w->wgu, "ffn_gate_up (fp32)"));
        HY_TRY(to_f32(&w->q_down, mi->d_ff, &w->wdown, "ffn_down (fp32)"));
    }
    return HY_OK;
}

hy_status hy_ctx_qscratch_alloc(hy_ctx *c) {
    const hy_model_info *mi = &c->m->info;
    if (c->m->weights == HY_WEIGHTS_F32 || !c->m->layers) return HY_OK;
    int64_t max_in = mi->d_model > mi->d_ff ? mi->d_model : mi->d_ff;
    const int64_t att = (int64_t)mi->n_heads * mi->head_dim;
    max_in = att > max_in ? att : max_in;
    /* fp32-activation formats copy the row: the largest preparation is n_in floats */
    c->xq = hy_malloc((size_t)(HY_QMAT_MAX_PARTS * HY_QGEMV_MAX_TOK * max_in) * sizeof(float),
                      "int8 activations");
    c->wtile_floats = HY_QGEMM_TILE * max_in;
    c->wtile = hy_malloc((size_t)(hy_pool_threads(c->pool) * c->wtile_floats) * sizeof(float),
                         "dequantised weight tiles");
    if (!c->xq || !c->wtile) return HY_ENOMEM;
    if (!hy_bf16_gemm_usable()) return HY_OK;
    c->wtile_bf16_elems = (int64_t)hy_bf16_w_elems(HY_QGEMM_TILE, max_in);
    c->wtile_bf16 =
        hy_malloc((size_t)(hy_pool_threads(c->pool) * c->wtile_bf16_elems) * sizeof(uint16_t),
                  "bf16 weight tiles");
    c->xbf16 =
        hy_malloc(hy_bf16_act_elems(c->n_batch, max_in) * sizeof(uint16_t), "bf16 activations");
    return c->wtile_bf16 && c->xbf16 ? HY_OK : HY_ENOMEM;
}

int hy_ctx_set_bf16_attention(hy_ctx *c, int on) {
    const int prev = c->bf16_attention;
    c->bf16_attention = on != 0;
    return prev;
}
