/* Options that hylra solve and hylra pareto share (cost table, k, context, granularity, loss,
 * sensitivity, strides, DP steps, ILP limits, launch overhead): one parser, strict about
 * values, so both commands accept and refuse the same things; and the session both open. */
#include "solver_opts.h"
#include "commands.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *cmd, const char *opt, const char *arg, const char *expected) {
    fprintf(stderr, "hylra %s: %s %s: expected %s\n", cmd, opt, arg, expected);
    return -1;
}

static int parse_long(const char *arg, long long lo, long long *v) {
    long x;
    if (hy_cli_whole_long(arg, &x)) return 0;
    *v = x;
    return x >= lo;
}

static int parse_double(const char *arg, double lo, double *v) {
    char *end = NULL;
    errno = 0;
    *v = strtod(arg, &end);
    return end != arg && *end == 0 && errno == 0 && *v >= lo;
}

int hy_cli_solver_opt(const char *cmd, int c, const char *arg, hy_cli_solver_opts *o) {
    long long n;
    double d;
    switch (c) {
    case 'c':
        o->costs = arg;
        return 1;
    case 'k':
        if (!parse_long(arg, 1, &n)) return bad(cmd, "--k", arg, "a positive integer");
        o->po.k = (int)n;
        o->k_given = 1;
        return 1;
    case 'n':
        if (!parse_long(arg, 1, &n)) return bad(cmd, "--ctx", arg, "a positive token count");
        o->po.context = n;
        return 1;
    case 'g':
        if (!strcmp(arg, "head"))
            o->po.granularity = HY_SOLVE_HEAD;
        else if (!strcmp(arg, "layer"))
            o->po.granularity = HY_SOLVE_LAYER;
        else
            return bad(cmd, "--granularity", arg, "layer|head");
        return 1;
    case 'l':
        if (!strcmp(arg, "recall"))
            o->po.loss = HY_LOSS_RECALL;
        else if (!strcmp(arg, "out_err"))
            o->po.loss = HY_LOSS_OUT_ERR;
        else
            return bad(cmd, "--loss", arg, "out_err|recall");
        return 1;
    case 's':
        if (!parse_double(arg, 0, &d)) return bad(cmd, "--sensitive", arg, "a threshold >= 0");
        o->po.sensitive_threshold = d;
        return 1;
    case 't':
        o->po.temporal = true;
        return 1;
    case 'S':
        if (!parse_long(arg, 1, &n)) return bad(cmd, "--steps", arg, "a positive integer");
        o->steps = (int)n;
        return 1;
    case 'T':
        if (!parse_double(arg, 0, &d) || d <= 0)
            return bad(cmd, "--time-limit", arg, "seconds > 0");
        o->io.time_limit_s = d;
        return 1;
    case 'C':
        if (!parse_long(arg, 0, &n)) return bad(cmd, "--candidates", arg, "an integer >= 0");
        o->io.max_candidates = (int)n;
        return 1;
    case 'E': { /* --selectors LIST: cheaper selectors offered besides select */
        o->po.selectors = 0;
        char buf[128];
        snprintf(buf, sizeof buf, "%s", arg);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            if (!strcmp(tok, "score"))
                o->po.selectors |= 1u << HY_MODE_SCORE;
            else if (!strcmp(tok, "sketch8"))
                o->po.selectors |= 1u << HY_MODE_SKETCH8;
            else if (!strcmp(tok, "sketch4"))
                o->po.selectors |= 1u << HY_MODE_SKETCH4;
            else
                return bad(cmd, "--selectors", arg, "a comma list of score, sketch8, sketch4");
        }
        if (!o->po.selectors)
            return bad(cmd, "--selectors", arg, "a comma list of score, sketch8, sketch4");
        return 1;
    }
    case 'U':
        if (!parse_double(arg, 0, &d) || !isfinite(d))
            return bad(cmd, "--launch-us", arg, "microseconds >= 0 (0 = count bytes only)");
        o->launch_s = d * 1e-6;
        return 1;
    }
    return 0;
}

hy_status hy_cli_session_open(const char *profile_path, const hy_cli_solver_opts *o,
                              hy_session **out) {
    /* the one launch default (hy_cli_launch_s); -1 = the table's, read by the session */
    const double launch_s = hy_cli_launch_s(o->launch_s, o->costs != NULL, -1);
    hy_problem_opts po = o->po;
    po.k_into_grid = !o->k_given;
    hy_status st = hy_session_open(profile_path, o->costs, launch_s, &po, out);
    if (st) return st;
    const hy_session *s = *out;
    const int64_t ctx = o->po.context > 0 ? o->po.context : s->profile->ctx;
    if (s->profile->model_ctx_train > 0 && ctx > s->profile->model_ctx_train)
        /* a warning, not an error: costs at long contexts are still worth pricing, but the
         * profile's statistics say nothing about how the model attends past its training */
        fprintf(stderr,
                "hylra: warning: --ctx %lld is beyond %s's trained context (%d tokens): the "
                "model is not known to work there and the profile (measured at %d) does not "
                "cover it; the plan records the trained context\n",
                (long long)ctx, s->profile->model_name[0] ? s->profile->model_name : "the model",
                s->profile->model_ctx_train, s->profile->ctx);
    return HY_OK;
}
