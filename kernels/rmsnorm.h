/* RMSNorm contract (CPU reference in rmsnorm.c, CUDA in rmsnorm.cu):
 * y[r][i] = x[r][i] * w[i] / sqrt(mean_j(x[r][j]^2) + eps), r < rows, i < n; y may alias x.
 * Sums accumulate in double on the CPU reference so it can serve as the accuracy yardstick. */
#ifndef HY_KERNELS_RMSNORM_H
#define HY_KERNELS_RMSNORM_H
#include <stdint.h>
void hy_rmsnorm_f32(float *y, const float *x, const float *w, int64_t rows, int64_t n, float eps);
/* A post-norm's residual add (Gemma 3's post-attention and post-FFN norms):
 * x[r][i] += rmsnorm(t, w)[r][i], the float of hy_rmsnorm_f32's value added in float. */
void hy_rmsnorm_add_f32(float *x, const float *t, const float *w, int64_t rows, int64_t n,
                        float eps);
#endif
