/* formats/costs: the measured cost table (JSON, format "hylra-costs", version 1) that
 * `hylra bench kernels` writes per GPU and the solver reads: seconds of one layer's
 * attention (all heads) for one decode step, per op and (batch, n, k), plus fixed costs.
 * Lookups interpolate between grid points. Schema: docs/costs-format.md. */
#ifndef HY_COSTS_H
#define HY_COSTS_H

#include "hy_common.h"

#include <stdint.h>

#define HY_COSTS_FORMAT "hylra-costs"
#define HY_COSTS_VERSION 1

typedef enum {
    HY_OP_DENSE = 0, /* full attention */
    HY_OP_SELECT,    /* full attention with scores + top-k (one measured path) */
    HY_OP_REUSE,     /* sparse attention over k published indices (gather included) */
    HY_OP_TOPK,      /* the top-k alone */
    HY_OP_SCORE,     /* K-only scores + top-k + sparse attention over the set (plan mode score) */
    HY_OP_SKETCH8,   /* int8 key sketch scores + top-k + sparse attention (mode sketch8) */
    HY_OP_SKETCH4,   /* the same with an int4 sketch (mode sketch4) */
    HY_OP_BOUNDS,    /* page bounds + page top-k + sparse attention (mode bounds; k in tokens) */
    HY_OP_COUNT
} hy_cost_op;

typedef struct {
    hy_cost_op op;
    int32_t batch;
    int64_t n; /* context tokens */
    int64_t k; /* 0 for dense */
    double seconds;
} hy_cost_entry;

typedef struct {
    char device[128]; /* cudaGetDeviceProperties name, or "analytic" */
    char created[64];
    char tool[64];
    char dtype[16];
    double copy_bandwidth_GBps; /* measured device-to-device copy (read + write); NaN if absent */
    int32_t head_dim, n_heads, n_kv_heads, page_size;
    double launch_overhead_s, per_layer_other_s;
    int32_t n_entries;
    hy_cost_entry *entries;
} hy_costs;

const char *hy_cost_op_name(hy_cost_op op);
/* Whether the table has at least one entry of op. */
int hy_costs_has_op(const hy_costs *c, hy_cost_op op);

hy_status hy_costs_create(int32_t n_entries, hy_costs **out); /* entries zeroed */
void hy_costs_free(hy_costs *c);

/* Reading checks format/version, every field's type, ops known, batch/n >= 1, k >= 0,
 * seconds finite and > 0, no duplicate (op, batch, n, k); errors name entries[i].field. */
hy_status hy_costs_read(const char *path, hy_costs **out);
hy_status hy_costs_from_json(const char *json, size_t len, const char *name, hy_costs **out);
hy_status hy_costs_write(const hy_costs *c, const char *path);
hy_status hy_costs_to_json(const hy_costs *c, char **json);

/* Seconds of one layer, one decode step, for op at (batch, n, k): log-log interpolation
 * between grid points (linear where a coordinate is 0), extrapolation up to 2x beyond the
 * grid along each axis, HY_ERANGE naming the op, axis, value and grid range beyond that;
 * HY_ENOTFOUND when the table has no entry for op. An axis with a single grid value is
 * read as constant (within the same 2x). k is ignored for dense. */
hy_status hy_costs_lookup(const hy_costs *c, hy_cost_op op, int32_t batch, int64_t n, int64_t k,
                          double *seconds);

#endif
