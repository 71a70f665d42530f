/* Thread pool (threads.h). Workers sleep on a condition variable between jobs; a job is a
 * generation number plus an atomic item counter. Used for attention, where each (unit, query
 * slice) is independent, and for the projections. A decode step runs ~150 jobs of tens of
 * microseconds each, so a worker first spins briefly on the generation (and the caller on
 * the count of busy workers) before sleeping: a futex wake per job cost more than the job. */
#include "threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct hy_pool {
    int n_threads; /* including the caller */
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_ullong generation;
    atomic_int busy;
    int quit;
    hy_pool_fn fn;
    void *arg;
    int64_t n_items;
    atomic_llong next;
    /* the lowest-numbered failing item of the current job, under mu (failures are rare) */
    int64_t err_item;
    hy_status err;
    char err_msg[2048];
};

/* Keeps the failure of the lowest-numbered item, so the reported error does not depend on
 * which thread got there first. Called on the thread that ran the item (its message is in
 * that thread's last error). */
static void record_failure(hy_pool *p, int64_t item, hy_status st) {
    pthread_mutex_lock(&p->mu);
    if (item < p->err_item) {
        p->err_item = item;
        p->err = st;
        snprintf(p->err_msg, sizeof p->err_msg, "%s", hy_last_error());
    }
    pthread_mutex_unlock(&p->mu);
}

static void drain(hy_pool *p) {
    for (;;) {
        int64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n_items) return;
        hy_status st = p->fn(p->arg, i);
        if (st != HY_OK) record_failure(p, i, st);
    }
}

/* Pause iterations a thread spins before sleeping (tens of microseconds). */
#define SPIN 4096

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker(void *vp) {
    hy_pool *p = vp;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < SPIN && atomic_load(&p->generation) == seen; i++)
            relax();
        pthread_mutex_lock(&p->mu);
        while (!p->quit && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

hy_status hy_pool_create(int n_threads, hy_pool **out) {
    *out = NULL;
    if (n_threads < 1) n_threads = 1;
    hy_pool *p = hy_calloc(1, sizeof *p, "thread pool");
    if (!p) return HY_ENOMEM;
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->tid = hy_calloc((size_t)n_threads, sizeof(pthread_t), "thread ids");
    if (!p->tid) {
        hy_pool_free(p);
        return HY_ENOMEM;
    }
    for (int i = 1; i < n_threads; i++) {
        if (pthread_create(&p->tid[i], NULL, worker, p) != 0) {
            p->n_threads = i;
            hy_pool_free(p);
            return hy_fail(HY_ENOMEM, "thread pool: pthread_create failed for thread %d of %d", i,
                           n_threads);
        }
    }
    *out = p;
    return HY_OK;
}

void hy_pool_free(hy_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads && p->tid; i++)
        pthread_join(p->tid[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->tid);
    free(p);
}

int hy_pool_threads(const hy_pool *p) {
    return p ? p->n_threads : 1;
}

hy_status hy_pool_run(hy_pool *p, int64_t n_items, hy_pool_fn fn, void *arg) {
    if (n_items <= 0) return HY_OK;
    if (!p || p->n_threads == 1 || n_items == 1) {
        /* all on this thread: keep the first failure's message, later items may overwrite it */
        hy_status first = HY_OK;
        char msg[2048] = "";
        for (int64_t i = 0; i < n_items; i++) {
            hy_status st = fn(arg, i);
            if (st != HY_OK && first == HY_OK) {
                first = st;
                snprintf(msg, sizeof msg, "%s", hy_last_error());
            }
        }
        return first == HY_OK ? HY_OK : hy_fail(first, "%s", msg);
    }
    pthread_mutex_lock(&p->mu);
    p->err_item = INT64_MAX;
    p->err = HY_OK;
    p->err_msg[0] = 0;
    p->fn = fn;
    p->arg = arg;
    p->n_items = n_items;
    atomic_store(&p->next, 0);
    p->busy = p->n_threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p);
    for (int i = 0; i < SPIN && atomic_load(&p->busy) > 0; i++)
        relax();
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    const hy_status st = p->err;
    pthread_mutex_unlock(&p->mu);
    return st == HY_OK ? HY_OK : hy_fail(st, "%s", p->err_msg);
}
