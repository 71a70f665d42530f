/* libFuzzer target for the GGUF reader: any input must either open (then every getter and
 * the dequantisation of every supported tensor must run cleanly under ASan/UBSan) or fail
 * with a non-empty message. Build: CC=clang meson setup build-fuzz -Dfuzz=true; see
 * docs/gguf.md for how to run it and seed its corpus. */
#include "hy_gguf.h"

#include <stdlib.h>
#include <string.h>

static void exercise_kvs(const hy_gguf *g) {
    for (int64_t i = 0; i < hy_gguf_n_kv(g); i++) {
        hy_gguf_str k = hy_gguf_kv_key(g, i);
        char key[256];
        size_t n = k.len < sizeof key - 1 ? (size_t)k.len : sizeof key - 1;
        memcpy(key, k.ptr, n);
        key[n] = 0;
        uint32_t u32;
        int64_t i64;
        float f;
        bool b;
        hy_gguf_str s;
        hy_gguf_vtype et;
        uint64_t len;
        const void *data;
        (void)hy_gguf_get_u32(g, key, &u32);
        (void)hy_gguf_get_i64(g, key, &i64);
        (void)hy_gguf_get_f32(g, key, &f);
        (void)hy_gguf_get_bool(g, key, &b);
        (void)hy_gguf_get_str(g, key, &s);
        if (hy_gguf_get_arr(g, key, &et, &len, &data) == HY_OK && et == HY_GGUF_STRING && len) {
            (void)hy_gguf_get_arr_str(g, key, 0, &s);
            (void)hy_gguf_get_arr_str(g, key, len - 1, &s);
            (void)hy_gguf_get_arr_str(g, key, len, &s);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hy_gguf *g = NULL;
    hy_clear_error();
    hy_status st = hy_gguf_open_memory(data, size, "fuzz", &g);
    if (st != HY_OK) {
        const char *msg = hy_last_error();
        if (!msg || !msg[0] || g) abort();
        return 0;
    }
    exercise_kvs(g);
    for (int64_t i = 0; i < hy_gguf_n_tensors(g); i++) {
        const hy_gguf_tensor *t = hy_gguf_tensor_at(g, i);
        char name[256];
        size_t n = t->name.len < sizeof name - 1 ? (size_t)t->name.len : sizeof name - 1;
        memcpy(name, t->name.ptr, n);
        name[n] = 0;
        const hy_gguf_tensor *found;
        (void)hy_gguf_find_tensor(g, name, &found);
        if (!hy_ggml_type_supported(t->type) || t->n_elements > (1 << 22)) continue;
        float *out = malloc((size_t)t->n_elements * sizeof *out);
        if (!out) continue;
        if (hy_gguf_tensor_to_f32(t, out) != HY_OK) abort();
        free(out);
    }
    hy_gguf_close(g);
    return 0;
}
