/* Byte-level BPE on a tiny hand-made vocabulary: merge order by rank, leftmost on ties,
 * the smollm pre-tokenizer's pieces, special and user-defined tokens, BOS/EOS, decoding
 * with and without specials, streaming across split UTF-8 characters, EOG. */
#include "hy_test.h"
#include "tok_test_util.h"

enum {
    HE = 256,
    LL,
    HELL,
    HELLO,
    SP_W,
    OR,
    SP_WOR,
    SP_WORL,
    SP_WORLD,
    AA,
    BC,
    AB,
    CTRL_S,
    USER_U,
    IM_END,
    SP2
};

static const tt_token extra[] = {
    {"he", 0},
    {"ll", 0},
    {"hell", 0},
    {"hello", 0},
    {" w", 0},
    {"or", 0},
    {" wor", 0},
    {" worl", 0},
    {" world", 0},
    {"aa", 0},
    {"bc", 0},
    {"ab", 0},
    {"<|s|>", HY_TOKTYPE_CONTROL},
    {"<u>", HY_TOKTYPE_USER_DEFINED},
    {"<|im_end|>", HY_TOKTYPE_CONTROL},
    {"  ", 0},
};
static const char *const merges[] = {"b c", "a b",   "h e",    "l l",     "he ll", "hell o", "  w",
                                     "o r", " w or", " wor l", " worl d", "a a",   "   "};

static hy_tokenizer *make(bool add_bos, bool add_eos) {
    tt_vocab v;
    tt_vocab_build(&v, "smollm", extra, (int)(sizeof extra / sizeof extra[0]), merges,
                   (int)(sizeof merges / sizeof merges[0]));
    v.spec.bos_id = CTRL_S;
    v.spec.eos_id = IM_END;
    v.spec.add_bos = add_bos;
    v.spec.add_eos = add_eos;
    hy_tokenizer *t = NULL;
    if (hy_tokenizer_create(&v.spec, &t)) fprintf(stderr, "create: %s\n", hy_last_error());
    tt_vocab_free(&v); /* the tokenizer keeps its own copies */
    return t;
}

HY_TEST(byte_tokens_decode_to_their_byte) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    for (int b = 0; b < 256; b++) {
        size_t n;
        const char *p = hy_tokenizer_token_bytes(t, b, 0, &n);
        if (n != 1 || (unsigned char)p[0] != b)
            HY_FAILF("byte token %d decodes to %zu bytes", b, n);
        char c = (char)b;
        HY_CHECK_EQ_INT(hy_tokenizer_find(t, hy_tokenizer_token_text(t, b),
                                          strlen(hy_tokenizer_token_text(t, b))),
                        b);
        (void)c;
    }
    hy_tokenizer_free(t);
}

HY_TEST(lower_rank_merges_first) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    TT_IDS_ARE(t, "abc", 0, 'a', BC); /* "b c" (rank 0) beats "a b" (rank 1) */
    TT_IDS_ARE(t, "ab", 0, AB);
    TT_IDS_ARE(t, "hello", 0, HELLO);
    TT_IDS_ARE(t, "hell", 0, HELL);
    TT_IDS_ARE(t, "help", 0, HE, 'l', 'p');
    hy_tokenizer_free(t);
}

HY_TEST(equal_ranks_merge_leftmost_first) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    TT_IDS_ARE(t, "aaa", 0, AA, 'a');
    TT_IDS_ARE(t, "aaaa", 0, AA, AA);
    TT_IDS_ARE(t, "aaaaa", 0, AA, AA, 'a');
    hy_tokenizer_free(t);
}

HY_TEST(pretokenizer_keeps_merges_inside_pieces) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    TT_IDS_ARE(t, "hello world", 0, HELLO, SP_WORLD);
    /* two spaces before a word: the first stands alone, the second joins the word */
    TT_IDS_ARE(t, "hello  world", 0, HELLO, ' ', SP_WORLD);
    /* trailing spaces form one piece, where "  " merges */
    TT_IDS_ARE(t, "hello  ", 0, HELLO, SP2);
    /* digits are split one by one before the GPT-2 regex runs */
    TT_IDS_ARE(t, "he 42", 0, HE, ' ', '4', '2');
    hy_tokenizer_free(t);
}

HY_TEST(smollm_split_points) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    const char *text = "it's  a test\n\nok 2024";
    const char *want[] = {"it", "'s", " ", " a", " test", "\n", "\n",
                          "ok", " ",  "2", "0",  "2",     "4"};
    size_t *ends;
    int64_t n;
    HY_OK_OR_FAIL(hy_tokenizer_split(t, text, strlen(text), &ends, &n));
    HY_CHECK_EQ_INT(n, sizeof want / sizeof want[0]);
    size_t start = 0;
    for (int64_t i = 0; i < n && i < (int64_t)(sizeof want / sizeof want[0]); i++) {
        size_t len = ends[i] - start;
        if (len != strlen(want[i]) || memcmp(text + start, want[i], len))
            HY_FAILF("piece %lld is '%.*s', expected '%s'", (long long)i, (int)len, text + start,
                     want[i]);
        start = ends[i];
    }
    free(ends);
    hy_tokenizer_free(t);
}

HY_TEST(control_tokens_parsed_only_on_request) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    TT_IDS_ARE(t, "x<|s|>y", HY_TOK_PARSE_SPECIAL, 'x', CTRL_S, 'y');
    TT_IDS_ARE(t, "x<|s|>y", 0, 'x', '<', '|', 's', '|', '>', 'y');
    TT_IDS_ARE(t, "<|s|><|im_end|>", HY_TOK_PARSE_SPECIAL, CTRL_S, IM_END);
    hy_tokenizer_free(t);
}

HY_TEST(user_defined_tokens_always_split) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    TT_IDS_ARE(t, "ab<u>ab", 0, AB, USER_U, AB);
    TT_IDS_ARE(t, "ab<u>ab", HY_TOK_PARSE_SPECIAL, AB, USER_U, AB);
    hy_tokenizer_free(t);
}

HY_TEST(bos_eos_follow_the_file_flags) {
    hy_tokenizer *t = make(true, true);
    HY_REQUIRE(t);
    TT_IDS_ARE(t, "ab", HY_TOK_ADD_SPECIAL, CTRL_S, AB, IM_END);
    TT_IDS_ARE(t, "ab", 0, AB);
    TT_IDS_ARE(t, "", HY_TOK_ADD_SPECIAL, CTRL_S, IM_END);
    hy_tokenizer_free(t);
    t = make(false, false);
    HY_REQUIRE(t);
    TT_IDS_ARE(t, "ab", HY_TOK_ADD_SPECIAL, AB);
    hy_tokenizer_free(t);
}

HY_TEST(empty_text_gives_no_ids) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    hy_token *ids;
    int64_t n;
    HY_OK_OR_FAIL(hy_tokenizer_encode(t, "", 0, HY_TOK_PARSE_SPECIAL, &ids, &n));
    HY_CHECK_EQ_INT(n, 0);
    HY_CHECK(ids != NULL);
    free(ids);
    hy_tokenizer_free(t);
}

HY_TEST(decode_renders_control_tokens_only_on_request) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    hy_token ids[] = {HELLO, CTRL_S, USER_U, SP_WORLD};
    char *out;
    size_t len;
    HY_OK_OR_FAIL(hy_tokenizer_decode(t, ids, 4, 0, &out, &len));
    HY_CHECK(!strcmp(out, "hello<u> world"));
    HY_CHECK_EQ_INT(len, 14);
    free(out);
    HY_OK_OR_FAIL(hy_tokenizer_decode(t, ids, 4, HY_TOK_DECODE_SPECIAL, &out, &len));
    HY_CHECK(!strcmp(out, "hello<|s|><u> world"));
    free(out);
    hy_token bad[] = {HELLO, 99999};
    HY_CHECK_EQ_INT(hy_tokenizer_decode(t, bad, 2, 0, &out, &len), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "99999") != NULL);
    hy_tokenizer_free(t);
}

/* Pushes ids one by one; checks each push's output and the flush. */
static void stream_case(hy_tokenizer *t, const hy_token *ids, int n, const char *const *want,
                        const char *flush) {
    hy_tok_stream *s;
    HY_OK_OR_FAIL(hy_tok_stream_create(t, 0, &s));
    for (int i = 0; i < n; i++) {
        const char *p;
        size_t len;
        HY_OK_OR_FAIL(hy_tok_stream_push(s, ids[i], &p, &len));
        if (len != strlen(want[i]) || memcmp(p, want[i], len))
            HY_FAILF("push %d gave %zu bytes, expected %zu", i, len, strlen(want[i]));
    }
    const char *p;
    size_t len;
    hy_tok_stream_flush(s, &p, &len);
    if (len != strlen(flush) || memcmp(p, flush, len))
        HY_FAILF("flush gave %zu bytes, expected %zu", len, strlen(flush));
    hy_tok_stream_free(s);
}

HY_TEST(stream_holds_split_characters) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    /* é = C3 A9 arriving as two byte tokens */
    stream_case(t, (const hy_token[]){'a', 0xC3, 0xA9, 'b'}, 4,
                (const char *const[]){"a", "", "\xC3\xA9", "b"}, "");
    /* 😀 = F0 9F 98 80, one byte at a time */
    stream_case(t, (const hy_token[]){0xF0, 0x9F, 0x98, 0x80}, 4,
                (const char *const[]){"", "", "", "\xF0\x9F\x98\x80"}, "");
    /* bytes that can never be valid pass at once */
    stream_case(t, (const hy_token[]){0xFF, 0x80, 'x'}, 3,
                (const char *const[]){"\xFF", "\x80", "x"}, "");
    /* a lead byte followed by ASCII is released with it */
    stream_case(t, (const hy_token[]){0xC3, 'a'}, 2,
                (const char *const[]){"", "\xC3"
                                          "a"},
                "");
    /* an overlong start (E0 80) is invalid as soon as the second byte arrives */
    stream_case(t, (const hy_token[]){0xE0, 0x80}, 2, (const char *const[]){"", "\xE0\x80"}, "");
    /* an unfinished character at the end comes out of the flush */
    stream_case(t, (const hy_token[]){'z', 0xE2, 0x82}, 3, (const char *const[]){"z", "", ""},
                "\xE2\x82");
    hy_tokenizer_free(t);
}

HY_TEST(eog_includes_eos_and_end_of_turn_texts) {
    hy_tokenizer *t = make(false, false);
    HY_REQUIRE(t);
    HY_CHECK(hy_tokenizer_is_eog(t, IM_END));
    HY_CHECK(!hy_tokenizer_is_eog(t, CTRL_S));
    HY_CHECK(!hy_tokenizer_is_eog(t, HELLO));
    HY_CHECK(!hy_tokenizer_is_eog(t, -1));
    HY_CHECK(!hy_tokenizer_is_eog(t, 1 << 20));
    HY_CHECK_EQ_INT(hy_tokenizer_eot(t), IM_END);
    HY_CHECK_EQ_INT(hy_tokenizer_bos(t), CTRL_S);
    HY_CHECK(hy_tokenizer_token_text(t, -5) == NULL);
    HY_CHECK_EQ_INT(hy_tokenizer_token_type(t, USER_U), HY_TOKTYPE_USER_DEFINED);
    hy_tokenizer_free(t);
}

HY_TEST(bytes_without_a_token_are_dropped_not_merged_across) {
    /* a vocabulary lacking the byte 0x04: like llama.cpp, the byte vanishes and its
     * neighbours do not merge across it */
    tt_vocab v;
    tt_vocab_build(&v, "smollm", extra, (int)(sizeof extra / sizeof extra[0]), merges,
                   (int)(sizeof merges / sizeof merges[0]));
    v.tokens[4] = (hy_tok_text){"\xC4\xBF\xC4\xBF", 4}; /* some other text: 0x04 now has no token */
    hy_tokenizer *t;
    HY_OK_OR_FAIL(hy_tokenizer_create(&v.spec, &t));
    TT_IDS_ARE(t,
               "a\x04"
               "b",
               0, 'a', 'b');
    HY_CHECK(tt_ids_are(t, "\x04", 0, (const hy_token[]){0}, 0));
    hy_tokenizer_free(t);
    tt_vocab_free(&v);
}

HY_TEST(default_pre_tokenizer_when_pre_is_absent) {
    tt_vocab v;
    tt_vocab_build(&v, NULL, extra, (int)(sizeof extra / sizeof extra[0]), merges,
                   (int)(sizeof merges / sizeof merges[0]));
    hy_tokenizer *t;
    HY_OK_OR_FAIL(hy_tokenizer_create(&v.spec, &t));
    HY_CHECK(!strcmp(hy_tokenizer_pre(t), "default"));
    TT_IDS_ARE(t, "hello world", 0, HELLO, SP_WORLD);
    hy_tokenizer_free(t);
    tt_vocab_free(&v);
}

HY_TEST_MAIN()
