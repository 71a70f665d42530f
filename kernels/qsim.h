/* Query-drift refresh on the device (plan refresh "qsim:t", Recycled Attention's trigger): a
 * unit reselects when the mean over its query heads of cos(q_h, q_h at its last selection) is
 * below t, or when it is forced (never selected). Rows r = b * n_kv_heads + g as in
 * attention_decode.h; modes[g] (host) is QSIM_SKIP, QSIM_CHECK or QSIM_FORCE per KV head of
 * every sequence. For a row that reselects: due[r] = 1, q_sel[r] = its queries (G x D, fp32),
 * pub[r] = r (the slot of its top-k row for the publish merge, indexset.h) and, unless forced
 * (the caller counts those), refreshes[b] += 1 and rows[b] += weight[g] * lens[b] (what its
 * selection reads, in K+V rows); otherwise due[r] = 0
 * and pub[r] = -2 (the stored set is kept). Skipped rows are not touched. The cosine is
 * accumulated in double, as the CPU runtime's (runtime/plan_exec.c); 0 for a zero vector. */
#ifndef HY_KERNELS_QSIM_H
#define HY_KERNELS_QSIM_H
#include <stdint.h>

#include "attention_decode.h"
#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

enum { HY_QSIM_SKIP = 0, HY_QSIM_CHECK = 1, HY_QSIM_FORCE = 2 };

/* The mean over G heads of cos(q_h, old_h) (rows of D), in double; 0 for a zero vector. The
 * CPU runtime's refresh decision (runtime/plan_exec.c) and the reference below. */
double hy_qsim_mean_cos(const float *q, const float *old, int G, int D);

/* CPU reference (host buffers). */
hy_status hy_qsim_decide(int32_t *due, int32_t *pub, float *q_sel, const float *q,
                         const int32_t *lens, const hy_attn_shape *s, const uint8_t *modes,
                         const float *weight, float t, int64_t *refreshes, double *rows);
/* CUDA: device buffers, host modes and weight ([n_kv_heads] each). */
hy_status hy_cuda_qsim_decide(int32_t *due, int32_t *pub, float *q_sel, const float *q,
                              const int32_t *lens, const hy_attn_shape *s, const uint8_t *modes,
                              const float *weight, float t, unsigned long long *refreshes,
                              double *rows, void *stream);
/* out rows [r][G * D] of the rows modes marks (non-zero) that did not reselect (due[r] == 0)
 * take alt's: a select unit's output is dense when it reselects and sparse over its stored
 * set when not, and both are computed when the device decides. */
hy_status hy_cuda_rows_keep_unless_due(float *out, const float *alt, const int32_t *due,
                                       const hy_attn_shape *s, const uint8_t *modes, void *stream);

#ifdef __cplusplus
}
#endif
#endif
