/* eval/engine_gen: the generated long-context tasks (hy_tasks.h). Each sample's prompt is
 * rendered with the model's chat template, the answer prefix appended; all but the last
 * prompt token are prefilled (dense), the last one is every method's first decode step, and
 * each method then decodes greedily in lockstep until end of generation or max_new_tokens.
 * The decoded text is scored by the task's reference scorer. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* Provisional room for the chat template and answer prefix (measured per sample), and the
 * tokens left for merges across the prompt's boundaries. */
#define HY_EVAL_TEMPLATE_RESERVE 96
#define HY_EVAL_TOKEN_SLACK 4

int64_t hy_eval_gen_work(const hy_eval_opts *o, int32_t nm) {
    return (int64_t)o->n_samples * (o->ctx + 16 * (int64_t)nm);
}

static int64_t argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

static hy_status render(hy_eval_state *s, const hy_task_sample *ts, hy_token **ids, int64_t *n) {
    const hy_chat_msg msg = {"user", ts->prompt};
    char *chat = NULL;
    hy_status st = hy_chat_render(s->tok, &msg, 1, true, &chat);
    if (st) return st;
    const size_t lc = strlen(chat), la = strlen(ts->answer_prefix);
    char *full = hy_malloc(lc + la + 1, "rendered prompt");
    if (!full) {
        free(chat);
        return HY_ENOMEM;
    }
    memcpy(full, chat, lc);
    memcpy(full + lc, ts->answer_prefix, la + 1);
    st = hy_tokenizer_encode(s->tok, full, lc + la, HY_TOK_PARSE_SPECIAL, ids, n);
    free(chat), free(full);
    return st;
}

/* Greedy lockstep decode of every method from the sample's last prompt token. */
static hy_status decode_all(hy_eval_state *s, hy_token last, int32_t max_new, hy_token *gen,
                            int32_t *n_gen) {
    const int64_t V = s->n_vocab;
    int active[64], n_active = (int)s->nm;
    hy_token next[64];
    for (int32_t m = 0; m < s->nm; m++)
        active[m] = m, next[m] = last, n_gen[m] = 0;
    hy_status st = HY_OK;
    for (int32_t step = 0; step < max_new && n_active > 0 && !st; step++) {
        for (int i = 0; i < n_active; i++)
            s->batch[i] = next[active[i]];
        st = hy_forward_batch(s->c, active, s->batch, n_active, s->logits);
        int kept = 0;
        for (int i = 0; i < n_active && !st; i++) {
            const int m = active[i];
            const hy_token t = (hy_token)argmax(s->logits + (int64_t)i * V, V);
            if (hy_tokenizer_is_eog(s->tok, t)) continue;
            gen[(int64_t)m * max_new + n_gen[m]++] = t;
            next[m] = t;
            if (n_gen[m] < max_new) active[kept++] = m;
        }
        if (s->o->progress) hy_progress_update(&s->prog, s->prog_done += n_active);
        n_active = kept;
    }
    return st;
}

hy_status hy_eval_gen(hy_eval_state *s, hy_task_kind kind, hy_eval_task_result *r) {
    const hy_eval_opts *o = s->o;
    hy_status st = HY_OK;
    for (int32_t i = 0; i < o->n_samples && !st; i++) {
        hy_task_params tp = {.target_tokens = o->ctx - HY_EVAL_TEMPLATE_RESERVE,
                             .depth = o->depth,
                             .seed = o->seed,
                             .index = i,
                             .haystack = o->text,
                             .tok = s->tok};
        hy_task_sample ts = {0};
        hy_token *ids = NULL, *gen = NULL;
        int64_t n = 0;
        int32_t n_gen[64];
        /* first pass measures what the chat template and answer prefix add; the second
         * sizes the haystack so prompt + template + answer fit ctx exactly */
        st = hy_task_generate(kind, &tp, &ts);
        if (!st) st = render(s, &ts, &ids, &n);
        if (!st) {
            const int64_t overhead = n - ts.prompt_tokens + HY_EVAL_TOKEN_SLACK;
            tp.target_tokens = o->ctx - ts.max_new_tokens - overhead;
            hy_task_sample_free(&ts);
            free(ids);
            ids = NULL;
            st = hy_task_generate(kind, &tp, &ts);
        }
        if (!st) st = render(s, &ts, &ids, &n);
        if (!st && n + ts.max_new_tokens > o->ctx)
            st = hy_fail(HY_ERANGE,
                         "eval: %s sample %d: %lld prompt tokens + %d to generate "
                         "exceed ctx %lld",
                         hy_task_name(kind), i, (long long)n, ts.max_new_tokens, (long long)o->ctx);
        if (!st) st = hy_eval_prefill_all(s, ids, n - 1);
        if (!st) {
            gen = hy_malloc((size_t)s->nm * (size_t)ts.max_new_tokens * sizeof *gen,
                            "generated tokens");
            st = gen ? decode_all(s, ids[n - 1], ts.max_new_tokens, gen, n_gen) : HY_ENOMEM;
        }
        for (int32_t m = 0; m < s->nm && !st; m++) {
            char *text = NULL;
            size_t len = 0;
            st = hy_tokenizer_decode(s->tok, gen + (int64_t)m * ts.max_new_tokens, n_gen[m], 0,
                                     &text, &len);
            if (st) break;
            r->score[m * r->n + i] = hy_task_score(&ts, text);
            r->output[m * r->n + i] = text;
        }
        if (st) st = hy_fail_ctx(st, "eval: task %s sample %d", hy_task_name(kind), i);
        free(ids), free(gen);
        hy_task_sample_free(&ts);
    }
    return st;
}
