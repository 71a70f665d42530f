/* Seeded fuzzing (reproducible: fixed seeds, no clock): random bytes, invalid UTF-8 and
 * special-token fragments included, must encode without error and decode back to the same
 * bytes, whole and streamed; random vocabularies and mutated chat templates (ChatML and
 * Gemma 3's) must give a status, never a crash (run under ASan/UBSan to catch the silent kind). */
#include "hy_test.h"
#include "tok_test_util.h"

#include <jansson.h>

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t next_u32(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static const tt_token extra[] = {{"ab", 0},
                                 {"abc", 0},
                                 {" a", 0},
                                 {"  ", 0},
                                 {"é", 0},
                                 {"<|s|>", HY_TOKTYPE_CONTROL},
                                 {"<u>", HY_TOKTYPE_USER_DEFINED},
                                 {"<|s|>x", HY_TOKTYPE_CONTROL}};
static const char *const merges[] = {"a b", "ab c", "  a", "   ", "\xC3 \xA9"};

/* Random text: ASCII, whitespace, special fragments, valid multi-byte characters (letters,
 * digits, CJK, emoji, ZWJ) and raw bytes. */
static size_t random_text(char *buf, size_t cap) {
    static const char *const parts[] = {
        "<|s|>", "<u>", "<|s|>x", "<|", "|>", "'s",           "'ve", " ", "  ",       "\t", "\n",
        "\r\n",  "é",   "ß",      "中", "😀",  "\xE2\x80\x8D", "٣",   "½", "\xC2\xA0", "12", "3.5"};
    size_t n = 0, len = next_u32() % (cap - 8);
    while (n < len) {
        uint32_t r = next_u32() % 8;
        if (r < 3) {
            buf[n++] = (char)('a' + next_u32() % 26);
        } else if (r < 6) {
            const char *p = parts[next_u32() % (sizeof parts / sizeof parts[0])];
            size_t l = strlen(p);
            if (n + l > len) break;
            memcpy(buf + n, p, l);
            n += l;
        } else {
            buf[n++] = (char)(next_u32() & 0xFF);
        }
    }
    return n;
}

static void round_trip(const hy_tokenizer *t, const char *buf, size_t len, unsigned enc,
                       unsigned dec, int iter) {
    hy_token *ids;
    int64_t n;
    HY_OK_OR_FAIL(hy_tokenizer_encode(t, buf, len, enc, &ids, &n));
    char *out;
    size_t ol;
    HY_OK_OR_FAIL(hy_tokenizer_decode(t, ids, n, dec, &out, &ol));
    if (ol != len || memcmp(out, buf, len))
        HY_FAILF("iteration %d: decode(encode(s)) != s (%zu -> %zu bytes)", iter, len, ol);
    hy_tok_stream *s;
    HY_OK_OR_FAIL(hy_tok_stream_create(t, dec, &s));
    size_t off = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *p;
        size_t pl;
        HY_OK_OR_FAIL(hy_tok_stream_push(s, ids[i], &p, &pl));
        if (off + pl > ol || memcmp(out + off, p, pl))
            HY_FAILF("iteration %d: stream differs at token %lld", iter, (long long)i);
        off += pl;
    }
    const char *p;
    size_t pl;
    hy_tok_stream_flush(s, &p, &pl);
    if (off + pl != ol || memcmp(out + off, p, pl))
        HY_FAILF("iteration %d: stream flush differs", iter);
    hy_tok_stream_free(s);
    free(out);
    free(ids);
}

static hy_tokenizer *make(const char *pre) {
    tt_vocab v;
    tt_vocab_build(&v, pre, extra, (int)(sizeof extra / sizeof extra[0]), merges,
                   (int)(sizeof merges / sizeof merges[0]));
    hy_tokenizer *t = NULL;
    if (hy_tokenizer_create(&v.spec, &t)) fprintf(stderr, "create: %s\n", hy_last_error());
    tt_vocab_free(&v);
    return t;
}

HY_TEST(random_bytes_round_trip_every_pre_type) {
    const char *pres[] = {"smollm", "gpt-2", "default", "llama-bpe", "qwen2", "falcon"};
    char buf[1024];
    for (size_t p = 0; p < sizeof pres / sizeof pres[0]; p++) {
        hy_tokenizer *t = make(pres[p]);
        HY_REQUIRE(t);
        for (int iter = 0; iter < 400; iter++) {
            size_t len = random_text(buf, sizeof buf);
            round_trip(t, buf, len, HY_TOK_PARSE_SPECIAL, HY_TOK_DECODE_SPECIAL, iter);
            round_trip(t, buf, len, 0, 0, iter); /* control tokens stay text, user-defined split */
        }
        hy_tokenizer_free(t);
    }
}

HY_TEST(random_vocabularies_never_crash) {
    char buf[256];
    int built = 0, refused = 0;
    for (int iter = 0; iter < 300; iter++) {
        tt_vocab v;
        tt_vocab_build(&v, "smollm", extra, (int)(sizeof extra / sizeof extra[0]), merges,
                       (int)(sizeof merges / sizeof merges[0]));
        /* corrupt a few things at random: merge texts, types, ids, a token's bytes */
        char junk[4][8];
        for (int k = 0; k < 4; k++) {
            size_t l = next_u32() % 7;
            for (size_t i = 0; i < l; i++)
                junk[k][i] = (char)(next_u32() % 3 ? 'a' + next_u32() % 4 : ' ');
            junk[k][l] = '\0';
            switch (next_u32() % 5) {
            case 0:
                v.merges[next_u32() % v.spec.n_merges] = (hy_tok_text){junk[k], l};
                break;
            case 1:
                v.types[next_u32() % v.spec.n_tokens] = (int32_t)(next_u32() % 9) - 1;
                break;
            case 2:
                v.spec.bos_id = (hy_token)(next_u32() % 300) - 20;
                break;
            case 3:
                v.tokens[next_u32() % v.spec.n_tokens] = (hy_tok_text){junk[k], l};
                break;
            default:
                v.spec.n_token_types -= next_u32() % 2;
                break;
            }
        }
        hy_tokenizer *t = NULL;
        if (hy_tokenizer_create(&v.spec, &t) == HY_OK) {
            built++;
            size_t len = random_text(buf, sizeof buf);
            hy_token *ids;
            int64_t n;
            HY_OK_OR_FAIL(hy_tokenizer_encode(t, buf, len,
                                              HY_TOK_PARSE_SPECIAL | HY_TOK_ADD_SPECIAL, &ids, &n));
            char *out;
            size_t ol;
            HY_OK_OR_FAIL(hy_tokenizer_decode(t, ids, n, HY_TOK_DECODE_SPECIAL, &out, &ol));
            free(out);
            free(ids);
            hy_tokenizer_free(t);
        } else {
            refused++;
            HY_CHECK(strlen(hy_last_error()) > 10);
        }
        tt_vocab_free(&v);
    }
    HY_CHECK(built > 0 && refused > 0); /* both paths were exercised */
}

/* 2000 mutations (truncations, stray Jinja characters) of one template, rendered with a
 * short conversation: a status every time, and some still render (spaces are harmless). */
static void mutate_template(const char *base, const char *what) {
    size_t n = strlen(base);
    char *t = malloc(n + 1);
    int ok = 0;
    const hy_chat_msg msgs[3] = {{"system", " Be brief. "}, {"user", "hi"}, {"assistant", "yo"}};
    for (int iter = 0; iter < 2000; iter++) {
        memcpy(t, base, n + 1);
        size_t len = n;
        for (int k = 0, m = 1 + (int)(next_u32() % 3); k < m; k++) {
            uint32_t r = next_u32();
            if (r % 3 == 0)
                len = next_u32() % (len + 1); /* truncate */
            else if (len)
                t[next_u32() % len] = "{}%#'\"\\- \nab"[r % 13];
        }
        char *out = NULL;
        const int first = (int)(next_u32() % 2), count = 1 + (int)(next_u32() % (3 - first));
        if (hy_chat_render_template(t, len, "<s>", msgs + first, count, true, &out) == HY_OK) ok++;
        free(out);
    }
    free(t);
    if (!(ok > 0)) HY_FAILF("%s: no mutation rendered (harmless ones should)", what);
}

HY_TEST(mutated_chat_templates_never_crash) {
    mutate_template(
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
        "'<|im_start|>system\\nYou are kind<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + "
        "message['role'] + '\\n' + "
        "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
        "'<|im_start|>assistant\\n' }}{% endif %}",
        "chatml");
    /* Gemma 3's template as the fixture carries it (scripts/fixtures/chat_gemma.py) */
    json_error_t err;
    json_t *doc = json_load_file("tests/fixtures/chat_gemma.json", 0, &err);
    HY_REQUIRE(doc);
    const char *g = json_string_value(json_object_get(doc, "gemma3_template"));
    HY_REQUIRE(g);
    mutate_template(g, "gemma3");
    json_decref(doc);
}

HY_TEST_MAIN()
