/* hylra plan show: a plan as a per-layer table a person can read: one row per layer, one
 * column per KV head, each cell the unit's mode (select and bounds with their refresh, reuse
 * with its source as layer.head, window), and the count of units per mode.
 * hylra plan policy: a peer policy's plan (dpsolver/hy_policy.h), fitted to a budget on
 * request, for hylra eval / bench to run beside solver plans. */
#include "commands.h"
#include "hy_plan.h"
#include "hy_policy.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "NAME", "NAME/s" (refreshed every s steps) or "NAME q<t" (query-similarity refresh). */
static void refreshed(const char *name, const hy_plan_unit *x, char *buf, size_t n) {
    if (x->refresh == 1)
        snprintf(buf, n, "%s", name);
    else if (x->refresh > 1)
        snprintf(buf, n, "%s/%d", name, x->refresh);
    else
        snprintf(buf, n, "%s q<%.2f", name, (double)x->qsim);
}

static void cell(const hy_plan *p, int32_t u, char *buf, size_t n) {
    const hy_plan_unit *x = &p->units[u];
    int32_t H = p->n_kv_heads;
    switch (x->mode) {
    case HY_MODE_SELECT:
        refreshed("SELECT", x, buf, n);
        break;
    case HY_MODE_BOUNDS:
        refreshed("BOUNDS", x, buf, n);
        break;
    case HY_MODE_SCORE:
        refreshed("SCORE", x, buf, n);
        break;
    case HY_MODE_SKETCH8:
        refreshed("SKETCH8", x, buf, n);
        break;
    case HY_MODE_SKETCH4:
        refreshed("SKETCH4", x, buf, n);
        break;
    case HY_MODE_REUSE:
        snprintf(buf, n, "<- %d.%d", x->src / H, x->src % H);
        break;
    default: /* dense, window */
        snprintf(buf, n, "%s", hy_unit_mode_name(x->mode));
        break;
    }
}

static void show(const char *path, const hy_plan *p) {
    int n[HY_MODE_COUNT] = {0};
    for (int32_t u = 0; u < hy_plan_n_units(p); u++)
        n[p->units[u].mode]++; /* modes are checked by hy_plan_read */
    printf("%s: %s\n", path, HY_PLAN_FORMAT);
    printf("model     %s  (%d layers, %d heads, %d kv heads, head_dim %d)\n", p->model_name,
           p->n_layers, p->n_heads, p->n_kv_heads, p->head_dim);
    printf("sha256    model %.16s..  profile %.16s..\n", p->model_sha256, p->profile_sha256);
    printf("sets      k %d, sink %d, window %d, context %d, granularity %s", p->k, p->sink,
           p->window, p->context, p->granularity == HY_GRAN_PAGE ? "page" : "token");
    if (p->granularity == HY_GRAN_PAGE) printf(" (page %d)", p->page_size);
    if (p->model_ctx_train > 0 && p->context > p->model_ctx_train)
        printf("\nwarning   context %d is beyond the model's trained context (%d tokens)",
               p->context, p->model_ctx_train);
    if (p->budget_kind[0])
        printf("\nbudget    %g (%s) = %.4g s\n", p->budget_value, p->budget_kind,
               p->budget_seconds);
    else
        printf("\nbudget    none (a peer policy's plan, docs/policies.md)\n");
    if (p->status[0])
        printf("solver    %s, %s, gap %.3g, %.3f s, loss = %s\n", p->solver, p->status, p->gap,
               p->solve_seconds, p->loss_kind);
    else
        printf("solver    %s\n", p->solver);
    printf("predicted cost %.4g s (%.3f of dense %.4g s, speedup %.2fx), loss %.5g\n", p->cost_s,
           p->cost_s / p->dense_cost_s, p->dense_cost_s, p->dense_cost_s / p->cost_s, p->loss);
    printf("units    ");
    for (int m = 0; m < HY_MODE_COUNT; m++)
        printf(" %d %s%s", n[m], hy_unit_mode_name((hy_unit_mode)m),
               m + 1 < HY_MODE_COUNT ? "," : "\n\n");
    printf("layer");
    for (int32_t h = 0; h < p->n_kv_heads; h++)
        printf("  kv%-10d", h);
    printf("\n");
    char buf[32];
    for (int32_t l = 0; l < p->n_layers; l++) {
        printf("%5d", l);
        for (int32_t h = 0; h < p->n_kv_heads; h++) {
            cell(p, l * p->n_kv_heads + h, buf, sizeof buf);
            printf("  %-12s", buf);
        }
        printf("\n");
    }
    printf("\nSELECT = full attention, publishes its top-k (/s: refreshed every s steps);\n"
           "BOUNDS = top-k pages by key min/max bounds, no full pass (/s as for SELECT);\n"
           "<- L.H = attends only to the set published by layer L, kv head H;\n"
           "window = only the %d sink and %d most recent tokens.\n",
           p->sink, p->window);
}

static const char *usage_text =
    "usage: hylra plan show PLAN.json\n"
    "       hylra plan policy SPEC (--profile PROF.h5 | --shape L,H,HKV,D) --ctx N -o PLAN.json\n"
    "                  [--fit FRAC] [--sink S] [--window W] [--costs FILE] [--launch-us X]\n"
    "       hylra plan export PLAN.json --format tidal|duo|ucm -o FILE   (docs/plan-export.md)\n"
    "  SPEC   dense | window:W | quest:P,k | tidal:L1,L2,k | recycled:s,k (docs/policies.md)\n"
    "  --profile      model shape, identity, sink and window from a profile\n"
    "  --shape        n_layers,n_heads,n_kv_heads,head_dim (sink 4, window 64 unless given)\n"
    "  --fit FRAC     set W (window) or k (others) to the largest value whose predicted\n"
    "                 cost is <= FRAC of dense at --ctx\n"
    "  --costs, --launch-us   cost model as in hylra solve (default: the table's launch\n"
    "                         overhead, else 0 us = KV bytes moved only)\n";

/* Strict non-negative integer option value; -1 when malformed. */
static long long opt_int(const char *s) {
    long v;
    return !hy_cli_whole_long(s, &v) && v >= 0 && v <= INT32_MAX ? v : -1;
}

static int bad_opt(const char *opt, const char *arg, const char *expected) {
    fprintf(stderr, "hylra plan policy: %s %s: expected %s\n", opt, arg, expected);
    return 2;
}

/* hylra plan policy: a peer policy's plan for a model shape, optionally fitted to a budget. */
static int cmd_policy(int argc, char **argv) {
    static const struct option lo[] = {{"profile", 1, 0, 'p'}, {"shape", 1, 0, 'S'},
                                       {"ctx", 1, 0, 'n'},     {"fit", 1, 0, 'f'},
                                       {"sink", 1, 0, 's'},    {"window", 1, 0, 'w'},
                                       {"costs", 1, 0, 'c'},   {"launch-us", 1, 0, 'U'},
                                       {"output", 1, 0, 'o'},  {0, 0, 0, 0}};
    hy_policy_shape sh = {.sink = 4, .window = 64};
    const char *prof = NULL, *costs_path = NULL, *out = NULL;
    double fit = NAN, launch_us = -1;
    long long sink = -1, window = -1;
    int have_shape = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
        char *end = NULL;
        long long v;
        switch (c) {
        case 'p':
            prof = optarg;
            break;
        case 'S':
            if (sscanf(optarg, "%d,%d,%d,%d", &sh.n_layers, &sh.n_heads, &sh.n_kv_heads,
                       &sh.head_dim) != 4 ||
                strspn(optarg, "0123456789,") != strlen(optarg))
                return bad_opt("--shape", optarg, "L,H,HKV,D (four positive integers)");
            have_shape = 1;
            break;
        case 'n':
            if ((v = opt_int(optarg)) < 1)
                return bad_opt("--ctx", optarg, "a positive token count");
            sh.context = (int32_t)v;
            break;
        case 'f':
            fit = strtod(optarg, &end);
            if (end == optarg || *end || !(fit > 0) || !isfinite(fit))
                return bad_opt("--fit", optarg, "a fraction of dense > 0");
            break;
        case 's':
            if ((sink = opt_int(optarg)) < 0) return bad_opt("--sink", optarg, "tokens >= 0");
            break;
        case 'w':
            if ((window = opt_int(optarg)) < 0) return bad_opt("--window", optarg, "tokens >= 0");
            break;
        case 'c':
            costs_path = optarg;
            break;
        case 'U':
            launch_us = strtod(optarg, &end);
            if (end == optarg || *end || !(launch_us >= 0) || !isfinite(launch_us))
                return bad_opt("--launch-us", optarg, "microseconds >= 0");
            break;
        case 'o':
            out = optarg;
            break;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || !out || !sh.context || (!prof == !have_shape)) {
        fputs(usage_text, stderr);
        return 2;
    }
    hy_policy pol;
    if (hy_policy_parse(argv[optind], &pol)) { /* a usage error, like a bad option value */
        fprintf(stderr, "hylra plan policy: %s\n", hy_last_error());
        return 2;
    }
    hy_profile *pf = NULL;
    hy_costs *costs = NULL;
    hy_plan *pl = NULL;
    int rc = 0;
    if (prof && hy_profile_read(prof, &pf)) return hy_cli_die("plan policy");
    if (pf) {
        sh.n_layers = pf->n_layers, sh.n_heads = pf->n_heads, sh.n_kv_heads = pf->n_kv_heads;
        sh.head_dim = pf->head_dim, sh.sink = pf->sink, sh.window = pf->window;
        sh.model_name = pf->model_name, sh.model_sha256 = pf->model_sha256;
        sh.sliding_window = pf->sliding_window, sh.swa_period = pf->swa_period;
    }
    if (sink >= 0) sh.sink = (int32_t)sink;
    if (window >= 0) sh.window = (int32_t)window;
    hy_cost_model cm;
    if (costs_path && hy_costs_read(costs_path, &costs)) {
        rc = hy_cli_die("plan policy");
        goto done;
    }
    hy_cost_model_init(&cm, sh.head_dim, sh.n_heads, sh.n_kv_heads, costs);
    cm.sliding_window = sh.sliding_window, cm.swa_period = sh.swa_period;
    /* one default across commands (hy_cli_launch_s) */
    cm.launch_s =
        hy_cli_launch_s(launch_us >= 0 ? launch_us * 1e-6 : -1, costs != NULL, cm.launch_s);
    char spec[1100];
    if ((!isnan(fit) && hy_policy_fit(&pol, &sh, &cm, fit)) ||
        hy_policy_plan(&pol, &sh, &cm, &pl) || hy_plan_write(pl, out)) {
        rc = hy_cli_die("plan policy");
        goto done;
    }
    hy_policy_format(&pol, spec, sizeof spec);
    printf("%s at context %d: predicted %.4g s per step = %.4f of dense (%.4g s)\n", spec,
           sh.context, pl->cost_s, pl->cost_s / pl->dense_cost_s, pl->dense_cost_s);
    printf("wrote %s\n", out);
done:
    hy_plan_free(pl);
    hy_costs_free(costs);
    hy_profile_free(pf);
    return rc;
}

int hy_cmd_plan(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "policy")) return cmd_policy(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "export")) return hy_cli_plan_export(argc - 1, argv + 1);
    if (argc != 3 || strcmp(argv[1], "show")) {
        fputs(usage_text, stderr);
        return 2;
    }
    hy_plan *p = NULL;
    if (hy_plan_read(argv[2], &p)) return hy_cli_die("plan show");
    show(argv[2], p);
    hy_plan_free(p);
    return 0;
}
