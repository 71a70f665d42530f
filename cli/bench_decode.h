/* `hylra bench decode` (bench_decode.c): options and the entry point cmd_bench.c calls. */
#ifndef HY_CLI_BENCH_DECODE_H
#define HY_CLI_BENCH_DECODE_H

#include "hy_common.h"

#include <stdint.h>

typedef struct {
    const char *shape; /* synthetic shape, or NULL */
    const char *model; /* GGUF path when shape is NULL */
    uint64_t seed;     /* synthetic weights */
    int64_t ctx[16];
    int n_ctx;
    int batch[16];
    int n_batch;
    const char *methods[32]; /* --policy specs and plan:FILE for --plan */
    int n_methods;
    int steps;
    int sink, window;  /* of policy plans and the cost model */
    const char *costs; /* costs.json for predictions (NULL: analytic) */
    const char *torch; /* bench-torch-e2e JSON (NULL: no column) */
    const char *out;   /* JSON results (NULL: none) */
} hy_bench_decode_opts;

hy_status hy_bench_decode(const hy_bench_decode_opts *o);

#endif
