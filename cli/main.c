/* hylra: the one CLI that ties the modules together (profile -> solve -> run). */
#include "commands.h"
#include "hy_common.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
};

static const struct command commands[] = {
    {"info", hy_cmd_info, "print a model's architecture, shapes, quant types and tokenizer"},
    {"tokenize", hy_cmd_tokenize, "print the token ids of a text"},
    {"generate", hy_cmd_generate, "generate text from a prompt (streams tokens, tokens/s)"},
    {"profile", hy_cmd_profile,
     "measure attention sparsity and top-k overlap into an HDF5 profile"},
    {"report", hy_cmd_report, "render a profile as a self-contained HTML report"},
    {"solve", hy_cmd_solve, "compile a profile into a reuse plan under a speed budget"},
    {"pareto", hy_cmd_pareto, "sweep budgets and emit the cost/loss frontier"},
    {"plan", hy_cmd_plan,
     "show a plan, write a peer policy as one, or export it (plan show / policy / export)"},
    {"eval", hy_cmd_eval, "measure a plan's accuracy against dense attention"},
    {"sweep", hy_cmd_sweep, "evaluate a Pareto set and peer policies at matched cost"},
    {"bench", hy_cmd_bench, "measure decode throughput or kernel costs"},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

int hy_cli_die(const char *what) {
    fprintf(stderr, "hylra: %s: %s\n", what, hy_last_error());
    return 1;
}

static void usage(FILE *f) {
    fprintf(f, "usage: hylra <command> [options]   (hylra <command> --help for its options)\n\n"
               "commands:\n");
    for (int i = 0; i < n_commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("hylra %s\n", HY_VERSION);
        return 0;
    }
    for (int i = 0; i < n_commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "hylra: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
