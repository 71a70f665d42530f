/* The real model (hy_test_model_path(), SmolLM2-135M-Instruct Q4_1) against what gguf-py read
 * from the same file (tests/fixtures/gguf/model.json, scripts/fixtures/gguf_dequant.py):
 * header counts, alignment, data offset, every tensor info, scalar KVs, array lengths and
 * end elements, and dequantised rows of Q8_0, Q4_1 and F32 tensors (bit-identical). */
#include "gguf_test_util.h"
#include "hy_test.h"

#include <jansson.h>

static json_t *g_ref;
static hy_gguf *g_model;

static int setup(void) {
    if (g_model) return 1;
    char path[1024];
    json_error_t err;
    g_ref = json_load_file(tu_fixture("model.json", path, sizeof path), 0, &err);
    if (!g_ref) {
        HY_FAILF("%s: %s", path, err.text);
        return 0;
    }
    hy_status st = hy_gguf_open(hy_test_model_path(), &g_model);
    if (st) {
        HY_FAILF("opening %s: %s (scripts/fetch-model)", hy_test_model_path(), hy_last_error());
        return 0;
    }
    return 1;
}

static json_int_t ref_int(const char *key) {
    return json_integer_value(json_object_get(g_ref, key));
}

HY_TEST(model_header) {
    if (!setup()) return;
    HY_CHECK_EQ_INT(hy_gguf_version(g_model), ref_int("version"));
    HY_CHECK_EQ_INT(hy_gguf_n_tensors(g_model), ref_int("n_tensors"));
    HY_CHECK_EQ_INT(hy_gguf_n_kv(g_model), ref_int("n_kv"));
    HY_CHECK_EQ_INT(hy_gguf_alignment(g_model), ref_int("alignment"));
    HY_CHECK_EQ_INT(hy_gguf_data_offset(g_model), ref_int("data_offset"));
}

HY_TEST(model_every_tensor_info) {
    if (!setup()) return;
    json_t *tensors = json_object_get(g_ref, "tensors"), *t;
    size_t i;
    HY_CHECK_EQ_INT(json_array_size(tensors), hy_gguf_n_tensors(g_model));
    int bad = 0;
    json_array_foreach(tensors, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        const hy_gguf_tensor *ti = hy_gguf_tensor_at(g_model, (int64_t)i);
        HY_REQUIRE(ti);
        const hy_gguf_tensor *byname;
        HY_OK_OR_FAIL(hy_gguf_find_tensor(g_model, name, &byname));
        int ok = byname == ti && ti->type == json_integer_value(json_object_get(t, "type")) &&
                 ti->offset == (uint64_t)json_integer_value(json_object_get(t, "offset")) &&
                 ti->nbytes == (uint64_t)json_integer_value(json_object_get(t, "nbytes"));
        json_t *ne = json_object_get(t, "ne");
        ok = ok && ti->n_dims == json_array_size(ne);
        for (size_t d = 0; ok && d < json_array_size(ne); d++)
            ok = ti->ne[d] == json_integer_value(json_array_get(ne, d));
        if (!ok && bad++ < 5) HY_FAILF("tensor %zu '%s' differs from gguf-py", i, name);
    }
}

HY_TEST(model_scalar_kvs) {
    if (!setup()) return;
    const char *key;
    json_t *v;
    int n = 0;
    json_object_foreach(json_object_get(g_ref, "kv"), key, v) {
        int type = (int)json_integer_value(json_object_get(v, "type"));
        int64_t idx = hy_gguf_find_kv(g_model, key);
        HY_CHECK(idx >= 0);
        if (idx < 0) continue;
        HY_CHECK_EQ_INT(hy_gguf_kv_type(g_model, idx), type);
        json_t *val = json_object_get(v, "value");
        if (type == HY_GGUF_STRING) {
            hy_gguf_str s;
            HY_OK_OR_FAIL(hy_gguf_get_str(g_model, key, &s));
            if (val)
                HY_CHECK(s.len == strlen(json_string_value(val)) &&
                         !memcmp(s.ptr, json_string_value(val), s.len));
            else
                HY_CHECK_EQ_INT(s.len, json_integer_value(json_object_get(v, "len")));
        } else if (type == HY_GGUF_F32) {
            float f;
            HY_OK_OR_FAIL(hy_gguf_get_f32(g_model, key, &f));
            HY_CHECK(f == (float)json_real_value(val));
        } else if (type == HY_GGUF_BOOL) {
            bool b;
            HY_OK_OR_FAIL(hy_gguf_get_bool(g_model, key, &b));
            HY_CHECK(b == json_is_true(val));
        } else {
            int64_t x;
            HY_OK_OR_FAIL(hy_gguf_get_i64(g_model, key, &x));
            HY_CHECK_EQ_INT(x, json_integer_value(val));
        }
        n++;
    }
    HY_CHECK(n >= 25);
    /* the ones the runtime relies on, spelled out */
    uint32_t layers, heads;
    HY_OK_OR_FAIL(hy_gguf_get_u32(g_model, "llama.block_count", &layers));
    HY_OK_OR_FAIL(hy_gguf_get_u32(g_model, "llama.attention.head_count", &heads));
    HY_CHECK(layers > 0 && heads > 0);
}

HY_TEST(model_arrays) {
    if (!setup()) return;
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(g_ref, "arrays"), key, v) {
        hy_gguf_vtype et;
        uint64_t n;
        const void *data;
        HY_OK_OR_FAIL(hy_gguf_get_arr(g_model, key, &et, &n, &data));
        HY_CHECK_EQ_INT(et, json_integer_value(json_object_get(v, "elem_type")));
        HY_CHECK_EQ_INT(n, json_integer_value(json_object_get(v, "len")));
        for (int end = 0; end < 2 && n; end++) {
            json_t *want = json_object_get(v, end ? "last" : "first");
            uint64_t idx = end ? n - 1 : 0;
            if (et == HY_GGUF_STRING) {
                hy_gguf_str s;
                HY_OK_OR_FAIL(hy_gguf_get_arr_str(g_model, key, idx, &s));
                const char *w = json_string_value(want);
                if (!(s.len == strlen(w) && !memcmp(s.ptr, w, s.len)))
                    HY_FAILF("%s[%llu] = '%.*s', gguf-py '%s'", key, (unsigned long long)idx,
                             (int)s.len, s.ptr, w);
            } else if (et == HY_GGUF_I32) {
                int32_t x;
                memcpy(&x, (const uint8_t *)data + 4 * idx, 4);
                HY_CHECK_EQ_INT(x, json_integer_value(want));
            }
        }
    }
}

HY_TEST(model_dequantised_rows_match_gguf_py) {
    if (!setup()) return;
    char path[1024];
    size_t nbin;
    uint8_t *bin = tu_slurp(tu_fixture("model_rows.bin", path, sizeof path), &nbin);
    HY_REQUIRE(bin);
    json_t *rows = json_object_get(g_ref, "rows"), *r;
    size_t i;
    HY_CHECK(json_array_size(rows) >= 8);
    json_array_foreach(rows, i, r) {
        const char *name = json_string_value(json_object_get(r, "tensor"));
        int64_t row = json_integer_value(json_object_get(r, "row"));
        int64_t n = json_integer_value(json_object_get(r, "n"));
        size_t off = (size_t)json_integer_value(json_object_get(r, "offset"));
        const hy_gguf_tensor *t;
        HY_OK_OR_FAIL(hy_gguf_find_tensor(g_model, name, &t));
        HY_REQUIRE(t->ne[0] == n && off + (size_t)n * 4 <= nbin);
        size_t row_bytes =
            (size_t)(n / hy_ggml_block_elems(t->type)) * hy_ggml_block_bytes(t->type);
        float *got = malloc((size_t)n * 4);
        HY_REQUIRE(got);
        HY_OK_OR_FAIL(hy_ggml_dequantize(
            t->type, (const uint8_t *)t->data + (size_t)row * row_bytes, got, n));
        int mism = 0;
        for (int64_t k = 0; k < n; k++)
            mism += memcmp(&got[k], bin + off + 4 * (size_t)k, 4) != 0;
        if (mism)
            HY_FAILF("%s row %lld (%s): %d of %lld floats differ from gguf-py", name,
                     (long long)row, hy_ggml_type_name(t->type), mism, (long long)n);
        free(got);
    }
    free(bin);
}

HY_TEST(model_every_tensor_dequantises) {
    if (!setup()) return;
    int64_t total = 0;
    for (int64_t i = 0; i < hy_gguf_n_tensors(g_model); i++) {
        const hy_gguf_tensor *t = hy_gguf_tensor_at(g_model, i);
        float *buf = malloc((size_t)t->n_elements * sizeof *buf);
        HY_REQUIRE(buf);
        HY_OK_OR_FAIL(hy_gguf_tensor_to_f32(t, buf));
        int finite = 1;
        for (int64_t k = 0; k < t->n_elements && finite; k++)
            finite = isfinite(buf[k]);
        if (!finite)
            HY_FAILF("tensor '%.*s' has a non-finite value", (int)t->name.len, t->name.ptr);
        total += t->n_elements;
        free(buf);
    }
    HY_CHECK(total > 100000000); /* ~135M parameters (embeddings tied) */
}

HY_TEST_MAIN()
