/* hylra pareto: the cost/loss frontier of a profile: the DP's (every budget), its Lagrangian
 * hull, and the ILP at a few budgets, as pareto.json and an SVG picture of both curves. */
#include "commands.h"
#include "hy_dpsolver.h"
#include "solver_opts.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: hylra pareto PROFILE.h5 -o PARETO.json [options]\n"
        "  --svg FILE          picture (default: PARETO.json with .svg)\n"
        "  --costs FILE        measured cost table; default: analytic model\n"
        "  --k K  --ctx N  --granularity layer|head  --loss out_err|recall\n"
        "  --sensitive T  --temporal  --selectors L  as in hylra solve\n"
        "  --steps N           DP budget steps over [0, dense] (default 1000)\n"
        "  --ilp-points N      budgets the ILP is solved at (default 12)\n"
        "  --time-limit S      ILP time limit per point (default 10)\n"
        "  --candidates N      ILP sources kept per unit (default 24)\n"
        "  --threads N         ILP points solved at once (default: the CPUs online)\n"
        "  --launch-us X       cost model launch overhead in us (default: the table's, else 0)\n");
}

int hy_cmd_pareto(int argc, char **argv) {
    static const struct option lo[] = {
        {"svg", 1, 0, 'v'},        {"costs", 1, 0, 'c'},       {"k", 1, 0, 'k'},
        {"ctx", 1, 0, 'n'},        {"granularity", 1, 0, 'g'}, {"loss", 1, 0, 'l'},
        {"sensitive", 1, 0, 's'},  {"temporal", 0, 0, 't'},    {"selectors", 1, 0, 'E'},
        {"steps", 1, 0, 'S'},      {"ilp-points", 1, 0, 'P'},  {"time-limit", 1, 0, 'T'},
        {"candidates", 1, 0, 'C'}, {"launch-us", 1, 0, 'U'},   {"threads", 1, 0, 'j'},
        {"output", 1, 0, 'o'},     {"help", 0, 0, 'h'},        {0, 0, 0, 0}};
    hy_cli_solver_opts so = {.steps = 1000, .launch_s = -1};
    hy_problem_opts_default(&so.po);
    so.po.granularity = HY_SOLVE_HEAD; /* the ILP's gain shows at unit level */
    hy_ilp_opts_default(&so.io);
    so.io.time_limit_s = 10;
    const char *out = NULL, *svg = NULL;
    int n_ilp = 12, c;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n_threads = ncpu > 0 ? (ncpu > 64 ? 64 : (int)ncpu) : 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        int shared = hy_cli_solver_opt("pareto", c, optarg, &so);
        if (shared < 0) return 2;
        if (shared) continue;
        switch (c) {
        case 'v':
            svg = optarg;
            break;
        case 'P':
            if (hy_cli_i32("pareto", "--ilp-points", optarg, 1, 100000, &n_ilp)) return 2;
            break;
        case 'j':
            if (hy_cli_i32("pareto", "--threads", optarg, 1, 64, &n_threads)) return 2;
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
    if (optind != argc - 1 || !out) {
        fprintf(stderr, "hylra pareto: %s\n(hylra pareto --help lists the options)\n",
                optind >= argc      ? "missing PROFILE.h5"
                : optind < argc - 1 ? "one PROFILE.h5 only"
                                    : "missing -o PARETO.json");
        return 2;
    }
    char svgbuf[4096];
    if (!svg) {
        size_t n = strlen(out);
        snprintf(svgbuf, sizeof svgbuf, "%.*s.svg",
                 (int)(n > 5 && !strcmp(out + n - 5, ".json") ? n - 5 : n), out);
        svg = svgbuf;
    }
    if (hy_cli_check_output("pareto", "-o", out) || hy_cli_check_output("pareto", "--svg", svg))
        return 2;
    hy_session *s = NULL;
    if (hy_cli_session_open(argv[optind], &so, &s)) return hy_cli_die("pareto");
    hy_pareto p;
    double t0 = hy_now();
    int rc = 0;
    if (hy_pareto_sweep(s->problem, s->layer_problem, so.steps, n_ilp, &so.io, n_threads, 1, &p))
        rc = hy_cli_die("pareto");
    char title[256];
    snprintf(title, sizeof title, "%s: k %d, context %lld, %s units", s->profile->model_name,
             s->problem->opts.k, (long long)s->problem->opts.context,
             so.po.granularity == HY_SOLVE_HEAD ? "(layer, kv head)" : "layer");
    if (!rc && (hy_pareto_write_json(&p, s, out) || hy_pareto_write_svg(&p, title, svg)))
        rc = hy_cli_die("pareto");
    if (!rc) {
        printf("cheapest feasible budget %.3f of dense; dense %.4g s per step\n",
               p.cheapest_s / p.dense_cost_s, p.dense_cost_s);
        printf("%-8s %-12s %-12s %-10s %s\n", "budget", "dp loss", "ilp loss", "ilp gain",
               "ilp gap");
        for (int32_t i = 0; i < p.n_ilp; i++) {
            double dpl = INFINITY, b = p.ilp[i].budget_s;
            for (int32_t j = 0; j < p.n_dp; j++)
                if (p.dp[j].cost_s <= b) dpl = p.dp[j].loss;
            printf("%-8.3f %-12.5g %-12.5g %-10.3g %.3g\n", b / p.dense_cost_s, dpl, p.ilp[i].loss,
                   dpl - p.ilp[i].loss, p.ilp[i].gap);
        }
        printf("wrote %s and %s (%.1f s)\n", out, svg, hy_now() - t0);
    }
    hy_pareto_free(&p);
    hy_session_close(s);
    return rc;
}
