/* common: sha256 against FIPS 180-4 test vectors, error messages, progress. */
#include "hy_common.h"
#include "hy_test.h"

static void hex_of(const char *s, size_t n, char hex[65]) {
    hy_sha256_ctx c;
    uint8_t d[32];
    hy_sha256_init(&c);
    /* feed in odd-sized pieces to exercise the buffering path */
    for (size_t i = 0; i < n; i += 7)
        hy_sha256_update(&c, s + i, n - i < 7 ? n - i : 7);
    hy_sha256_final(&c, d);
    hy_sha256_hex(d, hex);
}

HY_TEST(sha256_vectors) {
    char hex[65];
    hex_of("", 0, hex);
    HY_CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    hex_of("abc", 3, hex);
    HY_CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(s, strlen(s), hex);
    HY_CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    static char mill[1000000];
    memset(mill, 'a', sizeof mill);
    hex_of(mill, sizeof mill, hex);
    HY_CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

HY_TEST(error_messages) {
    hy_status st = hy_fail(HY_EFORMAT, "file %s: field %s", "x.gguf", "n_tensors");
    HY_CHECK_EQ_INT(st, HY_EFORMAT);
    HY_CHECK(!strcmp(hy_last_error(), "file x.gguf: field n_tensors"));
    hy_fail_ctx(st, "loading %s", "model");
    HY_CHECK(!strcmp(hy_last_error(), "loading model: file x.gguf: field n_tensors"));
    HY_CHECK(strlen(hy_status_name(HY_ESOLVER)) > 0);
}

HY_TEST(sha256_file_missing) {
    char hex[65];
    HY_CHECK_EQ_INT(hy_sha256_file("/nonexistent/zz", hex), HY_EIO);
    HY_CHECK(strstr(hy_last_error(), "/nonexistent/zz") != NULL);
}

HY_TEST_MAIN()
