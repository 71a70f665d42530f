/* Whole-file writes that never leave a half-written file under the final name: the text goes
 * to PATH.tmp, which is renamed over PATH only when every byte reached the disk's cache. */
#include "hy_common.h"

#include <stdio.h>
#include <string.h>

hy_status hy_write_text_atomic(const char *path, const char *text) {
    char tmp[4096];
    if (!path || !text) return hy_fail(HY_EINVAL, "write: NULL %s", path ? "text" : "path");
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return hy_fail(HY_EINVAL, "%s: path longer than %zu bytes", path, sizeof tmp - 5);
    FILE *f = fopen(tmp, "w");
    if (!f) return hy_fail(HY_EIO, "%s: cannot create", tmp);
    const size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n && (n && text[n - 1] == '\n' ? 1 : fputc('\n', f) != EOF);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return hy_fail(HY_EIO, "%s: write failed", path);
    }
    return HY_OK;
}
