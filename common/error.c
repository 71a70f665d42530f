/* Thread-local last-error message: library code never prints or exits; it records why it
 * failed here and returns a status, and the CLI decides what to show. */
#include "hy_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char g_msg[2048];

hy_status hy_fail(hy_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return st;
}

hy_status hy_fail_ctx(hy_status st, const char *fmt, ...) {
    char prefix[512], old[sizeof g_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_msg, sizeof old);
    /* Compose in a buffer big enough for both parts, then keep what fits. */
    char joined[sizeof prefix + sizeof old + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, old[0] ? old : hy_status_name(st));
    snprintf(g_msg, sizeof g_msg, "%.*s", (int)(sizeof g_msg - 1), joined);
    return st;
}

const char *hy_last_error(void) {
    return g_msg[0] ? g_msg : "no error recorded";
}

void hy_clear_error(void) {
    g_msg[0] = 0;
}

const char *hy_status_name(hy_status st) {
    switch (st) {
    case HY_OK:
        return "ok";
    case HY_EINVAL:
        return "invalid argument";
    case HY_EIO:
        return "i/o error";
    case HY_EFORMAT:
        return "malformed file";
    case HY_EUNSUPPORTED:
        return "unsupported";
    case HY_ENOMEM:
        return "out of memory";
    case HY_ERANGE:
        return "out of range";
    case HY_EMISMATCH:
        return "mismatch";
    case HY_ENOTFOUND:
        return "not found";
    case HY_EDEVICE:
        return "device error";
    case HY_ESOLVER:
        return "solver error";
    }
    return "unknown status";
}

void *hy_malloc(size_t n, const char *what) {
    void *p = malloc(n ? n : 1);
    if (!p) hy_fail(HY_ENOMEM, "out of memory allocating %zu bytes for %s", n, what);
    return p;
}

void *hy_calloc(size_t count, size_t size, const char *what) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        hy_fail(HY_ENOMEM, "out of memory allocating %zu x %zu bytes for %s", count, size, what);
    return p;
}
