/* Shared by the task tests: the real SmolLM2 tokenizer and the Devil's Dictionary haystack
 * (scripts/fetch-evaltext), loaded once; a case that cannot load them fails with the path. */
#ifndef TASKS_TEST_UTIL_H
#define TASKS_TEST_UTIL_H

#include "hy_tasks.h"
#include "hy_test.h"

static hy_gguf *tt_gguf;
static hy_tokenizer *tt_tok;
static char *tt_hay;
static const char *tt_hay_path = ".cache/evaltext/devil.txt";

static int tt_setup(void) {
    if (tt_tok && tt_hay) return 1;
    if (!tt_tok) {
        hy_status st = hy_gguf_open(hy_test_model_path(), &tt_gguf);
        if (st == HY_OK) st = hy_tokenizer_from_gguf(tt_gguf, &tt_tok);
        if (st) {
            HY_FAILF("loading the tokenizer from %s: %s (run scripts/fetch-model)",
                     hy_test_model_path(), hy_last_error());
            return 0;
        }
    }
    FILE *f = fopen(tt_hay_path, "rb");
    if (!f) {
        HY_FAILF("cannot open %s: run scripts/fetch-evaltext first", tt_hay_path);
        return 0;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    tt_hay = malloc((size_t)n + 1);
    size_t got = tt_hay ? fread(tt_hay, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!tt_hay || got != (size_t)n) {
        HY_FAILF("reading %s: %zu of %ld bytes", tt_hay_path, got, n);
        return 0;
    }
    tt_hay[n] = 0;
    return 1;
}

static hy_task_params tt_params(int64_t target, double depth, uint64_t seed, int64_t index) {
    hy_task_params p = {0};
    p.target_tokens = target;
    p.depth = depth;
    p.seed = seed;
    p.index = index;
    p.haystack = tt_hay;
    p.tok = tt_tok;
    return p;
}

#endif
