/* Reference parser for the generated tasks, written apart from the generators: it reads only
 * the prompt text (POSIX regexes and plain counting) and recovers the answers a perfect
 * reader would give, plus where the needle sentences are in the haystack. */
#ifndef TASK_REF_H
#define TASK_REF_H

#include <stddef.h>

typedef struct {
    size_t off, len; /* bytes, relative to the haystack (between instruction and question) */
} ref_span;

typedef struct {
    char **answers;
    int n_answers;
    ref_span *needles; /* every needle / assignment sentence found, in text order */
    int n_needles;
    size_t hay_len;
    int in_order; /* vt: every variable was assigned before it was read */
    char err[256];
} ref_result;

/* kind: hy_task_name(). Returns 0 on success, -1 with r->err set. */
int ref_solve(const char *kind, const char *prompt, ref_result *r);
void ref_free(ref_result *r);
/* Depth of needle k as a fraction of the haystack with the needle sentences taken out. */
double ref_depth(const ref_result *r, int k);
/* Index of the needle whose text contains `word` bounded by non-alphanumerics, or -1. */
int ref_find_needle(const ref_result *r, const char *prompt, const char *word);

#endif
