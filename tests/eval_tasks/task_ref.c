/* The reference parser (task_ref.h): regexes over the prompt's haystack, independent of
 * eval/task_*.c. The haystack is what lies between the first blank line (end of the
 * instruction) and the last one (start of the question). */
#include "task_ref.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dupn(const char *s, size_t n) {
    char *d = malloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void add_answer(ref_result *r, const char *s, size_t n) {
    for (int i = 0; i < r->n_answers; i++)
        if (strlen(r->answers[i]) == n && strncmp(r->answers[i], s, n) == 0) return;
    r->answers = realloc(r->answers, (size_t)(r->n_answers + 1) * sizeof *r->answers);
    r->answers[r->n_answers++] = dupn(s, n);
}

static void add_needle(ref_result *r, size_t off, size_t len) {
    r->needles = realloc(r->needles, (size_t)(r->n_needles + 1) * sizeof *r->needles);
    r->needles[r->n_needles++] = (ref_span){off, len};
}

typedef struct {
    size_t off, len;
    char a[64], b[64]; /* captured groups */
    int has_b;
} match;

/* All matches of re in text (groups 1 and 2, or 1 and 3/4 for vt). */
static int scan(const char *re, const char *text, match **out, int vt) {
    regex_t rx;
    if (regcomp(&rx, re, REG_EXTENDED)) return -1;
    int n = 0;
    regmatch_t m[5];
    const char *p = text;
    *out = NULL;
    while (regexec(&rx, p, 5, m, p == text ? 0 : REG_NOTBOL) == 0) {
        *out = realloc(*out, (size_t)(n + 1) * sizeof **out);
        match *x = &(*out)[n++];
        memset(x, 0, sizeof *x);
        x->off = (size_t)(p - text) + (size_t)m[0].rm_so;
        x->len = (size_t)(m[0].rm_eo - m[0].rm_so);
        snprintf(x->a, sizeof x->a, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so);
        int g = vt ? (m[3].rm_so >= 0 ? 3 : 4) : 2;
        if (m[g].rm_so >= 0) {
            snprintf(x->b, sizeof x->b, "%.*s", (int)(m[g].rm_eo - m[g].rm_so), p + m[g].rm_so);
            x->has_b = vt ? g == 3 : 1;
        }
        p += m[0].rm_eo;
    }
    regfree(&rx);
    return n;
}

static int fail(ref_result *r, const char *msg) {
    snprintf(r->err, sizeof r->err, "%s", msg);
    return -1;
}

static int solve_needles(const char *kind, const char *hay, const char *question, ref_result *r) {
    match *m = NULL;
    if (strcmp(kind, "passkey") == 0) {
        int n = scan("The pass key is ([0-9]+)\\.", hay, &m, 0);
        for (int i = 0; i < n; i++) {
            add_needle(r, m[i].off, m[i].len);
            add_answer(r, m[i].a, strlen(m[i].a));
        }
        free(m);
        if (!strstr(question, "pass key")) return fail(r, "question does not ask for a pass key");
        return r->n_answers == 1 ? 0 : fail(r, "expected exactly one pass key");
    }
    /* the keys asked: "for a in the text", "for a and b in", "for a, b and c in" */
    const char *f = strstr(question, " for "), *e = strstr(question, " in the text above?");
    if (!f || !e || e < f) return fail(r, "question names no key");
    char keys[64][64];
    int nk = 0;
    for (const char *p = f + 5; p < e && nk < 64;) {
        const char *q = p;
        while (q < e && (isalpha((unsigned char)*q) || *q == '-'))
            q++;
        snprintf(keys[nk++], 64, "%.*s", (int)(q - p), p);
        if (strncmp(q, ", ", 2) == 0)
            q += 2;
        else if (strncmp(q, " and ", 5) == 0)
            q += 5;
        else if (q != e)
            return fail(r, "unexpected text in the question's key list");
        p = q;
    }
    int n = scan("The special number for ([a-z]+-[a-z]+) is ([0-9]+)\\.", hay, &m, 0);
    for (int i = 0; i < n; i++)
        add_needle(r, m[i].off, m[i].len);
    for (int k = 0; k < nk; k++) {
        int hits = 0;
        for (int i = 0; i < n; i++)
            if (strcmp(m[i].a, keys[k]) == 0) {
                add_answer(r, m[i].b, strlen(m[i].b));
                hits++;
            }
        if (!hits) {
            free(m);
            return fail(r, "an asked key has no needle");
        }
    }
    free(m);
    return 0;
}

static int solve_vt(const char *hay, const char *question, ref_result *r) {
    const char *v = strstr(question, "have the value ");
    if (!v) return fail(r, "question gives no value");
    char value[32];
    if (sscanf(v + 15, "%31[0-9]", value) != 1) return fail(r, "question's value is no number");
    match *m = NULL;
    int n = scan("VAR ([A-Z]{5}) = (VAR ([A-Z]{5})|([0-9]+))\\.", hay, &m, 1);
    char(*var)[64] = calloc((size_t)n + 1, sizeof *var), (*val)[64] = calloc((size_t)n + 1, 64);
    int nv = 0;
    r->in_order = 1;
    /* a few sweeps so that a statement read before its source was set still resolves; the
     * first sweep alone decides in_order */
    for (int sweep = 0; sweep < n + 1; sweep++)
        for (int i = 0; i < n; i++) {
            if (sweep == 0) add_needle(r, m[i].off, m[i].len);
            const char *src = m[i].b;
            if (m[i].has_b) {
                src = NULL;
                for (int j = 0; j < nv; j++)
                    if (strcmp(var[j], m[i].b) == 0) src = val[j];
                if (!src) {
                    if (sweep == 0) r->in_order = 0;
                    continue;
                }
            }
            int j = 0;
            while (j < nv && strcmp(var[j], m[i].a) != 0)
                j++;
            if (j == nv) nv++;
            snprintf(var[j], 64, "%s", m[i].a);
            snprintf(val[j], 64, "%s", src);
        }
    for (int j = 0; j < nv; j++)
        if (strcmp(val[j], value) == 0) add_answer(r, var[j], strlen(var[j]));
    free(m), free(var), free(val);
    return r->n_answers ? 0 : fail(r, "no variable holds the asked value");
}

typedef struct {
    char w[16];
    int c;
} wcount;

static int wcmp(const void *a, const void *b) {
    const wcount *x = a, *y = b;
    return y->c - x->c;
}

static int solve_fwe(const char *hay, ref_result *r) {
    wcount *t = NULL;
    int nt = 0;
    for (const char *p = hay; *p;) {
        while (*p == ' ')
            p++;
        const char *q = p;
        while (*q && *q != ' ')
            q++;
        if (q == p) break;
        if (q - p < 4 || q - p > 6) return fail(r, "a coded word is not 4 to 6 letters");
        for (const char *c = p; c < q; c++)
            if (*c < 'a' || *c > 'z') return fail(r, "a coded word has a non-letter");
        int i = 0;
        while (i < nt && !(strlen(t[i].w) == (size_t)(q - p) && strncmp(t[i].w, p, q - p) == 0))
            i++;
        if (i == nt) {
            wcount *grown = realloc(t, (size_t)(nt + 1) * sizeof *t);
            if (!grown) {
                free(t);
                return fail(r, "out of memory counting words");
            }
            t = grown;
            snprintf(t[nt].w, sizeof t[nt].w, "%.*s", (int)(q - p), p);
            t[nt++].c = 0;
        }
        t[i].c++;
        p = q;
    }
    if (nt < 4) {
        free(t);
        return fail(r, "fewer than 4 distinct coded words");
    }
    qsort(t, (size_t)nt, sizeof *t, wcmp);
    int ok = t[2].c > t[3].c;
    for (int i = 0; i < 3; i++)
        add_answer(r, t[i].w, strlen(t[i].w));
    free(t);
    return ok ? 0 : fail(r, "the third most frequent word ties with the fourth");
}

int ref_solve(const char *kind, const char *prompt, ref_result *r) {
    memset(r, 0, sizeof *r);
    const char *a = strstr(prompt, "\n\n");
    const char *b = NULL;
    for (const char *p = prompt; (p = strstr(p, "\n\n")); p++)
        b = p;
    if (!a || b <= a) return fail(r, "no instruction / haystack / question layout");
    char *hay = dupn(a + 2, (size_t)(b - a - 2));
    r->hay_len = strlen(hay);
    const char *question = b + 2;
    int rc;
    if (strcmp(kind, "vt") == 0)
        rc = solve_vt(hay, question, r);
    else if (strcmp(kind, "fwe") == 0)
        rc = solve_fwe(hay, r);
    else
        rc = solve_needles(kind, hay, question, r);
    free(hay);
    return rc;
}

void ref_free(ref_result *r) {
    for (int i = 0; i < r->n_answers; i++)
        free(r->answers[i]);
    free(r->answers);
    free(r->needles);
    memset(r, 0, sizeof *r);
}

double ref_depth(const ref_result *r, int k) {
    size_t before = 0, all = 0;
    for (int i = 0; i < r->n_needles; i++) {
        all += r->needles[i].len + 1; /* the needle and the separator after it */
        if (r->needles[i].off < r->needles[k].off) before += r->needles[i].len + 1;
    }
    size_t rest = r->hay_len > all ? r->hay_len - all : 1;
    return (double)(r->needles[k].off - before) / (double)rest;
}

int ref_find_needle(const ref_result *r, const char *prompt, const char *word) {
    const char *hay = strstr(prompt, "\n\n") + 2;
    size_t n = strlen(word);
    for (int i = 0; i < r->n_needles; i++) {
        const char *s = hay + r->needles[i].off, *end = s + r->needles[i].len;
        for (const char *p = s; p + n <= end; p++)
            if (strncmp(p, word, n) == 0 && (p == s || !isalnum((unsigned char)p[-1])) &&
                (p + n == end || !isalnum((unsigned char)p[n])))
                return i;
    }
    return -1;
}
