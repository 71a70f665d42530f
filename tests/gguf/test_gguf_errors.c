/* Malformed GGUF files, each derived from a valid one built by the writer: every truncation
 * length, bad magic, versions, huge counts and lengths, bad KV and tensor fields, misaligned
 * and overlapping data. Each must fail with the right status and a message naming the file
 * and the field. */
#include "gguf_test_util.h"
#include "hy_test.h"

static int has(const char *needle) {
    return strstr(hy_last_error(), needle) != NULL;
}

static uint8_t *g_buf;
static size_t g_size;

/* A fresh copy of the small model (exact-size malloc so ASan sees over-reads). */
static uint8_t *fresh(void) {
    if (!g_buf) {
        void *b;
        if (tu_build_small(32, &b, &g_size)) return NULL;
        g_buf = b;
    }
    uint8_t *c = malloc(g_size);
    if (c) memcpy(c, g_buf, g_size);
    return c;
}

static hy_status try_open(const uint8_t *buf, size_t size) {
    hy_gguf *g = (hy_gguf *)1;
    hy_clear_error();
    hy_status st = hy_gguf_open_memory(buf, size, "bad.gguf", &g);
    if (st == HY_OK)
        hy_gguf_close(g);
    else if (g != NULL)
        HY_FAILF("handle not NULL after failure");
    return st;
}

#define EXPECT_FAIL(buf, size, status, needle)                                                     \
    do {                                                                                           \
        hy_status st_ = try_open(buf, size);                                                       \
        HY_CHECK_EQ_INT(st_, status);                                                              \
        if (!has(needle) || !has("bad.gguf"))                                                      \
            HY_FAILF("message lacks '%s' or the file name: %s", needle, hy_last_error());          \
    } while (0)

HY_TEST(valid_base_opens) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    HY_CHECK_EQ_INT(try_open(b, g_size), HY_OK);
    free(b);
}

HY_TEST(truncated_at_every_length) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open_memory(b, g_size, "x", &g));
    /* the file may end right after the last tensor's bytes (trailing padding optional) */
    size_t end = 0;
    for (int64_t i = 0; i < hy_gguf_n_tensors(g); i++) {
        const hy_gguf_tensor *t = hy_gguf_tensor_at(g, i);
        size_t e = (size_t)(hy_gguf_data_offset(g) + t->offset + t->nbytes);
        end = e > end ? e : end;
    }
    hy_gguf_close(g);
    int bad = 0;
    for (size_t len = 0; len < end && bad < 5; len++) {
        uint8_t *c = malloc(len ? len : 1);
        memcpy(c, b, len);
        hy_status st = try_open(c, len);
        if (st != HY_EFORMAT || !has("bad.gguf") ||
            !(has("truncated") || has("past the end") || has("bytes left") ||
              has("left in the file"))) {
            HY_FAILF("length %zu: status %d, message: %s", len, st, hy_last_error());
            bad++;
        }
        free(c);
    }
    HY_CHECK_EQ_INT(try_open(b, end), HY_OK);
    free(b);
}

HY_TEST(truncated_message_names_field_and_offset) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    EXPECT_FAIL(b, 2, HY_EFORMAT, "magic");
    EXPECT_FAIL(b, 6, HY_EFORMAT, "version at offset 4");
    EXPECT_FAIL(b, 12, HY_EFORMAT, "tensor count at offset 8");
    EXPECT_FAIL(b, 20, HY_EFORMAT, "KV count at offset 16");
    free(b);
}

HY_TEST(bad_magic) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    b[0] = 'L';
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "magic");
    HY_CHECK(has("offset 0") && has("GGUF"));
    free(b);
}

HY_TEST(versions) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    tu_put32(b + 4, 1);
    EXPECT_FAIL(b, g_size, HY_EUNSUPPORTED, "v1");
    tu_put32(b + 4, 4);
    EXPECT_FAIL(b, g_size, HY_EUNSUPPORTED, "found 4, expected 2 or 3");
    tu_put32(b + 4, 0);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "version");
    tu_put32(b + 4, 0x03000000u);
    EXPECT_FAIL(b, g_size, HY_EUNSUPPORTED, "big-endian");
    free(b);
}

HY_TEST(huge_counts_fail_before_allocating) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    tu_put64(b + 16, UINT64_MAX);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "KV count");
    free(b);
    b = fresh();
    tu_put64(b + 8, 1ull << 62);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "tensor count");
    free(b);
    b = fresh();
    tu_put64(b + 8, g_size / 32); /* fits alone, not beside the KVs */
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "tensor count");
    free(b);
}

HY_TEST(huge_string_and_array_lengths) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    size_t k = tu_find_record(b, g_size, "general.architecture");
    HY_REQUIRE(k != SIZE_MAX);
    tu_put64(b + k, UINT64_MAX - 3);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "key of KV 0");
    HY_CHECK(has("string length"));
    free(b);
    b = fresh();
    size_t a = tu_find_record(b, g_size, "tokenizer.ggml.tokens");
    size_t len_at = a + 8 + strlen("tokenizer.ggml.tokens") + 4 + 4;
    tu_put64(b + len_at, 1ull << 60);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "array length");
    HY_CHECK(has("tokenizer.ggml.tokens"));
    free(b);
    b = fresh();
    /* a string inside the array claims more bytes than remain */
    tu_put64(b + len_at + 8, g_size);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "string 0 of array 'tokenizer.ggml.tokens'");
    free(b);
}

HY_TEST(kv_value_types) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    size_t k = tu_find_record(b, g_size, "llama.block_count");
    size_t type_at = k + 8 + strlen("llama.block_count");
    tu_put32(b + type_at, 13);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "'llama.block_count'");
    HY_CHECK(has("value type"));
    free(b);
    b = fresh();
    size_t a = tu_find_record(b, g_size, "tokenizer.ggml.token_type");
    size_t et_at = a + 8 + strlen("tokenizer.ggml.token_type") + 4;
    tu_put32(b + et_at, HY_GGUF_ARRAY);
    EXPECT_FAIL(b, g_size, HY_EUNSUPPORTED, "nested arrays");
    HY_CHECK(has("tokenizer.ggml.token_type"));
    tu_put32(b + et_at, 200);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "element type");
    free(b);
    b = fresh();
    size_t bo = tu_find_record(b, g_size, "tokenizer.ggml.add_bos_token");
    b[bo + 8 + strlen("tokenizer.ggml.add_bos_token") + 4] = 2;
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "bool value");
    free(b);
}

HY_TEST(duplicate_keys_and_tensor_names) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    /* "t.Q4_0" -> "t.Q4_1": two tensors of the same name */
    size_t t = tu_find_record(b, g_size, "t.Q4_0");
    b[t + 8 + 5] = '1';
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "duplicate tensor name 't.Q4_1'");
    free(b);
    /* "llama.rope.freq_base" and "general.architecture" are both 20 bytes long */
    b = fresh();
    size_t k = tu_find_record(b, g_size, "llama.rope.freq_base");
    memcpy(b + k + 8, "general.architecture", 20);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "duplicate key 'general.architecture'");
    HY_CHECK(has("offsets"));
    free(b);
}

HY_TEST(alignment_key) {
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    HY_OK_OR_FAIL(hy_gguf_writer_set_u32(w, "general.alignment", 64));
    float v[32] = {0};
    const int64_t ne[1] = {32};
    HY_OK_OR_FAIL(hy_gguf_writer_add_tensor_f32(w, "x", HY_GGML_F32, 1, ne, v));
    void *vb;
    size_t size;
    HY_OK_OR_FAIL(hy_gguf_writer_write_memory(w, 64, &vb, &size));
    hy_gguf_writer_free(w);
    uint8_t *b = vb;
    size_t k = tu_find_record(b, size, "general.alignment");
    size_t type_at = k + 8 + strlen("general.alignment");
    tu_put32(b + type_at + 4, 48);
    EXPECT_FAIL(b, size, HY_EFORMAT, "power of two");
    HY_CHECK(has("general.alignment") && has("48"));
    tu_put32(b + type_at + 4, 0);
    EXPECT_FAIL(b, size, HY_EFORMAT, "power of two");
    tu_put32(b + type_at + 4, 64);
    tu_put32(b + type_at, HY_GGUF_I32);
    EXPECT_FAIL(b, size, HY_EFORMAT, "expected u32");
    free(b);
}

HY_TEST(tensor_dims) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    tu_ti ti;
    HY_REQUIRE(tu_tensor_info(b, g_size, "t.F16", &ti));
    tu_put32(b + ti.n_dims, 0);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "n_dims");
    HY_CHECK(has("'t.F16'") && has("expected 1..4"));
    tu_put32(b + ti.n_dims, 5);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "n_dims");
    free(b);
    b = fresh();
    tu_put64(b + ti.ne1, 0);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "ne[1]");
    HY_CHECK(has("expected >= 1"));
    tu_put64(b + ti.ne1, UINT64_MAX);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "ne[1]");
    tu_put64(b + ti.ne1, 1ull << 60);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "overflows");
    free(b);
    b = fresh();
    HY_REQUIRE(tu_tensor_info(b, g_size, "t.Q4_K", &ti));
    tu_put64(b + ti.ne0, 128);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "block size");
    HY_CHECK(has("'t.Q4_K'") && has("128") && has("256"));
    free(b);
}

HY_TEST(unknown_tensor_type) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    tu_ti ti;
    HY_REQUIRE(tu_tensor_info(b, g_size, "t.Q8_0", &ti));
    tu_put32(b + ti.type, 99);
    EXPECT_FAIL(b, g_size, HY_EUNSUPPORTED, "'t.Q8_0'");
    HY_CHECK(has("99") && has("type"));
    tu_put32(b + ti.type, 4); /* retired Q4_2 */
    EXPECT_FAIL(b, g_size, HY_EUNSUPPORTED, "is 4");
    free(b);
}

HY_TEST(known_but_unsupported_type_opens_and_refuses_dequant) {
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    uint8_t raw[110] = {0};
    const int64_t ne[1] = {256};
    HY_OK_OR_FAIL(
        hy_gguf_writer_add_tensor_raw(w, "q3k", (hy_ggml_type)11, 1, ne, raw, sizeof raw));
    void *b;
    size_t size;
    HY_OK_OR_FAIL(hy_gguf_writer_write_memory(w, 32, &b, &size));
    hy_gguf_writer_free(w);
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open_memory(b, size, "q3k.gguf", &g));
    float out[256];
    HY_CHECK_EQ_INT(hy_gguf_tensor_to_f32(hy_gguf_tensor_at(g, 0), out), HY_EUNSUPPORTED);
    HY_CHECK(has("q3k") && has("Q3_K"));
    hy_gguf_close(g);
    free(b);
}

HY_TEST(misaligned_offset) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    tu_ti ti;
    HY_REQUIRE(tu_tensor_info(b, g_size, "t.F16", &ti));
    tu_put64(b + ti.offset, tu_get64(b + ti.offset) + 4);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "'t.F16'");
    HY_CHECK(has("not a multiple of the alignment 32"));
    free(b);
}

HY_TEST(data_past_end) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    tu_ti ti;
    HY_REQUIRE(tu_tensor_info(b, g_size, "t.Q6_K", &ti));
    tu_put64(b + ti.offset, 1ull << 40);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "'t.Q6_K'");
    HY_CHECK(has("past the end"));
    tu_put64(b + ti.offset, UINT64_MAX - 31);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "past the end");
    free(b);
}

HY_TEST(overlapping_tensors) {
    uint8_t *b = fresh();
    HY_REQUIRE(b);
    tu_ti a, c;
    HY_REQUIRE(tu_tensor_info(b, g_size, "t.F32", &a));
    HY_REQUIRE(tu_tensor_info(b, g_size, "t.F16", &c));
    /* t.F32 is 2048 bytes at 0; move t.F16 to 1024, inside it */
    tu_put64(b + c.offset, tu_get64(b + a.offset) + 1024);
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "overlap");
    HY_CHECK(has("'t.F32'") && has("'t.F16'"));
    tu_put64(b + c.offset, tu_get64(b + a.offset)); /* same start */
    EXPECT_FAIL(b, g_size, HY_EFORMAT, "overlap");
    free(b);
}

HY_TEST(no_tensors_no_kvs) {
    uint8_t hdr[24] = {'G', 'G', 'U', 'F', 3};
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open_memory(hdr, sizeof hdr, "empty.gguf", &g));
    HY_CHECK_EQ_INT(hy_gguf_n_kv(g), 0);
    HY_CHECK_EQ_INT(hy_gguf_n_tensors(g), 0);
    hy_gguf_close(g);
    HY_CHECK_EQ_INT(hy_gguf_open_memory(NULL, 0, NULL, &g), HY_EFORMAT);
    HY_CHECK(has("<memory>") && has("magic"));
    HY_CHECK_EQ_INT(hy_gguf_open_memory(hdr, sizeof hdr, "x", NULL), HY_EINVAL);
}

HY_TEST_MAIN()
