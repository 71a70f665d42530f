/* hylra eval: accuracy of plans and peer policies against dense attention on one model:
 * teacher-forced agreement / KL / perplexity over long documents and generated long-context
 * tasks, a table with 95% CIs on stdout, optionally JSON. Progress on stderr. */
#include "commands.h"
#include "eval_common.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: hylra eval [-m MODEL] [--plan FILE]... [--policy SPEC]... [options]\n"
            "  -m, --model PATH    GGUF model (default " HY_DEFAULT_MODEL ")\n"
            "  --plan FILE         a plan to evaluate (repeatable); same as --policy plan:FILE\n"
            "  --policy SPEC       dense | window:W | quest:P,k | tidal:L1,L2,k | recycled:s,k |\n"
            "                      plan:FILE (repeatable; docs/policies.md). Dense always runs\n"
            "                      as the reference\n"
            "  --fit F             fit each policy's free parameter (W or k) to F of dense cost\n"
            "  --task LIST         comma list: agree, ppl, passkey, niah, multikey, multivalue,\n"
            "                      multiquery, vt, fwe (default agree,ppl)\n"
            "  --ctx N             tokens per sample (default 2048)\n"
            "  --docs N            agree/ppl documents (default 4)\n"
            "  --tf N              teacher-forced steps per document (default 64)\n"
            "  --samples N         samples per generated task (default 4)\n"
            "  --depth D           needle depth 0..1 (default: random per sample)\n"
            "  --seed S            seed of documents and samples (default 0)\n"
            "  --text FILE         long text (default " HY_DEFAULT_EVALTEXT ")\n"
            "  --sink N, --window N  tokens every sparse set keeps (default 4, 64)\n"
            "  --launch-us X       launch overhead in the cost model (default 0: KV bytes only)\n"
            "  --json FILE         write the results as JSON\n"
            "  --device D          cpu (default) or cuda: where every method runs\n"
            "  --weights W         native (default: the file's block format) or f32 (the exact\n"
            "                      reference: int8 activations add a noise floor to KL)\n"
            "  -q, --quiet         no progress lines\n");
}

int hy_cmd_eval(int argc, char **argv) {
    static const struct option lo[] = {
        {"model", 1, 0, 'm'},   {"plan", 1, 0, 'P'},   {"policy", 1, 0, 'p'},
        {"fit", 1, 0, 'F'},     {"task", 1, 0, 't'},   {"ctx", 1, 0, 'n'},
        {"docs", 1, 0, 'd'},    {"tf", 1, 0, 'T'},     {"samples", 1, 0, 's'},
        {"depth", 1, 0, 'D'},   {"seed", 1, 0, 'S'},   {"text", 1, 0, 'x'},
        {"sink", 1, 0, 'K'},    {"window", 1, 0, 'W'}, {"launch-us", 1, 0, 'U'},
        {"json", 1, 0, 'j'},    {"device", 1, 0, 'V'}, {"quiet", 0, 0, 'q'},
        {"weights", 1, 0, 'w'}, {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
    hy_eval_opts o;
    hy_eval_opts_default(&o);
    const char *model = hy_cli_repo_path(HY_DEFAULT_MODEL),
               *text = hy_cli_repo_path(HY_DEFAULT_EVALTEXT), *json = NULL;
    char specs[63][1100];
    int n_specs = 0, c;
    long v, sink = 4, window = 64;
    hy_weights weights = HY_WEIGHTS_NATIVE;
    double fit = 0, launch_us = 0;
    hy_cli_parse_tasks("eval", "agree,ppl", &o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:qh", lo, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'w':
            if (hy_cli_weights("eval", optarg, &weights)) return 2;
            break;
        case 'P':
        case 'p':
            if (n_specs == 63) {
                fprintf(stderr, "hylra eval: at most 63 plans/policies besides dense\n");
                return 2;
            }
            snprintf(specs[n_specs++], sizeof specs[0], "%s%s", c == 'P' ? "plan:" : "", optarg);
            break;
        case 'F':
            fit = strtod(optarg, &end);
            if (end == optarg || *end || !(fit > 0 && fit <= 1)) {
                fprintf(stderr, "hylra eval: --fit %s: expected a fraction in (0, 1]\n", optarg);
                return 2;
            }
            break;
        case 't':
            if (hy_cli_parse_tasks("eval", optarg, &o)) return 2;
            break;
        case 'n':
            if (hy_cli_parse_int("eval", "--ctx", optarg, 64, 1 << 20, &v)) return 2;
            o.ctx = v;
            break;
        case 'd':
            if (hy_cli_parse_int("eval", "--docs", optarg, 1, 100000, &v)) return 2;
            o.n_docs = (int32_t)v;
            break;
        case 'T':
            if (hy_cli_parse_int("eval", "--tf", optarg, 1, 1 << 20, &v)) return 2;
            o.tf_tokens = (int32_t)v;
            break;
        case 's':
            if (hy_cli_parse_int("eval", "--samples", optarg, 1, 100000, &v)) return 2;
            o.n_samples = (int32_t)v;
            break;
        case 'D':
            o.depth = strtod(optarg, &end);
            if (end == optarg || *end || !(o.depth >= 0 && o.depth <= 1)) {
                fprintf(stderr, "hylra eval: --depth %s: expected a number in [0, 1]\n", optarg);
                return 2;
            }
            break;
        case 'S':
            o.seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end) {
                fprintf(stderr, "hylra eval: --seed %s: expected an unsigned integer\n", optarg);
                return 2;
            }
            break;
        case 'x':
            text = optarg;
            break;
        case 'K':
            if (hy_cli_parse_int("eval", "--sink", optarg, 0, 1 << 20, &sink)) return 2;
            break;
        case 'W':
            if (hy_cli_parse_int("eval", "--window", optarg, 0, 1 << 20, &window)) return 2;
            break;
        case 'U':
            launch_us = strtod(optarg, &end);
            if (end == optarg || *end || !(launch_us >= 0)) {
                fprintf(stderr, "hylra eval: --launch-us %s: expected a number >= 0\n", optarg);
                return 2;
            }
            break;
        case 'j':
            json = optarg;
            break;
        case 'V':
            if (hy_device_parse(optarg, &o.device)) {
                fprintf(stderr, "hylra eval: %s\n", hy_last_error());
                return 2;
            }
            break;
        case 'q':
            o.progress = false;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (hy_cli_check_output("eval", "--json", json)) return 2;
    /* a bootstrap CI over fewer than 5 samples says little: say so before the work */
    int lm = 0, gen = 0;
    for (int t = 0; t < o.n_tasks; t++) {
        const int is_lm = !strcmp(o.tasks[t], "agree") || !strcmp(o.tasks[t], "ppl");
        lm |= is_lm, gen |= !is_lm;
    }
    if ((lm && o.n_docs < 5) || (gen && o.n_samples < 5))
        fprintf(stderr,
                "hylra eval: warning: the 95%% CIs rest on %s%s%s; use --docs / --samples >= 5 "
                "for intervals that mean something\n",
                lm && o.n_docs < 5 ? "fewer than 5 documents" : "",
                lm && o.n_docs < 5 && gen && o.n_samples < 5 ? " and " : "",
                gen && o.n_samples < 5 ? "fewer than 5 samples per task" : "");
    o.text_source = text;
    hy_cli_eval_env env;
    if (hy_cli_eval_env_open(model, weights, text, &env)) {
        hy_cli_eval_env_close(&env);
        return hy_cli_die("eval");
    }
    o.text = env.text;
    hy_cost_model cm;
    hy_cli_cost_model(env.m, launch_us * 1e-6, (int32_t)sink, (int32_t)window, &cm);
    hy_eval_method methods[64];
    hy_plan *plans[64] = {0};
    int nm = 1, rc = 0;
    hy_cli_method_from_plan(NULL, "dense", "dense", NAN, &cm, o.ctx, &methods[0]);
    for (int i = 0; i < n_specs && !rc; i++, nm++)
        if (hy_cli_method(specs[i], env.m, &cm, o.ctx, (int32_t)sink, (int32_t)window, fit,
                          &methods[nm], &plans[nm]))
            rc = hy_cli_die("eval");
    hy_eval_result *r = NULL;
    if (!rc && hy_eval_run(env.m, env.tok, methods, nm, &o, &r)) rc = hy_cli_die("eval");
    if (!rc && hy_eval_write_table(r, stdout)) rc = hy_cli_die("eval: table");
    if (!rc && json && hy_eval_write_json(r, json)) rc = hy_cli_die("eval: json");
    if (!rc && json) fprintf(stderr, "eval: wrote %s\n", json);
    if (!rc)
        fprintf(stderr, "eval: %d methods, ctx %lld, %.1f s\n", nm, (long long)o.ctx, r->seconds);
    hy_eval_result_free(r);
    for (int i = 0; i < nm; i++)
        hy_plan_free(plans[i]);
    hy_cli_eval_env_close(&env);
    return rc;
}
