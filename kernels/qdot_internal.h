/* Private to kernels/qdot_*.c and qmatmul.c: helpers the two dot-product halves share. */
#ifndef HY_KERNELS_QDOT_INTERNAL_H
#define HY_KERNELS_QDOT_INTERNAL_H
#include "qmatmul.h"

#include <stdint.h>

/* One implementation's dot products, one per block family; nb blocks, or n elements for the
 * float formats (F16, BF16, F32: t says which). */
typedef struct {
    float (*q4_0)(const uint8_t *w, const hy_q8_32 *x, int64_t nb);
    float (*q4_1)(const uint8_t *w, const hy_q8_32 *x, int64_t nb);
    float (*q8_0)(const uint8_t *w, const hy_q8_32 *x, int64_t nb);
    float (*q4_k)(const uint8_t *w, const hy_q8_256 *x, int64_t nb);
    float (*q6_k)(const uint8_t *w, const hy_q8_256 *x, int64_t nb);
    float (*fp)(hy_qtype t, const uint8_t *w, const float *x, int64_t n);
} hy_qdot_impl;
/* One dot product of n elements through impl's function for type t (qmatmul.c). */
float hy_qdot_with(const hy_qdot_impl *impl, hy_qtype t, const void *w, const void *xq, int64_t n);

/* The eight 6-bit scales and mins of a Q4_K super-block from its 12 packed bytes. */
void hy_q4k_scales(const uint8_t *packed, uint8_t sc[8], uint8_t m[8]);
/* 1 when this CPU runs AVX2, FMA and F16C (and qdot_avx2.c was built for x86-64). */
int hy_qdot_avx2_usable(void);

#endif
