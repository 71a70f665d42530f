/* Dequantisation of every supported type against gguf-py: tests/fixtures/gguf/dequant.{json,bin}
 * hold random valid blocks (and every fp16 zero/subnormal/inf/NaN pattern) with the floats
 * gguf.quants.dequantize returned (scripts/fixtures/gguf_dequant.py). Results must be
 * bit-identical (NaN matches NaN). */
#include "gguf_test_util.h"
#include "hy_test.h"

#include <jansson.h>

static json_t *g_meta;
static uint8_t *g_bin;
static size_t g_bin_size;

static int load(void) {
    if (g_meta) return 1;
    char path[1024];
    json_error_t err;
    g_meta = json_load_file(tu_fixture("dequant.json", path, sizeof path), 0, &err);
    if (!g_meta) {
        HY_FAILF("%s: %s (run scripts/fixtures/gguf_dequant.py)", path, err.text);
        return 0;
    }
    g_bin = tu_slurp(tu_fixture("dequant.bin", path, sizeof path), &g_bin_size);
    if (!g_bin) {
        HY_FAILF("cannot read %s", path);
        return 0;
    }
    return 1;
}

static void check_type(const char *want) {
    if (!load()) return;
    json_t *sections = json_object_get(g_meta, "sections"), *sec;
    size_t i;
    int found = 0;
    json_array_foreach(sections, i, sec) {
        if (strcmp(json_string_value(json_object_get(sec, "name")), want)) continue;
        found = 1;
        hy_ggml_type type = (hy_ggml_type)json_integer_value(json_object_get(sec, "type"));
        int64_t n = json_integer_value(json_object_get(sec, "n_elements"));
        size_t in_off = (size_t)json_integer_value(json_object_get(sec, "in_offset"));
        size_t in_bytes = (size_t)json_integer_value(json_object_get(sec, "in_bytes"));
        size_t out_off = (size_t)json_integer_value(json_object_get(sec, "out_offset"));
        HY_REQUIRE(out_off + (size_t)n * 4 <= g_bin_size && in_off + in_bytes <= g_bin_size);
        HY_CHECK_EQ_INT(in_bytes, n / hy_ggml_block_elems(type) * hy_ggml_block_bytes(type));
        float *got = malloc((size_t)n * sizeof *got), *ref = malloc((size_t)n * sizeof *ref);
        HY_REQUIRE(got && ref);
        memcpy(ref, g_bin + out_off, (size_t)n * 4);
        HY_OK_OR_FAIL(hy_ggml_dequantize(type, g_bin + in_off, got, n));
        int bad = 0;
        for (int64_t k = 0; k < n && bad < 5; k++) {
            int same = isnan(ref[k]) ? isnan(got[k]) : !memcmp(&got[k], &ref[k], 4);
            if (!same) {
                HY_FAILF("%s element %lld (block %lld): got %.9g, gguf-py %.9g", want, (long long)k,
                         (long long)(k / hy_ggml_block_elems(type)), got[k], ref[k]);
                bad++;
            }
        }
        free(got);
        free(ref);
    }
    if (!found) HY_FAILF("no %s section in dequant.json", want);
}

HY_TEST(dequant_f32_matches_gguf_py) {
    check_type("F32");
}
HY_TEST(dequant_f16_matches_gguf_py) {
    check_type("F16");
}
HY_TEST(dequant_bf16_matches_gguf_py) {
    check_type("BF16");
}
HY_TEST(dequant_q8_0_matches_gguf_py) {
    check_type("Q8_0");
}
HY_TEST(dequant_q4_0_matches_gguf_py) {
    check_type("Q4_0");
}
HY_TEST(dequant_q4_1_matches_gguf_py) {
    check_type("Q4_1");
}
HY_TEST(dequant_q4_k_matches_gguf_py) {
    check_type("Q4_K");
}
HY_TEST(dequant_q6_k_matches_gguf_py) {
    check_type("Q6_K");
}
HY_TEST(dequant_q5_0_matches_gguf_py) {
    check_type("Q5_0");
}
HY_TEST(dequant_q5_1_matches_gguf_py) {
    check_type("Q5_1");
}
HY_TEST(dequant_q5_k_matches_gguf_py) {
    check_type("Q5_K");
}

HY_TEST(fixture_records_provenance) {
    if (!load()) return;
    HY_CHECK(json_is_string(json_object_get(g_meta, "gguf_py_version")));
    HY_CHECK_EQ_INT(json_array_size(json_object_get(g_meta, "sections")), 11);
}

/* A fixture block read through a GGUF file gives the same floats as the raw call: the
 * reader hands out the right bytes for every type. */
HY_TEST(fixture_blocks_through_a_file) {
    if (!load()) return;
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    json_t *sec;
    size_t i;
    json_array_foreach(json_object_get(g_meta, "sections"), i, sec) {
        hy_ggml_type type = (hy_ggml_type)json_integer_value(json_object_get(sec, "type"));
        int64_t n = json_integer_value(json_object_get(sec, "n_elements"));
        size_t in_off = (size_t)json_integer_value(json_object_get(sec, "in_offset"));
        size_t in_bytes = (size_t)json_integer_value(json_object_get(sec, "in_bytes"));
        const int64_t ne[1] = {n};
        HY_OK_OR_FAIL(hy_gguf_writer_add_tensor_raw(w,
                                                    json_string_value(json_object_get(sec, "name")),
                                                    type, 1, ne, g_bin + in_off, in_bytes));
    }
    void *buf;
    size_t size;
    HY_OK_OR_FAIL(hy_gguf_writer_write_memory(w, 32, &buf, &size));
    hy_gguf_writer_free(w);
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open_memory(buf, size, "fixture.gguf", &g));
    json_array_foreach(json_object_get(g_meta, "sections"), i, sec) {
        const hy_gguf_tensor *t;
        HY_OK_OR_FAIL(hy_gguf_find_tensor(g, json_string_value(json_object_get(sec, "name")), &t));
        size_t out_off = (size_t)json_integer_value(json_object_get(sec, "out_offset"));
        float *got = malloc((size_t)t->n_elements * 4);
        HY_REQUIRE(got);
        HY_OK_OR_FAIL(hy_gguf_tensor_to_f32(t, got));
        int mismatches = 0;
        for (int64_t k = 0; k < t->n_elements; k++) {
            float r;
            memcpy(&r, g_bin + out_off + 4 * (size_t)k, 4);
            mismatches += isnan(r) ? !isnan(got[k]) : memcmp(&r, &got[k], 4) != 0;
        }
        HY_CHECK_EQ_INT(mismatches, 0);
        free(got);
    }
    hy_gguf_close(g);
    free(buf);
}

HY_TEST_MAIN()
