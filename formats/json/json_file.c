/* File reading and parsing shared by the JSON formats (hy_json_file.h). */
#include "hy_json_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hy_status hy_json_parse(const char *json, size_t len, const char *name, json_t **out) {
    if (!out) return hy_fail(HY_EINVAL, "%s: NULL output", name ? name : "JSON");
    *out = NULL;
    if (!json) return hy_fail(HY_EINVAL, "%s: NULL text", name ? name : "JSON");
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return hy_fail(HY_EFORMAT, "%s: JSON error at line %d column %d (offset %d): %s", name,
                       err.line, err.column, err.position, err.text);
    *out = root;
    return HY_OK;
}

hy_status hy_json_read_file(const char *path, json_t **out) {
    if (!out || !path) return hy_fail(HY_EINVAL, "JSON read: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return hy_fail(HY_EIO, "%s: cannot open (%s)", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return hy_fail(HY_ENOMEM, "%s: out of memory reading %zu bytes", path, cap);
            }
            buf = nb;
        }
        const size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    const int bad = ferror(f);
    fclose(f);
    hy_status st =
        bad ? hy_fail(HY_EIO, "%s: read failed", path) : hy_json_parse(buf, n, path, out);
    free(buf);
    return st;
}
