/* Matrix products against weights kept in their GGUF block format (Q4_0, Q4_1, Q8_0, Q4_K,
 * Q6_K, F16, BF16, F32), for the CPU runtime's decode: y[o] = beta * y[o] + w[o] . x with W
 * row-major [out][in], each row a whole number of blocks. The activation row is first
 * brought into the form the weight type's dot product wants (hy_qact_quantize): int8 blocks
 * of 32 with their scale and scaled sum for Q4_0/Q4_1/Q8_0, int8 super-blocks of 256 with
 * 16-element sums for Q4_K/Q6_K, fp32 unchanged for F16/BF16/F32. The dot products then run
 * in integers inside a block, as llama.cpp's do, so results differ from the fp32 path by the
 * activation rounding (about 0.4% of a block's largest value per element).
 * Two implementations with one contract: portable C (qdot_scalar.c, the reference the tests
 * hold the fast one to) and AVX2/FMA/F16C (qdot_avx2.c), picked at run time from the CPU's
 * features, so the build needs no -mavx2. Bound: the weight bytes, read once per call. */
#ifndef HY_KERNELS_QMATMUL_H
#define HY_KERNELS_QMATMUL_H

#include <stddef.h>
#include <stdint.h>

/* Weight formats, numbered as ggml numbers them (the GGUF tensor type field). */
typedef enum {
    HY_QT_F32 = 0,
    HY_QT_F16 = 1,
    HY_QT_Q4_0 = 2,
    HY_QT_Q4_1 = 3,
    HY_QT_Q8_0 = 8,
    HY_QT_Q4_K = 12,
    HY_QT_Q6_K = 14,
    HY_QT_BF16 = 30,
} hy_qtype;

/* Activation block for the 32-element formats: x[i] ~ d * q[i]; s = d * sum(q), which the
 * Q4_1 minimum and the Q4_0 offset of 8 multiply. */
typedef struct {
    float d, s;
    int8_t q[32];
} hy_q8_32;

/* Activation super-block for the K formats: x[i] ~ d * q[i]; bsum[j] = sum of q[16j..16j+15]
 * (the Q4_K minimums multiply them). */
typedef struct {
    float d;
    int16_t bsum[16];
    int8_t q[256];
} hy_q8_256;

/* 1 when t is one of the types above. */
int hy_qtype_known(int t);
/* Elements per block and bytes per block of a weight type. */
int64_t hy_qtype_block_elems(hy_qtype t);
size_t hy_qtype_block_bytes(hy_qtype t);
/* Bytes of one activation row of n elements prepared for weight type t (n a multiple of its
 * block), and the preparation itself. */
size_t hy_qact_bytes(hy_qtype t, int64_t n);
void hy_qact_quantize(hy_qtype t, const float *x, int64_t n, void *dst);

/* y[o] = beta * y[o] + dot(row o of w, x) for o < n_out; xq from hy_qact_quantize(t, x, n_in).
 * beta 0 overwrites (y may hold NaN). */
void hy_qmatvec(hy_qtype t, const void *w, int64_t n_in, int64_t n_out, const void *xq, float *y,
                float beta);

/* Which implementation hy_qmatvec uses: "avx2" or "scalar". hy_qmatmul_force_scalar(1) makes
 * every later call take the portable one (tests compare the two); returns the previous value. */
const char *hy_qmatmul_impl(void);
int hy_qmatmul_force_scalar(int on);

/* One dot product per implementation, for the tests: n elements of one weight row. */
float hy_qdot_scalar(hy_qtype t, const void *w, const void *xq, int64_t n);
float hy_qdot_avx2(hy_qtype t, const void *w, const void *xq, int64_t n); /* 0 if not built */

#endif
