/* Private to the eval engine: the state shared by the driver (engine.c), the teacher-forced
 * language-model pass (engine_lm.c) and the generated tasks (engine_gen.c). */
#ifndef HY_EVAL_ENGINE_H
#define HY_EVAL_ENGINE_H

#include "hy_eval.h"

typedef struct {
    const hy_model *m;
    const hy_tokenizer *tok;
    const hy_eval_opts *o;
    hy_ctx *c;
    int32_t nm;     /* methods = sequences; 0 is dense */
    int *seqs;      /* 0..nm-1 */
    int32_t *batch; /* [nm] tokens of one lockstep step */
    float *logits;  /* [nm][n_vocab] */
    int64_t n_vocab;
    double *kv_tok, *kv_dense; /* [nm] accumulated attention counters */
    hy_progress prog;
    int64_t prog_done;
} hy_eval_state;

/* Prefills ids on sequence 0 (dense), copies its cache to every method's sequence (banking
 * the counters of the previous sample first). */
hy_status hy_eval_prefill_all(hy_eval_state *s, const int32_t *ids, int64_t n);
/* Adds each sequence's attention counters to the totals (before they are reset). */
hy_status hy_eval_bank_counters(hy_eval_state *s);

/* agree and/or ppl (either result may be NULL): n_docs documents of the text. */
hy_status hy_eval_lm(hy_eval_state *s, hy_eval_task_result *agree, hy_eval_task_result *ppl);
/* One generated task, n_samples samples. */
hy_status hy_eval_gen(hy_eval_state *s, hy_task_kind kind, hy_eval_task_result *r);

/* Work units for the progress line: tokens prefilled plus tokens decoded (all methods). */
int64_t hy_eval_lm_work(const hy_eval_opts *o, int32_t nm);
int64_t hy_eval_gen_work(const hy_eval_opts *o, int32_t nm);

#endif
