/* Decode attention of one GQA group over given K/V rows through two BLAS calls (logits =
 * Q K^T, out = softmax(logits) V), in fp32: the runtime's fast path for select units (which
 * also need the GQA-summed probabilities) and for sparse units (over gathered rows). Same
 * contract as the kernels' references (attention_decode.h, attention_sparse.h), which stay
 * the yardsticks for the CUDA kernels; tests/runtime checks this path against its own
 * double-precision recomputation. */
#include "plan_exec.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

hy_status hy_attn_rows_f32(float *out, float *psum, const float *q, const float *k, const float *v,
                           int64_t n, int g, int hd, float scale) {
    if (n <= 0) { /* an empty set attends to nothing: zeros, as the sparse reference */
        for (int64_t i = 0; out && i < (int64_t)g * hd; i++)
            out[i] = 0.0f;
        return HY_OK;
    }
    float *p = hy_malloc((size_t)g * (size_t)n * sizeof *p, "attention logits");
    if (!p) return HY_ENOMEM;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g, (blasint)n, hd, scale, q, hd, k, hd,
                0.0f, p, (blasint)n);
    for (int h = 0; h < g; h++) {
        float *ph = p + (int64_t)h * n, mx = -INFINITY;
        for (int64_t j = 0; j < n; j++)
            mx = ph[j] > mx ? ph[j] : mx;
        double z = 0.0;
        for (int64_t j = 0; j < n; j++)
            z += (ph[j] = expf(ph[j] - mx));
        const float inv = (float)(1.0 / z);
        for (int64_t j = 0; j < n; j++)
            ph[j] *= inv;
    }
    if (psum)
        for (int64_t j = 0; j < n; j++) {
            float a = 0.0f;
            for (int h = 0; h < g; h++)
                a += p[(int64_t)h * n + j];
            psum[j] = a;
        }
    if (out) /* NULL: only the probabilities are wanted (select and score units) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g, hd, (blasint)n, 1.0f, p,
                    (blasint)n, v, hd, 0.0f, out, hd);
    free(p);
    return HY_OK;
}
