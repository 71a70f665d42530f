/* Options shared by hylra solve and hylra pareto (cli/solver_opts.c). Both commands map the
 * same long options to the same getopt values: c costs, k, n ctx, g granularity, l loss,
 * s sensitive, t temporal, S steps, T time-limit, C candidates. */
#ifndef HY_CLI_SOLVER_OPTS_H
#define HY_CLI_SOLVER_OPTS_H

#include "hy_dpsolver.h"

typedef struct {
    hy_problem_opts po;
    hy_ilp_opts io;
    const char *costs; /* NULL: analytic cost model */
    int steps;         /* DP budget steps */
} hy_cli_solver_opts;

/* 1: c was a shared option and is applied; 0: not a shared option; -1: bad value (a message
 * naming the option, the value and what was expected is printed). */
int hy_cli_solver_opt(const char *cmd, int c, const char *arg, hy_cli_solver_opts *o);

#endif
