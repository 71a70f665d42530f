/* eval/task_internal: what the task generators share and the public header does not show:
 * the counter-based RNG (splitmix64), a growable string, token counting, and the haystack
 * fitter that places needle sentences at sentence boundaries of the filler and cuts the
 * filler so that the whole prompt lands in [0.97, 1] x target_tokens. */
#ifndef HY_TASK_INTERNAL_H
#define HY_TASK_INTERNAL_H

#include "hy_tasks.h"

#include <stdarg.h>
#include <stddef.h>

/* splitmix64 (Steele, Lea, Flood 2014): a 64-bit counter through a mixing function, so a
 * sample's stream depends only on (seed, index, kind) and never on other samples. */
typedef struct {
    uint64_t s;
} hy_trng;
hy_trng hy_trng_make(uint64_t seed, int64_t index, hy_task_kind kind);
uint64_t hy_trng_next(hy_trng *r);
/* Uniform in [0, n) (multiply-shift; bias below 2^-40 for the n used here). */
uint64_t hy_trng_below(hy_trng *r, uint64_t n);
/* Uniform in [0, 1). */
double hy_trng_unit(hy_trng *r);

typedef struct {
    char *p;
    size_t len, cap;
} hy_tbuf;
hy_status hy_tbuf_add(hy_tbuf *b, const char *s, size_t n);
hy_status hy_tbuf_fmt(hy_tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the (NUL-terminated, never NULL on success) string to the caller. */
char *hy_tbuf_take(hy_tbuf *b);
void hy_tbuf_free(hy_tbuf *b);

hy_status hy_task_count(const hy_tokenizer *t, const char *s, size_t n, int64_t *out);

/* A prompt made of head + filler (with the needles inserted) + tail. at[i] in [0, 1] is
 * where needle i goes, as a fraction of the filler's bytes. Needle 0 (the one asked about)
 * moves to the nearest sentence start within 4% of the filler, else the nearest clause or
 * word start; the others move to the nearest sentence start. Needles that land on the same
 * place keep their order in ins[]; after[i] >= 0 (with after[i] < i) keeps needle i at or
 * behind needle after[i] (a chain's statements stay in order); after may be NULL. */
typedef struct {
    const char *head, *tail;
    int32_t n_ins;
    char *const *ins;
    const double *at;
    const int32_t *after;
} hy_task_layout;

/* Fills out->prompt and out->prompt_tokens; r chooses where in the haystack the filler
 * starts. Fails with HY_ERANGE naming the minimum when target_tokens is too small for the
 * fixed text plus 64 tokens of filler. */
hy_status hy_task_fit(const hy_task_params *p, hy_trng *r, const hy_task_layout *L,
                      hy_task_sample *out);

/* Sets out->answers (copies) and max_new_tokens = tokens of the answers joined by ", "
 * plus a margin for the model's wording. */
hy_status hy_task_set_answers(const hy_task_params *p, hy_task_sample *out, int32_t n,
                              char *const *answers);

/* Per-kind generators (task_needle.c, task_vt.c, task_fwe.c). p is already validated and
 * its defaults filled in; out is zeroed; on failure the caller frees out. */
hy_status hy_task_gen_needle(hy_task_kind kind, const hy_task_params *p, hy_task_sample *out);
hy_status hy_task_gen_vt(const hy_task_params *p, hy_task_sample *out);
hy_status hy_task_gen_fwe(const hy_task_params *p, hy_task_sample *out);

#endif
