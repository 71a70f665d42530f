/* Private to kernels/qdot_*.c and qmatmul.c: helpers the two dot-product halves share. */
#ifndef HY_KERNELS_QDOT_INTERNAL_H
#define HY_KERNELS_QDOT_INTERNAL_H
#include <stdint.h>

/* The eight 6-bit scales and mins of a Q4_K super-block from its 12 packed bytes. */
void hy_q4k_scales(const uint8_t *packed, uint8_t sc[8], uint8_t m[8]);
/* 1 when this CPU runs AVX2, FMA and F16C (and qdot_avx2.c was built for x86-64). */
int hy_qdot_avx2_usable(void);

#endif
