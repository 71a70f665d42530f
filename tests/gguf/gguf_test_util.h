/* Helpers shared by the GGUF tests: a seeded RNG, fixture paths, file slurping, a small
 * valid model built with the writer (every KV type, every tensor type), and byte patching
 * at the offsets of named fields so malformed files are derived from valid ones. */
#ifndef GGUF_TEST_UTIL_H
#define GGUF_TEST_UTIL_H

#include "hy_gguf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t tu_rng(uint64_t *s) {
    /* splitmix64: good enough for test data, reproducible everywhere */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline float tu_uniform(uint64_t *s) {
    return (float)(tu_rng(s) >> 40) / 16777216.0f;
}
static inline float tu_normal(uint64_t *s) {
    float u1 = tu_uniform(s) + 1e-7f, u2 = tu_uniform(s);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

static inline const char *tu_fixture(const char *name, char *buf, size_t cap) {
    const char *root = getenv("HY_SOURCE_ROOT");
    snprintf(buf, cap, "%s/tests/fixtures/gguf/%s", root ? root : ".", name);
    return buf;
}

static inline void *tu_slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf && len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = (size_t)(len > 0 ? len : 0);
    return buf;
}

static const hy_ggml_type tu_types[] = {HY_GGML_F32,  HY_GGML_F16,  HY_GGML_BF16, HY_GGML_Q8_0,
                                        HY_GGML_Q4_0, HY_GGML_Q4_1, HY_GGML_Q4_K, HY_GGML_Q6_K};
#define TU_N_TYPES ((int)(sizeof tu_types / sizeof tu_types[0]))

/* A small valid model: a few KVs of each kind and one 2-D tensor per type named
 * "t.<TYPE>", each 256 x 2 (one K super-block per row). */
static inline hy_status tu_build_small(uint32_t alignment, void **buf, size_t *size) {
    hy_gguf_writer *w;
    hy_status st = hy_gguf_writer_create(&w);
    if (st) return st;
    static const char *toks[] = {"<s>", "</s>", "hello", ""};
    const int32_t tt[4] = {3, 3, 1, -1};
    uint64_t seed = 7;
    float vals[512];
    for (int i = 0; i < 512; i++)
        vals[i] = tu_normal(&seed);
    st = hy_gguf_writer_set_str(w, "general.architecture", "llama");
    if (!st) st = hy_gguf_writer_set_u32(w, "llama.block_count", 2);
    if (!st) st = hy_gguf_writer_set_f32(w, "llama.rope.freq_base", 10000.0f);
    if (!st) st = hy_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true);
    if (!st) st = hy_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 4);
    if (!st) st = hy_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", HY_GGUF_I32, tt, 4);
    for (int i = 0; !st && i < TU_N_TYPES; i++) {
        char name[32];
        snprintf(name, sizeof name, "t.%s", hy_ggml_type_name(tu_types[i]));
        const int64_t ne[2] = {256, 2};
        st = hy_gguf_writer_add_tensor_f32(w, name, tu_types[i], 2, ne, vals);
    }
    if (!st) st = hy_gguf_writer_write_memory(w, alignment, buf, size);
    hy_gguf_writer_free(w);
    return st;
}

/* Offset of the first occurrence of a gguf string record (length prefix + bytes) equal to
 * s, i.e. where a key or tensor name is stored; SIZE_MAX when absent. */
static inline size_t tu_find_record(const uint8_t *buf, size_t size, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i + 8 + n <= size; i++) {
        uint64_t len = 0;
        for (int b = 0; b < 8; b++)
            len |= (uint64_t)buf[i + b] << (8 * b);
        if (len == n && !memcmp(buf + i + 8, s, n)) return i;
    }
    return SIZE_MAX;
}

static inline void tu_put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void tu_put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t tu_get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Field offsets of a tensor info found by name (2-D tensors of tu_build_small). */
typedef struct {
    size_t name, n_dims, ne0, ne1, type, offset;
} tu_ti;
static inline int tu_tensor_info(const uint8_t *buf, size_t size, const char *name, tu_ti *ti) {
    size_t at = tu_find_record(buf, size, name);
    if (at == SIZE_MAX) return 0;
    ti->name = at;
    ti->n_dims = at + 8 + strlen(name);
    ti->ne0 = ti->n_dims + 4;
    ti->ne1 = ti->ne0 + 8;
    ti->type = ti->ne1 + 8;
    ti->offset = ti->type + 4;
    return 1;
}

#endif
