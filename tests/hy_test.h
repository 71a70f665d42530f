/* Minimal test harness shared by every test program: HY_TEST(name) defines a case,
 * HY_CHECK* record failures without stopping the case, HY_REQUIRE stops it, and
 * HY_TEST_MAIN() runs all registered cases and exits non-zero if any failed.
 * Environment: HY_MODEL (path to the real GGUF, default data/models/...), HY_SOURCE_ROOT. */
#ifndef HY_TEST_H
#define HY_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*hy_test_fn)(void);
struct hy_test_case {
    const char *name;
    hy_test_fn fn;
};
#define HY_TEST_MAX 256
static struct hy_test_case hy_test_cases[HY_TEST_MAX];
static int hy_test_ncases;
static int hy_test_failed_checks;
static const char *hy_test_current;

#define HY_TEST(name)                                                                              \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void hy_register_##name(void) {                            \
        if (hy_test_ncases < HY_TEST_MAX)                                                          \
            hy_test_cases[hy_test_ncases++] = (struct hy_test_case){#name, name};                  \
    }                                                                                              \
    static void name(void)

#define HY_FAILF(...)                                                                              \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: [%s] ", __FILE__, __LINE__, hy_test_current);                      \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        hy_test_failed_checks++;                                                                   \
    } while (0)

#define HY_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) HY_FAILF("check failed: %s", #cond);                                          \
    } while (0)
#define HY_REQUIRE(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            HY_FAILF("requirement failed: %s", #cond);                                             \
            return;                                                                                \
        }                                                                                          \
    } while (0)
/* A hylra call must succeed; on failure prints the recorded error and stops the case. */
#define HY_OK_OR_FAIL(call)                                                                        \
    do {                                                                                           \
        int hy_st_ = (int)(call);                                                                  \
        if (hy_st_ != 0) {                                                                         \
            HY_FAILF("%s returned %d: %s", #call, hy_st_, hy_last_error());                        \
            return;                                                                                \
        }                                                                                          \
    } while (0)
#define HY_CHECK_EQ_INT(a, b)                                                                      \
    do {                                                                                           \
        long long hy_a_ = (long long)(a), hy_b_ = (long long)(b);                                  \
        if (hy_a_ != hy_b_) HY_FAILF("%s == %lld, expected %s == %lld", #a, hy_a_, #b, hy_b_);     \
    } while (0)
#define HY_CHECK_NEAR(a, b, tol)                                                                   \
    do {                                                                                           \
        double hy_a_ = (double)(a), hy_b_ = (double)(b);                                           \
        if (!(fabs(hy_a_ - hy_b_) <= (tol)))                                                       \
            HY_FAILF("%s = %.9g, expected %.9g within %.3g", #a, hy_a_, hy_b_, (double)(tol));     \
    } while (0)

/* Path of the real model for end-to-end tests; NULL (and the case should fail) if absent. */
static inline const char *hy_test_model_path(void) {
    const char *p = getenv("HY_MODEL");
    return p ? p : "data/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

#define HY_TEST_MAIN()                                                                             \
    int main(int argc, char **argv) {                                                              \
        int passed = 0, failed = 0;                                                                \
        for (int i = 0; i < hy_test_ncases; i++) {                                                 \
            if (argc > 1 && !strstr(hy_test_cases[i].name, argv[1])) continue;                     \
            hy_test_current = hy_test_cases[i].name;                                               \
            int before = hy_test_failed_checks;                                                    \
            hy_test_cases[i].fn();                                                                 \
            int ok = hy_test_failed_checks == before;                                              \
            printf("%s %s\n", ok ? "PASS" : "FAIL", hy_test_cases[i].name);                        \
            fflush(stdout);                                                                        \
            ok ? passed++ : failed++;                                                              \
        }                                                                                          \
        printf("%d passed, %d failed\n", passed, failed);                                          \
        return failed || passed == 0 ? 1 : 0;                                                      \
    }

#endif
