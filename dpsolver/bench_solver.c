/* bench_solver: the solver benchmark behind scripts/bench-solver, and a writer of synthetic
 * profiles for trying the CLI before a real profile exists.
 *   bench_solver write OUT.h5 [LAYERS KV_HEADS SEED]
 *   bench_solver bench [LAYERS KV_HEADS BUDGET ILP_TIME_LIMIT [temporal|plain [CANDIDATES]]]
 * Prints wall times of the chain DP (layer units, 1000 budget steps), the DP frontier, and
 * the ILP on (layer, kv head) units with its gap and loss against the DP. */
#include "hy_dpsolver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const char *what) {
    fprintf(stderr, "bench_solver: %s: %s\n", what, hy_last_error());
    return 1;
}

static hy_problem *problem(const hy_profile *p, hy_solve_granularity g, bool temporal) {
    hy_cost_model cm;
    hy_cost_model_init(&cm, p->head_dim, p->n_heads, p->n_kv_heads, NULL);
    hy_problem_opts po;
    hy_problem_opts_default(&po);
    po.granularity = g, po.context = 32768, po.k = 256, po.temporal = temporal;
    hy_problem *pr = NULL;
    return hy_problem_from_profile(p, &cm, &po, &pr) ? NULL : pr;
}

static int bench(int32_t L, int32_t H, double budget, double tlim, bool temporal, int32_t cands) {
    hy_profile *p = NULL;
    if (hy_synth_profile(L, H, 1, &p)) return die("synthetic profile");
    hy_problem *lp = problem(p, HY_SOLVE_LAYER, temporal),
               *hp = problem(p, HY_SOLVE_HEAD, temporal);
    if (!lp || !hp) return die("problem");
    hy_assign a, b, c;
    if (hy_assign_alloc(L, &a) || hy_assign_alloc(L * H, &b) || hy_assign_alloc(L * H, &c))
        return die("alloc");
    printf(
        "synthetic profile: %d layers x %d kv heads, k 256, context 32768, analytic H100 costs%s\n",
        L, H, temporal ? ", refresh strides 1..32 offered" : "");
    printf("dense attention %.4g s per step; budget %.2f of dense\n", lp->dense_total, budget);
    hy_solve_info di = {0};
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        if (hy_dp_solve(lp, budget * lp->dense_total, 1000, &a, &di)) return die("dp");
        if (di.seconds < best) best = di.seconds;
    }
    printf("dp (layer chain, %d layers, 1000 steps): %.4f s (best of 5), loss %.5g, cost %.3f of "
           "dense\n",
           L, best, di.loss, di.cost / lp->dense_total);
    double *fr = malloc(1001 * sizeof(double)), t0 = hy_now();
    if (hy_dp_frontier(lp, lp->dense_total, 1000, fr)) return die("frontier");
    printf("dp frontier (all 1001 budgets at once): %.4f s\n", hy_now() - t0);
    free(fr);
    hy_solve_info hi = {0}, ii = {0};
    if (hy_dp_solve(hp, budget * hp->dense_total, 1000, &b, &hi)) return die("dp head chains");
    printf("dp (head chains, %d units, 1000 steps): %.4f s, loss %.5g\n", L * H, hi.seconds,
           hi.loss);
    if (hy_dp_solve_best(hp, lp, budget * hp->dense_total, 1000, &b, &hi)) return die("dp best");
    printf("dp plan used as warm start (better of head chains and layer dp expanded): loss %.5g\n",
           hi.loss);
    hy_ilp_opts o;
    hy_ilp_opts_default(&o);
    o.time_limit_s = tlim;
    o.warm = &b;
    if (cands > 0) o.max_candidates = cands;
    if (hy_ilp_solve(hp, budget * hp->dense_total, &o, &c, &ii)) return die("ilp");
    printf("ilp (%d units, %d candidates each, limit %.0f s): %.2f s, %s, gap %.3g, loss %.5g "
           "(%.1f%% below the dp's %.5g)\n",
           L * H, o.max_candidates, tlim, ii.seconds, ii.optimal ? "optimal" : "time limit", ii.gap,
           ii.loss, 100.0 * (hi.loss - ii.loss) / hi.loss, hi.loss);
    hy_assign_free(&a), hy_assign_free(&b), hy_assign_free(&c);
    hy_problem_free(lp), hy_problem_free(hp), hy_profile_free(p);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "write")) {
        int32_t L = argc > 3 ? atoi(argv[3]) : 30, H = argc > 4 ? atoi(argv[4]) : 3;
        uint64_t seed = argc > 5 ? strtoull(argv[5], NULL, 10) : 1;
        hy_profile *p = NULL;
        if (hy_synth_profile(L, H, seed, &p) || hy_profile_write(p, argv[2])) return die("write");
        hy_profile_free(p);
        printf("wrote %s (synthetic, %d layers x %d kv heads, seed %llu)\n", argv[2], L, H,
               (unsigned long long)seed);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "bench"))
        return bench(argc > 2 ? atoi(argv[2]) : 80, argc > 3 ? atoi(argv[3]) : 8,
                     argc > 4 ? atof(argv[4]) : 0.3, argc > 5 ? atof(argv[5]) : 60,
                     argc > 6 && !strcmp(argv[6], "temporal"), argc > 7 ? atoi(argv[7]) : 0);
    fprintf(stderr, "usage: bench_solver write OUT.h5 [LAYERS KV_HEADS SEED] | bench [LAYERS "
                    "KV_HEADS BUDGET TIME_LIMIT [temporal]]\n");
    return 2;
}
