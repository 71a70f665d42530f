/* End-to-end reference data: reads tests/fixtures/model/reference.json (written by
 * scripts/fixtures/model_reference.py from llama.cpp) and its float32 logits, and compares
 * logits rows with the tolerances justified in docs/accuracy.md. Test-only code. */
#ifndef E2E_REFERENCE_H
#define E2E_REFERENCE_H

#include "hy_common.h"

#include <stdint.h>

/* Tolerances against the fp32 llama.cpp reference (docs/accuracy.md, "Tolerances"): 13-14x
 * the largest difference measured between two correct fp32 implementations (7.6e-5 and
 * 3.6e-6), below what even a 10x error in rms_norm eps produces (4.2e-3, 1.1e-4), and 4 to 5
 * orders of magnitude below a RoPE layout, RoPE base or GQA mapping bug. */
#define E2E_MAX_ABS_DIFF 1e-3
#define E2E_MAX_REL_L2 5e-5

#define E2E_MAX_PROMPTS 8

typedef struct {
    char name[32];
    int32_t *ids; /* prompt token ids */
    int64_t n_ids;
    int n_pos;
    int64_t *positions; /* prompt positions whose logits were recorded, ascending */
    float *logits;      /* [n_pos][n_vocab] */
    int32_t *top1;      /* reference argmax at each recorded position */
    int32_t *greedy;    /* greedy continuation after the whole prompt */
    int n_greedy;
    float *greedy_margin; /* reference top-1 minus top-2 logit per greedy step, or NULL */
} e2e_prompt;

typedef struct {
    int n_vocab;
    char model_sha256[65]; /* of the Q4_1 file the references were made from */
    int n_prompts;
    e2e_prompt prompts[E2E_MAX_PROMPTS];
} e2e_reference;

/* Loads variant "f32" or "q4_1" from <root>/tests/fixtures/model/. root is $HY_SOURCE_ROOT
 * or "." when NULL. Errors go through hy_fail (file, field, value found vs expected). */
hy_status e2e_reference_load(const char *root, const char *variant, e2e_reference *out);
void e2e_reference_free(e2e_reference *r);
const e2e_prompt *e2e_reference_prompt(const e2e_reference *r, const char *name);

/* Differences of one logits row against its reference. */
typedef struct {
    double max_abs;   /* max_i |got_i - ref_i| */
    double rel_l2;    /* ||got - ref||_2 / ||ref||_2 */
    int32_t top1_got; /* argmax, lowest index on ties */
    int32_t top1_ref;
} e2e_diff;

e2e_diff e2e_compare(const float *got, const float *ref, int n);
/* True when d is within E2E_MAX_ABS_DIFF and E2E_MAX_REL_L2 and the argmax agrees. */
int e2e_diff_ok(const e2e_diff *d);
int32_t e2e_argmax(const float *v, int n);

#endif
