/* hylra sweep: at each context and budget, compiles hylra's DP and ILP plans from a profile and
 * fits every peer policy to the same predicted attention cost, evaluates them all against
 * dense in one eval run per context, and writes the tables, the per-context JSON, one SVG per
 * task (accuracy vs cost, one curve per method) and the predicted-vs-measured loss Spearman
 * correlation of the solver's plans. */
#include "commands.h"
#include "eval_common.h"
#include "solver_opts.h"

#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_CTX 8
#define MAX_BUDGETS 8
#define MAX_POLICIES 8

static void usage(FILE *f) {
    fprintf(f,
            "usage: hylra sweep PROFILE.h5 -o DIR [options]\n"
            "       hylra sweep --replot DIR   (Spearman and pictures again from DIR/ctx*.json)\n"
            "  -m, --model PATH     GGUF model (default " HY_DEFAULT_MODEL ")\n"
            "  --ctx LIST           contexts (default 2048,4096,8192)\n"
            "  --budgets LIST       attention cost fractions of dense (default 0.2,0.3,0.5)\n"
            "  --policies LIST      peer policy templates, their k or W fitted to each budget\n"
            "                       (default window:0,quest:16,16,tidal:2,12,16,recycled:8,16;\n"
            "                       ';' also separates)\n"
            "  --task LIST          as in hylra eval (default agree,ppl)\n"
            "  --docs N --tf N --samples N --seed S --depth D --text FILE   as in hylra eval\n"
            "  --ilp-time S         ILP time limit per plan (default 20)\n"
            "  --k K                hylra's top-k (default: per budget, the k the DP predicts\n"
            "                       best among the profile's grid and 3 points between each\n"
            "                       two, up to ctx/4, refined in steps of 16)\n"
            "  --sensitive T        own-set loss that forbids reuse (default 0.45 here)\n"
            "  --temporal --loss L --candidates N --selectors LIST   solver options as in\n"
            "                                       hylra solve\n"
            "  --launch-us X        launch overhead in the cost model (default 0: KV bytes)\n"
            "  --device D           cpu (default) or cuda: where every method runs\n"
            "  --weights W          native (default: the file's block format) or f32 (the CPU\n"
            "                       runtime's exact reference; no int8 rounding in the KL)\n"
            "  -q, --quiet          no progress lines\n");
}

typedef struct {
    int n_ctx, n_budgets, n_policies, k_fixed;
    int64_t ctx[MAX_CTX];
    double budget[MAX_BUDGETS];
    char policy[MAX_POLICIES][64];
    hy_cli_solver_opts so;
    hy_eval_opts eo;
    const char *model, *text, *out, *profile;
    hy_weights weights;
} sweep_opts;

static int parse_list(const char *opt, const char *s, double *v, int max, double lo, double hi) {
    char buf[512];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end = NULL;
        double x = strtod(t, &end);
        if (end == t || *end || !(x >= lo && x <= hi) || n == max) {
            fprintf(stderr, "hylra sweep: %s %s: expected up to %d numbers in [%g, %g]\n", opt, s,
                    max, lo, hi);
            return -1;
        }
        v[n++] = x;
    }
    return n;
}

/* Policy templates: "window:0,quest:16,16" is ambiguous on commas, so a new entry starts at a
 * known policy name. */
static int parse_policies(const char *s, sweep_opts *o) {
    static const char *names[] = {"window:", "quest:", "tidal:", "recycled:"};
    o->n_policies = 0;
    const char *p = s;
    while (*p) {
        const char *next = NULL;
        for (const char *q = p + 1; *q && !next; q++)
            if (*q == ',' || *q == ';')
                for (int i = 0; i < 4; i++)
                    if (!strncmp(q + 1, names[i], strlen(names[i]))) next = q;
        size_t len = next ? (size_t)(next - p) : strlen(p);
        hy_policy pol;
        char spec[64];
        snprintf(spec, sizeof spec, "%.*s", (int)len, p);
        if (o->n_policies == MAX_POLICIES || hy_policy_parse(spec, &pol) ||
            pol.kind == HY_POLICY_DENSE || pol.kind == HY_POLICY_PLAN) {
            fprintf(stderr, "hylra sweep: --policies %s: %s\n", spec,
                    o->n_policies == MAX_POLICIES ? "too many"
                                                  : "expected window/quest/tidal/recycled");
            return -1;
        }
        snprintf(o->policy[o->n_policies++], sizeof o->policy[0], "%s", spec);
        p += len + (next ? 1 : 0);
    }
    return 0;
}

static int parse(int argc, char **argv, sweep_opts *o) {
    static const struct option lo[] = {{"model", 1, 0, 'm'},
                                       {"ctx", 1, 0, 'X'},
                                       {"budgets", 1, 0, 'B'},
                                       {"policies", 1, 0, 'P'},
                                       {"task", 1, 0, 'a'},
                                       {"docs", 1, 0, 'd'},
                                       {"tf", 1, 0, 'F'},
                                       {"samples", 1, 0, 'M'},
                                       {"seed", 1, 0, 'e'},
                                       {"depth", 1, 0, 'D'},
                                       {"text", 1, 0, 'x'},
                                       {"ilp-time", 1, 0, 'T'},
                                       {"k", 1, 0, 'k'},
                                       {"sensitive", 1, 0, 's'},
                                       {"temporal", 0, 0, 't'},
                                       {"loss", 1, 0, 'l'},
                                       {"candidates", 1, 0, 'C'},
                                       {"launch-us", 1, 0, 'U'},
                                       {"selectors", 1, 0, 'E'},
                                       {"output", 1, 0, 'o'},
                                       {"device", 1, 0, 'V'},
                                       {"weights", 1, 0, 'w'},
                                       {"quiet", 0, 0, 'q'},
                                       {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    double v[MAX_CTX];
    long n;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:qh", lo, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'm':
            o->model = optarg;
            break;
        case 'X':
            if ((o->n_ctx = parse_list("--ctx", optarg, v, MAX_CTX, 64, 1 << 20)) < 0) return 2;
            for (int i = 0; i < o->n_ctx; i++)
                o->ctx[i] = (int64_t)v[i];
            break;
        case 'B':
            if ((o->n_budgets = parse_list("--budgets", optarg, o->budget, MAX_BUDGETS, 1e-3, 1)) <
                0)
                return 2;
            break;
        case 'P':
            if (parse_policies(optarg, o)) return 2;
            break;
        case 'a':
            if (hy_cli_parse_tasks("sweep", optarg, &o->eo)) return 2;
            break;
        case 'd':
            if (hy_cli_parse_int("sweep", "--docs", optarg, 1, 100000, &n)) return 2;
            o->eo.n_docs = (int32_t)n;
            break;
        case 'F':
            if (hy_cli_parse_int("sweep", "--tf", optarg, 1, 1 << 20, &n)) return 2;
            o->eo.tf_tokens = (int32_t)n;
            break;
        case 'M':
            if (hy_cli_parse_int("sweep", "--samples", optarg, 1, 100000, &n)) return 2;
            o->eo.n_samples = (int32_t)n;
            break;
        case 'e':
            if (hy_cli_parse_int("sweep", "--seed", optarg, 0, 1L << 62, &n)) return 2;
            o->eo.seed = (uint64_t)n;
            break;
        case 'D':
            o->eo.depth = strtod(optarg, &end);
            if (end == optarg || *end || !(o->eo.depth >= 0 && o->eo.depth <= 1)) {
                fprintf(stderr, "hylra sweep: --depth %s: expected a number in [0, 1]\n", optarg);
                return 2;
            }
            break;
        case 'w':
            if (hy_cli_weights("sweep", optarg, &o->weights)) return 2;
            break;
        case 'V':
            if (hy_device_parse(optarg, &o->eo.device)) {
                fprintf(stderr, "hylra sweep: %s\n", hy_last_error());
                return 2;
            }
            break;
        case 'x':
            o->text = optarg;
            break;
        case 'T':
            o->so.io.time_limit_s = strtod(optarg, &end);
            if (end == optarg || *end || !(o->so.io.time_limit_s > 0)) {
                fprintf(stderr, "hylra sweep: --ilp-time %s: expected seconds > 0\n", optarg);
                return 2;
            }
            break;
        case 'k':
            if (hy_cli_parse_int("sweep", "--k", optarg, 1, 1 << 20, &n)) return 2;
            o->k_fixed = (int)n;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'q':
            o->eo.progress = false;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default: {
            int shared = hy_cli_solver_opt("sweep", c, optarg, &o->so);
            if (shared < 0) return 2;
            if (!shared) {
                usage(stderr);
                return 2;
            }
        }
        }
    }
    if (optind != argc - 1 || !o->out) {
        usage(stderr);
        return 2;
    }
    o->profile = argv[optind];
    return 0;
}

/* The k a sweep tries: each profile k up to max_k, and between two neighbours three more
 * at quarter steps in log k (rounded to 16), whose losses the problem interpolates. Without
 * them a budget that fits a set of 1500 tokens got 1024, the grid point below, while the peers
 * it was compared with were fitted to the budget exactly (Gemma 3 at 8K, docs/eval.md).
 * Ascending; returns the count. */
static int32_t k_candidates(const hy_profile *p, int64_t max_k, int32_t *ks, int32_t cap) {
    int32_t n = 0;
    for (int32_t i = 0; i < p->n_k && n < cap; i++) {
        for (int j = 1; i > 0 && j < 4 && n < cap; j++) {
            const double k =
                p->k_grid[i - 1] * pow((double)p->k_grid[i] / p->k_grid[i - 1], j / 4.0);
            const int32_t r = (int32_t)(k / 16.0 + 0.5) * 16;
            if (r > ks[n - 1] && r < p->k_grid[i] && r <= max_k) ks[n++] = r;
        }
        if (p->k_grid[i] > max_k || n == cap) break;
        ks[n++] = p->k_grid[i];
    }
    return n;
}

/* The DP plan at k: when one fits the budget and loses less than *best, it replaces *best
 * and the call returns 1. A failed session (not an infeasible budget) is left in *st. */
static int try_k(const sweep_opts *o, hy_cli_solver_opts *so, double budget, int32_t k,
                 hy_plan **best, hy_status *st) {
    so->po.k = k;
    hy_session *s = NULL;
    hy_solve_info info;
    if ((*st = hy_cli_session_open(o->profile, so, &s))) return 0;
    hy_plan *p = NULL;
    int better = 0;
    if (hy_session_solve(s, "dp", budget, false, so->steps, &so->io, &p, &info) == HY_OK &&
        (!*best || p->loss < (*best)->loss)) {
        hy_plan_free(*best);
        *best = p, p = NULL, better = 1;
    }
    hy_plan_free(p);
    hy_session_close(s);
    return better;
}

/* hylra's DP and ILP plans at one budget. k: the fixed one, or the candidate k (above)
 * whose DP plan has the lowest predicted loss; the ILP runs at that k, warm-started by the DP. */
static hy_status solve_pair(const sweep_opts *o, int64_t ctx, double budget, hy_plan **dp,
                            hy_plan **ilp) {
    hy_cli_solver_opts so = o->so;
    if (so.launch_s < 0) so.launch_s = 0; /* the model every method is priced with */
    so.k_given = 1;                       /* each k below is chosen, never moved */
    so.po.context = ctx;
    so.po.granularity = HY_SOLVE_HEAD;
    hy_session *s = NULL;
    int32_t ks[128], nk = 0;
    if (o->k_fixed)
        ks[nk++] = o->k_fixed;
    else {
        /* the grid alone: a session would build a problem at a k the grid may not hold */
        hy_profile *pf = NULL;
        hy_status st = hy_profile_read(o->profile, &pf);
        if (st) return st;
        nk = k_candidates(pf, ctx / 4, ks, 128);
        hy_profile_free(pf);
    }
    hy_status st = HY_OK;
    if (!nk)
        return hy_fail(HY_ENOTFOUND, "sweep: no profile k fits (asked %d, ctx %lld)", o->k_fixed,
                       (long long)ctx);
    int32_t best_k = -1, best_i = -1;
    for (int32_t i = 0; i < nk && !st; i++) {
        const int better = try_k(o, &so, budget, ks[i], dp, &st);
        if (better) best_k = ks[i], best_i = i;
    }
    /* then the best k refined toward the next candidate in steps of 16 (bisection: a larger
     * set is feasible for a plan's structure up to some k, and loses less up to it) */
    if (!st && best_i >= 0 && best_i + 1 < nk && !o->k_fixed) {
        int32_t lo = ks[best_i], hi = ks[best_i + 1];
        while (!st && hi - lo > 16) {
            const int32_t mid = (lo + hi) / 32 * 16;
            if (mid <= lo) break;
            if (try_k(o, &so, budget, mid, dp, &st))
                best_k = lo = mid;
            else
                hi = mid;
        }
    }
    if (st) return st;
    if (!*dp)
        return hy_fail(HY_ESOLVER,
                       "sweep: no DP plan fits %.2f of dense at ctx %lld for "
                       "any profile k",
                       budget, (long long)ctx);
    so.po.k = best_k;
    so.io.warm = NULL;
    if (!(st = hy_cli_session_open(o->profile, &so, &s))) {
        hy_solve_info info;
        st = hy_session_solve(s, "ilp", budget, false, so.steps, &so.io, ilp, &info);
        hy_session_close(s);
    }
    return st;
}

static hy_status run_context(const sweep_opts *o, const hy_cli_eval_env *env, int64_t ctx,
                             hy_eval_result **res, FILE *table) {
    hy_cost_model cm;
    hy_cli_cost_model(env->m, o->so.launch_s < 0 ? 0.0 : o->so.launch_s, 4, 64, &cm);
    hy_eval_method methods[64];
    hy_plan *plans[64] = {0};
    int nm = 1;
    hy_status st = HY_OK;
    hy_cli_method_from_plan(NULL, "dense", "dense", NAN, &cm, ctx, &methods[0]);
    for (int b = 0; b < o->n_budgets && !st; b++) {
        const double bud = o->budget[b];
        hy_plan *dp = NULL, *ilp = NULL;
        char name[96];
        fprintf(stderr, "sweep: ctx %lld budget %.2f: solving\n", (long long)ctx, bud);
        st = solve_pair(o, ctx, bud, &dp, &ilp);
        if (st) {
            hy_plan_free(dp);
            break;
        }
        snprintf(name, sizeof name, "dp@%.2f(k%d)", bud, dp->k);
        plans[nm] = dp;
        hy_cli_method_from_plan(dp, name, "dp", bud, &cm, ctx, &methods[nm++]);
        snprintf(name, sizeof name, "ilp@%.2f(k%d)", bud, ilp->k);
        plans[nm] = ilp;
        hy_cli_method_from_plan(ilp, name, "ilp", bud, &cm, ctx, &methods[nm++]);
        for (int p = 0; p < o->n_policies && !st; p++) {
            st =
                hy_cli_method(o->policy[p], env->m, &cm, ctx, 4, 64, bud, &methods[nm], &plans[nm]);
            if (st) break;
            snprintf(name, sizeof name, "%s@%.2f", methods[nm].name, bud);
            snprintf(methods[nm].name, sizeof methods[nm].name, "%s", name);
            nm++;
        }
        /* keep the plans for inspection */
        for (int i = nm - 2 - o->n_policies; i < nm && !st; i++) {
            char path[1200];
            snprintf(path, sizeof path, "%s/plans/ctx%lld-%s.json", o->out, (long long)ctx,
                     methods[i].name);
            for (char *q = path + strlen(o->out) + 7; *q; q++)
                if (*q == ':' || *q == ',' || *q == '(' || *q == ')') *q = '_';
            st = hy_plan_write(plans[i], path);
        }
    }
    hy_eval_opts eo = o->eo;
    eo.ctx = ctx;
    eo.text = env->text;
    eo.text_source = o->text;
    if (!st) st = hy_eval_run(env->m, env->tok, methods, nm, &eo, res);
    if (!st) {
        fprintf(table, "\n");
        st = hy_eval_write_table(*res, table);
    }
    if (!st) {
        char path[1200];
        snprintf(path, sizeof path, "%s/ctx%lld.json", o->out, (long long)ctx);
        st = hy_eval_write_json(*res, path);
    }
    /* the result keeps borrowed plan pointers: clear them before the plans go */
    if (*res)
        for (int i = 0; i < (*res)->n_methods; i++)
            (*res)->methods[i].plan = NULL;
    for (int i = 0; i < nm; i++)
        hy_plan_free(plans[i]);
    return st;
}

/* The solver check (Spearman of predicted vs measured loss per context and pooled) to f, and
 * one picture per task of the first result (plus agree's KL) into dir. */
static int summarise(hy_eval_result *const *res, int n_res, const char *dir, FILE *f) {
    double pred[512], meas[512];
    int np = 0;
    for (int i = 0; i < n_res; i++) {
        int32_t n_used = 0;
        const double rho = hy_eval_spearman(res[i], &n_used);
        fprintf(f,
                "\nctx %lld: Spearman(predicted loss, measured loss) = %.3f over %d solver "
                "plans\n",
                (long long)res[i]->ctx, rho, n_used);
        for (int m = 0; m < res[i]->n_methods && np < 512; m++)
            if (!strcmp(res[i]->methods[m].group, "dp") ||
                !strcmp(res[i]->methods[m].group, "ilp")) {
                const double p = res[i]->methods[m].pred_loss, q = hy_eval_measured_loss(res[i], m);
                if (isfinite(p) && isfinite(q)) pred[np] = p, meas[np++] = q;
            }
    }
    fprintf(f, "pooled: Spearman = %.3f over %d plans\n", hy_spearman(pred, meas, np), np);
    const hy_eval_result *r0 = res[0];
    int has_agree = 0;
    for (int t = 0; t < r0->n_tasks; t++)
        has_agree |= !strcmp(r0->tasks[t].task, "agree");
    for (int t = 0; t < r0->n_tasks + has_agree; t++) {
        /* one picture per task, and one of agree's KL (the finer measure) when agree ran */
        const char *task = t < r0->n_tasks ? r0->tasks[t].task : "kl";
        char path[1200], title[256];
        snprintf(path, sizeof path, "%s/sweep-%s.svg", dir, task);
        snprintf(title, sizeof title, "%s: %s vs predicted attention cost", task,
                 t < r0->n_tasks ? "accuracy" : "KL(dense || method)");
        if (hy_eval_write_svg((const hy_eval_result *const *)res, n_res, task, title, path))
            return hy_cli_die("sweep: svg");
    }
    return 0;
}

static int ctx_of(const char *path) {
    const char *b = strrchr(path, '/');
    return atoi((b ? b + 1 : path) + 3);
}
static int by_ctx(const void *a, const void *b) {
    return ctx_of(*(const char *const *)a) - ctx_of(*(const char *const *)b);
}

/* --replot DIR: the solver check and the pictures again from DIR/ctx*.json. */
static int replot(const char *dir) {
    char pat[1100];
    snprintf(pat, sizeof pat, "%s/ctx*.json", dir);
    glob_t g;
    if (glob(pat, 0, NULL, &g) || g.gl_pathc == 0) {
        fprintf(stderr, "hylra sweep: --replot %s: no ctx*.json there\n", dir);
        return 1;
    }
    qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, by_ctx);
    hy_eval_result *res[MAX_CTX] = {0};
    int n = 0, rc = 0;
    for (size_t i = 0; i < g.gl_pathc && n < MAX_CTX && !rc; i++)
        if (hy_eval_read_json(g.gl_pathv[i], &res[n++])) rc = hy_cli_die("sweep --replot");
    if (!rc) rc = summarise(res, n, dir, stdout);
    if (!rc) fprintf(stderr, "sweep: redrew %s/sweep-*.svg from %d results\n", dir, n);
    for (int i = 0; i < n; i++)
        hy_eval_result_free(res[i]);
    globfree(&g);
    return rc;
}

int hy_cmd_sweep(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--replot")) return argc == 3 ? replot(argv[i + 1]) : 2;
    sweep_opts o = {.n_ctx = 3,
                    .ctx = {2048, 4096, 8192},
                    .n_budgets = 3,
                    .budget = {0.2, 0.3, 0.5},
                    .model = hy_cli_repo_path(HY_DEFAULT_MODEL),
                    .text = hy_cli_repo_path(HY_DEFAULT_EVALTEXT),
                    .so = {.steps = 1000, .launch_s = -1}};
    hy_problem_opts_default(&o.so.po);
    hy_ilp_opts_default(&o.so.io);
    o.so.io.time_limit_s = 20;
    /* at the small k a 2K context needs, the solver's default (own-set loss 0.1) forces 33-59
     * of 90 units dense and leaves no plan under 0.3 of dense; 0.45 forces the broad-attention
     * units (layer 0) only and lets the loss model decide the rest (docs/eval.md) */
    o.so.po.sensitive_threshold = 0.45;
    hy_eval_opts_default(&o.eo);
    snprintf(o.eo.tasks[0], sizeof o.eo.tasks[0], "agree");
    snprintf(o.eo.tasks[1], sizeof o.eo.tasks[1], "ppl");
    o.eo.n_tasks = 2;
    parse_policies("window:0,quest:16,16,tidal:2,12,16,recycled:8,16", &o);
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    char plans_dir[1100];
    snprintf(plans_dir, sizeof plans_dir, "%s/plans", o.out);
    if ((mkdir(o.out, 0755) && errno != EEXIST) || (mkdir(plans_dir, 0755) && errno != EEXIST)) {
        fprintf(stderr, "hylra sweep: cannot create %s: %s\n", plans_dir, strerror(errno));
        return 1;
    }
    hy_cli_eval_env env;
    if (hy_cli_eval_env_open(o.model, o.weights, o.text, &env)) {
        hy_cli_eval_env_close(&env);
        return hy_cli_die("sweep");
    }
    char tpath[1200];
    snprintf(tpath, sizeof tpath, "%s/table.txt", o.out);
    FILE *table = fopen(tpath, "w");
    if (!table) {
        fprintf(stderr, "hylra sweep: cannot write %s: %s\n", tpath, strerror(errno));
        hy_cli_eval_env_close(&env);
        return 1;
    }
    const double t0 = hy_now();
    hy_eval_result *res[MAX_CTX] = {0};
    int n_res = 0;
    rc = 0;
    for (int i = 0; i < o.n_ctx && !rc; i++, n_res++)
        if (run_context(&o, &env, o.ctx[i], &res[i], table)) rc = hy_cli_die("sweep");
    if (!rc) rc = summarise(res, n_res, o.out, table);
    if (!rc) fprintf(table, "sweep wall time: %.1f s\n", hy_now() - t0);
    fclose(table);
    if (!rc) {
        /* the table file is the summary; echo it */
        char *txt = hy_cli_read_file(tpath, "table", NULL);
        if (txt) fputs(txt, stdout);
        free(txt);
        fprintf(stderr, "sweep: wrote %s (table.txt, ctx*.json, sweep-*.svg, plans/) in %.1f s\n",
                o.out, hy_now() - t0);
    }
    for (int i = 0; i < n_res; i++)
        hy_eval_result_free(res[i]);
    hy_cli_eval_env_close(&env);
    return rc;
}
