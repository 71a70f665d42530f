/* hy_task_score on hand-made samples: full, partial and zero matches, whole-token edges (a
 * number inside a longer number or word does not count), case, and degenerate inputs. */
#include "hy_tasks.h"
#include "hy_test.h"

static hy_task_sample make(char **answers, int n) {
    hy_task_sample s = {0};
    s.answers = answers;
    s.n_answers = n;
    return s;
}

HY_TEST(full_partial_zero) {
    char *a[] = {"1234567", "7654321"};
    hy_task_sample s = make(a, 2);
    HY_CHECK_NEAR(hy_task_score(&s, " 1234567 and 7654321."), 1.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, " 7654321, then nothing"), 0.5, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "I do not know."), 0.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, ""), 0.0, 0);
}

HY_TEST(whole_tokens_only) {
    char *a[] = {"12345"};
    hy_task_sample s = make(a, 1);
    HY_CHECK_NEAR(hy_task_score(&s, "123456"), 0.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "012345"), 0.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "x12345"), 0.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "12345x"), 0.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "123456 and 12345."), 1.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "12345"), 1.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "(12345)"), 1.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "12,345"), 0.0, 0);
}

HY_TEST(case_insensitive) {
    char *a[] = {"QWERT", "zxcvb", "mnbv"};
    hy_task_sample s = make(a, 3);
    HY_CHECK_NEAR(hy_task_score(&s, "qwert, ZXCVB, MnBv"), 1.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "VAR QWERTY and zxcvbn"), 0.0, 0);
    HY_CHECK_NEAR(hy_task_score(&s, "VAR QWERT, VAR XXXXX"), 1.0 / 3, 1e-12);
}

HY_TEST(degenerate) {
    char *a[] = {"1"};
    hy_task_sample s = make(a, 1);
    HY_CHECK_NEAR(hy_task_score(&s, NULL), 0.0, 0);
    HY_CHECK_NEAR(hy_task_score(NULL, "1"), 0.0, 0);
    hy_task_sample empty = make(NULL, 0);
    HY_CHECK_NEAR(hy_task_score(&empty, "1"), 0.0, 0);
    char *e[] = {""};
    hy_task_sample blank = make(e, 1);
    HY_CHECK_NEAR(hy_task_score(&blank, "anything"), 0.0, 0);
}

HY_TEST(names_round_trip) {
    for (int k = 0; k < HY_TASK_GEN_COUNT; k++) {
        hy_task_kind got;
        HY_OK_OR_FAIL(hy_task_parse(hy_task_name((hy_task_kind)k), &got));
        HY_CHECK_EQ_INT(got, k);
    }
    hy_task_kind got;
    HY_CHECK(hy_task_parse("needle", &got) == HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "passkey") != NULL);
    HY_CHECK(hy_task_parse(NULL, &got) == HY_EINVAL);
    HY_CHECK(strcmp(hy_task_name((hy_task_kind)99), "unknown") == 0);
}

HY_TEST_MAIN()
