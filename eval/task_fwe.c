/* eval/task_fwe: frequent-word extraction (after RULER's fwe, arXiv 2404.06654). The context
 * is a shuffled list of random lower-case codes (4 to 6 letters) whose counts follow Zipf's
 * law with exponent 2 (count of rank r proportional to r^-2, every code at least once); the
 * answers are the three most frequent codes, each strictly more frequent than the fourth.
 * The list length is solved from per-code token counts (codes are separate pre-tokenizer
 * pieces, so tokens add up) and checked by one encode of the prompt. */
#include "task_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* r^-2 for rank r = i + 1, by plain multiplication rather than pow() so that every libm
 * gives the same counts (RULER's default exponent is 2 as well). */
static double zipf_weight(int32_t i) {
    return 1.0 / ((i + 1.0) * (i + 1.0));
}

typedef struct {
    int32_t v;       /* vocabulary size */
    char (*code)[8]; /* code[0] is the most frequent */
    int64_t *tok;    /* tokens of " " + code */
    int64_t *count;
} fwe_vocab;

/* Counts for a list of about n words: floor(n r^-a / H), at least 1, then the top four made
 * strictly decreasing so that the top three are well defined. Returns the total. */
static int64_t fwe_counts(const fwe_vocab *w, int64_t n) {
    double h = 0;
    for (int32_t i = 0; i < w->v; i++)
        h += zipf_weight(i);
    int64_t total = 0;
    for (int32_t i = 0; i < w->v; i++) {
        int64_t c = (int64_t)floor((double)n * zipf_weight(i) / h);
        w->count[i] = c < 1 ? 1 : c;
    }
    for (int32_t i = 2; i >= 0; i--)
        if (w->count[i] <= w->count[i + 1]) w->count[i] = w->count[i + 1] + 1;
    for (int32_t i = 0; i < w->v; i++)
        total += w->count[i];
    return total;
}

static int64_t fwe_tokens(const fwe_vocab *w) {
    int64_t t = 0;
    for (int32_t i = 0; i < w->v; i++)
        t += w->count[i] * w->tok[i];
    return t;
}

/* The shuffled list (Fisher-Yates with the sample's RNG). */
static hy_status fwe_list(const fwe_vocab *w, hy_trng *r, hy_tbuf *b) {
    int64_t total = 0;
    for (int32_t i = 0; i < w->v; i++)
        total += w->count[i];
    int32_t *seq = malloc((size_t)total * sizeof *seq);
    if (!seq) return hy_fail(HY_ENOMEM, "tasks: fwe list of %lld words", (long long)total);
    int64_t k = 0;
    for (int32_t i = 0; i < w->v; i++)
        for (int64_t c = 0; c < w->count[i]; c++)
            seq[k++] = i;
    for (int64_t i = total - 1; i > 0; i--) {
        int64_t j = (int64_t)hy_trng_below(r, (uint64_t)i + 1);
        int32_t t = seq[i];
        seq[i] = seq[j], seq[j] = t;
    }
    hy_status st = HY_OK;
    for (int64_t i = 0; i < total && !st; i++) {
        if (i) st = hy_tbuf_add(b, " ", 1);
        if (!st) st = hy_tbuf_add(b, w->code[seq[i]], strlen(w->code[seq[i]]));
    }
    free(seq);
    return st;
}

static const char *const fwe_head =
    "Below is a text of coded words. Count how often each coded word appears.\n\n";
static const char *const fwe_tail =
    "\n\nWhat are the three most frequent coded words in the text above?";

hy_status hy_task_gen_fwe(const hy_task_params *p, hy_task_sample *out) {
    hy_trng r = hy_trng_make(p->seed, p->index, HY_TASK_FWE);
    fwe_vocab w = {0};
    const int64_t target = p->target_tokens;
    w.v = (int32_t)(target / 32 < 16 ? 16 : target / 32);
    w.code = calloc((size_t)w.v, sizeof *w.code);
    w.tok = calloc((size_t)w.v, sizeof *w.tok);
    w.count = calloc((size_t)w.v, sizeof *w.count);
    hy_tbuf b = {0};
    hy_status st = HY_OK;
    if (!w.code || !w.tok || !w.count) st = hy_fail(HY_ENOMEM, "tasks: fwe vocabulary of %d", w.v);
    /* codes in rank order from one stream: the top three do not depend on the target */
    for (int32_t i = 0; i < w.v && !st; i++) {
        int dup;
        do {
            int len = 4 + (int)hy_trng_below(&r, 3);
            for (int c = 0; c < len; c++)
                w.code[i][c] = (char)('a' + hy_trng_below(&r, 26));
            w.code[i][len] = 0;
            dup = 0;
            for (int32_t j = 0; j < i; j++)
                dup |= strcmp(w.code[i], w.code[j]) == 0;
        } while (dup);
        char piece[9] = " ";
        strcpy(piece + 1, w.code[i]);
        st = hy_task_count(p->tok, piece, strlen(piece), &w.tok[i]);
    }
    char *ans[3] = {w.code[0], w.code[1], w.code[2]};
    if (!st) st = hy_task_set_answers(p, out, 3, ans);
    if (!st) {
        out->answer_prefix = strdup("The three most frequent coded words are:");
        if (!out->answer_prefix) st = hy_fail(HY_ENOMEM, "tasks: fwe answer prefix");
    }
    int64_t fixed = 0, n = 0;
    if (!st) st = hy_task_count(p->tok, fwe_head, strlen(fwe_head), &n);
    fixed += n;
    if (!st) st = hy_task_count(p->tok, fwe_tail, strlen(fwe_tail), &n);
    fixed += n;
    fwe_counts(&w, 1);
    const int64_t need = fixed + fwe_tokens(&w) + 1;
    if (!st && target < need)
        st = hy_fail(HY_ERANGE,
                     "params.target_tokens = %lld is too small: the instruction, "
                     "question and %d codes take %lld tokens",
                     (long long)target, w.v, (long long)need);
    /* largest list whose token sum fits the aim: the sums grow with n, so bisect on n */
    const int64_t aim = target - (target / 200 > 1 ? target / 200 : 1);
    int64_t got = -1, goal = aim;
    for (int iter = 0; iter < 6 && !st; iter++) {
        int64_t lo = 1, hi = target * 2;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo + 1) / 2;
            fwe_counts(&w, mid);
            if (fixed + fwe_tokens(&w) <= goal)
                lo = mid;
            else
                hi = mid - 1;
        }
        fwe_counts(&w, lo);
        hy_trng rr = r;
        b.len = 0;
        st = hy_tbuf_add(&b, fwe_head, strlen(fwe_head));
        if (!st) st = fwe_list(&w, &rr, &b);
        if (!st) st = hy_tbuf_add(&b, fwe_tail, strlen(fwe_tail));
        if (!st) st = hy_task_count(p->tok, b.p, b.len, &got);
        if (st || (got <= target && got * 100 >= target * 97)) break;
        goal += aim - got; /* the joins at head and tail did not add up: move the goal */
    }
    if (!st && !(got <= target && got * 100 >= target * 97))
        st = hy_fail(HY_ERANGE, "tasks: could not fit fwe: %lld tokens for a target of %lld",
                     (long long)got, (long long)target);
    if (!st) {
        out->prompt = hy_tbuf_take(&b);
        out->prompt_tokens = got;
        if (!out->prompt) st = HY_ENOMEM;
    }
    hy_tbuf_free(&b);
    free(w.code), free(w.tok), free(w.count);
    return st;
}
