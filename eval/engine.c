/* eval/engine: the driver of `hylra eval`. Every method is one sequence of a shared context
 * (sequence 0 is dense, the reference); each sample is prefilled once on sequence 0, copied
 * to the others, and all sequences decode in lockstep batches, so a method costs only its
 * decode steps and the weights are read once per step for all of them. */
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hy_eval_opts_default(hy_eval_opts *o) {
    *o = (hy_eval_opts){.ctx = 2048,
                        .n_docs = 4,
                        .tf_tokens = 64,
                        .n_samples = 4,
                        .seed = 0,
                        .depth = -1.0,
                        .text = NULL,
                        .text_source = "",
                        .n_tasks = 0,
                        .progress = true};
}

static int is_lm_task(const char *t) {
    return !strcmp(t, "agree") || !strcmp(t, "ppl");
}

static hy_status check_args(const hy_model *m, const hy_eval_method *methods, int32_t nm,
                            const hy_eval_opts *o) {
    const hy_model_info *mi = hy_model_info_borrow(m);
    if (nm < 1 || nm > 64) return hy_fail(HY_ERANGE, "eval: %d methods, expected 1..64", nm);
    if (methods[0].plan)
        return hy_fail(HY_EINVAL,
                       "eval: method 0 (%s) must be dense (no plan): it is the "
                       "reference",
                       methods[0].name);
    if (o->ctx < 64 || o->ctx > mi->n_ctx_train)
        return hy_fail(HY_ERANGE, "eval: ctx %lld, expected 64..%d (the model's context length)",
                       (long long)o->ctx, mi->n_ctx_train);
    if (!o->text || !o->text[0]) return hy_fail(HY_EINVAL, "eval: no text for documents/haystack");
    if (o->n_tasks < 1 || o->n_tasks > HY_EVAL_MAX_TASKS)
        return hy_fail(HY_EINVAL, "eval: %d tasks, expected 1..%d", o->n_tasks, HY_EVAL_MAX_TASKS);
    for (int32_t t = 0; t < o->n_tasks; t++) {
        hy_task_kind k;
        if (!is_lm_task(o->tasks[t]) && hy_task_parse(o->tasks[t], &k))
            return hy_fail_ctx(HY_EINVAL, "eval: task %d", t);
    }
    for (int32_t i = 0; i < nm; i++) {
        if (!methods[i].plan) continue;
        hy_status st = hy_plan_check_model(methods[i].plan, mi->sha256, mi->n_layers, mi->n_heads,
                                           mi->n_kv_heads, mi->head_dim);
        if (!st) st = hy_plan_check_context(methods[i].plan, o->ctx);
        if (st) return hy_fail_ctx(st, "eval: method %s", methods[i].name);
    }
    int lm = 0;
    for (int32_t t = 0; t < o->n_tasks; t++)
        lm |= is_lm_task(o->tasks[t]);
    if (lm && (o->tf_tokens < 1 || o->tf_tokens >= o->ctx / 2))
        return hy_fail(HY_ERANGE,
                       "eval: %d teacher-forced steps (--tf) at ctx %lld, expected "
                       "1..%lld (under half the context)",
                       o->tf_tokens, (long long)o->ctx, (long long)(o->ctx / 2 - 1));
    if (o->n_docs < 1 || o->n_samples < 1)
        return hy_fail(HY_ERANGE, "eval: n_docs %d, n_samples %d, expected >= 1", o->n_docs,
                       o->n_samples);
    return HY_OK;
}

hy_status hy_eval_bank_counters(hy_eval_state *s) {
    for (int32_t i = 0; i < s->nm; i++) {
        hy_attn_counters ac;
        hy_status st = hy_ctx_attn_counters(s->c, i, &ac);
        if (st) return st;
        s->kv_tok[i] += i ? ac.kv_tokens : 0.0;
        s->kv_dense[i] += i ? ac.kv_tokens_dense : 0.0;
    }
    return HY_OK;
}

hy_status hy_eval_prefill_all(hy_eval_state *s, const int32_t *ids, int64_t n) {
    hy_status st = hy_eval_bank_counters(s);
    for (int32_t i = 0; i < s->nm && !st; i++)
        hy_ctx_seq_reset(s->c, i);
    if (!st) st = hy_forward(s->c, 0, ids, n, NULL, 0);
    for (int32_t i = 1; i < s->nm && !st; i++)
        st = hy_ctx_seq_copy(s->c, i, 0);
    if (!st && s->o->progress) hy_progress_update(&s->prog, s->prog_done += n);
    return st;
}

static hy_status alloc_task(hy_eval_task_result *r, const char *name, int32_t nm, int32_t n, int kl,
                            int out) {
    snprintf(r->task, sizeof r->task, "%s", name);
    r->n = n;
    r->score = hy_calloc((size_t)nm * n, sizeof(double), "eval scores");
    if (kl) r->kl = hy_calloc((size_t)nm * n, sizeof(double), "eval KL");
    if (out) r->output = hy_calloc((size_t)nm * n, sizeof(char *), "eval outputs");
    return r->score && (!kl || r->kl) && (!out || r->output) ? HY_OK : HY_ENOMEM;
}

void hy_eval_result_free(hy_eval_result *r) {
    if (!r) return;
    for (int32_t t = 0; t < r->n_tasks; t++) {
        hy_eval_task_result *x = &r->tasks[t];
        if (x->output)
            for (int64_t i = 0; i < (int64_t)r->n_methods * x->n; i++)
                free(x->output[i]);
        free(x->score), free(x->kl), free(x->output);
    }
    free(r->tasks), free(r->methods), free(r->kv_frac);
    free(r);
}

hy_status hy_eval_run(const hy_model *m, const hy_tokenizer *tok, const hy_eval_method *methods,
                      int32_t nm, const hy_eval_opts *o, hy_eval_result **out) {
    if (!m || !tok || !methods || !o || !out) return hy_fail(HY_EINVAL, "eval: NULL argument");
    *out = NULL;
    hy_status st = check_args(m, methods, nm, o);
    if (st) return st;
    const double t0 = hy_now();
    hy_eval_result *r = hy_calloc(1, sizeof *r, "eval result");
    hy_eval_state s = {.m = m, .tok = tok, .o = o, .nm = nm};
    if (!r) return HY_ENOMEM;
    r->ctx = o->ctx, r->n_methods = nm, r->seed = o->seed;
    snprintf(r->text_source, sizeof r->text_source, "%s", o->text_source ? o->text_source : "");
    r->methods = hy_malloc((size_t)nm * sizeof *r->methods, "eval methods");
    r->tasks = hy_calloc((size_t)o->n_tasks, sizeof *r->tasks, "eval tasks");
    r->kv_frac = hy_malloc((size_t)nm * sizeof(double), "eval kv fractions");
    s.n_vocab = hy_model_info_borrow(m)->n_vocab;
    s.seqs = hy_malloc((size_t)nm * sizeof(int), "eval sequences");
    s.batch = hy_malloc((size_t)nm * sizeof(int32_t), "eval batch");
    s.logits = hy_malloc((size_t)nm * (size_t)s.n_vocab * sizeof(float), "eval logits");
    s.kv_tok = hy_calloc((size_t)nm, sizeof(double), "eval counters");
    s.kv_dense = hy_calloc((size_t)nm, sizeof(double), "eval counters");
    if (!r->methods || !r->tasks || !r->kv_frac || !s.seqs || !s.batch || !s.logits || !s.kv_tok ||
        !s.kv_dense)
        st = HY_ENOMEM;
    if (!st) {
        memcpy(r->methods, methods, (size_t)nm * sizeof *methods);
        for (int32_t i = 0; i < nm; i++)
            s.seqs[i] = i;
        st = hy_ctx_create_on(m, o->device, o->ctx, nm, &s.c);
    }
    for (int32_t i = 1; i < nm && !st; i++) {
        st = hy_ctx_set_plan(s.c, i, methods[i].plan);
        if (st) st = hy_fail_ctx(st, "eval: method %s", methods[i].name);
    }
    /* agree and ppl share one teacher-forced pass */
    int32_t i_agree = -1, i_ppl = -1;
    int64_t work = 0;
    for (int32_t t = 0; t < o->n_tasks; t++) {
        if (!strcmp(o->tasks[t], "agree"))
            i_agree = t;
        else if (!strcmp(o->tasks[t], "ppl"))
            i_ppl = t;
        else
            work += hy_eval_gen_work(o, nm);
    }
    if (i_agree >= 0 || i_ppl >= 0) work += hy_eval_lm_work(o, nm);
    r->n_tasks = o->n_tasks;
    for (int32_t t = 0; t < o->n_tasks && !st; t++) {
        const int lm = is_lm_task(o->tasks[t]);
        st = alloc_task(&r->tasks[t], o->tasks[t], nm, lm ? o->n_docs : o->n_samples, t == i_agree,
                        !lm);
    }
    if (!st && o->progress) hy_progress_begin(&s.prog, "eval", work, "tok");
    if (!st && (i_agree >= 0 || i_ppl >= 0))
        st = hy_eval_lm(&s, i_agree >= 0 ? &r->tasks[i_agree] : NULL,
                        i_ppl >= 0 ? &r->tasks[i_ppl] : NULL);
    for (int32_t t = 0; t < o->n_tasks && !st; t++) {
        if (is_lm_task(o->tasks[t])) continue;
        hy_task_kind kind;
        st = hy_task_parse(o->tasks[t], &kind);
        if (!st) st = hy_eval_gen(&s, kind, &r->tasks[t]);
    }
    if (!st) st = hy_eval_bank_counters(&s);
    if (!st && o->progress) hy_progress_end(&s.prog, s.prog_done);
    for (int32_t i = 0; i < nm && !st; i++)
        r->kv_frac[i] = i == 0 ? 1.0 : s.kv_dense[i] > 0 ? s.kv_tok[i] / s.kv_dense[i] : NAN;
    r->seconds = hy_now() - t0;
    hy_ctx_free(s.c);
    free(s.seqs), free(s.batch), free(s.logits), free(s.kv_tok), free(s.kv_dense);
    if (st) {
        hy_eval_result_free(r);
        return st;
    }
    *out = r;
    return HY_OK;
}
