/* Row-wise argmax contract (CPU reference in argmax.c, CUDA in argmax.cu): out[r] is the
 * index of the largest x[r][i]; ties go to the lowest index; NaN is never chosen unless the
 * whole row is NaN (then 0). */
#ifndef HY_KERNELS_ARGMAX_H
#define HY_KERNELS_ARGMAX_H
#include <stdint.h>
void hy_argmax_rows_f32(int32_t *out, const float *x, int64_t rows, int64_t n);
#endif
