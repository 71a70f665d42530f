/* Helpers shared by the CLI's commands: reading a whole text input (prompt, calibration
 * text) from a file or standard input. */
#include "commands.h"
#include "hy_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
