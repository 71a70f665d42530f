/* End-to-end accuracy of the CPU runtime on the real model against llama.cpp's fp32 forward
 * pass (tests/fixtures/model, scripts/fixtures/model_reference.py): logits at the recorded
 * positions within the tolerances of docs/accuracy.md, the same top-1 everywhere, and the same
 * 32-token greedy continuation; through one-batch prefill, chunked prefill and pure decode. */
#include "e2e_reference.h"
#include "hy_runtime.h"
#include "hy_test.h"

static hy_model *g_model;
static e2e_reference g_ref;
static int g_ready; /* 0 = not tried, 1 = ok, -1 = failed (each case then fails) */

static int setup(void) {
    if (g_ready) return g_ready > 0;
    g_ready = -1;
    const char *root = getenv("HY_SOURCE_ROOT");
    hy_status st = e2e_reference_load(root ? root : ".", "f32", &g_ref);
    if (st) {
        HY_FAILF("loading fixtures: %s", hy_last_error());
        return 0;
    }
    /* llama.cpp on the F32 dequantisation is the fp32 path's reference (test_model_quant.c
     * holds the default, quantized path to llama.cpp on the Q4_1 file) */
    const hy_model_opts f32 = {HY_WEIGHTS_F32};
    st = hy_model_load_opts(hy_test_model_path(), &f32, &g_model);
    if (st) {
        HY_FAILF("loading %s: %s", hy_test_model_path(), hy_last_error());
        return 0;
    }
    g_ready = 1;
    return 1;
}

/* Compares logits rows (row r is prompt position first + r) with every recorded position in
 * [first, first + n_rows); returns how many positions were checked. */
static int check_rows(const e2e_prompt *p, const char *how, const float *rows, int64_t first,
                      int64_t n_rows) {
    int n_vocab = g_ref.n_vocab, checked = 0;
    for (int k = 0; k < p->n_pos; k++) {
        int64_t pos = p->positions[k];
        if (pos < first || pos >= first + n_rows) continue;
        const float *got = rows + (size_t)(pos - first) * n_vocab;
        e2e_diff d = e2e_compare(got, p->logits + (size_t)k * n_vocab, n_vocab);
        if (!e2e_diff_ok(&d))
            HY_FAILF("%s %s pos %lld: max|dlogit| %.3g (bound %.1g), rel L2 %.3g (bound %.1g), "
                     "top1 %d vs reference %d",
                     p->name, how, (long long)pos, d.max_abs, E2E_MAX_ABS_DIFF, d.rel_l2,
                     E2E_MAX_REL_L2, d.top1_got, d.top1_ref);
        else
            printf("  %s %s pos %lld: max|dlogit| %.2e rel L2 %.2e top1 %d\n", p->name, how,
                   (long long)pos, d.max_abs, d.rel_l2, d.top1_got);
        checked++;
    }
    return checked;
}

/* Prefills the prompt in chunks of the given sizes (the last repeats), checks every recorded
 * position, then optionally decodes the greedy continuation and compares it. */
static void run_prompt(const char *name, const char *how, const int64_t *chunks, int n_chunks,
                       int greedy) {
    if (!setup()) return;
    const e2e_prompt *p = e2e_reference_prompt(&g_ref, name);
    HY_REQUIRE(p != NULL);
    int n_vocab = g_ref.n_vocab;
    HY_REQUIRE(hy_model_info_borrow(g_model)->n_vocab == n_vocab);
    hy_ctx *ctx = NULL;
    HY_OK_OR_FAIL(hy_ctx_create(g_model, 512, 1, &ctx));
    int64_t max_chunk = 0;
    for (int i = 0; i < n_chunks; i++)
        max_chunk = chunks[i] > max_chunk ? chunks[i] : max_chunk;
    float *rows = hy_malloc((size_t)max_chunk * n_vocab * sizeof(float), "logits");
    int checked = 0;
    int64_t last_n = 0; /* size of the last chunk: its last row follows the whole prompt */
    for (int64_t done = 0, c = 0; rows && done < p->n_ids; c++) {
        int64_t n = chunks[c < n_chunks ? c : n_chunks - 1];
        if (n > p->n_ids - done) n = p->n_ids - done;
        hy_status st = hy_forward(ctx, 0, p->ids + done, n, rows, n);
        if (st) {
            HY_FAILF("%s: hy_forward at %lld (+%lld): %s", name, (long long)done, (long long)n,
                     hy_last_error());
            break;
        }
        checked += check_rows(p, how, rows, done, n);
        done += n;
        last_n = n;
    }
    HY_CHECK_EQ_INT(checked, p->n_pos);
    HY_CHECK_EQ_INT(hy_ctx_seq_len(ctx, 0), p->n_ids);
    if (greedy && rows && checked == p->n_pos) {
        hy_sampler *s = NULL;
        hy_sampler_params sp = {.temperature = 0, .top_k = 0, .top_p = 1, .seed = 0};
        HY_OK_OR_FAIL(hy_sampler_create(&sp, n_vocab, &s));
        const float *cur = rows + (size_t)(last_n - 1) * n_vocab;
        float *next = hy_malloc((size_t)n_vocab * sizeof(float), "logits");
        int matched = 0;
        for (int i = 0; next && i < p->n_greedy; i++) {
            int32_t tok = hy_sampler_sample(s, cur);
            if (tok != p->greedy[i]) {
                HY_FAILF("%s: greedy step %d: token %d, reference %d (%d steps matched)", name, i,
                         tok, p->greedy[i], matched);
                break;
            }
            matched++;
            if (i + 1 == p->n_greedy) break;
            hy_status st = hy_forward(ctx, 0, &tok, 1, next, 1);
            if (st) {
                HY_FAILF("%s: decode step %d: %s", name, i, hy_last_error());
                break;
            }
            cur = next;
        }
        printf("  %s greedy: %d/%d tokens equal to llama.cpp\n", name, matched, p->n_greedy);
        free(next);
        hy_sampler_free(s);
    }
    free(rows);
    hy_ctx_free(ctx);
}

HY_TEST(model_matches_fixture_file) {
    if (!setup()) return;
    const hy_model_info *mi = hy_model_info_borrow(g_model);
    if (strcmp(mi->sha256, g_ref.model_sha256) != 0)
        HY_FAILF("model sha256 %s, fixtures were made from %s (scripts/make-fixtures)", mi->sha256,
                 g_ref.model_sha256);
    HY_CHECK_EQ_INT(mi->n_vocab, g_ref.n_vocab);
}

static const int64_t whole[] = {512};
HY_TEST(prose_prefill_logits_and_greedy32) {
    run_prompt("prose", "prefill", whole, 1, 1);
}
HY_TEST(code_prefill_logits_and_greedy32) {
    run_prompt("code", "prefill", whole, 1, 1);
}
HY_TEST(chat_prefill_logits_and_greedy32) {
    run_prompt("chat", "prefill", whole, 1, 1);
}

/* Uneven chunks put recorded positions at chunk starts, ends and middles, so attention over
 * cached keys from earlier calls is exercised against the same reference. */
static const int64_t uneven[] = {1, 84, 7, 100, 64};
HY_TEST(code_chunked_prefill_logits) {
    run_prompt("code", "chunks", uneven, 5, 0);
}

/* One token per call: the decode path alone reproduces the prompt's logits. */
static const int64_t single[] = {1};
HY_TEST(chat_token_by_token_logits_and_greedy32) {
    run_prompt("chat", "decode", single, 1, 1);
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void) {
    if (g_model) hy_model_free(g_model);
    e2e_reference_free(&g_ref);
}

HY_TEST_MAIN()
