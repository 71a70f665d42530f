/* hylra solve: profile (+ cost table) -> plan.json under a speed budget, by the chain DP or
 * the unit-level ILP; prints the predicted cost, speedup and loss. */
#include "commands.h"
#include "hy_dpsolver.h"
#include "solver_opts.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: hylra solve PROFILE.h5 --budget B -o PLAN.json [options]\n"
            "  --budget B          fraction of dense attention cost (0.3), or seconds per step "
            "(2e-4s)\n"
            "  --costs FILE        measured cost table (costs.json); default: analytic model\n"
            "  --method dp|ilp     exact chain DP (default) or unit-level ILP (GLPK)\n"
            "  --k K               top-k size within the profile's k grid; between two grid\n"
            "                      points losses are interpolated in log k (default 256, or\n"
            "                      the grid's nearer end when 256 lies outside it)\n"
            "  --granularity layer|head   units are layers (default) or (layer, kv head)\n"
            "  --ctx N             context the costs are for (default: the profile's)\n"
            "  --loss out_err|recall      loss of a reuse (default out_err; recall = 1 - recall)\n"
            "  --sensitive T       own-set loss above T forbids reuse (default 0.1)\n"
            "  --temporal          offer the profile's strides as refresh choices\n"
            "  --selectors LIST    also offer the cheaper selectors score, sketch8, sketch4\n"
            "                      (plan v3; sketches need a version 2 profile)\n"
            "  --steps N           DP budget steps (default 1000)\n"
            "  --time-limit S      ILP time limit in seconds (default 60)\n"
            "  --candidates N      ILP sources kept per unit (default 24, 0 = all)\n"
            "  --launch-us X       kernel launch overhead of the cost model in us (default:\n"
            "                      the cost table's, else 0 = count KV bytes moved only)\n");
}

/* "0.3" is a fraction of dense attention cost, "2e-4s" seconds per decode step. */
static int parse_budget(const char *s, double *v, int *seconds) {
    char *end = NULL;
    *v = strtod(s, &end);
    *seconds = end && *end == 's' && end[1] == 0;
    return end != s && (*end == 0 || *seconds) && *v > 0;
}

static void summary(const hy_plan *pl) {
    int n[HY_MODE_COUNT] = {0};
    for (int32_t u = 0; u < hy_plan_n_units(pl); u++)
        n[pl->units[u].mode]++;
    printf("plan: %d units: %d dense, %d select, %d reuse (k %d, context %d)\n",
           hy_plan_n_units(pl), n[0], n[1], n[2], pl->k, pl->context);
    printf("predicted cost %.4g s per step = %.3f of dense (%.4g s), speedup %.2fx\n", pl->cost_s,
           pl->cost_s / pl->dense_cost_s, pl->dense_cost_s, pl->dense_cost_s / pl->cost_s);
    printf("predicted loss %.5g (%s, summed over layers)\n", pl->loss, pl->loss_kind);
    printf("solver %s: %s, gap %.3g, %.3f s\n", pl->solver, pl->status, pl->gap, pl->solve_seconds);
}

/* The cheapest chain plan's cost as a fraction of dense for the session's profile under
 * options o and cost model cm (NaN when the problem cannot be built). */
static double floor_fraction(const hy_session *s, const hy_problem_opts *o,
                             const hy_cost_model *cm) {
    hy_problem *pr = NULL;
    if (hy_problem_from_profile(s->profile, cm, o, &pr)) {
        hy_clear_error();
        return NAN;
    }
    hy_assign a;
    double cost = NAN, loss;
    if (!hy_assign_alloc(pr->n_units, &a)) {
        if (hy_dp_lagrange(pr, 1e12, &a, &cost, &loss)) cost = NAN;
        hy_assign_free(&a);
    }
    hy_clear_error();
    const double f = cost / pr->dense_total;
    hy_problem_free(pr);
    return f;
}

/* After an infeasible budget: the floor each knob would give, so the user sees which one to
 * turn (--launch-us 0, a higher --sensitive, the smallest k of the profile, --selectors). */
static void suggest_knobs(const hy_session *s, const hy_cli_solver_opts *so) {
    const hy_problem_opts *o = &s->problem->opts;
    fprintf(stderr, "hylra solve: floors with other settings (fraction of dense):");
    hy_cost_model cm = s->cm;
    cm.launch_s = 0;
    double f = floor_fraction(s, o, &cm);
    if (f == f) fprintf(stderr, " --launch-us 0: %.4g;", f);
    hy_problem_opts x = *o;
    x.sensitive_threshold = 1e9;
    f = floor_fraction(s, &x, &s->cm);
    if (f == f) fprintf(stderr, " --sensitive 1e9 (no unit kept dense): %.4g;", f);
    x = *o;
    x.k = s->profile->k_grid[0];
    f = floor_fraction(s, &x, &s->cm);
    if (f == f) fprintf(stderr, " --k %d: %.4g;", x.k, f);
    x = *o;
    x.selectors = (1u << HY_MODE_SCORE) | (1u << HY_MODE_SKETCH8) | (1u << HY_MODE_SKETCH4);
    f = floor_fraction(s, &x, &s->cm);
    if (f == f) fprintf(stderr, " --selectors score,sketch8,sketch4: %.4g;", f);
    x.sensitive_threshold = 1e9, x.k = s->profile->k_grid[0];
    f = floor_fraction(s, &x, &cm);
    if (f == f) fprintf(stderr, " all of them: %.4g", f);
    fprintf(stderr, "\n");
    (void)so;
}

int hy_cmd_solve(int argc, char **argv) {
    static const struct option lo[] = {{"budget", 1, 0, 'b'},
                                       {"costs", 1, 0, 'c'},
                                       {"method", 1, 0, 'm'},
                                       {"k", 1, 0, 'k'},
                                       {"granularity", 1, 0, 'g'},
                                       {"ctx", 1, 0, 'n'},
                                       {"loss", 1, 0, 'l'},
                                       {"sensitive", 1, 0, 's'},
                                       {"temporal", 0, 0, 't'},
                                       {"selectors", 1, 0, 'E'},
                                       {"steps", 1, 0, 'S'},
                                       {"time-limit", 1, 0, 'T'},
                                       {"candidates", 1, 0, 'C'},
                                       {"launch-us", 1, 0, 'U'},
                                       {"output", 1, 0, 'o'},
                                       {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    hy_cli_solver_opts so = {.steps = 1000, .launch_s = -1};
    hy_problem_opts_default(&so.po);
    hy_ilp_opts_default(&so.io);
    const char *method = "dp", *out = NULL;
    double budget = 0;
    int seconds = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        int shared = hy_cli_solver_opt("solve", c, optarg, &so);
        if (shared < 0) return 2;
        if (shared) continue;
        switch (c) {
        case 'b':
            if (!parse_budget(optarg, &budget, &seconds)) {
                fprintf(stderr,
                        "hylra solve: --budget %s: expected a fraction (0.3) or seconds (2e-4s)\n",
                        optarg);
                return 2;
            }
            break;
        case 'm':
            method = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || !out || budget <= 0) {
        fprintf(stderr, "hylra solve: %s\n",
                optind >= argc      ? "missing PROFILE.h5"
                : optind < argc - 1 ? "one PROFILE.h5 only"
                : !out              ? "missing -o PLAN.json"
                                    : "missing --budget B (a fraction of dense, or seconds)");
        fprintf(stderr, "(hylra solve --help lists the options)\n");
        return 2;
    }
    if (hy_cli_check_output("solve", "-o", out)) return 2;
    hy_session *s = NULL;
    if (hy_cli_session_open(argv[optind], &so, &s)) return hy_cli_die("solve");
    hy_plan *pl = NULL;
    hy_solve_info info;
    if (hy_session_solve(s, method, budget, seconds, so.steps, &so.io, &pl, &info)) {
        const int infeasible = hy_last_error() && strstr(hy_last_error(), "infeasible");
        const int rc = hy_cli_die("solve");
        if (infeasible) suggest_knobs(s, &so);
        hy_session_close(s);
        return rc;
    }
    int rc = 0;
    if (hy_plan_write(pl, out))
        rc = hy_cli_die("solve");
    else {
        summary(pl);
        printf("wrote %s\n", out);
    }
    hy_plan_free(pl);
    hy_session_close(s);
    return rc;
}
