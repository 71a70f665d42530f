/* hy_common: status codes, the thread-local error message, progress lines, timing and
 * sha256. Every module links this; it depends on nothing but libc. */
#ifndef HY_COMMON_H
#define HY_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    HY_OK = 0,
    HY_EINVAL,       /* bad argument or option value */
    HY_EIO,          /* open/read/write/mmap failed */
    HY_EFORMAT,      /* file content is malformed (truncated, bad magic, inconsistent) */
    HY_EUNSUPPORTED, /* valid but not handled (a quant type, an architecture) */
    HY_ENOMEM,       /* allocation failed */
    HY_ERANGE,       /* a value is out of its allowed range (k > context, index) */
    HY_EMISMATCH,    /* two inputs disagree (plan for another model, shape) */
    HY_ENOTFOUND,    /* key, tensor or dataset absent */
    HY_EDEVICE,      /* CUDA / cuBLAS failure */
    HY_ESOLVER,      /* solver found no solution / infeasible */
} hy_status;

/* How a sparse set is counted: single tokens, or pages of page_size consecutive tokens
 * (a page scores the max of its tokens). Shared by kernels/indexset.h and formats/plan. */
typedef enum { HY_GRAN_TOKEN = 0, HY_GRAN_PAGE = 1 } hy_granularity;

/* Records a formatted message as this thread's last error and returns st, so that failing
 * paths read `return hy_fail(HY_EFORMAT, "%s: field %s at offset %zu: ...", ...)`. */
hy_status hy_fail(hy_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes context to the current message ("loading model: " + old) and returns st. */
hy_status hy_fail_ctx(hy_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *hy_last_error(void);
const char *hy_status_name(hy_status st);
void hy_clear_error(void);

/* Writes text (plus a final newline if it lacks one) to path through path.tmp and a rename,
 * so a failed write never leaves a truncated file under the final name. */
hy_status hy_write_text_atomic(const char *path, const char *text);

/* Monotonic wall clock in seconds. */
double hy_now(void);

/* Progress on stderr: one line redrawn in place on a terminal, a line every few seconds
 * otherwise. rate_unit names what `done` counts ("tok", "samples"). */
typedef struct {
    const char *label;
    const char *unit;
    int64_t total;
    double t0, last_print;
    int tty;
} hy_progress;
void hy_progress_begin(hy_progress *p, const char *label, int64_t total, const char *unit);
void hy_progress_update(hy_progress *p, int64_t done);
void hy_progress_end(hy_progress *p, int64_t done);

/* SHA-256 (FIPS 180-4). */
typedef struct {
    uint32_t h[8];
    uint64_t nbytes;
    uint8_t buf[64];
    size_t nbuf;
} hy_sha256_ctx;
void hy_sha256_init(hy_sha256_ctx *c);
void hy_sha256_update(hy_sha256_ctx *c, const void *data, size_t n);
void hy_sha256_final(hy_sha256_ctx *c, uint8_t out[32]);
void hy_sha256_hex(const uint8_t digest[32], char hex[65]);
hy_status hy_sha256_file(const char *path, char hex[65]);

/* Checked allocation helpers: return NULL and set HY_ENOMEM with what was asked for. */
void *hy_malloc(size_t n, const char *what);
void *hy_calloc(size_t count, size_t size, const char *what);

#endif
