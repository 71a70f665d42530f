/* Malformed tokenizer metadata must fail with a named error, never crash: merges naming
 * unknown tokens, merges without a space, merged text missing, array length mismatches,
 * token types and special ids out of range, unknown model and pre types, missing or
 * mistyped GGUF arrays. A well-formed GGUF built with the writer loads and encodes. */
#include "hy_test.h"
#include "tok_test_util.h"

static const tt_token extra[] = {{"ab", 0}, {"<|s|>", HY_TOKTYPE_CONTROL}};
static const char *const merges[] = {"a b"};

/* Expects create to fail with st and a message containing every fragment given. */
static void expect_fail(const hy_tokenizer_spec *spec, hy_status st, const char *frag1,
                        const char *frag2) {
    hy_tokenizer *t = (hy_tokenizer *)0x1;
    hy_status got = hy_tokenizer_create(spec, &t);
    HY_CHECK_EQ_INT(got, st);
    HY_CHECK(t == NULL);
    if (frag1 && !strstr(hy_last_error(), frag1))
        HY_FAILF("message '%s' lacks '%s'", hy_last_error(), frag1);
    if (frag2 && !strstr(hy_last_error(), frag2))
        HY_FAILF("message '%s' lacks '%s'", hy_last_error(), frag2);
    if (got == HY_OK) hy_tokenizer_free(t);
}

static void build(tt_vocab *v, const char *const *m, int n_m) {
    tt_vocab_build(v, "smollm", extra, 2, m, n_m);
}

HY_TEST(merge_with_unknown_left_part) {
    tt_vocab v;
    build(&v, (const char *const[]){"a b", "zz b"}, 2);
    expect_fail(&v.spec, HY_EFORMAT, "merges[1]", "left part 'zz'");
    tt_vocab_free(&v);
}

HY_TEST(merge_with_unknown_right_part) {
    tt_vocab v;
    build(&v, (const char *const[]){"a qq"}, 1);
    expect_fail(&v.spec, HY_EFORMAT, "merges[0]", "right part 'qq'");
    tt_vocab_free(&v);
}

HY_TEST(merge_whose_result_is_not_a_token) {
    tt_vocab v;
    build(&v, (const char *const[]){"a b", "b a"}, 2);
    expect_fail(&v.spec, HY_EFORMAT, "merges[1]", "merged text 'ba'");
    tt_vocab_free(&v);
}

HY_TEST(merge_without_a_space) {
    tt_vocab v;
    build(&v, merges, 1);
    v.merges[0] = (hy_tok_text){"ab", 2};
    expect_fail(&v.spec, HY_EFORMAT, "merges[0] = 'ab'", "expected 'left right'");
    v.merges[0] = (hy_tok_text){" ", 1}; /* a lone space is no split either */
    expect_fail(&v.spec, HY_EFORMAT, "merges[0]", NULL);
    tt_vocab_free(&v);
}

HY_TEST(token_type_count_mismatch) {
    tt_vocab v;
    build(&v, merges, 1);
    v.spec.n_token_types = v.spec.n_tokens - 1;
    expect_fail(&v.spec, HY_EFORMAT, "token_type has 257 entries", "expected 258");
    tt_vocab_free(&v);
}

HY_TEST(token_type_out_of_range) {
    tt_vocab v;
    build(&v, merges, 1);
    v.types[10] = 9;
    expect_fail(&v.spec, HY_EFORMAT, "token_type[10] = 9", NULL);
    tt_vocab_free(&v);
}

HY_TEST(special_id_outside_vocabulary) {
    tt_vocab v;
    build(&v, merges, 1);
    v.spec.eos_id = 258;
    expect_fail(&v.spec, HY_EFORMAT, "eos_token_id = 258", "258 tokens");
    v.spec.eos_id = HY_TOKEN_NONE;
    v.spec.add_bos = true; /* asks for a BOS it does not name */
    expect_fail(&v.spec, HY_EFORMAT, "add_bos_token", NULL);
    tt_vocab_free(&v);
}

HY_TEST(unknown_model_and_pre) {
    tt_vocab v;
    build(&v, merges, 1);
    v.spec.model = "t5";
    expect_fail(&v.spec, HY_EUNSUPPORTED, "tokenizer.ggml.model = 't5'", "'llama'");
    /* SentencePiece merges by score: a merge list is a malformed file, not ignored */
    v.spec.model = "llama";
    expect_fail(&v.spec, HY_EFORMAT, "tokenizer.ggml.merges has 1 entries", "'llama'");
    v.spec.model = "gpt2";
    v.spec.pre = "no-such-pre";
    expect_fail(&v.spec, HY_EUNSUPPORTED, "tokenizer.ggml.pre = 'no-such-pre'", "smollm");
    v.spec.model = NULL;
    expect_fail(&v.spec, HY_ENOTFOUND, "tokenizer.ggml.model", NULL);
    tt_vocab_free(&v);
}

HY_TEST(empty_vocabulary) {
    tt_vocab v;
    build(&v, merges, 1);
    v.spec.n_tokens = 0;
    v.spec.token_types = NULL;
    expect_fail(&v.spec, HY_EFORMAT, "0 tokens", NULL);
    tt_vocab_free(&v);
}

/* ---- through GGUF ---- */

enum {
    NO_TOKENS = 1,
    NO_MERGES = 2,
    NO_TYPES = 4,
    TOKENS_AS_U32 = 8,
    SHORT_TYPES = 16,
    PRE_FOO = 32,
    BOS_STR = 64
};

static hy_status gguf_case(unsigned what, hy_tokenizer **out, void **buf) {
    tt_vocab v;
    build(&v, merges, 1);
    hy_gguf_writer *w;
    hy_status st = hy_gguf_writer_create(&w);
    if (st) return st;
    const char **toks = calloc((size_t)v.spec.n_tokens, sizeof *toks);
    for (int64_t i = 0; i < v.spec.n_tokens; i++)
        toks[i] = v.tokens[i].ptr;
    hy_gguf_writer_set_str(w, "general.architecture", "llama");
    hy_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    hy_gguf_writer_set_str(w, "tokenizer.ggml.pre", what & PRE_FOO ? "foo" : "smollm");
    if (what & TOKENS_AS_U32)
        hy_gguf_writer_set_arr(w, "tokenizer.ggml.tokens", HY_GGUF_U32, v.types,
                               (uint64_t)v.spec.n_tokens);
    else if (!(what & NO_TOKENS))
        hy_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, (uint64_t)v.spec.n_tokens);
    if (!(what & NO_TYPES))
        hy_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", HY_GGUF_I32, v.types,
                               (uint64_t)v.spec.n_tokens - (what & SHORT_TYPES ? 3 : 0));
    if (!(what & NO_MERGES)) {
        const char *mg[1] = {v.merges[0].ptr};
        hy_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", mg, 1);
    }
    if (what & BOS_STR)
        hy_gguf_writer_set_str(w, "tokenizer.ggml.bos_token_id", "257");
    else
        hy_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 257);
    hy_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true);
    hy_gguf_writer_set_str(w, "tokenizer.chat_template",
                           "{% for m in messages %}{{ m['content'] }}{% endfor %}");
    size_t size;
    st = hy_gguf_writer_write_memory(w, 32, buf, &size);
    hy_gguf_writer_free(w);
    free(toks);
    tt_vocab_free(&v);
    if (st) return st;
    hy_gguf *g;
    st = hy_gguf_open_memory(*buf, size, "mem.gguf", &g);
    if (st) return st;
    st = hy_tokenizer_from_gguf(g, out);
    hy_gguf_close(g); /* the tokenizer must not point into the mapping */
    return st;
}

static void gguf_expect_fail(unsigned what, hy_status st, const char *frag) {
    hy_tokenizer *t = NULL;
    void *buf = NULL;
    hy_status got = gguf_case(what, &t, &buf);
    HY_CHECK_EQ_INT(got, st);
    if (frag && !strstr(hy_last_error(), frag))
        HY_FAILF("message '%s' lacks '%s'", hy_last_error(), frag);
    hy_tokenizer_free(t);
    free(buf);
}

HY_TEST(gguf_well_formed_loads_and_outlives_the_file) {
    hy_tokenizer *t = NULL;
    void *buf = NULL;
    HY_OK_OR_FAIL(gguf_case(0, &t, &buf));
    memset(buf, 0, 64); /* scribble over the file: the tokenizer holds copies */
    free(buf);
    HY_CHECK(hy_tokenizer_add_bos(t));
    TT_IDS_ARE(t, "abc", HY_TOK_ADD_SPECIAL, 257, 256, 'c');
    char *out;
    hy_chat_msg m = {"user", "x"};
    HY_CHECK_EQ_INT(hy_chat_render(t, &m, 1, true, &out), HY_EUNSUPPORTED); /* not a known family */
    HY_CHECK(strstr(hy_last_error(), "not recognised") != NULL);
    hy_tokenizer_free(t);
}

HY_TEST(gguf_missing_tokens) {
    gguf_expect_fail(NO_TOKENS, HY_ENOTFOUND, "tokenizer.ggml.tokens");
}
HY_TEST(gguf_missing_merges) {
    gguf_expect_fail(NO_MERGES, HY_ENOTFOUND, "tokenizer.ggml.merges");
}
HY_TEST(gguf_tokens_not_strings) {
    gguf_expect_fail(TOKENS_AS_U32, HY_EFORMAT, "tokenizer.ggml.tokens");
}
HY_TEST(gguf_token_type_too_short) {
    gguf_expect_fail(SHORT_TYPES, HY_EFORMAT, "token_type has 255 entries");
}
HY_TEST(gguf_unknown_pre) {
    gguf_expect_fail(PRE_FOO, HY_EUNSUPPORTED, "'foo'");
}
HY_TEST(gguf_bos_of_wrong_type) {
    gguf_expect_fail(BOS_STR, HY_EFORMAT, "bos_token_id");
}

HY_TEST(gguf_without_token_types_means_normal) {
    hy_tokenizer *t = NULL;
    void *buf = NULL;
    HY_OK_OR_FAIL(gguf_case(NO_TYPES, &t, &buf));
    HY_CHECK_EQ_INT(hy_tokenizer_token_type(t, 257), HY_TOKTYPE_NORMAL);
    hy_tokenizer_free(t);
    free(buf);
}

HY_TEST(null_arguments) {
    hy_token *ids;
    int64_t n;
    HY_CHECK_EQ_INT(hy_tokenizer_encode(NULL, "a", 1, 0, &ids, &n), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_tokenizer_create(NULL, NULL), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_tokenizer_from_gguf(NULL, NULL), HY_EINVAL);
    hy_tokenizer_free(NULL);
}

HY_TEST_MAIN()
