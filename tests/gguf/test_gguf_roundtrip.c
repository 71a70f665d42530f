/* GGUF writer -> reader round trips: every KV value type (scalars and arrays), every tensor
 * type and several shapes and alignments, typed-getter conversions and their errors, the
 * quantisers' error bounds, v2 files, and opening from disk. */
#include "gguf_test_util.h"
#include "hy_bf16.h"
#include "hy_test.h"

#include <unistd.h>

static int has(const char *needle) {
    return strstr(hy_last_error(), needle) != NULL;
}

static int str_eq(hy_gguf_str s, const char *want) {
    return s.len == strlen(want) && !memcmp(s.ptr, want, s.len);
}

HY_TEST(kv_every_scalar_type) {
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    uint8_t u8 = 250;
    int8_t i8 = -100;
    uint16_t u16 = 65000;
    int16_t i16 = -30000;
    uint64_t u64 = 0xfedcba9876543210ull;
    int64_t i64 = -1234567890123ll;
    double f64 = 3.141592653589793;
    HY_OK_OR_FAIL(hy_gguf_writer_set_scalar(w, "u8", HY_GGUF_U8, &u8));
    HY_OK_OR_FAIL(hy_gguf_writer_set_scalar(w, "i8", HY_GGUF_I8, &i8));
    HY_OK_OR_FAIL(hy_gguf_writer_set_scalar(w, "u16", HY_GGUF_U16, &u16));
    HY_OK_OR_FAIL(hy_gguf_writer_set_scalar(w, "i16", HY_GGUF_I16, &i16));
    HY_OK_OR_FAIL(hy_gguf_writer_set_u32(w, "u32", 4000000000u));
    HY_OK_OR_FAIL(hy_gguf_writer_set_i32(w, "i32", -2000000000));
    HY_OK_OR_FAIL(hy_gguf_writer_set_f32(w, "f32", 1.5e-5f));
    HY_OK_OR_FAIL(hy_gguf_writer_set_bool(w, "bool", true));
    HY_OK_OR_FAIL(hy_gguf_writer_set_str(w, "str", "llama \xe2\x9c\x93"));
    HY_OK_OR_FAIL(hy_gguf_writer_set_scalar(w, "u64", HY_GGUF_U64, &u64));
    HY_OK_OR_FAIL(hy_gguf_writer_set_scalar(w, "i64", HY_GGUF_I64, &i64));
    HY_OK_OR_FAIL(hy_gguf_writer_set_scalar(w, "f64", HY_GGUF_F64, &f64));
    HY_OK_OR_FAIL(hy_gguf_writer_set_str(w, "empty", ""));
    void *buf;
    size_t size;
    HY_OK_OR_FAIL(hy_gguf_writer_write_memory(w, 32, &buf, &size));
    hy_gguf_writer_free(w);
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open_memory(buf, size, "scalars.gguf", &g));
    HY_CHECK_EQ_INT(hy_gguf_version(g), 3);
    HY_CHECK_EQ_INT(hy_gguf_n_kv(g), 13);
    HY_CHECK_EQ_INT(hy_gguf_n_tensors(g), 0);
    const char *keys[] = {"u8",  "i8",   "u16", "i16", "u32", "i32",
                          "f32", "bool", "str", "u64", "i64", "f64"};
    for (int i = 0; i < 12; i++) {
        HY_CHECK(str_eq(hy_gguf_kv_key(g, i), keys[i]));
        HY_CHECK_EQ_INT(hy_gguf_find_kv(g, keys[i]), i);
        HY_CHECK_EQ_INT(hy_gguf_kv_type(g, i),
                        i < 9 ? i : i + 1); /* file type ids skip 9 (array) */
        HY_CHECK_EQ_INT(hy_gguf_kv_arr_len(g, i), 1);
    }
    int64_t v;
    uint32_t u;
    uint64_t vu;
    float f;
    double d;
    bool b;
    hy_gguf_str s;
    HY_OK_OR_FAIL(hy_gguf_get_i64(g, "u8", &v));
    HY_CHECK_EQ_INT(v, 250);
    HY_OK_OR_FAIL(hy_gguf_get_i64(g, "i8", &v));
    HY_CHECK_EQ_INT(v, -100);
    HY_OK_OR_FAIL(hy_gguf_get_u32(g, "u16", &u));
    HY_CHECK_EQ_INT(u, 65000);
    HY_OK_OR_FAIL(hy_gguf_get_i64(g, "i16", &v));
    HY_CHECK_EQ_INT(v, -30000);
    HY_OK_OR_FAIL(hy_gguf_get_u32(g, "u32", &u));
    HY_CHECK(u == 4000000000u);
    HY_OK_OR_FAIL(hy_gguf_get_i64(g, "i32", &v));
    HY_CHECK_EQ_INT(v, -2000000000);
    HY_OK_OR_FAIL(hy_gguf_get_f32(g, "f32", &f));
    HY_CHECK(f == 1.5e-5f);
    HY_OK_OR_FAIL(hy_gguf_get_bool(g, "bool", &b));
    HY_CHECK(b);
    HY_OK_OR_FAIL(hy_gguf_get_u32(g, "bool", &u)); /* documented: bool reads as 0/1 */
    HY_CHECK_EQ_INT(u, 1);
    HY_OK_OR_FAIL(hy_gguf_get_str(g, "str", &s));
    HY_CHECK(str_eq(s, "llama \xe2\x9c\x93"));
    HY_OK_OR_FAIL(hy_gguf_get_str(g, "empty", &s));
    HY_CHECK_EQ_INT(s.len, 0);
    HY_OK_OR_FAIL(hy_gguf_get_u64(g, "u64", &vu));
    HY_CHECK(vu == u64);
    HY_OK_OR_FAIL(hy_gguf_get_i64(g, "i64", &v));
    HY_CHECK(v == i64);
    HY_OK_OR_FAIL(hy_gguf_get_f64(g, "f64", &d));
    HY_CHECK(d == f64);
    HY_OK_OR_FAIL(hy_gguf_get_f32(g, "f64", &f));
    HY_CHECK(f == (float)f64);
    hy_gguf_close(g);
    free(buf);
}

HY_TEST(kv_getter_errors_name_key_and_types) {
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    uint64_t big = 1ull << 40;
    HY_OK_OR_FAIL(hy_gguf_writer_set_i32(w, "neg", -5));
    HY_OK_OR_FAIL(hy_gguf_writer_set_scalar(w, "big", HY_GGUF_U64, &big));
    HY_OK_OR_FAIL(hy_gguf_writer_set_str(w, "name", "x"));
    uint64_t huge = UINT64_MAX;
    HY_OK_OR_FAIL(hy_gguf_writer_set_scalar(w, "huge", HY_GGUF_U64, &huge));
    HY_OK_OR_FAIL(hy_gguf_writer_set_bool(w, "flag", false));
    void *buf;
    size_t size;
    HY_OK_OR_FAIL(hy_gguf_writer_write_memory(w, 32, &buf, &size));
    hy_gguf_writer_free(w);
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open_memory(buf, size, "getters.gguf", &g));
    uint32_t u;
    int64_t v;
    uint64_t vu;
    float f;
    bool b;
    hy_gguf_str s;
    HY_CHECK_EQ_INT(hy_gguf_get_u32(g, "neg", &u), HY_EFORMAT);
    HY_CHECK(has("getters.gguf") && has("'neg'") && has("u32"));
    HY_CHECK_EQ_INT(hy_gguf_get_u32(g, "big", &u), HY_EFORMAT);
    HY_CHECK(has("'big'") && has("1099511627776"));
    HY_OK_OR_FAIL(hy_gguf_get_i64(g, "big", &v));
    HY_CHECK_EQ_INT(v, 1ll << 40);
    HY_CHECK_EQ_INT(hy_gguf_get_i64(g, "huge", &v), HY_EFORMAT);
    HY_CHECK_EQ_INT(hy_gguf_get_u64(g, "neg", &vu), HY_EFORMAT);
    HY_CHECK_EQ_INT(hy_gguf_get_str(g, "neg", &s), HY_EFORMAT);
    HY_CHECK(has("type i32") && has("expected string"));
    HY_CHECK_EQ_INT(hy_gguf_get_f32(g, "name", &f), HY_EFORMAT);
    HY_CHECK(has("type string") && has("expected f32 or f64"));
    HY_CHECK_EQ_INT(hy_gguf_get_bool(g, "neg", &b), HY_EFORMAT);
    HY_CHECK_EQ_INT(hy_gguf_get_i64(g, "flag", &v), HY_EFORMAT);
    HY_CHECK_EQ_INT(hy_gguf_get_arr(g, "name", NULL, NULL, NULL), HY_EFORMAT);
    HY_CHECK_EQ_INT(hy_gguf_get_arr_str(g, "name", 0, &s), HY_EFORMAT);
    HY_CHECK_EQ_INT(hy_gguf_get_u32(g, "absent.key", &u), HY_ENOTFOUND);
    HY_CHECK(has("'absent.key'") && has("not found"));
    HY_CHECK_EQ_INT(hy_gguf_find_kv(g, "absent.key"), -1);
    HY_CHECK_EQ_INT(hy_gguf_find_kv(g, "nam"), -1); /* prefix of a key is not the key */
    HY_CHECK(hy_gguf_kv_key(g, 99).ptr == NULL);
    const hy_gguf_tensor *t;
    HY_CHECK_EQ_INT(hy_gguf_find_tensor(g, "nope", &t), HY_ENOTFOUND);
    HY_CHECK(has("'nope'"));
    HY_CHECK(hy_gguf_tensor_at(g, 0) == NULL);
    hy_gguf_close(g);
    free(buf);
}

HY_TEST(kv_arrays_every_element_type) {
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    uint8_t raw[8 * 5];
    for (int i = 0; i < (int)sizeof raw; i++)
        raw[i] = (uint8_t)(i * 37 + 1);
    const hy_gguf_vtype numeric[] = {HY_GGUF_U8,  HY_GGUF_I8,  HY_GGUF_U16, HY_GGUF_I16,
                                     HY_GGUF_U32, HY_GGUF_I32, HY_GGUF_F32, HY_GGUF_U64,
                                     HY_GGUF_I64, HY_GGUF_F64};
    const size_t esz[] = {1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
    for (int i = 0; i < 10; i++) {
        char key[32];
        snprintf(key, sizeof key, "arr.%d", (int)numeric[i]);
        HY_OK_OR_FAIL(hy_gguf_writer_set_arr(w, key, numeric[i], raw, 5));
    }
    const uint8_t bools[3] = {1, 0, 1};
    HY_OK_OR_FAIL(hy_gguf_writer_set_arr(w, "arr.bool", HY_GGUF_BOOL, bools, 3));
    HY_OK_OR_FAIL(hy_gguf_writer_set_arr(w, "arr.empty", HY_GGUF_U32, NULL, 0));
    const char *strs[] = {"alpha", "", "\xc4\xa0t", "last one"};
    HY_OK_OR_FAIL(hy_gguf_writer_set_arr_str(w, "arr.str", strs, 4));
    HY_OK_OR_FAIL(hy_gguf_writer_set_arr_str(w, "arr.str_empty", NULL, 0));
    void *buf;
    size_t size;
    HY_OK_OR_FAIL(hy_gguf_writer_write_memory(w, 32, &buf, &size));
    hy_gguf_writer_free(w);
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open_memory(buf, size, "arrays.gguf", &g));
    for (int i = 0; i < 10; i++) {
        char key[32];
        snprintf(key, sizeof key, "arr.%d", (int)numeric[i]);
        hy_gguf_vtype et;
        uint64_t n;
        const void *data;
        HY_OK_OR_FAIL(hy_gguf_get_arr(g, key, &et, &n, &data));
        HY_CHECK_EQ_INT(et, numeric[i]);
        HY_CHECK_EQ_INT(n, 5);
        HY_CHECK(!memcmp(data, raw, 5 * esz[i]));
        int64_t idx = hy_gguf_find_kv(g, key);
        HY_CHECK_EQ_INT(hy_gguf_kv_type(g, idx), HY_GGUF_ARRAY);
        HY_CHECK_EQ_INT(hy_gguf_kv_arr_type(g, idx), numeric[i]);
        HY_CHECK_EQ_INT(hy_gguf_kv_arr_len(g, idx), 5);
    }
    hy_gguf_vtype et;
    uint64_t n;
    const void *data;
    HY_OK_OR_FAIL(hy_gguf_get_arr(g, "arr.bool", &et, &n, &data));
    HY_CHECK(et == HY_GGUF_BOOL && n == 3 && !memcmp(data, bools, 3));
    HY_OK_OR_FAIL(hy_gguf_get_arr(g, "arr.empty", &et, &n, &data));
    HY_CHECK(et == HY_GGUF_U32 && n == 0);
    HY_OK_OR_FAIL(hy_gguf_get_arr(g, "arr.str", &et, &n, &data));
    HY_CHECK(et == HY_GGUF_STRING && n == 4);
    for (int i = 0; i < 4; i++) {
        hy_gguf_str s;
        HY_OK_OR_FAIL(hy_gguf_get_arr_str(g, "arr.str", (uint64_t)i, &s));
        HY_CHECK(str_eq(s, strs[i]));
    }
    hy_gguf_str s;
    HY_CHECK_EQ_INT(hy_gguf_get_arr_str(g, "arr.str", 4, &s), HY_ERANGE);
    HY_CHECK(has("'arr.str'") && has("index 4"));
    HY_CHECK_EQ_INT(hy_gguf_get_arr_str(g, "arr.str_empty", 0, &s), HY_ERANGE);
    HY_CHECK_EQ_INT(hy_gguf_get_arr_str(g, "arr.1", 0, &s), HY_EFORMAT);
    hy_gguf_close(g);
    free(buf);
}

HY_TEST(writer_refuses_bad_input) {
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    float v[64] = {0};
    int64_t ne[2] = {32, 2}, bad0[1] = {0}, odd[1] = {33};
    HY_OK_OR_FAIL(hy_gguf_writer_set_u32(w, "k", 1));
    HY_CHECK_EQ_INT(hy_gguf_writer_set_u32(w, "k", 2), HY_EINVAL);
    HY_CHECK(has("duplicate key 'k'"));
    HY_OK_OR_FAIL(hy_gguf_writer_add_tensor_f32(w, "a", HY_GGML_Q8_0, 2, ne, v));
    HY_CHECK_EQ_INT(hy_gguf_writer_add_tensor_f32(w, "a", HY_GGML_F32, 2, ne, v), HY_EINVAL);
    HY_CHECK(has("duplicate tensor name 'a'"));
    HY_CHECK_EQ_INT(hy_gguf_writer_add_tensor_f32(w, "b", HY_GGML_F32, 1, bad0, v), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_gguf_writer_add_tensor_f32(w, "b", HY_GGML_Q4_0, 1, odd, v), HY_EINVAL);
    HY_CHECK(has("'b'") && has("block"));
    HY_CHECK_EQ_INT(hy_gguf_writer_add_tensor_f32(w, "b", HY_GGML_F32, 5, ne, v), HY_EINVAL);
    static float v512[512];
    const int64_t ne256[2] = {256, 2};
    HY_CHECK_EQ_INT(hy_gguf_writer_add_tensor_f32(w, "b", (hy_ggml_type)13, 2, ne256, v512),
                    HY_EUNSUPPORTED);
    HY_CHECK(has("Q5_K"));
    HY_CHECK_EQ_INT(hy_gguf_writer_set_arr(w, "arr", HY_GGUF_STRING, v, 1), HY_EINVAL);
    void *buf;
    size_t size;
    HY_CHECK_EQ_INT(hy_gguf_writer_write_memory(w, 48, &buf, &size), HY_EINVAL);
    HY_CHECK(has("48"));
    hy_gguf_writer_free(w);
}

/* Relative RMS error of quantise -> dequantise on Gaussian data, per type. The bounds are
 * about twice what a correct codec gives (4-bit ~0.1, 6-bit ~0.03, 8-bit ~0.005). */
HY_TEST(quantize_error_bounds) {
    const double bound[] = {0, 1e-3, 8e-3, 0.01, 0.2, 0.2, 0.2, 0.06};
    enum { N = 256 * 16 };
    static float x[N], y[N];
    static uint8_t q[N * 4];
    uint64_t seed = 42;
    for (int i = 0; i < N; i++)
        x[i] = tu_normal(&seed) * (i < N / 2 ? 0.02f : 3.0f);
    for (int t = 0; t < TU_N_TYPES; t++) {
        HY_OK_OR_FAIL(hy_ggml_quantize(tu_types[t], x, q, N));
        HY_OK_OR_FAIL(hy_ggml_dequantize(tu_types[t], q, y, N));
        for (int half = 0; half < 2; half++) {
            double se = 0, ss = 0;
            for (int i = half * N / 2; i < (half + 1) * N / 2; i++) {
                se += (double)(x[i] - y[i]) * (x[i] - y[i]);
                ss += (double)x[i] * x[i];
            }
            double rel = sqrt(se / ss);
            if (!(rel <= bound[t]))
                HY_FAILF("%s: relative RMS error %.4g > %.4g", hy_ggml_type_name(tu_types[t]), rel,
                         bound[t]);
        }
    }
    /* constant and zero blocks quantise without NaN */
    for (int i = 0; i < 256; i++)
        x[i] = i < 128 ? 0.0f : 1.0f;
    for (int t = 0; t < TU_N_TYPES; t++) {
        HY_OK_OR_FAIL(hy_ggml_quantize(tu_types[t], x, q, 256));
        HY_OK_OR_FAIL(hy_ggml_dequantize(tu_types[t], q, y, 256));
        for (int i = 0; i < 256; i++)
            if (!(fabsf(y[i] - x[i]) <= 0.07f)) {
                HY_FAILF("%s: element %d: %g, expected %g", hy_ggml_type_name(tu_types[t]), i, y[i],
                         x[i]);
                break;
            }
    }
}

HY_TEST(dequantize_argument_errors) {
    float out[64];
    uint8_t in[256] = {0};
    HY_CHECK_EQ_INT(hy_ggml_dequantize(HY_GGML_Q4_0, in, out, 33), HY_EINVAL);
    HY_CHECK(has("33") && has("Q4_0"));
    HY_CHECK_EQ_INT(hy_ggml_dequantize((hy_ggml_type)10, in, out, 256), HY_EUNSUPPORTED);
    HY_CHECK(has("Q2_K"));
    HY_CHECK_EQ_INT(hy_ggml_dequantize((hy_ggml_type)77, in, out, 1), HY_EUNSUPPORTED);
    HY_CHECK(has("type#77"));
    HY_CHECK_EQ_INT(hy_ggml_quantize(HY_GGML_Q6_K, out, in, 64), HY_EINVAL);
    HY_CHECK(hy_ggml_type_known((hy_ggml_type)10) && !hy_ggml_type_supported((hy_ggml_type)10));
    /* Q5_1 and Q5_K dequantise but have no quantiser: refused by name, not mis-written */
    HY_CHECK_EQ_INT(hy_ggml_quantize(HY_GGML_Q5_1, out, in, 32), HY_EUNSUPPORTED);
    HY_CHECK(has("Q5_1") && has("read-only"));
    HY_CHECK(!hy_ggml_type_known((hy_ggml_type)4));
    HY_CHECK_EQ_INT(hy_ggml_block_bytes(HY_GGML_Q6_K), 210);
    HY_CHECK_EQ_INT(hy_ggml_block_bytes(HY_GGML_Q4_K), 144);
    HY_CHECK_EQ_INT(hy_ggml_block_elems(HY_GGML_Q4_K), 256);
}

/* Q5_0's quantiser (written for test models with Q5_0 matrices) against the dequantiser that
 * is bit-exact with gguf-py: a 5-bit grid halves Q4_0's error, and the block's extreme lands
 * on -16 d exactly. */
HY_TEST(q5_0_quantiser_roundtrips) {
    enum { N = 32 * 64 };
    static float x[N], y[N], y4[N];
    static uint8_t q[N];
    uint64_t seed = 7;
    for (int i = 0; i < N; i++)
        x[i] = tu_normal(&seed);
    HY_OK_OR_FAIL(hy_ggml_quantize(HY_GGML_Q5_0, x, q, N));
    HY_OK_OR_FAIL(hy_ggml_dequantize(HY_GGML_Q5_0, q, y, N));
    HY_OK_OR_FAIL(hy_ggml_quantize(HY_GGML_Q4_0, x, q, N));
    HY_OK_OR_FAIL(hy_ggml_dequantize(HY_GGML_Q4_0, q, y4, N));
    double e5 = 0, e4 = 0, ss = 0;
    for (int i = 0; i < N; i++) {
        e5 += (double)(x[i] - y[i]) * (x[i] - y[i]);
        e4 += (double)(x[i] - y4[i]) * (x[i] - y4[i]);
        ss += (double)x[i] * x[i];
    }
    if (!(sqrt(e5 / ss) < 0.6 * sqrt(e4 / ss)))
        HY_FAILF("Q5_0 relative RMS error %.4g, Q4_0's %.4g: expected about half", sqrt(e5 / ss),
                 sqrt(e4 / ss));
    for (int b = 0; b < N / 32; b++) { /* each block's extreme is reproduced to fp16 rounding */
        int at = 0;
        for (int j = 1; j < 32; j++)
            if (fabsf(x[b * 32 + j]) > fabsf(x[b * 32 + at])) at = j;
        const float want = x[b * 32 + at], got = y[b * 32 + at];
        if (!(fabsf(got - want) <= 2e-3f * fabsf(want))) {
            HY_FAILF("block %d: extreme %g came back as %g", b, want, got);
            break;
        }
    }
}

static void roundtrip_tensors(uint32_t alignment) {
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    const int64_t shapes[][4] = {{256, 1, 1, 1}, {512, 3, 1, 1}, {256, 2, 3, 1}, {256, 1, 2, 2}};
    const uint32_t ndims[] = {1, 2, 3, 4};
    enum { MAXN = 512 * 3 };
    static float vals[TU_N_TYPES][4][MAXN];
    uint64_t seed = 1000 + alignment;
    for (int t = 0; t < TU_N_TYPES; t++)
        for (int s = 0; s < 4; s++) {
            for (int i = 0; i < MAXN; i++)
                vals[t][s][i] = tu_normal(&seed);
            char name[48];
            snprintf(name, sizeof name, "blk.%d.%s", s, hy_ggml_type_name(tu_types[t]));
            HY_OK_OR_FAIL(hy_gguf_writer_add_tensor_f32(w, name, tu_types[t], ndims[s], shapes[s],
                                                        vals[t][s]));
        }
    void *buf;
    size_t size;
    HY_OK_OR_FAIL(hy_gguf_writer_write_memory(w, alignment, &buf, &size));
    hy_gguf_writer_free(w);
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open_memory(buf, size, "tensors.gguf", &g));
    HY_CHECK_EQ_INT(hy_gguf_alignment(g), alignment);
    HY_CHECK_EQ_INT(hy_gguf_data_offset(g) % alignment, 0);
    HY_CHECK_EQ_INT(hy_gguf_n_tensors(g), TU_N_TYPES * 4);
    static float got[MAXN], want[MAXN];
    static uint8_t q[MAXN * 4];
    for (int t = 0; t < TU_N_TYPES; t++)
        for (int s = 0; s < 4; s++) {
            char name[48];
            snprintf(name, sizeof name, "blk.%d.%s", s, hy_ggml_type_name(tu_types[t]));
            const hy_gguf_tensor *ti;
            HY_OK_OR_FAIL(hy_gguf_find_tensor(g, name, &ti));
            HY_CHECK(ti == hy_gguf_tensor_at(g, t * 4 + s));
            HY_CHECK(str_eq(ti->name, name));
            HY_CHECK_EQ_INT(ti->type, tu_types[t]);
            HY_CHECK_EQ_INT(ti->n_dims, ndims[s]);
            int64_t n = 1;
            for (int d = 0; d < 4; d++) {
                HY_CHECK_EQ_INT(ti->ne[d], shapes[s][d]);
                n *= shapes[s][d];
            }
            HY_CHECK_EQ_INT(ti->n_elements, n);
            HY_CHECK_EQ_INT(ti->nbytes, n / hy_ggml_block_elems(tu_types[t]) *
                                            hy_ggml_block_bytes(tu_types[t]));
            HY_CHECK_EQ_INT(ti->offset % alignment, 0);
            HY_CHECK((const uint8_t *)ti->data ==
                     (const uint8_t *)buf + hy_gguf_data_offset(g) + ti->offset);
            HY_OK_OR_FAIL(hy_gguf_tensor_to_f32(ti, got));
            HY_OK_OR_FAIL(hy_ggml_quantize(tu_types[t], vals[t][s], q, n));
            HY_OK_OR_FAIL(hy_ggml_dequantize(tu_types[t], q, want, n));
            HY_CHECK(!memcmp(got, want, (size_t)n * sizeof(float)));
        }
    hy_gguf_close(g);
    free(buf);
}

HY_TEST(tensors_every_type_and_rank_align32) {
    roundtrip_tensors(32);
}
HY_TEST(tensors_align1) {
    roundtrip_tensors(1);
}
HY_TEST(tensors_align4096) {
    roundtrip_tensors(4096);
}

HY_TEST(version2_reads_like_version3) {
    void *buf;
    size_t size;
    HY_OK_OR_FAIL(tu_build_small(32, &buf, &size));
    ((uint8_t *)buf)[4] = 2;
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open_memory(buf, size, "v2.gguf", &g));
    HY_CHECK_EQ_INT(hy_gguf_version(g), 2);
    HY_CHECK_EQ_INT(hy_gguf_n_tensors(g), TU_N_TYPES);
    hy_gguf_close(g);
    free(buf);
}

HY_TEST(open_from_disk_and_io_errors) {
    char path[] = "/tmp/hy_gguf_test_XXXXXX";
    int fd = mkstemp(path);
    HY_REQUIRE(fd >= 0);
    close(fd);
    hy_gguf_writer *w;
    HY_OK_OR_FAIL(hy_gguf_writer_create(&w));
    float v[256];
    for (int i = 0; i < 256; i++)
        v[i] = sinf((float)i);
    const int64_t ne[1] = {256};
    HY_OK_OR_FAIL(hy_gguf_writer_add_tensor_f32(w, "w", HY_GGML_Q4_K, 1, ne, v));
    HY_OK_OR_FAIL(hy_gguf_writer_set_str(w, "general.name", "tiny"));
    HY_OK_OR_FAIL(hy_gguf_writer_write(w, path, 64));
    hy_gguf_writer_free(w);
    hy_gguf *g;
    HY_OK_OR_FAIL(hy_gguf_open(path, &g));
    HY_CHECK(!strcmp(hy_gguf_path(g), path));
    HY_CHECK_EQ_INT(hy_gguf_alignment(g), 64);
    uint32_t a;
    HY_OK_OR_FAIL(hy_gguf_get_u32(g, "general.alignment", &a));
    HY_CHECK_EQ_INT(a, 64);
    const hy_gguf_tensor *t;
    HY_OK_OR_FAIL(hy_gguf_find_tensor(g, "w", &t));
    float out[256];
    HY_OK_OR_FAIL(hy_gguf_tensor_to_f32(t, out));
    double maxerr = 0;
    for (int i = 0; i < 256; i++)
        maxerr = fmax(maxerr, fabs(out[i] - v[i]));
    HY_CHECK(maxerr < 0.15); /* 4-bit steps of ~2/15 over [-1, 1] */
    hy_gguf_close(g);
    unlink(path);
    HY_CHECK_EQ_INT(hy_gguf_open(path, &g), HY_EIO);
    HY_CHECK(has(path) && g == NULL);
    HY_CHECK_EQ_INT(hy_gguf_open("/tmp", &g), HY_EIO);
    HY_CHECK(has("not a regular file"));
}

HY_TEST(fp16_conversions) {
    /* exhaustive: every finite half converts to float and back unchanged */
    for (uint32_t h = 0; h < 65536; h++) {
        float f = hy_fp16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        if (hy_f32_to_fp16(f) != h) {
            HY_FAILF("half 0x%04x -> %g -> 0x%04x", h, f, hy_f32_to_fp16(f));
            break;
        }
    }
    HY_CHECK_EQ_INT(hy_f32_to_fp16(65520.0f), 0x7c00); /* ties to even: rounds up to inf */
    HY_CHECK_EQ_INT(hy_f32_to_fp16(65519.0f), 0x7bff);
    HY_CHECK_EQ_INT(hy_f32_to_fp16(1.0f + 0x1p-11f), 0x3c00); /* tie, even stays */
    HY_CHECK_EQ_INT(hy_f32_to_fp16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
    HY_CHECK_EQ_INT(hy_f32_to_fp16(0x1p-25f), 0x0000); /* half of the smallest subnormal: even */
    HY_CHECK_EQ_INT(hy_f32_to_fp16(0x1.8p-25f), 0x0001);
    HY_CHECK(isnan(hy_fp16_to_f32(hy_f32_to_fp16(NAN))));
    HY_CHECK_EQ_INT(hy_bf16_from_f32(1.0f + 0x1p-8f), 0x3f80);
    HY_CHECK_EQ_INT(hy_bf16_from_f32(1.0f + 0x1p-8f + 0x1p-16f), 0x3f81);
    HY_CHECK(isnan(hy_bf16_to_f32(hy_bf16_from_f32(NAN))));
}

HY_TEST_MAIN()
