/* Matmul wrapper over OpenBLAS (contract in matmul.h). Weights are row-major [n_out][n_in],
 * so the product is x * w^T; one token goes through sgemv, which OpenBLAS streams faster
 * than an m = 1 sgemm. */
#include "matmul.h"

#include <cblas.h>

void hy_matmul_f32(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w,
                   int64_t n_tok, int64_t n_in, int64_t n_out, float beta) {
    if (n_tok <= 0 || n_out <= 0) return;
    if (n_tok == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n_out, (blasint)n_in, 1.0f, w,
                    (blasint)n_in, x, 1, beta, y, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n_tok, (blasint)n_out,
                (blasint)n_in, 1.0f, x, (blasint)ldx, w, (blasint)n_in, beta, y, (blasint)ldy);
}

int hy_matmul_set_threads(int n) {
    int prev = openblas_get_num_threads();
    if (n != prev) openblas_set_num_threads(n);
    return prev;
}

int hy_matmul_threads(void) {
    return openblas_get_num_threads();
}
