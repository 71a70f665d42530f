/* A real tokenizer against llama.cpp: every fixture string must encode to the ids llama.cpp
 * gives (with and without special-token parsing), decode back to the text, stream back to
 * the same bytes; the chat prompts (where the fixture has them) must render byte for byte as
 * Jinja renders the model's template, and the EOG set must match. By default SmolLM2's
 * byte-level BPE (fixture: scripts/fixtures/tokens.py); with $HY_TOK_FIXTURE and
 * $HY_TOK_MODEL another pair, e.g. Gemma 3's SentencePiece vocabulary
 * (scripts/fixtures/tokens_gemma.py), skipped (exit 77) when that model is absent. */
#include "hy_test.h"
#include "hy_tokenizer.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

static const char *fixture_path = "tests/fixtures/tokenizer.json";
static const char *model_path;
static json_t *fx;
static hy_gguf *g;
static hy_tokenizer *tok;

/* Loads the model's tokenizer and the fixture once; NULL tokenizer fails the case. */
static int setup(void) {
    if (tok) return 1;
    json_error_t err;
    if (getenv("HY_TOK_FIXTURE")) fixture_path = getenv("HY_TOK_FIXTURE");
    model_path = getenv("HY_TOK_MODEL") ? getenv("HY_TOK_MODEL") : hy_test_model_path();
    if (getenv("HY_TOK_MODEL") && access(model_path, R_OK) != 0) {
        printf("SKIP %s absent (scripts/fetch-model)\n", model_path);
        exit(77);
    }
    fx = json_load_file(fixture_path, 0, &err);
    if (!fx) {
        HY_FAILF("cannot read %s: %s (line %d)", fixture_path, err.text, err.line);
        return 0;
    }
    hy_status st = hy_gguf_open(model_path, &g);
    if (st == HY_OK) st = hy_tokenizer_from_gguf(g, &tok);
    if (st) {
        HY_FAILF("loading %s: %s", model_path, hy_last_error());
        return 0;
    }
    return 1;
}

static int ids_equal(const json_t *want, const hy_token *ids, int64_t n) {
    if ((int64_t)json_array_size(want) != n) return 0;
    for (int64_t i = 0; i < n; i++)
        if (json_integer_value(json_array_get(want, (size_t)i)) != ids[i]) return 0;
    return 1;
}

static void print_ids(const char *label, const hy_token *ids, int64_t n) {
    fprintf(stderr, "  %s:", label);
    for (int64_t i = 0; i < n; i++)
        fprintf(stderr, " %d", ids[i]);
    fputc('\n', stderr);
}

static void check_encode(const char *key, unsigned flags) {
    json_t *strs = json_object_get(fx, "strings");
    HY_REQUIRE(json_array_size(strs) >= 40);
    size_t i;
    json_t *e;
    json_array_foreach(strs, i, e) {
        const char *text = json_string_value(json_object_get(e, "text"));
        size_t len = json_string_length(json_object_get(e, "text"));
        hy_token *ids;
        int64_t n;
        HY_OK_OR_FAIL(hy_tokenizer_encode(tok, text, len, flags, &ids, &n));
        if (!ids_equal(json_object_get(e, key), ids, n)) {
            HY_FAILF("string %zu '%.40s': ids differ from llama.cpp (%s)", i, text, key);
            print_ids("hylra", ids, n);
        }
        free(ids);
    }
}

HY_TEST(vocab_matches_llama_cpp) {
    if (!setup()) return;
    HY_CHECK_EQ_INT(hy_tokenizer_n_vocab(tok), json_integer_value(json_object_get(fx, "n_vocab")));
    HY_CHECK_EQ_INT(hy_tokenizer_bos(tok), json_integer_value(json_object_get(fx, "bos")));
    HY_CHECK_EQ_INT(hy_tokenizer_eos(tok), json_integer_value(json_object_get(fx, "eos")));
    /* add_bos as llama.cpp: the fixture's ids_special of "" is [bos] or [] */
    json_t *empty =
        json_object_get(json_array_get(json_object_get(fx, "strings"), 0), "ids_special");
    HY_CHECK_EQ_INT(hy_tokenizer_add_bos(tok), json_array_size(empty) == 1);
    if (!getenv("HY_TOK_MODEL")) HY_CHECK(!strcmp(hy_tokenizer_pre(tok), "smollm"));
    json_t *eog = json_object_get(fx, "eog");
    int64_t n_eog = 0;
    for (hy_token id = 0; id < hy_tokenizer_n_vocab(tok); id++)
        n_eog += hy_tokenizer_is_eog(tok, id);
    HY_CHECK_EQ_INT(n_eog, json_array_size(eog));
    size_t i;
    json_t *e;
    json_array_foreach(eog, i, e)
        HY_CHECK(hy_tokenizer_is_eog(tok, (hy_token)json_integer_value(e)));
}

HY_TEST(encode_parse_special_matches_llama_cpp) {
    if (!setup()) return;
    check_encode("ids_special", HY_TOK_ADD_SPECIAL | HY_TOK_PARSE_SPECIAL);
}

HY_TEST(encode_plain_matches_llama_cpp) {
    if (!setup()) return;
    check_encode("ids_plain", 0);
}

HY_TEST(decode_matches_llama_cpp_and_round_trips) {
    if (!setup()) return;
    json_t *strs = json_object_get(fx, "strings");
    size_t i;
    json_t *e;
    json_array_foreach(strs, i, e) {
        json_t *text = json_object_get(e, "text"), *detok = json_object_get(e, "detok_special");
        json_t *want = json_object_get(e, "ids_special");
        int64_t n = (int64_t)json_array_size(want);
        hy_token *ids = malloc(sizeof(hy_token) * (size_t)(n + 1));
        HY_REQUIRE(ids);
        for (int64_t k = 0; k < n; k++)
            ids[k] = (hy_token)json_integer_value(json_array_get(want, (size_t)k));
        char *out;
        size_t len;
        HY_OK_OR_FAIL(hy_tokenizer_decode(tok, ids, n, HY_TOK_DECODE_SPECIAL, &out, &len));
        if (len != json_string_length(detok) || memcmp(out, json_string_value(detok), len))
            HY_FAILF("string %zu: decode differs from llama.cpp's pieces", i);
        free(out);
        /* the round trip leaves out the BOS the encoder added (Gemma adds one) */
        const int64_t k0 = hy_tokenizer_add_bos(tok) && n > 0 ? 1 : 0;
        HY_OK_OR_FAIL(
            hy_tokenizer_decode(tok, ids + k0, n - k0, HY_TOK_DECODE_SPECIAL, &out, &len));
        /* SentencePiece decodes a literal U+2581 in the text as a space, as llama.cpp does */
        const bool lossy = strstr(json_string_value(text), "\xe2\x96\x81") != NULL;
        if (!lossy &&
            (len != json_string_length(text) || memcmp(out, json_string_value(text), len)))
            HY_FAILF("string %zu: decode(encode(s)) != s", i);
        free(out);
        if (lossy) {
            free(ids);
            continue;
        }
        /* streamed a token at a time: same bytes, and never a split UTF-8 character */
        hy_tok_stream *s;
        HY_OK_OR_FAIL(hy_tok_stream_create(tok, HY_TOK_DECODE_SPECIAL, &s));
        size_t off = 0;
        const char *tx = json_string_value(text);
        for (int64_t k = k0; k < n; k++) {
            const char *p;
            size_t pl;
            HY_OK_OR_FAIL(hy_tok_stream_push(s, ids[k], &p, &pl));
            if (off + pl > len || memcmp(tx + off, p, pl))
                HY_FAILF("string %zu: stream differs at token %lld", i, (long long)k);
            if (pl && ((unsigned char)tx[off] & 0xC0) == 0x80)
                HY_FAILF("string %zu: stream split a character", i);
            off += pl;
        }
        const char *p;
        size_t pl;
        hy_tok_stream_flush(s, &p, &pl);
        off += pl;
        HY_CHECK_EQ_INT(off, len);
        hy_tok_stream_free(s);
        free(ids);
    }
}

/* One tokenizer.* key of g into w, whatever its type; the key NUL-terminated in name. */
static hy_status copy_kv(const hy_gguf *g, int64_t i, const char *name, hy_gguf_writer *w) {
    const hy_gguf_vtype ty = hy_gguf_kv_type(g, i);
    hy_gguf_str str;
    uint32_t u;
    int64_t v;
    bool b;
    float f;
    switch (ty) {
    case HY_GGUF_STRING: {
        hy_status st = hy_gguf_get_str(g, name, &str);
        char *z = st ? NULL : strndup(str.ptr, (size_t)str.len);
        if (!st) st = z ? hy_gguf_writer_set_str(w, name, z) : HY_ENOMEM;
        free(z);
        return st;
    }
    case HY_GGUF_U32:
        return hy_gguf_get_u32(g, name, &u) ?: hy_gguf_writer_set_u32(w, name, u);
    case HY_GGUF_I32:
        return hy_gguf_get_i64(g, name, &v) ?: hy_gguf_writer_set_i32(w, name, (int32_t)v);
    case HY_GGUF_BOOL:
        return hy_gguf_get_bool(g, name, &b) ?: hy_gguf_writer_set_bool(w, name, b);
    case HY_GGUF_F32:
        return hy_gguf_get_f32(g, name, &f) ?: hy_gguf_writer_set_f32(w, name, f);
    case HY_GGUF_ARRAY:
        break;
    default:
        return hy_fail(HY_EUNSUPPORTED, "copying %s: type %d", name, (int)ty);
    }
    hy_gguf_vtype et;
    uint64_t n;
    const void *data;
    hy_status st = hy_gguf_get_arr(g, name, &et, &n, &data);
    if (st || et != HY_GGUF_STRING) return st ? st : hy_gguf_writer_set_arr(w, name, et, data, n);
    char **strs = calloc(n ? n : 1, sizeof *strs);
    st = strs ? HY_OK : HY_ENOMEM;
    for (uint64_t k = 0; !st && k < n; k++) {
        st = hy_gguf_get_arr_str(g, name, k, &str);
        if (!st && !(strs[k] = strndup(str.ptr, (size_t)str.len))) st = HY_ENOMEM;
    }
    if (!st) st = hy_gguf_writer_set_arr_str(w, name, (const char *const *)strs, n);
    for (uint64_t k = 0; strs && k < n; k++)
        free(strs[k]);
    free(strs);
    return st;
}

/* The model's tokenizer read back from a GGUF written with the project's writer: every
 * tokenizer.* key of the model plus tmpl as tokenizer.chat_template (the file a converter
 * makes from a checkpoint whose tokenizer_config.json carries the template). */
static hy_tokenizer *with_template(const char *tmpl) {
    hy_gguf_writer *w = NULL;
    hy_gguf *copy = NULL;
    hy_tokenizer *t = NULL;
    void *buf = NULL;
    size_t size = 0;
    char name[256];
    hy_status st = hy_gguf_writer_create(&w);
    for (int64_t i = 0; !st && i < hy_gguf_n_kv(g); i++) {
        const hy_gguf_str key = hy_gguf_kv_key(g, i);
        if (key.len >= sizeof name || key.len < 10 || memcmp(key.ptr, "tokenizer.", 10)) continue;
        memcpy(name, key.ptr, (size_t)key.len);
        name[key.len] = '\0';
        if (strcmp(name, "tokenizer.chat_template")) st = copy_kv(g, i, name, w);
    }
    if (!st) st = hy_gguf_writer_set_str(w, "tokenizer.chat_template", tmpl);
    if (!st) st = hy_gguf_writer_write_memory(w, 32, &buf, &size);
    if (!st) st = hy_gguf_open_memory(buf, size, "tokenizer-with-template.gguf", &copy);
    if (!st) st = hy_tokenizer_from_gguf(copy, &t);
    if (st) HY_FAILF("copying %s's tokenizer with a template: %s", model_path, hy_last_error());
    hy_gguf_close(copy);
    free(buf);
    hy_gguf_writer_free(w);
    return st ? NULL : t;
}

/* The conversations rendered as Jinja renders the template (the file's own, or the fixture's
 * "chat_template" for a file without one: Gemma 3 270M's GGUF), and their ids as llama.cpp's
 * under the fixture's flags for them. */
HY_TEST(chat_render_matches_jinja) {
    if (!setup()) return;
    json_t *chats = json_object_get(fx, "chats");
    if (!chats) return;
    HY_REQUIRE(json_array_size(chats) >= 3);
    const char *tmpl = json_string_value(json_object_get(fx, "chat_template"));
    hy_tokenizer *t = tmpl ? with_template(tmpl) : tok;
    HY_REQUIRE(t);
    const char *how = json_string_value(json_object_get(json_object_get(fx, "flags"), "chats.ids"));
    HY_REQUIRE(how);
    const unsigned flags =
        HY_TOK_PARSE_SPECIAL | (strstr(how, "add_special=True") ? HY_TOK_ADD_SPECIAL : 0u);
    size_t i;
    json_t *c;
    json_array_foreach(chats, i, c) {
        json_t *msgs = json_object_get(c, "messages");
        size_t n = json_array_size(msgs);
        hy_chat_msg m[16];
        HY_REQUIRE(n <= 16);
        for (size_t k = 0; k < n; k++) {
            m[k].role = json_string_value(json_object_get(json_array_get(msgs, k), "role"));
            m[k].content = json_string_value(json_object_get(json_array_get(msgs, k), "content"));
        }
        char *out;
        HY_OK_OR_FAIL(hy_chat_render(
            t, m, n, json_is_true(json_object_get(c, "add_generation_prompt")), &out));
        const char *want = json_string_value(json_object_get(c, "prompt"));
        if (strcmp(out, want)) HY_FAILF("chat %zu renders\n%s\nexpected\n%s", i, out, want);
        hy_token *ids;
        int64_t nid;
        HY_OK_OR_FAIL(hy_tokenizer_encode(t, out, strlen(out), flags, &ids, &nid));
        if (!ids_equal(json_object_get(c, "ids"), ids, nid))
            HY_FAILF("chat %zu: ids differ from llama.cpp", i);
        free(ids);
        free(out);
    }
    if (t != tok) hy_tokenizer_free(t);
}

/* The other pre-tokenizers, each on SmolLM2's vocabulary, against llama.cpp loading a copy
 * of the file's metadata whose tokenizer.ggml.pre names them. */
HY_TEST(other_pre_types_match_llama_cpp) {
    if (!setup()) return;
    json_t *pres = json_object_get(fx, "other_pres"), *strs = json_object_get(fx, "strings");
    if (!pres) return; /* BPE pre-tokenizers: SmolLM2's fixture only */
    HY_REQUIRE(json_object_size(pres) >= 5);
    const char *pre;
    json_t *lists;
    json_object_foreach(pres, pre, lists) {
        hy_tokenizer *t;
        HY_OK_OR_FAIL(hy_tokenizer_from_gguf_pre(g, pre, &t));
        HY_CHECK(!strcmp(hy_tokenizer_pre(t), pre));
        size_t i;
        json_t *want;
        json_array_foreach(lists, i, want) {
            json_t *text = json_object_get(json_array_get(strs, i), "text");
            hy_token *ids;
            int64_t n;
            HY_OK_OR_FAIL(hy_tokenizer_encode(t, json_string_value(text), json_string_length(text),
                                              HY_TOK_PARSE_SPECIAL, &ids, &n));
            if (!ids_equal(want, ids, n)) {
                HY_FAILF("pre '%s', string %zu '%.40s': ids differ from llama.cpp", pre, i,
                         json_string_value(text));
                print_ids("hylra", ids, n);
            }
            free(ids);
        }
        hy_tokenizer_free(t);
    }
}

/* Random bytes, invalid UTF-8 included, through the real vocabulary: encoding never fails
 * and decoding gives the input back, less exactly the bytes that have no token in this
 * vocabulary (llama.cpp drops those too). Seeded, so a failure reproduces. */
HY_TEST(fuzz_real_vocab_round_trip) {
    if (!setup()) return;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char buf[512], kept[512];
    /* SentencePiece splits text into characters by lead byte alone, so invalid UTF-8 can
     * swallow the bytes of a following '▁' and not round-trip (llama.cpp gives the same
     * ids); for it the arbitrary bytes are ASCII, and no byte is ever dropped */
    const bool spm = getenv("HY_TOK_MODEL") != NULL;
    int64_t dropped_total = 0;
    for (int iter = 0; iter < 400; iter++) {
        size_t len = 0, nk = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = x % sizeof buf;
        for (; len < n; len++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned r = (unsigned)(x >> 24);
            /* mix ASCII letters, spaces, '<|' fragments and arbitrary bytes */
            int c = r % 5 == 0   ? ' '
                    : r % 5 == 1 ? 'a' + (int)(r % 26)
                    : r % 5 == 2 ? "<|>\n"[r % 4]
                                 : (int)(r >> 8) & (spm ? 0x7F : 0xFF);
            buf[len] = (char)c;
        }
        for (size_t k = 0; k < len; k++) {
            char one = buf[k];
            hy_token *ids1;
            int64_t n1;
            HY_OK_OR_FAIL(hy_tokenizer_encode(tok, &one, 1, 0, &ids1, &n1));
            if (n1) kept[nk++] = one;
            free(ids1);
        }
        dropped_total += (int64_t)(len - nk);
        hy_token *ids;
        int64_t nid;
        HY_OK_OR_FAIL(hy_tokenizer_encode(tok, buf, len, HY_TOK_PARSE_SPECIAL, &ids, &nid));
        char *out;
        size_t ol;
        HY_OK_OR_FAIL(hy_tokenizer_decode(tok, ids, nid, HY_TOK_DECODE_SPECIAL, &out, &ol));
        if (ol != nk || memcmp(out, kept, nk))
            HY_FAILF("iteration %d: round trip differs (%zu bytes in, %zu out)", iter, len, ol);
        free(out);
        free(ids);
    }
    if (!spm) HY_CHECK(dropped_total > 0); /* the generator does reach the tokenless bytes */
}

HY_TEST_MAIN()
