/* Gemma 3 270M (scripts/fetch-model gemma3-270m) against llama.cpp's fp32 reference
 * (tests/fixtures/gemma3/reference.json, scripts/fixtures/gemma_reference.py): the prompts
 * tokenize to llama.cpp's ids, the top-64 logits at four positions of each prompt agree
 * within float tolerance with top-1 equal, and the 32-token greedy continuations are equal.
 * The long prompt (1064 tokens) runs past the 512-token sliding window. Skipped (exit 77)
 * when the model is absent. */
#include "hy_runtime.h"
#include "hy_test.h"
#include "hy_tokenizer.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GEMMA_PATH "data/models/gemma-3-270m-q4_k_m.gguf"

static json_t *fx;
static hy_model *m;
static hy_tokenizer *tok;

static int setup(void) {
    if (m) return 1;
    if (access(GEMMA_PATH, R_OK) != 0) {
        printf("SKIP %s absent (scripts/fetch-model gemma3-270m)\n", GEMMA_PATH);
        exit(77);
    }
    json_error_t err;
    fx = json_load_file("tests/fixtures/gemma3/reference.json", 0, &err);
    if (!fx) {
        HY_FAILF("cannot read tests/fixtures/gemma3/reference.json: %s", err.text);
        return 0;
    }
    hy_gguf *g;
    hy_status st = hy_gguf_open(GEMMA_PATH, &g);
    if (!st) st = hy_tokenizer_from_gguf(g, &tok);
    hy_gguf_close(g);
    /* the reference is llama.cpp on the file's F32 expansion: the fp32 weight path */
    const hy_model_opts f32 = {HY_WEIGHTS_F32};
    if (!st) st = hy_model_load_opts(GEMMA_PATH, &f32, &m);
    if (st) {
        HY_FAILF("loading %s: %s", GEMMA_PATH, hy_last_error());
        return 0;
    }
    if (strcmp(hy_model_info_borrow(m)->sha256,
               json_string_value(json_object_get(fx, "model_sha256")))) {
        HY_FAILF("%s is not the file the fixture was made from", GEMMA_PATH);
        return 0;
    }
    return m != NULL;
}

static int32_t *ids_of(const json_t *arr, int64_t *n) {
    *n = (int64_t)json_array_size(arr);
    int32_t *ids = malloc((size_t)(*n + 1) * sizeof *ids);
    for (int64_t i = 0; ids && i < *n; i++)
        ids[i] = (int32_t)json_integer_value(json_array_get(arr, (size_t)i));
    return ids;
}

static void check_prompt(const char *name) {
    if (!setup()) return;
    const json_t *p = json_object_get(json_object_get(fx, "prompts"), name);
    HY_REQUIRE(p);
    int64_t n;
    int32_t *ids = ids_of(json_object_get(p, "ids"), &n);
    HY_REQUIRE(ids);
    /* our tokenizer gives llama.cpp's ids */
    const json_t *text = json_object_get(p, "text");
    hy_token *mine;
    int64_t n_mine;
    HY_OK_OR_FAIL(hy_tokenizer_encode(tok, json_string_value(text), json_string_length(text),
                                      HY_TOK_ADD_SPECIAL | HY_TOK_PARSE_SPECIAL, &mine, &n_mine));
    HY_CHECK(n_mine == n && !memcmp(mine, ids, (size_t)n * sizeof *ids));
    free(mine);
    /* logits at the fixture's positions, one prefill */
    const json_t *ref = json_object_get(p, "f32"), *rows = json_object_get(ref, "rows");
    const int V = hy_model_info_borrow(m)->n_vocab;
    const int64_t n_rows = (int64_t)json_array_size(rows);
    int64_t *pos = malloc((size_t)n_rows * sizeof *pos);
    float *lg = malloc((size_t)(n_rows * V) * sizeof *lg);
    HY_REQUIRE(pos && lg);
    for (int64_t r = 0; r < n_rows; r++)
        pos[r] = json_integer_value(json_object_get(json_array_get(rows, (size_t)r), "pos"));
    hy_ctx *c;
    HY_OK_OR_FAIL(hy_ctx_create(m, n + 40, 1, &c));
    HY_OK_OR_FAIL(hy_forward_rows(c, 0, ids, n, pos, n_rows, lg));
    double worst = 0;
    for (int64_t r = 0; r < n_rows; r++) {
        const json_t *row = json_array_get(rows, (size_t)r);
        const json_t *rid = json_object_get(row, "ids"), *rv = json_object_get(row, "logits");
        const float *a = lg + r * V;
        int best = 0;
        for (int v = 1; v < V; v++)
            if (a[v] > a[best]) best = v;
        HY_CHECK_EQ_INT(best, json_integer_value(json_array_get(rid, 0)));
        for (size_t k = 0; k < json_array_size(rid); k++) {
            const int id = (int)json_integer_value(json_array_get(rid, k));
            worst = fmax(worst, fabs(a[id] - json_number_value(json_array_get(rv, k))));
        }
    }
    /* greedy continuation: decode step by step from the prefill's last logits */
    int64_t n_greedy;
    int32_t *want = ids_of(json_object_get(ref, "greedy"), &n_greedy);
    float *row = malloc((size_t)V * sizeof *row);
    HY_REQUIRE(want && row);
    hy_ctx_seq_reset(c, 0);
    HY_OK_OR_FAIL(hy_forward(c, 0, ids, n, row, 1));
    int64_t same = 0;
    for (int64_t s = 0; s < n_greedy; s++) {
        int32_t best = 0;
        for (int v = 1; v < V; v++)
            if (row[v] > row[best]) best = v;
        if (best != want[s]) break;
        same++;
        HY_OK_OR_FAIL(hy_forward(c, 0, &best, 1, row, 1));
    }
    printf("  %s: %lld tokens, max |logit - llama.cpp f32| over the top 64 at %lld positions = "
           "%.3g, greedy equal for %lld of %lld tokens\n",
           name, (long long)n, (long long)n_rows, worst, (long long)same, (long long)n_greedy);
    HY_CHECK(worst < 0.05); /* logits are O(10-30); fp32 with other summation orders */
    HY_CHECK_EQ_INT(same, n_greedy);
    hy_ctx_free(c);
    free(row), free(want), free(pos), free(lg), free(ids);
}

HY_TEST(prose_matches_llama_cpp) {
    check_prompt("prose");
}
HY_TEST(code_matches_llama_cpp) {
    check_prompt("code");
}
HY_TEST(long_prompt_past_the_window_matches_llama_cpp) {
    check_prompt("long");
}

HY_TEST_MAIN()
