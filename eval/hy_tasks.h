/* eval/tasks: long-context tasks in the spirit of RULER, generated offline by our code from a
 * seed: single needle (passkey, key-value number), multi-key, multi-value, multi-query,
 * variable tracking, frequent-word extraction. Each sample is a prompt (instruction,
 * haystack of filler text with the needles at the asked depth, question), the text the
 * answer starts with, and the expected answers, plus the reference scorer. Same (task,
 * params, seed, index) -> byte-identical sample. Task definitions: docs/eval.md. */
#ifndef HY_TASKS_H
#define HY_TASKS_H

#include "hy_common.h"
#include "hy_tokenizer.h"

#include <stdint.h>

typedef enum {
    HY_TASK_PASSKEY = 0, /* "passkey": one 5-digit passkey hidden in filler text */
    HY_TASK_NIAH,        /* "niah": one "special magic number for <key> is <7 digits>" */
    HY_TASK_MULTIKEY,    /* "multikey": n_keys needles with different keys, ask one */
    HY_TASK_MULTIVALUE,  /* "multivalue": n_values numbers for the same key, ask all */
    HY_TASK_MULTIQUERY,  /* "multiquery": n_keys needles, ask n_queries of them */
    HY_TASK_VT,          /* "vt": variable tracking, chains of assignments VAR X = VAR Y */
    HY_TASK_FWE,         /* "fwe": the 3 most frequent words in a list of coded words */
    HY_TASK_GEN_COUNT
} hy_task_kind;

const char *hy_task_name(hy_task_kind k);
/* "passkey", "niah", ...; HY_EINVAL listing the known names otherwise. */
hy_status hy_task_parse(const char *name, hy_task_kind *out);

typedef struct {
    int64_t target_tokens; /* length of `prompt` in tokens; the sample is within 3% below it
                              (never above) */
    double depth;          /* 0..1: where the asked needle sits, as a fraction of the filler
                              text (moved to the nearest sentence start within 4%); the other
                              needles go to random sentence starts; < 0: drawn uniformly per
                              sample from the seed */
    uint64_t seed;
    int64_t index;           /* sample number: (seed, index) fixes the sample */
    const char *haystack;    /* filler text (public-domain prose), NUL-terminated, >= 64 KiB;
                                the filler starts at a seeded paragraph, whitespace runs become
                                one space (a blank line one newline), and it wraps around */
    const hy_tokenizer *tok; /* counts tokens (the model's tokenizer) */
    int32_t n_keys;          /* multikey / multiquery: needles (default 4 when 0; 1..64) */
    int32_t n_values;        /* multivalue: values for the one key (default 4 when 0; 1..64) */
    int32_t n_queries;       /* multiquery: keys asked (default 2 when 0; 1..n_keys) */
    int32_t vt_chains;       /* vt: chains (default 1; 1..16); only chain 0 is asked */
    int32_t vt_hops;         /* vt: copies after a chain's "VAR X = number" (default 4; 1..32),
                                so the answer names vt_hops + 1 variables */
} hy_task_params;

typedef struct {
    hy_task_kind kind;
    char *prompt;        /* the user turn: instruction, context, question */
    char *answer_prefix; /* what the assistant's reply starts with ("The passkey is") */
    int32_t n_answers;
    char **answers;         /* expected strings (numbers, variable names or words) */
    int32_t max_new_tokens; /* enough for every answer plus separators; like the answers it
                               does not depend on target_tokens, so a caller may regenerate
                               with target_tokens - max_new_tokens and keep both */
    int64_t prompt_tokens;  /* tokens of prompt (counted with params->tok) */
} hy_task_sample;

/* Fills *out (zeroed first; on failure left empty). HY_ERANGE for target_tokens outside
 * 256..131072 or below what the task needs (the message names the minimum), or a count
 * parameter out of range; HY_EINVAL for a missing tokenizer or a short haystack. */
hy_status hy_task_generate(hy_task_kind kind, const hy_task_params *p, hy_task_sample *out);
void hy_task_sample_free(hy_task_sample *s);

/* Reference scorer (RULER's string match): the fraction of s->answers that occur in output
 * as whole tokens (not inside a longer number or word), case-insensitive. In [0, 1]. */
double hy_task_score(const hy_task_sample *s, const char *output);

#endif
