/* Helpers shared by the CLI's commands: reading a whole text input (prompt, calibration
 * text) from a file or standard input. */
#include "commands.h"
#include "hy_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *hy_cli_read_file(const char *path, const char *what, size_t *len) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        hy_fail(HY_EIO, "%s: cannot open %s: %s", path, what, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) free(buf);
        buf = nb, cap *= 2;
    }
    int err = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf || err) {
        hy_fail(buf ? HY_EIO : HY_ENOMEM, "%s: %s reading %s", path,
                buf ? "read error" : "out of memory", what);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int hy_cli_check_output(const char *cmd, const char *opt, const char *path) {
    if (!path) return 0;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "hylra %s: %s %s: cannot write (%s)\n", cmd, opt, path, strerror(errno));
        return -1;
    }
    fclose(f);
    remove(tmp);
    return 0;
}

/* Option numbers. strtoll/strtoull accept leading space, a sign on unsigned values and
 * partial strings; everything but a whole decimal number is refused here. */
int hy_cli_whole_long(const char *s, long *v) {
    char *end = NULL;
    errno = 0;
    const long x = s && (*s == '-' || (*s >= '0' && *s <= '9')) ? strtol(s, &end, 10) : 0;
    if (!end || end == s || *end || errno) return -1;
    *v = x;
    return 0;
}

int hy_cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *v) {
    long x = 0;
    if (hy_cli_whole_long(s, &x) || x < lo || x > hi) {
        fprintf(stderr, "hylra %s: %s %s: expected an integer in %ld..%ld\n", cmd, opt,
                s ? s : "(none)", lo, hi);
        return -1;
    }
    *v = x;
    return 0;
}

int hy_cli_i32(const char *cmd, const char *opt, const char *s, int32_t lo, int32_t hi,
               int32_t *out) {
    long v;
    if (hy_cli_parse_int(cmd, opt, s, lo, hi, &v)) return -1;
    *out = (int32_t)v;
    return 0;
}

int hy_cli_weights(const char *cmd, const char *s, hy_weights *out) {
    if (hy_weights_parse(s, out) == HY_OK) return 0;
    fprintf(stderr, "hylra %s: --weights %s\n", cmd, hy_last_error());
    return -1;
}

int hy_cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    const unsigned long long v = s && *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
    if (!end || end == s || *end || errno) {
        fprintf(stderr, "hylra %s: %s %s: expected an unsigned integer (0..2^64-1)\n", cmd, opt,
                s ? s : "(none)");
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* A default input's path (the bundled model, the eval text) when hylra runs outside the
 * source root: the path as given when it exists from here, else under $HY_SOURCE_ROOT, else
 * under the checkout the executable was built in (build/cli/hylra -> ../..). */
const char *hy_cli_repo_path(const char *rel) {
    if (access(rel, F_OK) == 0) return rel;
    char exe[4096], cand[8192];
    const char *root = getenv("HY_SOURCE_ROOT");
    if (root && *root) {
        snprintf(cand, sizeof cand, "%s/%s", root, rel);
        if (access(cand, F_OK) == 0) return strdup(cand); /* lives as long as the process */
    }
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        for (int up = 0; up < 3; up++) { /* strip hylra, cli, build */
            char *slash = strrchr(exe, '/');
            if (!slash) break;
            *slash = 0;
        }
        snprintf(cand, sizeof cand, "%s/%s", exe, rel);
        if (access(cand, F_OK) == 0) return strdup(cand);
    }
    return rel;
}

double hy_cli_launch_s(double launch_s_opt, int has_table, double table_s) {
    if (launch_s_opt >= 0) return launch_s_opt;
    return has_table ? table_s : 0.0;
}
