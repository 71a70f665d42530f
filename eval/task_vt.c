/* eval/task_vt: variable tracking (after RULER's vt, arXiv 2404.06654). Each chain starts
 * with "VAR ABCDE = 12345." and continues with vt_hops copies "VAR FGHIJ = VAR ABCDE.", in
 * text order; the question gives chain 0's value and asks for every variable holding it
 * (vt_hops + 1 names). Chain 0's first statement sits at params.depth and its copies at
 * random places after it; the other chains (distractors, other values) start at random. */
#include "task_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dcmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

hy_status hy_task_gen_vt(const hy_task_params *p, hy_task_sample *out) {
    hy_trng r = hy_trng_make(p->seed, p->index, HY_TASK_VT);
    const int32_t nc = p->vt_chains, len = p->vt_hops + 1, n = nc * len;
    char(*names)[8] = calloc((size_t)n, sizeof *names);
    char(*vals)[16] = calloc((size_t)nc, sizeof *vals);
    char **ins = calloc((size_t)n, sizeof *ins);
    char **ans = calloc((size_t)len, sizeof *ans);
    double *at = calloc((size_t)n, sizeof *at);
    int32_t *after = calloc((size_t)n, sizeof *after);
    hy_tbuf tail = {0}, prefix = {0};
    hy_status st = HY_OK;
    if (!names || !vals || !ins || !ans || !at || !after)
        st = hy_fail(HY_ENOMEM, "tasks: %d statements", n);
    for (int32_t i = 0; i < n && !st; i++) {
        int dup;
        do { /* five upper-case letters, distinct within the sample */
            for (int c = 0; c < 5; c++)
                names[i][c] = (char)('A' + hy_trng_below(&r, 26));
            names[i][5] = 0;
            dup = 0;
            for (int32_t j = 0; j < i; j++)
                dup |= strcmp(names[i], names[j]) == 0;
        } while (dup);
    }
    for (int32_t c = 0; c < nc && !st; c++) {
        int dup;
        do {
            snprintf(vals[c], sizeof vals[c], "%d", 10000 + (int)hy_trng_below(&r, 90000));
            dup = 0;
            for (int32_t j = 0; j < c; j++)
                dup |= strcmp(vals[c], vals[j]) == 0;
        } while (dup);
    }
    /* statement (c, h) is ins[c * len + h]; names[c * len + h] is the variable it assigns */
    for (int32_t c = 0; c < nc && !st; c++)
        for (int32_t h = 0; h < len && !st; h++) {
            hy_tbuf b = {0};
            const char *lhs = names[c * len + h];
            st = h == 0 ? hy_tbuf_fmt(&b, "VAR %s = %s.", lhs, vals[c])
                        : hy_tbuf_fmt(&b, "VAR %s = VAR %s.", lhs, names[c * len + h - 1]);
            ins[c * len + h] = hy_tbuf_take(&b);
            if (!st && !ins[c * len + h]) st = HY_ENOMEM;
        }
    for (int32_t c = 0; c < nc && !st; c++) {
        double start = c == 0 ? (p->depth < 0 ? hy_trng_unit(&r) : p->depth) : hy_trng_unit(&r);
        double *a = at + (size_t)c * (size_t)len;
        a[0] = start;
        for (int32_t h = 0; h < len; h++)
            after[c * len + h] = h ? c * len + h - 1 : -1;
        for (int32_t h = 1; h < len; h++)
            a[h] = start + (1.0 - start) * hy_trng_unit(&r);
        qsort(a + 1, (size_t)len - 1, sizeof *a, dcmp);
    }
    for (int32_t h = 0; h < len; h++)
        ans[h] = names[h];
    if (!st)
        st =
            hy_tbuf_fmt(&tail, "\n\nWhich variables have the value %s in the text above?", vals[0]);
    if (!st) st = hy_tbuf_fmt(&prefix, "The %d variables with the value %s are:", len, vals[0]);
    if (!st) st = hy_task_set_answers(p, out, len, ans);
    if (!st) {
        out->answer_prefix = hy_tbuf_take(&prefix);
        if (!out->answer_prefix) st = HY_ENOMEM;
    }
    if (!st) {
        hy_task_layout L = {.head = "Lines like \"VAR NAME = number.\" or \"VAR NAME = VAR "
                                    "OTHER.\" are hidden in the long text below. Follow the "
                                    "assignments: a variable set to another variable takes its "
                                    "value.\n\n",
                            .tail = tail.p,
                            .n_ins = n,
                            .ins = ins,
                            .at = at,
                            .after = after};
        st = hy_task_fit(p, &r, &L, out);
    }
    for (int32_t i = 0; ins && i < n; i++)
        free(ins[i]);
    free(names), free(vals), free(ins), free(ans), free(at), free(after);
    hy_tbuf_free(&tail), hy_tbuf_free(&prefix);
    return st;
}
