/* tests/dpsolver: the GLPK ILP. Restricted to chains it equals the DP; unrestricted it is
 * never worse than the DP (layer and head problems from seeded synthetic profiles); on tiny
 * unit problems it equals an exhaustive facility-location search; infeasible budgets name
 * the cheapest feasible one. */
#include "hy_test.h"
#include "solver_fixtures.h"

#include <string.h>

static hy_ilp_opts opts(void) {
    hy_ilp_opts o;
    hy_ilp_opts_default(&o);
    o.time_limit_s = 30;
    o.mip_gap = 0;
    return o;
}

/* The chain-restricted ILP against the DP at every `step` of budget from the cheapest
 * feasible plan to dense: same loss, proven optimal, within budget, and a valid assignment. */
static void ilp_equals_dp_on(hy_problem *pr, int32_t L, double step, uint64_t seed) {
    hy_assign a, b;
    HY_REQUIRE(!hy_assign_alloc(L, &a) && !hy_assign_alloc(L, &b));
    hy_ilp_opts o = opts();
    o.chain_only = true, o.max_candidates = 0;
    double cheap;
    fx_brute(pr, 0, &cheap);
    for (double B = cheap; B <= pr->dense_total; B += step) {
        hy_solve_info di, ii;
        HY_OK_OR_FAIL(hy_dp_solve(pr, B, (int32_t)B, &a, &di));
        HY_OK_OR_FAIL(hy_ilp_solve(pr, B, &o, &b, &ii));
        HY_CHECK(ii.optimal);
        if (fabs(ii.loss - di.loss) > 1e-5)
            HY_FAILF("seed %llu L %d budget %g: ilp %.9g dp %.9g", (unsigned long long)seed, L, B,
                     ii.loss, di.loss);
        HY_CHECK(ii.cost <= B + 1e-9);
        double c, l;
        HY_CHECK(hy_assign_eval(pr, &b, &c, &l) == HY_OK);
    }
    hy_assign_free(&a);
    hy_assign_free(&b);
}

HY_TEST(chain_restricted_ilp_equals_dp) {
    for (uint64_t seed = 1; seed <= 10; seed++) {
        int32_t L = 4 + (int32_t)(seed % 6), S = seed % 3 == 0 ? 2 : 1;
        hy_problem *pr = fx_chain_problem(L, S, seed);
        HY_REQUIRE(pr);
        ilp_equals_dp_on(pr, L, 3, seed);
        hy_problem_free(pr);
    }
}

/* With cheaper selector choices (score, sketch8) the chain-restricted ILP still equals the DP
 * (own-output losses and a sketch's deficit to its reusers enter both the same way). */
HY_TEST(chain_restricted_ilp_equals_dp_with_selectors) {
    for (uint64_t seed = 300; seed < 306; seed++) {
        const int32_t L = 4 + (int32_t)(seed % 4);
        hy_problem *pr = fx_chain_problem_selectors(L, seed);
        HY_REQUIRE(pr);
        ilp_equals_dp_on(pr, L, 2, seed);
        hy_problem_free(pr);
    }
}

/* Costs of a small model at a short context are ~1e-8 s per unit, under GLPK's feasibility
 * tolerance: the ILP must give the same answers as on the same problem in larger units (it
 * once called every such budget infeasible). */
HY_TEST(ilp_is_invariant_to_the_cost_unit) {
    for (uint64_t seed = 1; seed <= 4; seed++) {
        const int32_t L = 6;
        hy_problem *pr = fx_chain_problem(L, 1, seed), *tiny = fx_chain_problem(L, 1, seed);
        HY_REQUIRE(pr && tiny);
        for (int32_t u = 0; u < L; u++) {
            tiny->cost_dense[u] *= 1e-9, tiny->cost_select[u] *= 1e-9, tiny->cost_reuse[u] *= 1e-9;
        }
        tiny->dense_total *= 1e-9;
        hy_assign a, b;
        HY_REQUIRE(!hy_assign_alloc(L, &a) && !hy_assign_alloc(L, &b));
        hy_ilp_opts o = opts();
        o.chain_only = true, o.max_candidates = 0;
        double cheap;
        fx_brute(pr, 0, &cheap);
        for (double B = cheap; B <= pr->dense_total; B += 3) {
            hy_solve_info ia, ib;
            HY_OK_OR_FAIL(hy_ilp_solve(pr, B, &o, &a, &ia));
            HY_OK_OR_FAIL(hy_ilp_solve(tiny, B * 1e-9, &o, &b, &ib));
            if (fabs(ia.loss - ib.loss) > 1e-5)
                HY_FAILF("seed %llu budget %g: loss %.9g in seconds x1, %.9g in seconds x1e-9",
                         (unsigned long long)seed, B, ia.loss, ib.loss);
        }
        hy_assign_free(&a), hy_assign_free(&b);
        hy_problem_free(pr), hy_problem_free(tiny);
    }
}

/* The chain rows matter: without them the ILP may reuse an older select layer and win. */
HY_TEST(unrestricted_ilp_at_most_dp_on_layer_problems) {
    int strictly_better = 0;
    for (uint64_t seed = 20; seed < 30; seed++) {
        hy_problem *pr = fx_chain_problem(9, 1, seed);
        HY_REQUIRE(pr);
        hy_assign a, b;
        HY_REQUIRE(!hy_assign_alloc(9, &a) && !hy_assign_alloc(9, &b));
        double cheap;
        fx_brute(pr, 0, &cheap);
        for (double B = cheap; B <= pr->dense_total; B += 4) {
            hy_solve_info di, ii;
            HY_OK_OR_FAIL(hy_dp_solve(pr, B, (int32_t)B, &a, &di));
            hy_ilp_opts o = opts();
            o.warm = &a;
            HY_OK_OR_FAIL(hy_ilp_solve(pr, B, &o, &b, &ii));
            HY_CHECK(ii.loss <= di.loss + 1e-7);
            strictly_better += ii.loss < di.loss - 1e-7;
        }
        hy_assign_free(&a);
        hy_assign_free(&b);
        hy_problem_free(pr);
    }
    HY_CHECK(strictly_better > 0);
}

static int32_t synth_window; /* > 0: the synthetic model has Gemma-3-like window layers */

static hy_problem *synth_problem(int32_t L, int32_t H, uint64_t seed, hy_solve_granularity g,
                                 bool temporal) {
    hy_profile *p = NULL;
    hy_problem *pr = NULL;
    if (hy_synth_profile(L, H, seed, &p)) return NULL;
    p->sliding_window = synth_window, p->swa_period = 3;
    hy_cost_model cm;
    hy_cost_model_init(&cm, p->head_dim, p->n_heads, p->n_kv_heads, NULL);
    hy_problem_opts po;
    hy_problem_opts_default(&po);
    po.granularity = g, po.temporal = temporal, po.context = 32768, po.k = 256;
    hy_status st = hy_problem_from_profile(p, &cm, &po, &pr);
    hy_profile_free(p);
    return st ? NULL : pr;
}

/* Sliding-window layers (every layer but each third here) are fixed: dense over their
 * window, costed at its length, never selecting, reusing or reused, under both solvers. */
HY_TEST(window_layers_stay_dense_under_dp_and_ilp) {
    synth_window = 512;
    hy_problem *pr = synth_problem(9, 2, 5, HY_SOLVE_HEAD, true);
    hy_problem *global = (synth_window = 0, synth_problem(9, 2, 5, HY_SOLVE_HEAD, true));
    HY_REQUIRE(pr && global);
    for (int32_t u = 0; u < pr->n_units; u++)
        if ((pr->layer_of[u] + 1) % 3)
            HY_CHECK(pr->cost_dense[u] < global->cost_dense[u]); /* 512 of 32768 keys */
    hy_assign a;
    HY_REQUIRE(!hy_assign_alloc(pr->n_units, &a));
    const double B = 0.8 * pr->dense_total; /* the window layers alone cost about 0.65 */
    hy_solve_info info;
    for (int solver = 0; solver < 2; solver++) {
        hy_ilp_opts o = opts();
        o.time_limit_s = 10;
        hy_status st =
            solver ? hy_ilp_solve(pr, B, &o, &a, &info) : hy_dp_solve(pr, B, 1000, &a, &info);
        HY_OK_OR_FAIL(st);
        int sparse_global = 0;
        for (int32_t u = 0; u < pr->n_units; u++) {
            const bool window = (pr->layer_of[u] + 1) % 3 != 0;
            if (window) HY_CHECK_EQ_INT(a.mode[u], HY_MODE_DENSE);
            if (!window) sparse_global += a.mode[u] != HY_MODE_DENSE;
            if (a.mode[u] == HY_MODE_REUSE) HY_CHECK((pr->layer_of[a.src[u]] + 1) % 3 == 0);
        }
        HY_CHECK(sparse_global > 0); /* the budget is met on the global layers */
    }
    hy_assign_free(&a);
    hy_problem_free(pr);
    hy_problem_free(global);
}

HY_TEST(ilp_never_worse_than_dp_on_random_profiles) {
    for (uint64_t seed = 1; seed <= 6; seed++) {
        hy_problem *pr = synth_problem(8, 2, seed, HY_SOLVE_HEAD, seed % 2 == 0);
        HY_REQUIRE(pr);
        hy_assign a, b;
        HY_REQUIRE(!hy_assign_alloc(pr->n_units, &a) && !hy_assign_alloc(pr->n_units, &b));
        double fr[] = {0.35, 0.5, 0.7};
        for (int i = 0; i < 3; i++) {
            double B = fr[i] * pr->dense_total;
            hy_solve_info di, ii;
            hy_status st = hy_dp_solve(pr, B, 1000, &a, &di);
            if (st) {
                HY_CHECK_EQ_INT(st, HY_ESOLVER);
                continue;
            }
            hy_ilp_opts o = opts();
            o.warm = &a, o.time_limit_s = 10, o.mip_gap = 1e-6;
            HY_OK_OR_FAIL(hy_ilp_solve(pr, B, &o, &b, &ii));
            if (!(ii.loss <= di.loss + 1e-7))
                HY_FAILF("seed %llu budget %.2f: ilp %.9g > dp %.9g", (unsigned long long)seed,
                         fr[i], ii.loss, di.loss);
            HY_CHECK(ii.cost <= B * (1 + 1e-9));
        }
        hy_assign_free(&a);
        hy_assign_free(&b);
        hy_problem_free(pr);
    }
}

/* Exhaustive unit-level search: each unit dense, select (stride 0) or reuse of any allowed
 * select unit. */
static double brute_units(const hy_problem *pr, double budget) {
    int32_t U = pr->n_units, C = 2 + U;
    int64_t total = 1;
    for (int32_t i = 0; i < U; i++)
        total *= C;
    double best = INFINITY;
    int32_t ch[16];
    for (int64_t code = 0; code < total; code++) {
        int64_t x = code;
        for (int32_t v = 0; v < U; v++)
            ch[v] = (int32_t)(x % C), x /= C;
        double cost = 0, loss = 0;
        int ok = 1;
        for (int32_t v = 0; v < U && ok; v++) {
            if (ch[v] == 0)
                cost += pr->cost_dense[v];
            else if (ch[v] == 1)
                cost += pr->cost_select[v];
            else {
                int32_t u = ch[v] - 2;
                float l = pr->loss[(size_t)u * U + v];
                if (ch[u] != 1 || pr->sensitive[v] || isnan(l))
                    ok = 0;
                else
                    cost += pr->cost_reuse[v], loss += l;
            }
        }
        if (ok && cost <= budget * (1 + 1e-12) && loss < best) best = loss;
    }
    return best;
}

HY_TEST(ilp_equals_exhaustive_search_on_tiny_unit_problems) {
    for (uint64_t seed = 1; seed <= 4; seed++) {
        hy_problem *pr = synth_problem(3, 2, seed, HY_SOLVE_HEAD, false);
        HY_REQUIRE(pr);
        for (int32_t u = 0; u < pr->n_units; u++)
            pr->sensitive[u] = 0; /* more choices */
        hy_assign b;
        HY_REQUIRE(!hy_assign_alloc(pr->n_units, &b));
        double fr[] = {0.4, 0.55, 0.8};
        for (int i = 0; i < 3; i++) {
            double B = fr[i] * pr->dense_total, want = brute_units(pr, B);
            hy_ilp_opts o = opts();
            o.max_candidates = 0;
            hy_solve_info ii;
            hy_status st = hy_ilp_solve(pr, B, &o, &b, &ii);
            if (want == INFINITY) {
                HY_CHECK_EQ_INT(st, HY_ESOLVER);
                continue;
            }
            HY_OK_OR_FAIL(st);
            HY_CHECK_NEAR(ii.loss, want, 1e-6);
        }
        hy_assign_free(&b);
        hy_problem_free(pr);
    }
}

/* The pareto sweep's ILP points on worker threads: the same points (budget, cost, loss) as
 * with one thread when every point is solved to optimality, in budget order. */
HY_TEST(pareto_points_do_not_depend_on_threads) {
    hy_problem *pr = synth_problem(6, 2, 77, HY_SOLVE_HEAD, false);
    hy_problem *lp = synth_problem(6, 2, 77, HY_SOLVE_LAYER, false);
    HY_REQUIRE(pr && lp);
    hy_ilp_opts o = opts();
    hy_pareto one, four;
    HY_OK_OR_FAIL(hy_pareto_sweep(pr, lp, 200, 7, &o, 1, 0, &one));
    HY_OK_OR_FAIL(hy_pareto_sweep(pr, lp, 200, 7, &o, 4, 0, &four));
    HY_CHECK_EQ_INT(one.n_ilp, four.n_ilp);
    HY_CHECK(one.n_ilp >= 5);
    for (int32_t i = 0; i < one.n_ilp && i < four.n_ilp; i++) {
        HY_CHECK(one.ilp[i].budget_s == four.ilp[i].budget_s);
        HY_CHECK(fabs(one.ilp[i].loss - four.ilp[i].loss) <= 1e-9);
        HY_CHECK(one.ilp[i].gap == 0.0 && four.ilp[i].gap == 0.0);
        if (i) HY_CHECK(four.ilp[i].budget_s > four.ilp[i - 1].budget_s);
    }
    hy_pareto_free(&one);
    hy_pareto_free(&four);
    hy_problem_free(pr);
    hy_problem_free(lp);
}

HY_TEST(ilp_infeasible_budget_names_cheapest) {
    hy_problem *pr = synth_problem(6, 2, 3, HY_SOLVE_HEAD, false);
    HY_REQUIRE(pr);
    hy_assign b;
    HY_REQUIRE(!hy_assign_alloc(pr->n_units, &b));
    hy_ilp_opts o = opts();
    double cheap;
    HY_OK_OR_FAIL(hy_ilp_cheapest(pr, &o, &cheap));
    HY_CHECK(cheap < pr->dense_total);
    HY_CHECK_EQ_INT(hy_ilp_solve(pr, 0.5 * cheap, &o, &b, NULL), HY_ESOLVER);
    char want[80];
    snprintf(want, sizeof want, "cheapest feasible plan costs %.4g s", cheap);
    HY_CHECK(strstr(hy_last_error(), want));
    HY_OK_OR_FAIL(hy_ilp_solve(pr, cheap * (1 + 1e-9), &o, &b, NULL));
    hy_assign_free(&b);
    hy_problem_free(pr);
}

HY_TEST(warm_start_over_budget_refused) {
    hy_problem *pr = synth_problem(4, 2, 3, HY_SOLVE_HEAD, false);
    HY_REQUIRE(pr);
    hy_assign a, b;
    HY_REQUIRE(!hy_assign_alloc(pr->n_units, &a) && !hy_assign_alloc(pr->n_units, &b));
    hy_ilp_opts o = opts();
    o.warm = &a; /* all dense: costs dense_total */
    HY_CHECK_EQ_INT(hy_ilp_solve(pr, 0.9 * pr->dense_total, &o, &b, NULL), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "warm start"));
    hy_assign_free(&a);
    hy_assign_free(&b);
    hy_problem_free(pr);
}

HY_TEST_MAIN()
