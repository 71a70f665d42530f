/* Options shared by hylra solve and hylra pareto (cli/solver_opts.c). Both commands map the
 * same long options to the same getopt values: c costs, k, n ctx, g granularity, l loss,
 * s sensitive, t temporal, S steps, T time-limit, C candidates, U launch-us, E selectors. */
#ifndef HY_CLI_SOLVER_OPTS_H
#define HY_CLI_SOLVER_OPTS_H

#include "hy_dpsolver.h"

typedef struct {
    hy_problem_opts po;
    hy_ilp_opts io;
    const char *costs; /* NULL: analytic cost model */
    int steps;         /* DP budget steps */
    double launch_s;   /* --launch-us: kernel launch overhead of the cost model; < 0 = not
                          given: the cost table's, else 0 (hy_cli_launch_s) */
    int k_given;       /* --k was given; else po.k's default moves into the profile's grid */
} hy_cli_solver_opts;

/* 1: c was a shared option and is applied; 0: not a shared option; -1: bad value (a message
 * naming the option, the value and what was expected is printed). */
int hy_cli_solver_opt(const char *cmd, int c, const char *arg, hy_cli_solver_opts *o);

/* hy_session_open with the options' cost table and launch overhead (hy_cli_launch_s), and a
 * warning on stderr when --ctx is beyond the model's trained context. Without --k, a default
 * k outside the profile's grid becomes the grid's nearest end (hy_problem_opts.k_into_grid). */
hy_status hy_cli_session_open(const char *profile_path, const hy_cli_solver_opts *o,
                              hy_session **out);

#endif
