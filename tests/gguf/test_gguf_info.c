/* `hylra info` end to end: runs the built CLI (path in HY_HYLRA) on the real model, checking
 * the printed shapes against what gguf-py read (tests/fixtures/gguf/model.json), on a tiny
 * writer-built model with a type hylra cannot dequantise, and on broken input (exit codes
 * and the "hylra: <what>: <error>" line). */
#include "gguf_test_util.h"
#include "hy_test.h"

#include <jansson.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs `hylra info ARGS` with stderr merged; returns the exit code and the output. */
static int run_info(const char *args, char *out, size_t cap) {
    const char *exe = getenv("HY_HYLRA");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s info %s 2>&1", exe ? exe : "build/cli/hylra", args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The value printed after a label at the start of a line ("layers           30"). */
static long long field(const char *out, const char *label) {
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s ", label);
    const char *p = strstr(out, pat);
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static long long ref_kv(json_t *ref, const char *key) {
    return json_integer_value(
        json_object_get(json_object_get(json_object_get(ref, "kv"), key), "value"));
}

HY_TEST(info_real_model_matches_gguf_py) {
    static char out[16384];
    char path[1024];
    json_error_t err;
    json_t *ref = json_load_file(tu_fixture("model.json", path, sizeof path), 0, &err);
    HY_REQUIRE(ref);
    char args[1100];
    snprintf(args, sizeof args, "'%s'", hy_test_model_path());
    HY_CHECK_EQ_INT(run_info(args, out, sizeof out), 0);
    HY_CHECK_EQ_INT(field(out, "layers          "), ref_kv(ref, "llama.block_count"));
    HY_CHECK_EQ_INT(field(out, "d_model         "), ref_kv(ref, "llama.embedding_length"));
    HY_CHECK_EQ_INT(field(out, "heads           "), ref_kv(ref, "llama.attention.head_count"));
    HY_CHECK_EQ_INT(field(out, "d_ff            "), ref_kv(ref, "llama.feed_forward_length"));
    HY_CHECK_EQ_INT(field(out, "context length  "), ref_kv(ref, "llama.context_length"));
    HY_CHECK_EQ_INT(field(out, "vocab size      "), ref_kv(ref, "llama.vocab_size"));
    HY_CHECK_EQ_INT(field(out, "head dim        "), ref_kv(ref, "llama.embedding_length") /
                                                        ref_kv(ref, "llama.attention.head_count"));
    char kvh[64];
    snprintf(kvh, sizeof kvh, "(kv heads %lld,", ref_kv(ref, "llama.attention.head_count_kv"));
    HY_CHECK(strstr(out, kvh) != NULL);
    HY_CHECK(strstr(out, "architecture     llama\n") != NULL);
    HY_CHECK(strstr(out, "chat template    yes") != NULL);
    HY_CHECK(strstr(out, "type norm") != NULL);
    /* the tensor table adds up to the tensor count gguf-py saw */
    HY_CHECK_EQ_INT(field(out, "total"), json_integer_value(json_object_get(ref, "n_tensors")));
    if (hy_test_failed_checks) fprintf(stderr, "%s", out);
    json_decref(ref);
}

HY_TEST(info_tiny_model_lists_unsupported_type) {
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    HY_OK_OR_FAIL(hy_gguf_writer_set_str(w, "general.architecture", "qwen2"));
    HY_OK_OR_FAIL(hy_gguf_writer_set_u32(w, "qwen2.block_count", 2));
    uint8_t raw[110] = {0};
    const int64_t ne[1] = {256};
    HY_OK_OR_FAIL(
        hy_gguf_writer_add_tensor_raw(w, "q3k", (hy_ggml_type)11, 1, ne, raw, sizeof raw));
    float v[256] = {0};
    HY_OK_OR_FAIL(hy_gguf_writer_add_tensor_f32(w, "f", HY_GGML_F16, 1, ne, v));
    char path[] = "/tmp/hy_info_test_XXXXXX";
    int fd = mkstemp(path);
    HY_REQUIRE(fd >= 0);
    close(fd);
    HY_OK_OR_FAIL(hy_gguf_writer_write(w, path, 32));
    hy_gguf_writer_free(w);
    static char out[8192];
    HY_CHECK_EQ_INT(run_info(path, out, sizeof out), 0);
    HY_CHECK(strstr(out, "Q3_K") && strstr(out, "not dequantisable"));
    HY_CHECK(strstr(out, "type neox") != NULL);
    HY_CHECK_EQ_INT(field(out, "layers          "), 2);
    HY_CHECK(strstr(out, "parameters       512 ") != NULL);
    unlink(path);
}

HY_TEST(info_errors_and_usage) {
    static char out[8192];
    HY_CHECK_EQ_INT(run_info("/nonexistent/model.gguf", out, sizeof out), 1);
    const char *want = "hylra: reading model: /nonexistent/model.gguf: cannot open";
    HY_CHECK(!strncmp(out, want, strlen(want)));
    char path[] = "/tmp/hy_info_bad_XXXXXX";
    int fd = mkstemp(path);
    HY_REQUIRE(fd >= 0);
    HY_REQUIRE(write(fd, "GGUF\x01\0\0\0", 8) == 8);
    close(fd);
    HY_CHECK_EQ_INT(run_info(path, out, sizeof out), 1);
    HY_CHECK(strstr(out, "v1 is not supported") != NULL);
    unlink(path);
    HY_CHECK_EQ_INT(run_info("", out, sizeof out), 2);
    HY_CHECK(strstr(out, "usage: hylra info") != NULL);
    HY_CHECK_EQ_INT(run_info("--help", out, sizeof out), 0);
    HY_CHECK(strstr(out, "usage: hylra info") != NULL);
}

HY_TEST_MAIN()
