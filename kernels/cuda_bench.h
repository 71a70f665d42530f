/* `hylra bench kernels`: times the attention kernels on this GPU over the grid of the cost
 * table (B, n, k), beside the device-to-device copy bandwidth measured in the same run and,
 * when given, PyTorch's timings of the same ops (scripts/bench-torch), and writes costs.json
 * (format hylra-costs v1, the table the solver reads). */
#ifndef HY_KERNELS_CUDA_BENCH_H
#define HY_KERNELS_CUDA_BENCH_H
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

typedef struct {
    const char *costs_path; /* NULL: do not write */
    const char *torch_json; /* NULL: no PyTorch columns */
    int quick;              /* 1: B = 1 and n = 8K, 32K only (a smoke run) */
    int max_batch;          /* largest B in the grid (16 by default) */
    int point_b;            /* > 0: only this batch and point_n (for profiling one point) */
    int64_t point_n;
    FILE *table; /* where the table goes (stdout) */
} hy_bench_kernels_opts;

hy_status hy_cuda_bench_kernels(const hy_bench_kernels_opts *o);

/* Device-to-device copy bandwidth (1 GiB, bytes read + written, median of graph replays)
 * through cudaMemcpyAsync and through a 16-byte copy kernel: the ceiling a memory-bound
 * step is held against (hylra bench kernels and bench decode). */
hy_status hy_cuda_copy_bandwidth(double *cudamemcpy_GBps, double *kernel_GBps);

/* hy_cuda_topk_rows_f32 (topk.h) with the blocks per row forced: cluster 1, 2, 3, 4 or 8, or 0
 * for the automatic choice. For the benchmark's probes of that choice. */
hy_status hy_cuda_topk_rows_f32_cluster(int32_t *idx, int32_t *count, int64_t idx_stride,
                                        const float *x, int64_t x_stride, int64_t rows,
                                        const int32_t *n, int rows_per_n, int64_t max_n, int k,
                                        int sink, int window, int cluster, void *stream);

#ifdef __cplusplus
}
#endif
#endif
