/* Causal GQA prefill attention with its two products on AMX tiles in bf16 (contract in
 * attention_prefill.h, hy_attn_prefill_bf16). The structure is the fp32 kernel's: a block of
 * queries times the group's heads stacked into rows, keys in chunks of HY_AP_KEYS, the
 * online softmax of attention_prefill_internal.h between the products. What changes is the
 * operands: K and V of the KV head are packed once per call into tile panels (K as the
 * "weights" of Q K^T, V transposed for P V), Q and each chunk's probabilities are rounded to
 * bf16 rows, and both products accumulate in fp32 (kernels/bf16_gemm.h). */
#include "attention_prefill.h"
#include "attention_prefill_internal.h"
#include "bf16_gemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 192 /* stacked query rows per block, a multiple of 32 (two tile heights) */

int hy_attn_prefill_bf16_usable(int d, int g) {
    return hy_bf16_gemm_usable() && d % 32 == 0 && d <= 256 && g <= ROWS;
}

hy_status hy_attn_prefill_bf16(float *out, int64_t out_stride, const float *q, int64_t q_stride,
                               const float *k, const float *v, int64_t n_q, int64_t pos0,
                               int n_heads, int n_kv_heads, int d, int64_t kv_cap, float scale) {
    if (n_q <= 0 || n_heads <= 0 || n_kv_heads <= 0) return HY_OK;
    const int g = n_heads / n_kv_heads;
    if (!hy_attn_prefill_bf16_usable(d, g))
        return hy_fail(HY_EINVAL,
                       "bf16 prefill attention: head_dim %d (a multiple of 32 up to "
                       "256), group %d, AMX %s",
                       d, g, hy_bf16_gemm_usable() ? "present" : "absent");
    const int64_t n_max = pos0 + n_q, chunks = (n_max + HY_AP_KEYS - 1) / HY_AP_KEYS;
    const size_t vchunk = hy_bf16_w_elems(d, HY_AP_KEYS);
    uint16_t *kp = malloc(hy_bf16_w_elems(n_max, d) * sizeof *kp);
    uint16_t *vp = malloc((size_t)chunks * vchunk * sizeof *vp);
    uint16_t *qa = malloc(hy_bf16_act_elems(ROWS, d) * sizeof *qa);
    uint16_t *pa = malloc(hy_bf16_act_elems(ROWS, HY_AP_KEYS) * sizeof *pa);
    float *qs = malloc((size_t)ROWS * d * sizeof *qs), *o = malloc((size_t)ROWS * d * sizeof *o);
    float *s = malloc((size_t)ROWS * HY_AP_KEYS * sizeof *s);
    float m[ROWS], l[ROWS];
    hy_status st = HY_OK;
    if (!kp || !vp || !qa || !pa || !qs || !o || !s) {
        st = hy_fail(HY_ENOMEM, "bf16 prefill attention: packs for %lld keys of dim %d",
                     (long long)n_max, d);
        goto done;
    }
    const int bq = ROWS / g;
    const int64_t ksteps = d / 32;
    for (int kvh = 0; kvh < n_kv_heads; kvh++) {
        const float *kh = k + (int64_t)kvh * kv_cap * d, *vh = v + (int64_t)kvh * kv_cap * d;
        hy_bf16_w_pack(kh, n_max, d, kp);
        for (int64_t c = 0; c < chunks; c++) {
            const int64_t c0 = c * HY_AP_KEYS;
            const int64_t nc = n_max - c0 < HY_AP_KEYS ? n_max - c0 : HY_AP_KEYS;
            hy_bf16_wt_pack(vh + c0 * d, d, nc, d, HY_AP_KEYS, vp + c * vchunk);
        }
        for (int64_t i0 = 0; i0 < n_q; i0 += bq) {
            const int nb = (int)(n_q - i0 < bq ? n_q - i0 : bq);
            const int rows = nb * g;
            hy_attn_stack_queries(qs, q + i0 * q_stride, q_stride, nb, g, kvh, d);
            hy_bf16_act_pack(qs, d, rows, d, 0, rows, qa);
            for (int r = 0; r < rows; r++)
                m[r] = -INFINITY, l[r] = 0.0f;
            memset(o, 0, (size_t)rows * d * sizeof(float));
            const int64_t n_keys = pos0 + i0 + nb;
            for (int64_t c0 = 0; c0 < n_keys; c0 += HY_AP_KEYS) {
                const int nc = (int)(n_keys - c0 < HY_AP_KEYS ? n_keys - c0 : HY_AP_KEYS);
                hy_bf16_gemm(s, nc, qa, kp + (c0 / 16) * ksteps * 512, rows, d, nc, 0.0f);
                for (int64_t e = 0; e < (int64_t)rows * nc; e++)
                    s[e] *= scale;
                hy_attn_softmax_chunk(s, nc, o, d, m, l, rows, g, pos0 + i0, c0);
                hy_bf16_rows_pack(s, nc, rows, nc, HY_AP_KEYS, 0, rows, pa);
                hy_bf16_gemm(o, d, pa, vp + (c0 / HY_AP_KEYS) * vchunk, rows, HY_AP_KEYS, d, 1.0f);
            }
            hy_attn_store_rows(out + i0 * out_stride, out_stride, o, l, nb, g, kvh, d);
        }
    }
done:
    free(kp), free(vp), free(qa), free(pa), free(qs), free(o), free(s);
    return st;
}
