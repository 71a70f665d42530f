/* Matrix multiply against a weight matrix stored as ggml/GGUF does it, one output row per
 * weight row: y[t][o] = beta * y[t][o] + sum_i x[t][i] * w[o][i], t < n_tok, o < n_out,
 * i < n_in. Rows of x and y have explicit strides (ldx, ldy floats) so fused projections
 * (QKV, gate|up) can be read and written in place. CPU: OpenBLAS sgemm, sgemv for one row. */
#ifndef HY_KERNELS_MATMUL_H
#define HY_KERNELS_MATMUL_H
#include <stdint.h>
void hy_matmul_f32(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w,
                   int64_t n_tok, int64_t n_in, int64_t n_out, float beta);
/* Threads OpenBLAS may use for one call (global to the process); returns the previous count.
 * Callers that run several matmuls in parallel threads set 1 around that region. */
int hy_matmul_set_threads(int n);
int hy_matmul_threads(void);
#endif
