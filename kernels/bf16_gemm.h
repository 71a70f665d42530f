/* Prefill-sized products y = beta * y + x * w^T on Intel AMX tiles in bf16 with fp32
 * accumulation, for the CPU runtime's native-weight prefill (weights row-major [out][in]).
 * Both operands are first brought into the tiles' layouts:
 *  - activations (hy_bf16_act_pack): bf16 rows of n_in rounded up to 32 elements, the token
 *    count rounded up to 32 rows, padding zero;
 *  - weights (hy_bf16_w_pack): panels of 16 output rows, each a run of 1 KiB tiles, one per
 *    32 input elements, holding the pairs (w[o][2p], w[o][2p+1]) of the 16 rows side by side
 *    (the pair-interleaved "VNNI" order tdpbf16ps reads its second operand in).
 * Rounding: both operands to bf16, round to nearest even (relative error 2^-9 each), products
 * summed in fp32. The fp32 sgemm path stays the reference (`--weights f32`); this one is
 * taken only where hy_bf16_gemm_usable() says the CPU and kernel allow AMX. */
#ifndef HY_KERNELS_BF16_GEMM_H
#define HY_KERNELS_BF16_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* 1 when the CPU has AMX-TILE and AMX-BF16 and the kernel granted this process the tile data
 * state (asked once, on the first call); 0 otherwise or after hy_bf16_gemm_force_off(1). */
int hy_bf16_gemm_usable(void);
/* Makes hy_bf16_gemm_usable() answer 0 from now on (tests and A/B runs of the sgemm path);
 * returns the previous setting. $HY_AMX=0 sets it at start-up. */
int hy_bf16_gemm_force_off(int off);

/* Padded sizes of the packed operands, in bf16 elements. */
int64_t hy_bf16_kpad(int64_t n_in);
size_t hy_bf16_act_elems(int64_t n_tok, int64_t n_in);
size_t hy_bf16_w_elems(int64_t n_rows, int64_t n_in);

/* Rows [t0, t1) of the activation pack of x (n_tok rows of n_in floats, stride ldx); the
 * padding rows [n_tok, round32(n_tok)) belong to the call with t1 == n_tok. Callers split
 * the rows over threads. */
void hy_bf16_act_pack(const float *x, int64_t ldx, int64_t n_tok, int64_t n_in, int64_t t0,
                      int64_t t1, uint16_t *dst);
/* The general form: rows [t0, t1) of n floats each (stride ldx) as rows of `width` bf16
 * (n <= width, width a multiple of 32), the rest zero; t1 == n_tok also zeroes the padding
 * rows up to round32(n_tok). hy_bf16_act_pack is this with width hy_bf16_kpad(n_in). */
void hy_bf16_rows_pack(const float *x, int64_t ldx, int64_t n_tok, int64_t n, int64_t width,
                       int64_t t0, int64_t t1, uint16_t *dst);
/* n_rows fp32 weight rows of n_in (contiguous) into panels; missing rows of the last panel
 * are zero. */
void hy_bf16_w_pack(const float *w, int64_t n_rows, int64_t n_in, uint16_t *dst);
/* The panels of the transpose: weight row o, element i is x[i][o] for x [n_in][n_rows] (row
 * stride ldx), with n_in zero-padded to `width` (a multiple of 32, >= n_in) so that products
 * over a fixed width of inputs (attention's key chunks) read it with n_in = width. */
void hy_bf16_wt_pack(const float *x, int64_t ldx, int64_t n_in, int64_t n_rows, int64_t width,
                     uint16_t *dst);

/* y[t][o] = beta * y[t][o] + sum_i x[t][i] w[o][i] for t < n_tok, o < n_rows, from the two
 * packs. beta 0 overwrites (y may hold NaN). Requires hy_bf16_gemm_usable(). */
void hy_bf16_gemm(float *y, int64_t ldy, const uint16_t *xa, const uint16_t *wp, int64_t n_tok,
                  int64_t n_in, int64_t n_rows, float beta);

/* The same product computed in scalar C from the same packs, for the tests. */
void hy_bf16_gemm_ref(float *y, int64_t ldy, const uint16_t *xa, const uint16_t *wp, int64_t n_tok,
                      int64_t n_in, int64_t n_rows, float beta);

#endif
