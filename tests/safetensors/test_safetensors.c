/* The safetensors reader: a file written by the reference library (tests/fixtures/
 * safetensors/, scripts/fixtures/safetensors_ref.py) reads back its values; hand-made headers
 * with one defect each fail with a message naming it; and seeded mutants of a valid file
 * (bit flips, 0x00/0xFF/digit bytes, truncations, insertions, deletions), as the GGUF fuzz
 * test does, either open -- and then every tensor converts -- or fail with a message. */
#include "hy_safetensors.h"
#include "hy_test.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A file image: 8-byte header length, the header, then data bytes. */
static uint8_t *image(const char *header, const void *data, size_t data_size, size_t *size) {
    const size_t hn = strlen(header);
    *size = 8 + hn + data_size;
    uint8_t *b = malloc(*size);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)hn >> (8 * i));
    memcpy(b + 8, header, hn);
    if (data_size) memcpy(b + 8 + hn, data, data_size);
    return b;
}

static const char *k_valid = "{\"__metadata__\":{\"format\":\"pt\"},"
                             "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                             "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                             "\"c\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[32,40]},"
                             "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[40,48]}}";

static void valid_data(uint8_t d[48]) {
    const float a[6] = {1.5f, -2.0f, 0.0f, 3.25f, -0.125f, 1e-3f};
    const uint16_t h[4] = {0x3C00, 0xC000, 0x0001, 0x7C00};  /* 1, -2, 2^-24, inf */
    const uint16_t bf[4] = {0x3F80, 0xC040, 0x0000, 0x8000}; /* 1, -3, 0, -0 */
    memcpy(d, a, 24), memcpy(d + 24, h, 8), memcpy(d + 32, bf, 8);
    memset(d + 40, 7, 8);
}

HY_TEST(valid_file_reads_back) {
    uint8_t d[48];
    valid_data(d);
    size_t n;
    uint8_t *b = image(k_valid, d, sizeof d, &n);
    hy_st_file *f;
    HY_OK_OR_FAIL(hy_st_open_memory(b, n, "valid", &f));
    HY_CHECK_EQ_INT(hy_st_n_tensors(f), 4);
    HY_CHECK(!strcmp(hy_st_tensor_at(f, 0)->name, "a")); /* in data order */
    const hy_st_tensor *t;
    HY_OK_OR_FAIL(hy_st_find(f, "a", &t));
    HY_CHECK(t->n_dims == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->n_elements == 6);
    float out[6];
    HY_OK_OR_FAIL(hy_st_tensor_to_f32(t, out));
    HY_CHECK(out[0] == 1.5f && out[3] == 3.25f && out[5] == 1e-3f);
    HY_OK_OR_FAIL(hy_st_find(f, "b", &t));
    HY_OK_OR_FAIL(hy_st_tensor_to_f32(t, out));
    HY_CHECK(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0x1p-24f && out[3] > 1e38f);
    HY_OK_OR_FAIL(hy_st_find(f, "c", &t));
    HY_OK_OR_FAIL(hy_st_tensor_to_f32(t, out));
    HY_CHECK(out[0] == 1.0f && out[1] == -3.0f && out[2] == 0.0f);
    HY_OK_OR_FAIL(hy_st_find(f, "i", &t));
    HY_CHECK_EQ_INT(hy_st_tensor_to_f32(t, out), HY_EUNSUPPORTED);
    HY_CHECK(strstr(hy_last_error(), "'i'") && strstr(hy_last_error(), "I64"));
    HY_CHECK_EQ_INT(hy_st_find(f, "zz", &t), HY_ENOTFOUND);
    HY_CHECK(strstr(hy_last_error(), "'zz'") != NULL);
    hy_st_close(f);
    free(b);
}

/* One defect per header (data: 8 bytes), and a fragment its message must hold. */
static const struct {
    const char *header, *want;
} k_bad[] = {
    {"[1]", "expected '{'"},
    {"{\"a\":", "header JSON"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
     "header JSON"},
    {"{\"a\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,8]}}", "dtype 'F17'"},
    {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "dtype missing"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "shape[0]"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", "shape is missing"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}",
     "too long"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", "<= 8"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4]}}", "[begin, end]"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
     "span 8 bytes, expected 12"},
    {"{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}", "starts at data offset 4"},
    {"{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", "cover 4 bytes"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}",
     "starts at data offset 4"},
    {"{\"__metadata__\":{\"x\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
     "__metadata__['x']"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}",
     "2^62"},
};

HY_TEST(each_defect_is_named) {
    const uint8_t d[8] = {0};
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        size_t n;
        uint8_t *b = image(k_bad[i].header, d, sizeof d, &n);
        hy_st_file *f = (hy_st_file *)0x1;
        hy_status st = hy_st_open_memory(b, n, "bad.safetensors", &f);
        if (st != HY_EFORMAT || f != NULL)
            HY_FAILF("case %zu: status %d, expected HY_EFORMAT", i, (int)st);
        else if (!strstr(hy_last_error(), k_bad[i].want) ||
                 !strstr(hy_last_error(), "bad.safetensors"))
            HY_FAILF("case %zu: message '%s' lacks '%s'", i, hy_last_error(), k_bad[i].want);
        free(b);
    }
    /* header length past the end, and a file shorter than the length field */
    uint8_t b[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'};
    hy_st_file *f;
    HY_CHECK_EQ_INT(hy_st_open_memory(b, 10, "short", &f), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "header length 65535") != NULL);
    HY_CHECK_EQ_INT(hy_st_open_memory(b, 5, "tiny", &f), HY_EFORMAT);
    HY_CHECK_EQ_INT(hy_st_open("no/such/file.safetensors", &f), HY_EIO);
}

/* The header and data of a file written by the reference library (safetensors for numpy). */
HY_TEST(reference_library_file) {
    json_error_t err;
    json_t *fx = json_load_file("tests/fixtures/safetensors/reference.json", 0, &err);
    HY_REQUIRE(fx);
    hy_st_file *f;
    HY_OK_OR_FAIL(hy_st_open("tests/fixtures/safetensors/reference.safetensors", &f));
    json_t *ts = json_object_get(fx, "tensors"), *e;
    const char *name;
    HY_CHECK_EQ_INT(hy_st_n_tensors(f), json_object_size(ts));
    json_object_foreach(ts, name, e) {
        const hy_st_tensor *t;
        HY_OK_OR_FAIL(hy_st_find(f, name, &t));
        HY_CHECK(
            !strcmp(hy_st_dtype_name(t->dtype), json_string_value(json_object_get(e, "dtype"))));
        json_t *vals = json_object_get(e, "values_f32");
        HY_REQUIRE((int64_t)json_array_size(vals) == t->n_elements);
        float *out = malloc((size_t)t->n_elements * sizeof *out);
        HY_OK_OR_FAIL(hy_st_tensor_to_f32(t, out));
        for (int64_t k = 0; k < t->n_elements; k++)
            if (out[k] != (float)json_number_value(json_array_get(vals, (size_t)k)))
                HY_FAILF("%s[%lld] = %.9g, numpy %.9g", name, (long long)k, out[k],
                         json_number_value(json_array_get(vals, (size_t)k)));
        free(out);
    }
    hy_st_close(f);
    json_decref(fx);
}

HY_TEST(seeded_mutants_open_or_fail_with_a_message) {
    uint8_t d[48];
    valid_data(d);
    size_t n0;
    uint8_t *base = image(k_valid, d, sizeof d, &n0);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int opened = 0;
    uint8_t *m = malloc(n0 + 64);
    for (int it = 0; it < 20000; it++) {
        memcpy(m, base, n0);
        size_t n = n0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const size_t at = (size_t)(x >> 16) % n;
        switch ((x >> 8) % 6) {
        case 0:
            m[at] ^= (uint8_t)(1u << (x % 8));
            break;
        case 1:
            m[at] = x & 1 ? 0xff : 0x00;
            break;
        case 2: /* digits: offsets and sizes */
            m[at] = (uint8_t)('0' + x % 10);
            break;
        case 3:
            n = at;
            break;
        case 4:
            memmove(m + at + 1, m + at, n - at);
            m[at] = (uint8_t)(x >> 40), n++;
            break;
        default:
            memmove(m + at, m + at + 1, n - at - 1), n--;
            break;
        }
        hy_clear_error();
        hy_st_file *f = NULL;
        if (hy_st_open_memory(m, n, "mutant", &f) != HY_OK) {
            if (f || !hy_last_error()[0]) HY_FAILF("mutant %d: failure without a message", it);
            continue;
        }
        opened++;
        for (int64_t i = 0; i < hy_st_n_tensors(f); i++) {
            const hy_st_tensor *t = hy_st_tensor_at(f, i);
            float out[4096];
            if (t->dtype > HY_ST_BF16 || t->n_elements > 4096) continue;
            if (hy_st_tensor_to_f32(t, out) != HY_OK) HY_FAILF("mutant %d: conversion failed", it);
        }
        hy_st_close(f);
    }
    printf("  %d of 20000 mutants opened\n", opened);
    HY_CHECK(opened > 0);
    free(m);
    free(base);
}

HY_TEST_MAIN()
