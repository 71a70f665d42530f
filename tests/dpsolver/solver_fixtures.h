/* tests/dpsolver: seeded random problems and the brute-force chain solver the DP and the ILP
 * are checked against. Costs are small integers so that the DP's budget grid (step 1) is
 * exact and optima compare exactly. */
#ifndef HY_SOLVER_FIXTURES_H
#define HY_SOLVER_FIXTURES_H

#include "hy_dpsolver.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t fx_rng = 1;
static double fx_u(void) {
    fx_rng ^= fx_rng << 13, fx_rng ^= fx_rng >> 7, fx_rng ^= fx_rng << 17;
    return (double)(fx_rng >> 11) * (1.0 / 9007199254740992.0);
}

/* Layer chain problem: L units, integer costs dense 4..6, select dense+1..2, reuse 1..2;
 * random losses, some NaN (not allowed), some sensitive units; strides 1,2 when S = 2. */
static hy_problem *fx_chain_problem(int32_t L, int32_t S, uint64_t seed) {
    hy_problem *pr = NULL;
    fx_rng = seed * 0x9e3779b97f4a7c15ull + 1;
    if (hy_problem_alloc(L, L, S, &pr)) return NULL;
    for (int32_t u = 0; u < L; u++) {
        pr->cost_dense[u] = 4 + (int)(fx_u() * 3);
        pr->cost_select[u] = pr->cost_dense[u] + 1 + (int)(fx_u() * 2);
        pr->cost_reuse[u] = 1 + (int)(fx_u() * 2);
        pr->dense_total += pr->cost_dense[u];
        pr->sensitive[u] = fx_u() < 0.15;
        for (int32_t s = 1; s < S; s++)
            pr->stride_pen[(size_t)u * S + s] = (float)(0.05 * fx_u());
    }
    for (int32_t a = 0; a < L; a++)
        for (int32_t b = a + 1; b < L; b++)
            pr->loss[(size_t)a * L + b] =
                fx_u() < 0.1 ? NAN : (float)(0.05 + 0.1 * (b - a) * fx_u());
    /* stride 2: select cost (c_s + c_r) / 2 must stay an integer for exact comparison */
    if (S == 2)
        for (int32_t u = 0; u < L; u++)
            if (((int)(pr->cost_select[u] + pr->cost_reuse[u])) % 2) pr->cost_select[u] += 1;
    return pr;
}

/* The same chain with three select choices of stride 1 (select, score, sketch8, as
 * hy_problem_from_profile builds them with --selectors): the cheaper ones cost less (integer
 * costs), lose their own output (own_pen) and, for the sketch, pass a deficit to reusers. */
static hy_problem *fx_chain_problem_selectors(int32_t L, uint64_t seed) {
    hy_problem *pr = NULL;
    fx_rng = seed * 0x9e3779b97f4a7c15ull + 7;
    if (hy_problem_alloc(L, L, 3, &pr)) return NULL;
    pr->cost_choice = malloc((size_t)L * 3 * sizeof(double));
    if (!pr->cost_choice) {
        hy_problem_free(pr);
        return NULL;
    }
    const int8_t modes[3] = {HY_MODE_SELECT, HY_MODE_SCORE, HY_MODE_SKETCH8};
    for (int32_t c = 0; c < 3; c++)
        pr->strides[c] = 1, pr->choice_mode[c] = modes[c];
    for (int32_t u = 0; u < L; u++) {
        pr->cost_dense[u] = 5 + (int)(fx_u() * 3);
        pr->cost_select[u] = pr->cost_dense[u] + 1;
        pr->cost_reuse[u] = 1;
        pr->dense_total += pr->cost_dense[u];
        pr->sensitive[u] = fx_u() < 0.15;
        pr->cost_choice[(size_t)u * 3 + 0] = pr->cost_select[u];
        pr->cost_choice[(size_t)u * 3 + 1] = 3 + (int)(fx_u() * 2);
        pr->cost_choice[(size_t)u * 3 + 2] = 2;
        pr->own_pen[(size_t)u * 3 + 1] = (float)(0.02 + 0.05 * fx_u());
        pr->own_pen[(size_t)u * 3 + 2] = (float)(0.03 + 0.06 * fx_u());
        pr->stride_pen[(size_t)u * 3 + 2] = (float)(0.02 * fx_u());
    }
    for (int32_t a = 0; a < L; a++)
        for (int32_t b = a + 1; b < L; b++)
            pr->loss[(size_t)a * L + b] =
                fx_u() < 0.1 ? NAN : (float)(0.05 + 0.1 * (b - a) * fx_u());
    return pr;
}

/* Every chain policy: each unit dense, select(stride) or reuse of the latest select. Returns
 * the least loss with cost <= budget (INFINITY if none) and the cheapest cost overall. */
static double fx_brute(const hy_problem *pr, double budget, double *cheapest) {
    int32_t L = pr->n_units, S = pr->n_strides, C = 2 + S;
    int64_t total = 1;
    for (int32_t i = 0; i < L; i++)
        total *= C;
    double best = INFINITY;
    *cheapest = INFINITY;
    for (int64_t code = 0; code < total; code++) {
        int64_t x = code;
        int32_t anchor = -1, astride = 0;
        double cost = 0, loss = 0;
        int ok = 1;
        for (int32_t v = 0; v < L && ok; v++) {
            int32_t c = (int32_t)(x % C);
            x /= C;
            if (c == 0) {
                cost += pr->cost_dense[v];
            } else if (c == 1) {
                float l = anchor < 0 ? NAN : pr->loss[(size_t)anchor * L + v];
                if (anchor < 0 || pr->sensitive[v] || isnan(l))
                    ok = 0;
                else
                    cost += pr->cost_reuse[v],
                        loss += l + pr->stride_pen[(size_t)anchor * S + astride];
            } else {
                int32_t s = c - 2;
                if (s > 0 && pr->sensitive[v]) ok = 0; /* sensitive: full attention only */
                cost += hy_problem_select_cost(pr, v, s);
                loss += pr->stride_pen[(size_t)v * S + s] + pr->own_pen[(size_t)v * S + s];
                anchor = v, astride = s;
            }
        }
        if (!ok) continue;
        if (cost < *cheapest) *cheapest = cost;
        if (cost <= budget + 1e-9 && loss < best) best = loss;
    }
    return best;
}

#endif
