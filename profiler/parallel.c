/* A minimal parallel-for over item indices for the profiler's reductions (the runtime's pool
 * is private to it). Items are claimed one at a time from an atomic counter, so uneven items
 * (late units see more pairs) balance themselves. */
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct {
    atomic_llong next;
    int64_t n;
    hy_prof_item_fn fn;
    void *arg;
} par_job;

static void *worker(void *a) {
    par_job *j = a;
    for (;;) {
        const int64_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n) return NULL;
        j->fn(j->arg, i);
    }
}

void hy_prof_parallel_for(int n_threads, int64_t n, hy_prof_item_fn fn, void *arg) {
    par_job j = {.n = n, .fn = fn, .arg = arg};
    atomic_init(&j.next, 0);
    if (n_threads > 64) n_threads = 64;
    pthread_t th[64];
    int started = 0;
    for (int t = 1; t < n_threads; t++)
        if (pthread_create(&th[started], NULL, worker, &j) == 0) started++;
    worker(&j); /* the caller works too; if no thread could start it does everything */
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
}
