/* dpsolver/cost: seconds of one layer's decode-step attention per mode. Measured tables win
 * for the modes they measure (dense, select, reuse); the analytic model counts the bytes each
 * mode must move (decode attention is bound by memory, not math) and adds a launch overhead
 * per kernel, and prices window and bounds, which no table measures. Sparse modes read the
 * sink and window tokens besides their set. Constants and formulas: docs/solver.md. */
#include "hy_dpsolver.h"

#include <math.h>
#include <stdio.h>

void hy_cost_model_init(hy_cost_model *m, int32_t head_dim, int32_t n_heads, int32_t n_kv_heads,
                        const hy_costs *table) {
    *m = (hy_cost_model){.table = table,
                         .bandwidth_Bps = HY_H100_HBM3_BPS,
                         .launch_s = HY_LAUNCH_S,
                         .elem_bytes = 2,
                         .head_dim = head_dim,
                         .n_heads = n_heads,
                         .n_kv_heads = n_kv_heads,
                         .batch = 1,
                         .sink = 4,
                         .window = 64,
                         .page_size = 16};
    if (table && isfinite(table->copy_bandwidth_GBps) && table->copy_bandwidth_GBps > 0)
        m->bandwidth_Bps = table->copy_bandwidth_GBps * 1e9;
    if (table && table->launch_overhead_s > 0) m->launch_s = table->launch_overhead_s;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

static int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

/* Tokens a reuse unit reads: its set of k plus the sink and window, at most the context. */
static int64_t sparse_tokens(const hy_cost_model *m, int64_t n, int64_t k) {
    return min64(n, k + (int64_t)m->sink + m->window);
}

/* Pages a bounds unit reads: the best ceil(k/P) pages plus those overlapping the sink and the
 * window, at most all pages. */
static int64_t bounds_pages(const hy_cost_model *m, int64_t n, int64_t k) {
    int64_t P = m->page_size;
    int64_t always = ceil_div(m->sink, P) + ceil_div(m->window, P);
    return min64(ceil_div(n, P), ceil_div(k, P) + always);
}

/* The analytic price of one op over `t` K/V rows at context n (t is k for select, the tokens
 * gathered for reuse, unused for dense):
 * dense:  read K and V of n tokens (one kernel);
 * select: the same plus fp32 scores per KV head written and read back by the top-k, and the
 *         k indices written (two kernels: attention with scores, top-k);
 * reuse:  read the indices and gather K and V of t tokens (one kernel);
 * window: read K and V of the sink + window tokens (one kernel);
 * bounds: read each page's min and max key vectors, write and read one fp32 score per page,
 *         write and read the chosen page indices, gather their K and V (three kernels: page
 *         scoring, top-k over pages, sparse attention);
 * score:  read K of n tokens (no V), the fp32 scores as select, then the sparse pass over
 *         its set (three kernels: scores, top-k, sparse attention);
 * sketch8 / sketch4: the same with an int8 / int4 key sketch plus a 4-byte scale per token
 *         and head instead of K. */
static double analytic(const hy_cost_model *m, hy_unit_mode mode, int64_t n, int64_t t) {
    double b = m->batch, kvh = m->n_kv_heads;
    double row = 2.0 * kvh * m->head_dim * m->elem_bytes; /* K + V bytes per token */
    double bytes = 0;
    int launches = 1;
    switch (mode) {
    case HY_MODE_DENSE:
        bytes = b * row * (double)n;
        break;
    case HY_MODE_SELECT:
        bytes = b * (row * (double)n + 2.0 * 4.0 * kvh * (double)n + 4.0 * kvh * (double)t);
        launches = 2;
        break;
    case HY_MODE_REUSE:
        bytes = b * (row * (double)t + 4.0 * kvh * (double)t);
        break;
    case HY_MODE_WINDOW:
        bytes = b * row * (double)min64(n, (int64_t)m->sink + m->window);
        break;
    case HY_MODE_BOUNDS: {
        double pages = (double)ceil_div(n, m->page_size), kept = (double)bounds_pages(m, n, t);
        double rows = fmin((double)n, kept * m->page_size);
        double minmax = 2.0 * kvh * m->head_dim * m->elem_bytes * pages;
        bytes = b * (minmax + 2.0 * 4.0 * kvh * pages + 2.0 * 4.0 * kvh * kept + row * rows);
        launches = 3;
        break;
    }
    case HY_MODE_SCORE:
    case HY_MODE_SKETCH8:
    case HY_MODE_SKETCH4: {
        const double d = m->head_dim;
        const double key = mode == HY_MODE_SCORE     ? d * m->elem_bytes
                           : mode == HY_MODE_SKETCH8 ? d + 4.0
                                                     : d / 2.0 + 4.0;
        const double set = (double)sparse_tokens(m, n, t);
        bytes = b * (kvh * key * (double)n + 2.0 * 4.0 * kvh * (double)n + 4.0 * kvh * (double)t +
                     row * set + 4.0 * kvh * set);
        launches = 3;
        break;
    }
    case HY_MODE_COUNT:
        break;
    }
    return bytes / m->bandwidth_Bps + launches * m->launch_s;
}

hy_status hy_cost_layer(const hy_cost_model *m, hy_unit_mode mode, int64_t n, int64_t k,
                        double *seconds) {
    if ((int)mode < 0 || mode >= HY_MODE_COUNT)
        return hy_fail(HY_EINVAL, "cost: mode %d, expected 0..%d", (int)mode, HY_MODE_COUNT - 1);
    int needs_k = mode != HY_MODE_DENSE && mode != HY_MODE_WINDOW;
    if (n <= 0 || k < 0 || (needs_k && (k == 0 || k > n)))
        return hy_fail(HY_ERANGE, "cost: mode %s at n %lld k %lld, expected 0 < k <= n",
                       hy_unit_mode_name(mode), (long long)n, (long long)k);
    if (m->sink < 0 || m->window < 0 || (mode == HY_MODE_BOUNDS && m->page_size <= 0))
        return hy_fail(HY_EINVAL,
                       "cost: sink %d window %d page_size %d, expected sink, window >= 0 and "
                       "page_size > 0",
                       m->sink, m->window, m->page_size);
    int64_t t = mode == HY_MODE_REUSE ? sparse_tokens(m, n, k) : k;
    hy_cost_op op = HY_OP_COUNT;
    switch (mode) {
    case HY_MODE_DENSE:
        op = HY_OP_DENSE;
        break;
    case HY_MODE_SELECT:
        op = HY_OP_SELECT;
        break;
    case HY_MODE_REUSE:
        op = HY_OP_REUSE;
        break;
    case HY_MODE_SCORE:
        op = HY_OP_SCORE;
        break;
    case HY_MODE_SKETCH8:
        op = HY_OP_SKETCH8;
        break;
    case HY_MODE_SKETCH4:
        op = HY_OP_SKETCH4;
        break;
    case HY_MODE_BOUNDS:
        op = HY_OP_BOUNDS;
        break;
    default:
        break;
    }
    /* window is never measured, and a table need not hold the newer ops: those are priced
     * analytically with the table's copy bandwidth and launch overhead (hy_cost_model_init
     * took them from the table) */
    if (!m->table || op == HY_OP_COUNT || (op >= HY_OP_SCORE && !hy_costs_has_op(m->table, op))) {
        *seconds = analytic(m, mode, n, t) + (m->table ? m->table->per_layer_other_s : 0);
        return HY_OK;
    }
    /* the table's reuse entries are indexed by the tokens gathered (its k) */
    hy_status st =
        hy_costs_lookup(m->table, op, m->batch, n, mode == HY_MODE_DENSE ? 0 : t, seconds);
    if (st) return hy_fail_ctx(st, "cost table (device %s)", m->table->device);
    *seconds += m->table->per_layer_other_s;
    return HY_OK;
}

hy_status hy_cost_analytic_table(const hy_cost_model *m, hy_costs **out) {
    static const int64_t ns[] = {1024, 4096, 16384, 65536, 131072};
    static const int64_t ks[] = {64, 256, 1024, 4096};
    int32_t cnt = 0;
    for (int i = 0; i < 5; i++) {
        cnt++;
        for (int j = 0; j < 4; j++)
            cnt += ks[j] <= ns[i] ? 2 : 0;
    }
    hy_status st = hy_costs_create(cnt, out);
    if (st) return st;
    hy_costs *c = *out;
    snprintf(c->device, sizeof c->device, "analytic");
    snprintf(c->tool, sizeof c->tool, "hylra");
    c->copy_bandwidth_GBps = m->bandwidth_Bps / 1e9;
    c->head_dim = m->head_dim, c->n_heads = m->n_heads, c->n_kv_heads = m->n_kv_heads;
    c->launch_overhead_s = m->launch_s;
    int32_t e = 0;
    for (int i = 0; i < 5; i++) {
        c->entries[e++] =
            (hy_cost_entry){HY_OP_DENSE, m->batch, ns[i], 0, analytic(m, HY_MODE_DENSE, ns[i], 0)};
        for (int j = 0; j < 4; j++) {
            if (ks[j] > ns[i]) continue;
            /* reuse entries price ks[j] gathered tokens, as a measured table's would */
            c->entries[e++] = (hy_cost_entry){HY_OP_SELECT, m->batch, ns[i], ks[j],
                                              analytic(m, HY_MODE_SELECT, ns[i], ks[j])};
            c->entries[e++] = (hy_cost_entry){HY_OP_REUSE, m->batch, ns[i], ks[j],
                                              analytic(m, HY_MODE_REUSE, ns[i], ks[j])};
        }
    }
    return HY_OK;
}
