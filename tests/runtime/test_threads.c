/* The thread pool (runtime/threads.h): every item runs once, and an error raised on a worker
 * thread reaches the caller with its status and message, the lowest failing item's, however
 * the items were spread over the threads. */
#include "hy_test.h"
#include "threads.h"

#include <stdatomic.h>

typedef struct {
    atomic_int runs[1000];
    int64_t fail_from; /* items >= fail_from fail, each with its own message */
} job;

static hy_status item(void *arg, int64_t i) {
    job *j = arg;
    atomic_fetch_add(&j->runs[i], 1);
    if (i >= j->fail_from)
        return hy_fail(i % 2 ? HY_EFORMAT : HY_ERANGE, "item %lld failed on purpose", (long long)i);
    return HY_OK;
}

static void run_case(int n_threads, int64_t n_items, int64_t fail_from) {
    hy_pool *p = NULL;
    HY_OK_OR_FAIL(hy_pool_create(n_threads, &p));
    job *j = calloc(1, sizeof *j);
    HY_REQUIRE(j);
    for (int rep = 0; rep < 20; rep++) { /* repeated: the winner must not depend on timing */
        for (int64_t i = 0; i < n_items; i++)
            atomic_store(&j->runs[i], 0);
        j->fail_from = fail_from;
        hy_clear_error();
        const hy_status st = hy_pool_run(p, n_items, item, j);
        for (int64_t i = 0; i < n_items; i++)
            HY_CHECK_EQ_INT(atomic_load(&j->runs[i]), 1);
        if (fail_from >= n_items) {
            HY_CHECK_EQ_INT(st, HY_OK);
        } else {
            char want[64];
            snprintf(want, sizeof want, "item %lld failed on purpose", (long long)fail_from);
            HY_CHECK_EQ_INT(st, fail_from % 2 ? HY_EFORMAT : HY_ERANGE);
            if (strcmp(hy_last_error(), want))
                HY_FAILF("threads %d: message \"%s\", want \"%s\"", n_threads, hy_last_error(),
                         want);
        }
    }
    free(j);
    hy_pool_free(p);
}

HY_TEST(all_items_run_no_error) {
    run_case(4, 1000, 1000);
}

HY_TEST(worker_error_reaches_caller) {
    /* with 4 threads most items run on workers; items 700.. fail, 700's message wins */
    run_case(4, 1000, 700);
    run_case(4, 1000, 999);
}

HY_TEST(serial_pool_keeps_first_error) {
    /* one thread: later failures must not overwrite the first one's message */
    run_case(1, 100, 37);
}

HY_TEST_MAIN()
