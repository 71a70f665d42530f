/* tests/dpsolver: the chain DP against brute force over every policy (L <= 10), with and
 * without temporal strides; frontier and Lagrangian points against the same; infeasible
 * budgets named with the cheapest feasible one; sensitive units never reuse. */
#include "hy_test.h"
#include "solver_fixtures.h"

#include <string.h>

static void check_problem_against_brute(hy_problem *pr, int32_t L, int32_t S, uint64_t seed);

static void check_against_brute(int32_t L, int32_t S, uint64_t seed) {
    check_problem_against_brute(fx_chain_problem(L, S, seed), L, S, seed);
}

static void check_problem_against_brute(hy_problem *pr, int32_t L, int32_t S, uint64_t seed) {
    HY_REQUIRE(pr);
    hy_assign a;
    HY_REQUIRE(hy_assign_alloc(L, &a) == HY_OK);
    double cheap;
    fx_brute(pr, 0, &cheap);
    for (double B = floor(cheap); B <= pr->dense_total + 4; B += 1 + floor(L / 4)) {
        double want = fx_brute(pr, B, &cheap);
        hy_solve_info info;
        hy_status st = hy_dp_solve(pr, B, (int32_t)B, &a, &info);
        if (want == INFINITY) {
            HY_CHECK_EQ_INT(st, HY_ESOLVER);
            continue;
        }
        if (st) {
            HY_FAILF("L=%d S=%d seed=%llu budget %g: %s", L, S, (unsigned long long)seed, B,
                     hy_last_error());
            continue;
        }
        HY_CHECK_NEAR(info.loss, want, 1e-5);
        HY_CHECK(info.cost <= B + 1e-9);
        double c, l;
        HY_CHECK(hy_assign_eval(pr, &a, &c, &l) == HY_OK);
        HY_CHECK_NEAR(l, info.loss, 1e-9);
    }
    hy_assign_free(&a);
    hy_problem_free(pr);
}

HY_TEST(dp_equals_brute_force_small_chains) {
    for (uint64_t seed = 1; seed <= 12; seed++)
        check_against_brute(2 + (int32_t)(seed % 7), 1, seed);
}

HY_TEST(dp_equals_brute_force_ten_layers) {
    for (uint64_t seed = 100; seed < 104; seed++)
        check_against_brute(10, 1, seed);
}

HY_TEST(dp_equals_brute_force_with_strides) {
    for (uint64_t seed = 200; seed < 206; seed++)
        check_against_brute(4 + (int32_t)(seed % 4), 2, seed);
}

/* Select choices that are cheaper selectors (score, sketch8): the DP is still exact, writes
 * their modes, and uses them when the budget is tight. */
HY_TEST(dp_equals_brute_force_with_selectors) {
    int used = 0;
    for (uint64_t seed = 300; seed < 308; seed++) {
        const int32_t L = 4 + (int32_t)(seed % 4);
        hy_problem *pr = fx_chain_problem_selectors(L, seed);
        HY_REQUIRE(pr);
        hy_assign a;
        HY_REQUIRE(hy_assign_alloc(L, &a) == HY_OK);
        hy_solve_info info;
        if (hy_dp_solve(pr, 0.6 * pr->dense_total, 64, &a, &info) == HY_OK)
            for (int32_t u = 0; u < L; u++)
                used |= a.mode[u] == HY_MODE_SCORE || a.mode[u] == HY_MODE_SKETCH8;
        hy_clear_error();
        hy_assign_free(&a);
        check_problem_against_brute(pr, L, 3, seed);
    }
    HY_CHECK(used);
}

/* Rounding costs up to budget steps made plans that truly fit look too expensive: at a budget
 * of exactly the dense cost the DP returned a lossy plan although all-dense (loss 0) fits.
 * Costs 0.7 a unit, 3 units, budget 2.1 in 10 steps of 0.21: rounded up, dense is 4 steps a
 * unit (12 > 10). */
HY_TEST(all_dense_found_when_it_fits_exactly) {
    hy_problem *pr = NULL;
    HY_REQUIRE(hy_problem_alloc(3, 3, 1, &pr) == HY_OK);
    for (int32_t u = 0; u < 3; u++) {
        pr->cost_dense[u] = 0.7, pr->cost_select[u] = 0.9, pr->cost_reuse[u] = 0.1;
        pr->dense_total += 0.7;
    }
    pr->loss[0 * 3 + 1] = pr->loss[0 * 3 + 2] = pr->loss[1 * 3 + 2] = 0.2f;
    hy_assign a;
    HY_REQUIRE(hy_assign_alloc(3, &a) == HY_OK);
    hy_solve_info info;
    HY_OK_OR_FAIL(hy_dp_solve(pr, 2.1, 10, &a, &info));
    HY_CHECK_NEAR(info.loss, 0.0, 0);
    HY_CHECK(info.cost <= 2.1 + 1e-12 && info.optimal);
    /* just under: a lossy plan that truly fits (select 0.9 + reuse 0.1 + reuse 0.1 = 1.1) */
    HY_OK_OR_FAIL(hy_dp_solve(pr, 2.0, 10, &a, &info));
    HY_CHECK(info.loss > 0 && info.cost <= 2.0 + 1e-12);
    hy_assign_free(&a);
    hy_problem_free(pr);
}

HY_TEST(frontier_matches_brute_force) {
    hy_problem *pr = fx_chain_problem(8, 1, 77);
    HY_REQUIRE(pr);
    int32_t steps = (int32_t)(pr->dense_total + 8);
    double *fr = malloc(((size_t)steps + 1) * sizeof(double)), cheap;
    HY_OK_OR_FAIL(hy_dp_frontier(pr, steps, steps, fr));
    for (int32_t b = 0; b <= steps; b++) {
        double want = fx_brute(pr, b, &cheap);
        if (want == INFINITY)
            HY_CHECK(fr[b] == INFINITY);
        else
            HY_CHECK_NEAR(fr[b], want, 1e-5);
    }
    for (int32_t b = 1; b <= steps; b++)
        HY_CHECK(fr[b] <= fr[b - 1]);
    free(fr);
    hy_problem_free(pr);
}

/* loss + lambda * cost of the Lagrangian answer is the least over every chain policy. */
HY_TEST(lagrangian_point_is_optimal_for_its_price) {
    hy_problem *pr = fx_chain_problem(7, 2, 5);
    HY_REQUIRE(pr);
    hy_assign a;
    HY_REQUIRE(hy_assign_alloc(7, &a) == HY_OK);
    double lambdas[] = {0.0, 0.005, 0.02, 0.1, 1.0};
    for (int i = 0; i < 5; i++) {
        double cost, loss, cheap, best = INFINITY;
        HY_OK_OR_FAIL(hy_dp_lagrange(pr, lambdas[i], &a, &cost, &loss));
        /* every budget's optimum gives an upper bound on the priced optimum; the cost-loss
         * pairs of the frontier include the priced optimum */
        for (double B = 0; B <= pr->dense_total + 14; B += 1) {
            double l = fx_brute(pr, B, &cheap);
            if (l < INFINITY && l + lambdas[i] * B < best) best = l + lambdas[i] * B;
        }
        HY_CHECK(loss + lambdas[i] * cost <= best + 1e-6);
    }
    hy_assign_free(&a);
    hy_problem_free(pr);
}

HY_TEST(infeasible_budget_names_cheapest) {
    hy_problem *pr = fx_chain_problem(6, 1, 9);
    HY_REQUIRE(pr);
    hy_assign a;
    HY_REQUIRE(hy_assign_alloc(6, &a) == HY_OK);
    double cheap;
    fx_brute(pr, 0, &cheap);
    HY_CHECK_EQ_INT(hy_dp_solve(pr, cheap - 1, (int32_t)cheap, &a, NULL), HY_ESOLVER);
    char want[64];
    snprintf(want, sizeof want, "cheapest feasible plan costs %.4g s", cheap);
    HY_CHECK(strstr(hy_last_error(), want));
    HY_CHECK(strstr(hy_last_error(), "infeasible"));
    HY_CHECK_EQ_INT(hy_dp_solve(pr, cheap, (int32_t)cheap, &a, NULL), HY_OK);
    hy_assign_free(&a);
    hy_problem_free(pr);
}

HY_TEST(sensitive_units_never_reuse) {
    hy_problem *pr = fx_chain_problem(10, 1, 31);
    HY_REQUIRE(pr);
    for (int32_t u = 1; u < 10; u += 2)
        pr->sensitive[u] = 1;
    hy_assign a;
    HY_REQUIRE(hy_assign_alloc(10, &a) == HY_OK);
    double cheap;
    fx_brute(pr, 0, &cheap);
    HY_OK_OR_FAIL(hy_dp_solve(pr, cheap, (int32_t)cheap, &a, NULL));
    for (int32_t u = 1; u < 10; u += 2)
        HY_CHECK(a.mode[u] != HY_MODE_REUSE);
    hy_assign_free(&a);
    hy_problem_free(pr);
}

/* Sensitive units run full attention: no reuse and no stale (stride > 1) selects. */
HY_TEST(sensitive_units_never_refresh_late) {
    hy_problem *pr = fx_chain_problem(8, 2, 33);
    HY_REQUIRE(pr);
    for (int32_t u = 0; u < 8; u++)
        pr->sensitive[u] = u % 2, pr->stride_pen[(size_t)u * 2 + 1] = 0;
    hy_assign a;
    HY_REQUIRE(hy_assign_alloc(8, &a) == HY_OK);
    double cheap;
    fx_brute(pr, 0, &cheap);
    HY_OK_OR_FAIL(hy_dp_solve(pr, cheap, (int32_t)cheap, &a, NULL));
    int late = 0;
    for (int32_t u = 0; u < 8; u++) {
        if (u % 2) HY_CHECK(a.mode[u] != HY_MODE_REUSE && a.stride[u] == 0);
        late += a.mode[u] == HY_MODE_SELECT && a.stride[u] > 0;
    }
    HY_CHECK(late > 0); /* free staleness is taken where allowed */
    hy_assign_free(&a);
    hy_problem_free(pr);
}

/* Non-integer costs: the rounded-up grid still never exceeds the budget. */
HY_TEST(rounded_costs_stay_within_budget) {
    hy_problem *pr = fx_chain_problem(10, 1, 41);
    HY_REQUIRE(pr);
    for (int32_t u = 0; u < 10; u++)
        pr->cost_reuse[u] *= 1.37, pr->cost_select[u] *= 1.013;
    hy_assign a;
    HY_REQUIRE(hy_assign_alloc(10, &a) == HY_OK);
    hy_solve_info info;
    for (int32_t steps = 7; steps < 2000; steps *= 3) {
        hy_status st = hy_dp_solve(pr, 0.6 * pr->dense_total, steps, &a, &info);
        if (st == HY_OK)
            HY_CHECK(info.cost <= 0.6 * pr->dense_total + 1e-9);
        else
            HY_CHECK_EQ_INT(st, HY_ESOLVER);
    }
    hy_assign_free(&a);
    hy_problem_free(pr);
}

HY_TEST_MAIN()
