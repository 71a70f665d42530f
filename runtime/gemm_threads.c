/* Projection GEMMs threaded by the runtime's own pool (fp32 weights here; quantized ones in
 * qgemm.c): the weight rows (outputs) are split
 * into one slice per thread and each slice is a single-threaded OpenBLAS call. With one
 * threading system, no OpenBLAS worker is left spinning while the pool runs attention, which
 * on two cores cost the attention threads a share of the CPU. */
#include "matmul.h"
#include "runtime_internal.h"

typedef struct {
    float *y;
    int64_t ldy;
    const float *x;
    int64_t ldx;
    const float *w;
    int64_t n_tok, n_in, n_out, chunk;
    float beta;
} gemm_job;

static hy_status gemm_item(void *arg, int64_t i) {
    const gemm_job *j = arg;
    const int64_t o0 = i * j->chunk;
    const int64_t n = j->n_out - o0 < j->chunk ? j->n_out - o0 : j->chunk;
    if (n > 0)
        hy_matmul_f32(j->y + o0, j->ldy, j->x, j->ldx, j->w + o0 * j->n_in, j->n_tok, j->n_in, n,
                      j->beta);
    return HY_OK;
}

void hy_ctx_matmul(hy_ctx *c, float *y, int64_t ldy, const float *x, int64_t ldx, const float *w,
                   const hy_qmat *wq, int64_t n_tok, int64_t n_in, int64_t n_out, float beta) {
    if (!w) {
        hy_ctx_qmatmul(c, y, ldy, x, ldx, wq, n_tok, n_in, n_out, beta);
        return;
    }
    const int nt = hy_pool_threads(c->pool);
    if (!c->own_gemm_threads || nt == 1 || n_out < 64) {
        hy_matmul_f32(y, ldy, x, ldx, w, n_tok, n_in, n_out, beta);
        return;
    }
    /* slices of whole 16-row groups, the width of OpenBLAS's sgemm micro-kernels */
    int64_t chunk = (n_out + nt - 1) / nt;
    chunk = (chunk + 15) / 16 * 16;
    gemm_job j = {y, ldy, x, ldx, w, n_tok, n_in, n_out, chunk, beta};
    (void)hy_pool_run(c->pool, (n_out + chunk - 1) / chunk, gemm_item, &j); /* cannot fail */
}
