/* One entry point per hylra subcommand; each lives in cli/cmd_<name>.c, parses its own
 * options (getopt_long), prints help on --help, and returns the process exit code. */
#ifndef HY_CLI_COMMANDS_H
#define HY_CLI_COMMANDS_H

#include "hy_runtime.h"

#include <stddef.h>
#include <stdint.h>

int hy_cmd_info(int argc, char **argv);
int hy_cmd_generate(int argc, char **argv);
int hy_cmd_tokenize(int argc, char **argv);
int hy_cmd_bench(int argc, char **argv);
int hy_cmd_profile(int argc, char **argv);
int hy_cmd_report(int argc, char **argv);
int hy_cmd_solve(int argc, char **argv);
int hy_cmd_pareto(int argc, char **argv);
int hy_cmd_plan(int argc, char **argv);
int hy_cmd_eval(int argc, char **argv);
int hy_cmd_sweep(int argc, char **argv);
/* `hylra plan export` (cli/plan_export.c); argv[0] is "export". */
int hy_cli_plan_export(int argc, char **argv);

/* Prints "hylra: <msg>" with the library's last error to stderr; returns exit code 1. */
int hy_cli_die(const char *what);
/* Reads a whole file ("-" = standard input), NUL-terminated; what names it in errors.
 * Returns NULL with the error recorded. *len (if len) excludes the NUL. Caller frees. */
char *hy_cli_read_file(const char *path, const char *what, size_t *len);
/* Checks before any work that an output can be written: creates and removes path.tmp (the
 * atomic writers' temporary name). -1 after printing "hylra CMD: OPT PATH: cannot write
 * (reason)"; 0 when it can. */
int hy_cli_check_output(const char *cmd, const char *opt, const char *path);
/* The one parser for integer option values: the whole string must be a decimal number in
 * [lo, hi] (hy_cli_u64: any uint64). -1 after printing "hylra CMD: OPT VALUE: expected ...";
 * the caller exits 2. */
int hy_cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *v);
/* The launch overhead every command prices with: --launch-us when given (>= 0), else the
 * cost table's (has_table: table_s) when one is given, else 0 (the analytic model prices KV
 * bytes only). One rule for solve, pareto, plan policy, eval, sweep and bench decode, so the
 * same budget means the same plan everywhere (docs/solver.md "The cost-model default"). */
double hy_cli_launch_s(double launch_s_opt, int has_table, double table_s);
/* The same check without the message: 0 when s is a whole decimal number that fits a long. */
int hy_cli_whole_long(const char *s, long *v);
int hy_cli_i32(const char *cmd, const char *opt, const char *s, int32_t lo, int32_t hi,
               int32_t *out);
/* --weights native|f32 (hy_weights_parse); -1 after printing the error. */
int hy_cli_weights(const char *cmd, const char *s, hy_weights *out);
#define HY_CLI_WEIGHTS_HELP                                                                        \
    "      --weights W      native (default: the file's block format, quantized kernels) or\n"     \
    "                       f32 (dequantised at load: the exactness reference, slower)\n"
int hy_cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
/* A default input path relative to the source root (data/models/..., .cache/...) that also
 * resolves when hylra runs elsewhere: from here, $HY_SOURCE_ROOT, or the executable's
 * checkout; rel itself when none has it (the open then fails naming rel). */
const char *hy_cli_repo_path(const char *rel);

#endif
