/* eval/task_score: RULER's string-match score, made strict about token edges: an answer
 * counts when it occurs in the output, ignoring ASCII case, with no letter or digit right
 * before or after it (so "12345" does not match inside "123456"). */
#include "task_internal.h"

#include <ctype.h>
#include <string.h>

static int is_word(unsigned char c) {
    return isalnum(c) != 0;
}

static int found(const char *out, size_t n, const char *ans) {
    const size_t m = strlen(ans);
    if (m == 0 || m > n) return 0;
    for (size_t i = 0; i + m <= n; i++) {
        if (i > 0 && is_word((unsigned char)out[i - 1])) continue;
        if (i + m < n && is_word((unsigned char)out[i + m])) continue;
        if (strncasecmp(out + i, ans, m) == 0) return 1;
    }
    return 0;
}

double hy_task_score(const hy_task_sample *s, const char *output) {
    if (!s || !output || s->n_answers <= 0 || !s->answers) return 0.0;
    const size_t n = strlen(output);
    int32_t hit = 0;
    for (int32_t i = 0; i < s->n_answers; i++)
        hit += s->answers[i] && found(output, n, s->answers[i]);
    return (double)hit / (double)s->n_answers;
}
