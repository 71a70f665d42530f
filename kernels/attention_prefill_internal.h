/* Private to the CPU attention files: the masked online-softmax step and the output store
 * both prefill variants (fp32 through sgemm, bf16 on AMX tiles) share, so their masking,
 * running-max and normalisation rules are one piece of code. */
#ifndef HY_KERNELS_ATTENTION_PREFILL_INTERNAL_H
#define HY_KERNELS_ATTENTION_PREFILL_INTERNAL_H
#include <stdint.h>

#define HY_AP_KEYS 256 /* keys per chunk */

/* s[rows][nc] holds scaled scores of keys c0..c0+nc-1; row r may see keys up to
 * lim0 + r / g. Turns s into probabilities relative to the new running max (masked keys 0),
 * rescales the row's accumulator o[rows][d] and updates the running max m and sum l. */
void hy_attn_softmax_chunk(float *s, int nc, float *o, int d, float *m, float *l, int rows, int g,
                           int64_t lim0, int64_t c0);
/* Stacks the g query heads of KV head kvh for nb queries (rows of q) into qs[nb * g][d]: one
 * matrix whose rows share that head's keys. */
void hy_attn_stack_queries(float *qs, const float *q, int64_t q_stride, int nb, int g, int kvh,
                           int d);
/* Normalises the accumulators of a block of nb queries (rows ii * g + hh of o, sums l) into
 * their output rows: out row ii, the g heads of KV head kvh. */
void hy_attn_store_rows(float *out, int64_t out_stride, const float *o, const float *l, int nb,
                        int g, int kvh, int d);
#endif
