/* A Hugging Face tokenizer.json (byte-level BPE trained with the `tokenizers` library,
 * tests/fixtures/hf_tokenizer/, scripts/fixtures/hf_tokenizer.py) read by
 * hy_tokenizer_from_hf_json: every fixture string encodes to the library's ids and decodes
 * back; tokenizer_config.json's BOS/EOS are found; unsupported files are refused by name. */
#include "hy_test.h"
#include "hy_tokenizer.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIR "tests/fixtures/hf_tokenizer"

HY_TEST(ids_match_the_tokenizers_library) {
    json_error_t err;
    json_t *fx = json_load_file(DIR "/reference.json", 0, &err);
    HY_REQUIRE(fx);
    hy_tokenizer *t;
    HY_OK_OR_FAIL(hy_tokenizer_open(DIR, &t));
    HY_CHECK_EQ_INT(hy_tokenizer_n_vocab(t), json_integer_value(json_object_get(fx, "vocab_size")));
    HY_CHECK(hy_tokenizer_bos(t) == 0 && hy_tokenizer_eos(t) == 0 && !hy_tokenizer_add_bos(t));
    HY_CHECK(!strcmp(hy_tokenizer_pre(t), "gpt-2"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(fx, "strings"), i, e) {
        json_t *text = json_object_get(e, "text"), *want = json_object_get(e, "ids");
        hy_token *ids;
        int64_t n;
        HY_OK_OR_FAIL(hy_tokenizer_encode(t, json_string_value(text), json_string_length(text),
                                          HY_TOK_PARSE_SPECIAL, &ids, &n));
        int same = n == (int64_t)json_array_size(want);
        for (int64_t k = 0; same && k < n; k++)
            same = ids[k] == json_integer_value(json_array_get(want, (size_t)k));
        if (!same)
            HY_FAILF("string %zu '%.40s': ids differ from tokenizers'", i, json_string_value(text));
        char *out;
        size_t len;
        HY_OK_OR_FAIL(hy_tokenizer_decode(t, ids, n, HY_TOK_DECODE_SPECIAL, &out, &len));
        if (len != json_string_length(text) || memcmp(out, json_string_value(text), len))
            HY_FAILF("string %zu: decode(encode(s)) != s", i);
        free(out);
        free(ids);
    }
    hy_tokenizer_free(t);
    json_decref(fx);
}

HY_TEST(unsupported_files_are_named) {
    hy_tokenizer *t;
    HY_CHECK(hy_tokenizer_open("no/such/dir/x.gguf", &t) != HY_OK);
    char dir[] = "/tmp/hy_tokjson_XXXXXX", path[64];
    HY_REQUIRE(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    const char *files[][2] = {
        {"{\"model\": {\"type\": \"Unigram\"}}", "model.type = 'Unigram'"},
        {"{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true}}", "byte_fallback"},
        {"{\"model\": {\"type\": \"BPE\"}, \"pre_tokenizer\": {\"type\": \"Metaspace\"}}",
         "'Metaspace'"},
        {"{\"model\": {\"type\": \"BPE\"}, \"pre_tokenizer\": {\"type\": \"Sequence\", "
         "\"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"x+\"}}, "
         "{\"type\": \"ByteLevel\", \"use_regex\": false}]}}",
         "regex 'x+'"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 2}, \"merges\": []}, "
         "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"use_regex\": true}}",
         "no token has id 1"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        FILE *f = fopen(path, "w");
        HY_REQUIRE(f);
        fputs(files[i][0], f);
        fclose(f);
        HY_CHECK(hy_tokenizer_open(dir, &t) != HY_OK);
        if (!strstr(hy_last_error(), files[i][1]))
            HY_FAILF("file %zu: message '%s' lacks '%s'", i, hy_last_error(), files[i][1]);
    }
    unlink(path), rmdir(dir);
}

HY_TEST_MAIN()
