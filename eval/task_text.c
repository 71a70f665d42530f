/* eval/task_text: the haystack side of every task. The filler is the haystack text from a
 * seeded paragraph start, whitespace-normalised (paragraphs become one line), encoded once;
 * a token-prefix of it is cut to fit, the needles go in at sentence starts, and the whole
 * prompt is encoded to check its length (two or three passes: token counts are additive
 * except at the few places where text was joined). */
#include "task_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hy_status hy_tbuf_add(hy_tbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return hy_fail(HY_ENOMEM, "tasks: growing a text buffer to %zu bytes", cap);
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return HY_OK;
}

hy_status hy_tbuf_fmt(hy_tbuf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return hy_fail(HY_EINVAL, "tasks: formatting '%s' failed", fmt);
    if ((size_t)n < sizeof small) return hy_tbuf_add(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) return hy_fail(HY_ENOMEM, "tasks: %d bytes of formatted text", n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    hy_status st = hy_tbuf_add(b, big, (size_t)n);
    free(big);
    return st;
}

char *hy_tbuf_take(hy_tbuf *b) {
    if (!b->p && hy_tbuf_add(b, "", 0)) return NULL;
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

void hy_tbuf_free(hy_tbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

hy_status hy_task_count(const hy_tokenizer *t, const char *s, size_t n, int64_t *out) {
    hy_token *ids = NULL;
    hy_status st = hy_tokenizer_encode(t, s, n, 0, &ids, out);
    free(ids);
    return st;
}

hy_status hy_task_set_answers(const hy_task_params *p, hy_task_sample *out, int32_t n,
                              char *const *answers) {
    out->answers = calloc((size_t)n, sizeof *out->answers);
    if (!out->answers) return hy_fail(HY_ENOMEM, "tasks: %d answers", n);
    hy_tbuf all = {0};
    hy_status st = HY_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        out->answers[i] = strdup(answers[i]);
        if (!out->answers[i]) st = hy_fail(HY_ENOMEM, "tasks: answer %d", i);
        out->n_answers = i + 1;
        if (!st) st = hy_tbuf_fmt(&all, "%s%s", i ? ", " : " ", answers[i]);
    }
    int64_t nt = 0;
    if (!st) st = hy_task_count(p->tok, all.p, all.len, &nt);
    /* room for the model to say "and", repeat the key, or close the sentence */
    if (!st) out->max_new_tokens = (int32_t)nt + 16;
    hy_tbuf_free(&all);
    return st;
}

/* ---- filler ---- */

/* The haystack from a seeded paragraph start, at least want bytes (wrapping to the start of
 * the haystack as needed), with every whitespace run turned into one space, or into one
 * newline where it held a blank line. */
static hy_status filler_text(const char *hay, hy_trng *r, size_t want, hy_tbuf *f) {
    const size_t n = strlen(hay);
    size_t i = (size_t)hy_trng_below(r, n);
    const char *para = strstr(hay + i, "\n\n");
    i = para ? (size_t)(para - hay) : 0;
    while (i < n && isspace((unsigned char)hay[i]))
        i++;
    hy_status st = HY_OK;
    int wrapped = 0;
    while (f->len < want && !st) {
        if (i >= n) {
            if (wrapped++ > (int)(want / n) + 1) break; /* a haystack of only spaces */
            i = 0;
            if (f->len && f->p[f->len - 1] != '\n') st = hy_tbuf_add(f, "\n", 1);
            while (i < n && isspace((unsigned char)hay[i]))
                i++;
            continue;
        }
        size_t j = i;
        while (j < n && !isspace((unsigned char)hay[j]))
            j++;
        if (j > i) st = hy_tbuf_add(f, hay + i, j - i);
        int newlines = 0;
        i = j;
        while (i < n && isspace((unsigned char)hay[i]))
            newlines += hay[i++] == '\n';
        if (!st && i < n) st = hy_tbuf_add(f, newlines >= 2 ? "\n" : " ", 1);
    }
    if (!st && f->len < want)
        return hy_fail(HY_EINVAL, "tasks: params.haystack yields %zu bytes of text, expected %zu",
                       f->len, want);
    return st;
}

typedef struct {
    hy_tbuf text;
    hy_token *ids;
    int64_t n_ids;
    size_t *end; /* end[i]: bytes of text covered by the first i+1 tokens */
} filler;

static void filler_free(filler *f) {
    hy_tbuf_free(&f->text);
    free(f->ids);
    free(f->end);
}

/* At least want_tokens tokens of filler text, encoded once. */
static hy_status filler_make(const hy_task_params *p, hy_trng *r, int64_t want_tokens, filler *f) {
    size_t want = (size_t)want_tokens * 5 + 4096;
    hy_trng start = *r;
    hy_status st = HY_OK;
    for (int attempt = 0; attempt < 4; attempt++, want *= 2) {
        hy_trng rr = start;
        hy_tbuf_free(&f->text);
        free(f->ids), f->ids = NULL;
        st = filler_text(p->haystack, &rr, want, &f->text);
        if (!st) st = hy_tokenizer_encode(p->tok, f->text.p, f->text.len, 0, &f->ids, &f->n_ids);
        *r = rr;
        if (st || f->n_ids >= want_tokens) break;
    }
    if (st) return st;
    if (f->n_ids < want_tokens)
        return hy_fail(HY_EINVAL, "tasks: filler of %zu bytes has %lld tokens, expected >= %lld",
                       f->text.len, (long long)f->n_ids, (long long)want_tokens);
    f->end = malloc((size_t)f->n_ids * sizeof *f->end);
    if (!f->end) return hy_fail(HY_ENOMEM, "tasks: offsets of %lld tokens", (long long)f->n_ids);
    size_t at = 0;
    for (int64_t i = 0; i < f->n_ids; i++) {
        size_t len = 0;
        hy_tokenizer_token_bytes(p->tok, f->ids[i], 0, &len);
        at += len;
        f->end[i] = at < f->text.len ? at : f->text.len;
    }
    return HY_OK;
}

/* A sentence starts at q: after a newline, or after [.!?] (and a closing quote or bracket)
 * and a space, before an upper-case letter or a quote, unless the period ends a short word
 * or an abbreviation ("n.", "v.t.", "Mr."). */
static int sentence_start(const char *s, size_t len, size_t q) {
    if (q == 0 || q >= len) return 1;
    if (s[q - 1] == '\n') return 1;
    if (s[q - 1] != ' ' || q < 3) return 0;
    if (!isupper((unsigned char)s[q]) && s[q] != '"') return 0;
    size_t e = q - 2;
    if (s[e] == '"' || s[e] == ')' || s[e] == '\'') e--;
    if (s[e] != '.' && s[e] != '!' && s[e] != '?') return 0;
    if (s[e] != '.') return 1;
    size_t w = e;
    while (w > 0 && isalpha((unsigned char)s[w - 1]))
        w--;
    if (e - w < 3 || (w > 0 && s[w - 1] == '.')) return 0;
    static const char *const abbr[] = {"adj", "adv", "Mrs", "prep", "conj", "pron", "interj"};
    for (size_t a = 0; a < sizeof abbr / sizeof *abbr; a++)
        if (e - w == strlen(abbr[a]) && strncmp(s + w, abbr[a], e - w) == 0) return 0;
    return 1;
}

static int word_start(const char *s, size_t len, size_t q) {
    return q == 0 || q >= len ||
           (isspace((unsigned char)s[q - 1]) && !isspace((unsigned char)s[q]));
}

/* A clause starts at q: after ", ", "; ", ": " or "-- ". */
static int clause_start(const char *s, size_t len, size_t q) {
    if (q < 2 || q >= len || s[q - 1] != ' ' || isspace((unsigned char)s[q])) return 0;
    return s[q - 2] == ',' || s[q - 2] == ';' || s[q - 2] == ':' || s[q - 2] == '-';
}

/* The nearest place to q where kind(q) holds, at most radius away; (size_t)-1 if none. */
static size_t nearest(const char *s, size_t len, size_t q, size_t radius,
                      int (*kind)(const char *, size_t, size_t)) {
    for (size_t d = 0; d <= radius; d++) {
        if (d <= q && kind(s, len, q - d)) return q - d;
        if (q + d <= len && kind(s, len, q + d)) return q + d;
        if (d > q && q + d > len) break;
    }
    return (size_t)-1;
}

/* Where a needle asked at byte q goes: the nearest sentence start within radius, else the
 * nearest clause start within radius, else the nearest word start. */
static size_t snap(const char *s, size_t len, size_t q, size_t radius) {
    size_t c = nearest(s, len, q, radius, sentence_start);
    if (c == (size_t)-1) c = nearest(s, len, q, radius, clause_start);
    if (c == (size_t)-1) c = nearest(s, len, q, len, word_start);
    return c == (size_t)-1 ? q : c;
}

typedef struct {
    size_t at;
    int32_t i;
} place;

static int place_cmp(const void *a, const void *b) {
    const place *x = a, *y = b;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return x->i - y->i;
}

/* head + filler[0, cut) with the needles + tail. */
static hy_status assemble(const hy_task_layout *L, const char *text, size_t cut, place *pl,
                          hy_tbuf *b) {
    /* the first needle keeps its depth (within 4% of the filler); the others may move to
     * the nearest sentence start anywhere, as their places are random anyway */
    for (int32_t i = 0; i < L->n_ins; i++) {
        double a = L->at[i] < 0 ? 0 : L->at[i] > 1 ? 1 : L->at[i];
        pl[i].at = snap(text, cut, (size_t)(a * (double)cut + 0.5), i == 0 ? cut / 25 : cut);
        pl[i].i = i;
        if (L->after && L->after[i] >= 0 && pl[i].at < pl[L->after[i]].at)
            pl[i].at = pl[L->after[i]].at;
    }
    qsort(pl, (size_t)L->n_ins, sizeof *pl, place_cmp);
    b->len = 0;
    hy_status st = hy_tbuf_add(b, L->head, strlen(L->head));
    size_t prev = 0;
    for (int32_t k = 0; k < L->n_ins && !st; k++) {
        size_t q = pl[k].at;
        st = hy_tbuf_add(b, text + prev, q - prev);
        prev = q;
        /* the needle is a sentence of its own: a newline before a paragraph, else spaces */
        char before = q > 0 ? text[q - 1] : '\n';
        if (!st && !isspace((unsigned char)before)) st = hy_tbuf_add(b, " ", 1);
        if (!st) st = hy_tbuf_add(b, L->ins[pl[k].i], strlen(L->ins[pl[k].i]));
        if (!st && q < cut) st = hy_tbuf_add(b, before == '\n' ? "\n" : " ", 1);
    }
    if (!st) st = hy_tbuf_add(b, text + prev, cut - prev);
    if (!st) st = hy_tbuf_add(b, L->tail, strlen(L->tail));
    return st;
}

hy_status hy_task_fit(const hy_task_params *p, hy_trng *r, const hy_task_layout *L,
                      hy_task_sample *out) {
    const int64_t target = p->target_tokens;
    int64_t fixed = 0, n = 0;
    hy_status st = hy_task_count(p->tok, L->head, strlen(L->head), &n);
    fixed += n;
    if (!st) st = hy_task_count(p->tok, L->tail, strlen(L->tail), &n);
    fixed += n;
    for (int32_t i = 0; i < L->n_ins && !st; i++) {
        st = hy_task_count(p->tok, L->ins[i], strlen(L->ins[i]), &n);
        fixed += n + 1;
    }
    if (st) return st;
    const int64_t need = fixed + 64;
    if (target < need)
        return hy_fail(HY_ERANGE,
                       "params.target_tokens = %lld is too small: instruction, needles and "
                       "question take %lld tokens, so at least %lld are needed",
                       (long long)target, (long long)fixed, (long long)need);
    filler f = {0};
    place *pl = calloc((size_t)L->n_ins + 1, sizeof *pl);
    hy_tbuf b = {0};
    if (!pl) st = hy_fail(HY_ENOMEM, "tasks: %d needle places", L->n_ins);
    if (!st) st = filler_make(p, r, target - fixed + 256, &f);
    int64_t budget = target - fixed - 2, got = -1;
    const int64_t aim = target - (target / 200 > 1 ? target / 200 : 1);
    for (int iter = 0; iter < 8 && !st; iter++) {
        if (budget < 1) budget = 1;
        if (budget > f.n_ids) budget = f.n_ids;
        size_t cut = f.end[budget - 1];
        /* end on a whole word */
        while (cut > 0 && cut < f.text.len && !isspace((unsigned char)f.text.p[cut]))
            cut--;
        while (cut > 0 && isspace((unsigned char)f.text.p[cut - 1]))
            cut--;
        st = assemble(L, f.text.p, cut, pl, &b);
        if (!st) st = hy_task_count(p->tok, b.p, b.len, &got);
        if (st || (got <= target && got * 100 >= target * 97)) break;
        budget += aim - got;
    }
    if (!st && !(got <= target && got * 100 >= target * 97))
        st = hy_fail(HY_ERANGE,
                     "tasks: could not fit the prompt: %lld tokens for a target of "
                     "%lld",
                     (long long)got, (long long)target);
    if (!st) {
        out->prompt = hy_tbuf_take(&b);
        out->prompt_tokens = got;
        if (!out->prompt) st = HY_ENOMEM;
    }
    hy_tbuf_free(&b);
    filler_free(&f);
    free(pl);
    return st;
}
