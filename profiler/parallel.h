/* Private to profiler/: parallel-for used by the statistics reductions. */
#ifndef HY_PROFILER_PARALLEL_H
#define HY_PROFILER_PARALLEL_H
#include <stdint.h>

typedef void (*hy_prof_item_fn)(void *arg, int64_t i);
/* Calls fn(arg, i) for i in [0, n) on up to n_threads threads (the caller included). */
void hy_prof_parallel_for(int n_threads, int64_t n, hy_prof_item_fn fn, void *arg);

#endif
