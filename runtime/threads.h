/* A small persistent thread pool for the CPU runtime: hy_pool_run calls fn(arg, item) for
 * item = 0..n_items-1, spread over the pool's threads and the caller, and returns when all
 * are done. Items are handed out through an atomic counter, so callers order them largest
 * first for balance. An item that fails returns its status with its message recorded
 * (hy_fail) on whichever thread ran it; hy_pool_run returns the failure of the lowest-numbered
 * failing item and records that item's message on the caller's thread, so an error raised on
 * a worker reads the same as one raised by the caller. Every item runs either way. */
#ifndef HY_RUNTIME_THREADS_H
#define HY_RUNTIME_THREADS_H

#include "hy_common.h"

#include <stdint.h>

typedef struct hy_pool hy_pool;
typedef hy_status (*hy_pool_fn)(void *arg, int64_t item);
hy_status hy_pool_create(int n_threads, hy_pool **out);
void hy_pool_free(hy_pool *p);
int hy_pool_threads(const hy_pool *p);
hy_status hy_pool_run(hy_pool *p, int64_t n_items, hy_pool_fn fn, void *arg);

#endif
