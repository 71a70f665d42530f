/* formats/costs: lookup in a measured cost table. The grid is (batch, n, k) per op and
 * need not be complete: each axis is bracketed among the values measured under the
 * already-fixed coordinates, interpolated log-log (costs are close to power laws in n and k),
 * and extrapolated at most 2x past the grid, beyond which we refuse rather than guess. */
#include "hy_costs.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    const hy_costs *c;
    hy_cost_op op;
    int64_t *buf; /* scratch for the unique values of one axis */
} lk;

/* Sorted unique values of axis (0 batch, 1 n, 2 k) among entries of op matching the fixed
 * coordinates (-1 = any). */
static int uniq(const lk *L, int axis, int64_t batch, int64_t n, int64_t *out) {
    int m = 0;
    for (int32_t i = 0; i < L->c->n_entries; i++) {
        const hy_cost_entry *e = &L->c->entries[i];
        if (e->op != L->op || (batch >= 0 && e->batch != batch) || (n >= 0 && e->n != n)) continue;
        int64_t v = axis == 0 ? e->batch : axis == 1 ? e->n : e->k;
        int j = m;
        while (j > 0 && out[j - 1] > v)
            j--;
        if (j > 0 && out[j - 1] == v) continue;
        for (int t = m; t > j; t--)
            out[t] = out[t - 1];
        out[j] = v;
        m++;
    }
    return m;
}

typedef struct {
    int64_t x0, x1;
    double w; /* position of x between x0 and x1 (may be outside [0,1] when extrapolating) */
    int logx; /* w measured in log space */
} bracket;

static hy_status find_bracket(const lk *L, const char *axis, const int64_t *xs, int m, int64_t x,
                              bracket *b) {
    int64_t lo = xs[0], hi = xs[m - 1];
    if ((double)x < (double)lo / 2.0 || (double)x > 2.0 * (double)hi)
        return hy_fail(HY_ERANGE,
                       "costs: op %s: %s %lld is more than 2x outside the measured "
                       "grid %lld..%lld",
                       hy_cost_op_name(L->op), axis, (long long)x, (long long)lo, (long long)hi);
    if (m == 1) {
        *b = (bracket){lo, lo, 0.0, 0};
        return HY_OK;
    }
    int i = 0;
    while (i < m - 2 && xs[i + 1] < x)
        i++;
    b->x0 = xs[i], b->x1 = xs[i + 1];
    b->logx = b->x0 > 0 && x > 0;
    b->w = b->logx ? log((double)x / (double)b->x0) / log((double)b->x1 / (double)b->x0)
                   : (double)(x - b->x0) / (double)(b->x1 - b->x0);
    return HY_OK;
}

static double mix(double y0, double y1, double w, int logy) {
    if (w == 0.0 || y0 == y1) return y0;
    if (logy && y0 > 0 && y1 > 0) return exp(log(y0) + w * (log(y1) - log(y0)));
    return y0 + w * (y1 - y0);
}

static hy_status at_k(const lk *L, int64_t batch, int64_t n, int64_t k, double *y) {
    int m = uniq(L, 2, batch, n, L->buf);
    if (L->op == HY_OP_DENSE) k = L->buf[0];
    bracket b = {0};
    hy_status st = find_bracket(L, "k", L->buf, m, k, &b);
    if (st) return st;
    double y0 = NAN, y1 = NAN;
    for (int32_t i = 0; i < L->c->n_entries; i++) {
        const hy_cost_entry *e = &L->c->entries[i];
        if (e->op != L->op || e->batch != batch || e->n != n) continue;
        if (e->k == b.x0) y0 = e->seconds;
        if (e->k == b.x1) y1 = e->seconds;
    }
    *y = mix(y0, y1, b.w, b.logx);
    return HY_OK;
}

static hy_status at_n(const lk *L, int64_t batch, int64_t n, int64_t k, double *y) {
    int m = uniq(L, 1, batch, -1, L->buf);
    bracket b = {0};
    hy_status st = find_bracket(L, "n", L->buf, m, n, &b);
    double y0 = 0, y1 = 0;
    if (!st) st = at_k(L, batch, b.x0, k, &y0);
    if (!st && b.x1 != b.x0)
        st = at_k(L, batch, b.x1, k, &y1);
    else
        y1 = y0;
    if (!st) *y = mix(y0, y1, b.w, b.logx);
    return st;
}

hy_status hy_costs_lookup(const hy_costs *c, hy_cost_op op, int32_t batch, int64_t n, int64_t k,
                          double *seconds) {
    if (op < 0 || op >= HY_OP_COUNT) return hy_fail(HY_EINVAL, "costs: unknown op %d", (int)op);
    lk L = {c, op, hy_malloc((size_t)c->n_entries * sizeof(int64_t) + 8, "cost lookup")};
    if (!L.buf) return HY_ENOMEM;
    int m = uniq(&L, 0, -1, -1, L.buf);
    hy_status st = HY_OK;
    if (m == 0)
        st = hy_fail(HY_ENOTFOUND, "costs: table (device %s) has no entry for op %s", c->device,
                     hy_cost_op_name(op));
    bracket b = {0};
    double y0 = 0, y1 = 0;
    if (!st) st = find_bracket(&L, "batch", L.buf, m, batch, &b);
    if (!st) st = at_n(&L, b.x0, n, k, &y0);
    if (!st && b.x1 != b.x0)
        st = at_n(&L, b.x1, n, k, &y1);
    else
        y1 = y0;
    if (!st) *seconds = mix(y0, y1, b.w, b.logx);
    free(L.buf);
    return st;
}
