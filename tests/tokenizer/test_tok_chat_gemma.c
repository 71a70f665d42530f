/* Gemma's chat turn format, one renderer for two references, on the conversations of
 * tests/fixtures/chat_gemma.json (scripts/fixtures/chat_gemma.py, llama-cpp-python): without a
 * template (hy_chat_render_gemma, hy_chat_render's fallback for a vocabulary with Gemma's turn
 * markers) it equals llama.cpp's built-in "gemma" template; with Gemma 3's own template (the
 * fixture carries its text) the template is recognised as "gemma3" and renders as jinja2
 * renders it, refusing what the template refuses. Both through hy_chat_render on a GGUF
 * written with the project's writer; a vocabulary without the markers is HY_ENOTFOUND. */
#include "hy_gguf.h"
#include "hy_test.h"
#include "hy_tokenizer.h"
#include "tok_test_util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *fixture(void) {
    json_error_t err;
    json_t *doc = json_load_file("tests/fixtures/chat_gemma.json", 0, &err);
    if (!doc) HY_FAILF("tests/fixtures/chat_gemma.json: %s (line %d)", err.text, err.line);
    return doc;
}

/* The case's conversation into m (at most 8 messages); its length. */
static size_t messages(json_t *c, hy_chat_msg m[8]) {
    json_t *ms = json_object_get(c, "messages");
    const size_t n = json_array_size(ms);
    HY_CHECK(n <= 8);
    for (size_t k = 0; k < n && k < 8; k++) {
        json_t *e = json_array_get(ms, k);
        m[k] = (hy_chat_msg){json_string_value(json_object_get(e, "role")),
                             json_string_value(json_object_get(e, "content"))};
    }
    return n < 8 ? n : 8;
}

HY_TEST(renders_as_llama_cpp_gemma) {
    json_t *doc = fixture();
    HY_REQUIRE(doc);
    json_t *cases = json_object_get(doc, "cases");
    HY_REQUIRE(json_array_size(cases) >= 30);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        hy_chat_msg m[8];
        const size_t n = messages(c, m);
        const bool gen = json_is_true(json_object_get(c, "add_generation_prompt"));
        const char *want = json_string_value(json_object_get(c, "llama_cpp"));
        HY_REQUIRE(want);
        char *got = NULL;
        HY_OK_OR_FAIL(hy_chat_render_gemma(m, n, gen, &got));
        if (strcmp(got, want)) HY_FAILF("case %zu: got \"%s\", llama.cpp \"%s\"", i, got, want);
        free(got);
    }
    json_decref(doc);
}

HY_TEST(gemma3_template_is_recognised) {
    json_t *doc = fixture();
    HY_REQUIRE(doc);
    const char *tmpl = json_string_value(json_object_get(doc, "gemma3_template"));
    HY_REQUIRE(tmpl);
    const char *fam = NULL;
    HY_OK_OR_FAIL(hy_chat_template_family(tmpl, strlen(tmpl), &fam));
    HY_CHECK(fam && !strcmp(fam, "gemma3"));
    /* the same template on one line, as some converters store it: still Gemma 3's */
    char *flat = strdup(tmpl);
    HY_REQUIRE(flat);
    size_t o = 0;
    for (size_t k = 0; flat[k]; k++) /* drop the layout newlines and their indentation */
        if (flat[k] == '\n')
            while (flat[k + 1] == ' ')
                k++;
        else
            flat[o++] = flat[k];
    flat[o] = '\0';
    HY_OK_OR_FAIL(hy_chat_template_family(flat, o, &fam));
    HY_CHECK(fam && !strcmp(fam, "gemma3"));
    free(flat);
    /* not Gemma 3's any more: content no longer trimmed, or text Jinja would print */
    const char *variants[][2] = {{"{{ message['content'] | trim }}", "{{ message['content'] }}"},
                                 {"{{ bos_token }}\n", "{{ bos_token }}x"}};
    for (size_t v = 0; v < 2; v++) {
        const char *at = strstr(tmpl, variants[v][0]);
        HY_REQUIRE(at);
        char buf[4096];
        HY_REQUIRE(strlen(tmpl) < sizeof buf);
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - tmpl), tmpl, variants[v][1],
                 at + strlen(variants[v][0]));
        HY_CHECK_EQ_INT(hy_chat_template_family(buf, strlen(buf), &fam), HY_EUNSUPPORTED);
    }
    json_decref(doc);
}

HY_TEST(gemma3_template_renders_as_jinja) {
    json_t *doc = fixture();
    HY_REQUIRE(doc);
    const char *tmpl = json_string_value(json_object_get(doc, "gemma3_template"));
    HY_REQUIRE(tmpl);
    size_t i, refused = 0;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c) {
        hy_chat_msg m[8];
        const size_t n = messages(c, m);
        const bool gen = json_is_true(json_object_get(c, "add_generation_prompt"));
        json_t *ref = json_object_get(c, "gemma3_template");
        const char *want = json_string_value(json_object_get(ref, "rendered"));
        char *got = NULL;
        hy_status st = hy_chat_render_template(tmpl, strlen(tmpl), "<bos>", m, n, gen, &got);
        if (!want) { /* jinja2 raised: so do we, with a reason */
            refused++;
            if (st != HY_EINVAL)
                HY_FAILF("case %zu: status %d, jinja2 refused it (%s)", i, (int)st,
                         json_string_value(json_object_get(ref, "error")));
            else
                HY_CHECK(strstr(hy_last_error(), "Gemma's chat template") != NULL);
            continue;
        }
        HY_OK_OR_FAIL(st);
        if (st == HY_OK && strcmp(got, want))
            HY_FAILF("case %zu: got \"%s\", jinja2 \"%s\"", i, got, want);
        free(got);
    }
    HY_CHECK(refused >= 8); /* two systems, out-of-order roles, no messages */
    json_decref(doc);
}

HY_TEST(refuses_messages_without_role_or_content) {
    char *out = NULL;
    hy_chat_msg m[] = {{"user", NULL}};
    HY_CHECK_EQ_INT(hy_chat_render_gemma(m, 1, true, &out), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "message 0 has no content") != NULL);
    HY_CHECK_EQ_INT(hy_chat_render_gemma(m, 1, true, NULL), HY_EINVAL);
}

/* A byte-level vocabulary with (or without) the two turn markers as control tokens and BOS
 * "<bos>", written to a GGUF with the project's writer (with tmpl as its
 * tokenizer.chat_template when not NULL) and read back as a model file is. */
static hy_tokenizer *vocab(bool markers, const char *tmpl) {
    static const tt_token with[] = {{"<bos>", HY_TOKTYPE_CONTROL},
                                    {"ab", 0},
                                    {"<start_of_turn>", HY_TOKTYPE_CONTROL},
                                    {"<end_of_turn>", HY_TOKTYPE_CONTROL}};
    static const char *const merges[] = {"a b"};
    tt_vocab v;
    tt_vocab_build(&v, NULL, with, markers ? 4 : 2, merges, 1);
    const size_t n = (size_t)v.spec.n_tokens;
    const char **toks = calloc(n, sizeof *toks);
    const char *mg[1] = {v.merges[0].ptr};
    hy_gguf_writer *w = NULL;
    hy_gguf *g = NULL;
    hy_tokenizer *t = NULL;
    void *buf = NULL;
    size_t size = 0;
    hy_status st = toks ? hy_gguf_writer_create(&w) : HY_ENOMEM;
    for (size_t i = 0; !st && i < n; i++)
        toks[i] = v.tokens[i].ptr;
    if (!st) st = hy_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    if (!st) st = hy_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, n);
    if (!st) st = hy_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", HY_GGUF_I32, v.types, n);
    if (!st) st = hy_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", mg, 1);
    if (!st) st = hy_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 256);
    if (!st && tmpl) st = hy_gguf_writer_set_str(w, "tokenizer.chat_template", tmpl);
    if (!st) st = hy_gguf_writer_write_memory(w, 32, &buf, &size);
    if (!st) st = hy_gguf_open_memory(buf, size, "chat-vocab.gguf", &g);
    if (!st) st = hy_tokenizer_from_gguf(g, &t);
    if (st) HY_FAILF("building the vocabulary: %s", hy_last_error());
    hy_gguf_close(g);
    free(buf);
    hy_gguf_writer_free(w);
    free(toks);
    tt_vocab_free(&v);
    return st ? NULL : t;
}

HY_TEST(render_falls_back_to_gemma_without_a_template) {
    hy_tokenizer *g = vocab(true, NULL), *plain = vocab(false, NULL);
    HY_REQUIRE(g && plain);
    hy_chat_msg m[] = {{"system", "Be brief."}, {"user", "Hi"}};
    char *out = NULL;
    HY_OK_OR_FAIL(hy_chat_render(g, m, 2, true, &out));
    const char *want = "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
                       "<start_of_turn>model\n";
    if (strcmp(out, want)) HY_FAILF("got \"%s\", expected \"%s\"", out, want);
    free(out);
    HY_CHECK_EQ_INT(hy_chat_render(plain, m, 2, true, &out), HY_ENOTFOUND);
    HY_CHECK(strstr(hy_last_error(), "no tokenizer.chat_template") != NULL);
    hy_tokenizer_free(g);
    hy_tokenizer_free(plain);
}

/* A file carrying Gemma 3's template renders through it (BOS from the vocabulary), the same
 * text as the fallback where the two references agree, and refuses what the template does. */
HY_TEST(render_uses_a_gemma3_template_in_the_file) {
    json_t *doc = fixture();
    HY_REQUIRE(doc);
    hy_tokenizer *with = vocab(true, json_string_value(json_object_get(doc, "gemma3_template")));
    hy_tokenizer *without = vocab(true, NULL);
    HY_REQUIRE(with && without);
    hy_chat_msg m[] = {
        {"system", "Be brief."}, {"user", " Hi "}, {"assistant", "Hello."}, {"user", "Why?"}};
    char *a = NULL, *b = NULL;
    HY_OK_OR_FAIL(hy_chat_render(with, m, 4, true, &a));
    HY_OK_OR_FAIL(hy_chat_render(without, m, 4, true, &b));
    const char *want = "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
                       "<start_of_turn>model\nHello.<end_of_turn>\n"
                       "<start_of_turn>user\nWhy?<end_of_turn>\n<start_of_turn>model\n";
    if (a && strcmp(a, want)) HY_FAILF("template: got \"%s\", expected \"%s\"", a, want);
    if (b && strcmp(b, want)) HY_FAILF("fallback: got \"%s\", expected \"%s\"", b, want);
    free(a);
    free(b);
    hy_chat_msg twice[] = {{"user", "a"}, {"user", "b"}};
    HY_CHECK_EQ_INT(hy_chat_render(with, twice, 2, true, &a), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "must alternate") != NULL);
    HY_OK_OR_FAIL(hy_chat_render(without, twice, 2, true, &b)); /* llama.cpp renders it */
    free(b);
    hy_tokenizer_free(with);
    hy_tokenizer_free(without);
    json_decref(doc);
}

HY_TEST_MAIN()
