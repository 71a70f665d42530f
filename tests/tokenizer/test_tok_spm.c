/* The SentencePiece-style tokenizer ('llama' model) on a hand-made vocabulary whose scores
 * decide the merge order: highest score first and leftmost on ties, spaces as '▁', the
 * optional space prefix (at the start and after a special token), <0xNN> byte fallback for
 * characters outside the vocabulary, and decoding back ('▁' -> space, byte tokens -> bytes). */
#include "hy_test.h"
#include "hy_tokenizer.h"

#include <string.h>

#define SP "\xe2\x96\x81" /* U+2581 */

/* ids: 0 <unk>, 1 <s>, 2..257 <0x00>..<0xFF>, then the pieces below */
static const char *const pieces[] = {"a", "b", "c", "ab", "bc", "abc", SP, SP "a", "<t>", "é"};
static const float piece_scores[] = {-1, -1, -1, -5, -2, -1, -1, -3, 0, -1};
enum { P0 = 258, A = P0, B, C, AB, BC, ABC, SPACE, SPACE_A, T, E_ACUTE, N_VOCAB };

static hy_tokenizer *make(bool space_prefix) {
    static char bytes[256][7];
    static hy_tok_text texts[N_VOCAB];
    static int32_t types[N_VOCAB];
    static float scores[N_VOCAB];
    texts[0] = (hy_tok_text){"<unk>", 5}, types[0] = HY_TOKTYPE_UNKNOWN;
    texts[1] = (hy_tok_text){"<s>", 3}, types[1] = HY_TOKTYPE_CONTROL;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        texts[2 + b] = (hy_tok_text){bytes[b], 6}, types[2 + b] = HY_TOKTYPE_BYTE;
    }
    for (int i = 0; i < N_VOCAB - P0; i++) {
        texts[P0 + i] = (hy_tok_text){pieces[i], strlen(pieces[i])};
        types[P0 + i] = i + P0 == T ? HY_TOKTYPE_CONTROL : HY_TOKTYPE_NORMAL;
        scores[P0 + i] = piece_scores[i];
    }
    hy_tokenizer_spec s = hy_tokenizer_spec_init();
    s.source = "spm vocab";
    s.model = "llama";
    s.tokens = texts, s.n_tokens = N_VOCAB;
    s.token_types = types, s.n_token_types = N_VOCAB;
    s.scores = scores, s.n_scores = N_VOCAB;
    s.unk_id = 0, s.bos_id = 1, s.add_bos = true;
    s.add_space_prefix = space_prefix;
    hy_tokenizer *t = NULL;
    if (hy_tokenizer_create(&s, &t)) HY_FAILF("create: %s", hy_last_error());
    return t;
}

static void expect(hy_tokenizer *t, const char *text, unsigned flags, const hy_token *want,
                   int64_t n_want) {
    hy_token *ids;
    int64_t n;
    HY_OK_OR_FAIL(hy_tokenizer_encode(t, text, strlen(text), flags, &ids, &n));
    int same = n == n_want && (n == 0 || !memcmp(ids, want, (size_t)n * sizeof *ids));
    if (!same) {
        HY_FAILF("'%s': %lld ids, expected %lld", text, (long long)n, (long long)n_want);
        for (int64_t i = 0; i < n; i++)
            fprintf(stderr, " %d", ids[i]);
        fputc('\n', stderr);
    }
    free(ids);
}

HY_TEST(merges_by_score_not_by_position) {
    hy_tokenizer *t = make(false);
    HY_REQUIRE(t);
    /* "bc" (-2) beats "ab" (-5); then "a"+"bc" is "abc" */
    expect(t, "abc", 0, (hy_token[]){ABC}, 1);
    /* "ab" only: no "bc" pair, so "ab" then "c" has no merge left ("abc" needs a+bc) */
    expect(t, "abac", 0, (hy_token[]){AB, A, C}, 3);
    hy_tokenizer_free(t);
}

HY_TEST(spaces_become_the_marker_and_prefix_follows_the_flag) {
    hy_tokenizer *t = make(false);
    HY_REQUIRE(t);
    expect(t, "a a", 0, (hy_token[]){A, SPACE_A}, 2);
    expect(t, "a a", HY_TOK_ADD_SPECIAL, (hy_token[]){1, A, SPACE_A}, 3);
    hy_tokenizer_free(t);
    t = make(true);
    HY_REQUIRE(t);
    expect(t, "a a", 0, (hy_token[]){SPACE_A, SPACE_A}, 2);
    /* the prefix also goes after a special token */
    expect(t, "a<t>a", HY_TOK_PARSE_SPECIAL, (hy_token[]){SPACE_A, T, SPACE_A}, 3);
    hy_tokenizer_free(t);
}

HY_TEST(byte_fallback_and_decode) {
    hy_tokenizer *t = make(false);
    HY_REQUIRE(t);
    /* 'ü' (c3 bc) is not a piece: its bytes' tokens; 'é' is */
    expect(t, "\xc3\xbc\xc3\xa9", 0, (hy_token[]){2 + 0xc3, 2 + 0xbc, E_ACUTE}, 3);
    const hy_token ids[] = {A, SPACE_A, 2 + 0xc3, 2 + 0xbc, SPACE, T};
    char *out;
    size_t len;
    HY_OK_OR_FAIL(hy_tokenizer_decode(t, ids, 6, 0, &out, &len));
    HY_CHECK(len == 6 && !memcmp(out, "a a\xc3\xbc ", 6));
    free(out);
    HY_OK_OR_FAIL(hy_tokenizer_decode(t, ids, 6, HY_TOK_DECODE_SPECIAL, &out, &len));
    HY_CHECK(!strcmp(out, "a a\xc3\xbc <t>"));
    free(out);
    hy_tokenizer_free(t);
}

HY_TEST(scores_must_cover_the_vocabulary) {
    const hy_tok_text texts[] = {{"a", 1}, {"b", 1}};
    const float scores[] = {0};
    hy_tokenizer_spec s = hy_tokenizer_spec_init();
    s.model = "llama";
    s.tokens = texts, s.n_tokens = 2;
    s.scores = scores, s.n_scores = 1;
    hy_tokenizer *t;
    HY_CHECK_EQ_INT(hy_tokenizer_create(&s, &t), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "tokenizer.ggml.scores has 1 entries, expected 2") != NULL);
}

HY_TEST_MAIN()
