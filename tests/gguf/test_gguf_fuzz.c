/* Seeded mutation fuzzing of the GGUF reader (the in-suite companion of the libFuzzer target
 * formats/gguf/fuzz_gguf.c): thousands of mutants of a valid small file (bit flips, 0x00/0xFF
 * bytes, large integers at field offsets, truncations, insertions, deletions). Every mutant
 * must either open -- and then every getter and the dequantisation of every tensor must
 * succeed -- or fail with a non-empty message. Run under ASan/UBSan it also proves no
 * out-of-bounds read. */
#include "gguf_test_util.h"
#include "hy_test.h"

enum { N_MUTANTS = 20000 };

static const uint64_t k_large[] = {
    0,          1,          0xff,       0xffff,     0xffffffffull,  1ull << 31,
    1ull << 32, 1ull << 62, 1ull << 63, UINT64_MAX, UINT64_MAX - 7, 0x7fffffffffffffffull,
    4096,       33,         13};

/* Offsets where fields begin: the header, each KV's key/type and each tensor info's fields,
 * so that large-int overwrites hit lengths, counts, types, dims and offsets. */
static size_t g_fields[512];
static int g_nfields;

static void collect_fields(const uint8_t *buf, size_t size) {
    static const char *records[] = {"general.architecture",  "llama.block_count",
                                    "llama.rope.freq_base",  "tokenizer.ggml.add_bos_token",
                                    "tokenizer.ggml.tokens", "tokenizer.ggml.token_type"};
    const size_t hdr[] = {4, 8, 16};
    for (int i = 0; i < 3; i++)
        g_fields[g_nfields++] = hdr[i];
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
        size_t at = tu_find_record(buf, size, records[i]);
        if (at == SIZE_MAX) continue;
        size_t type_at = at + 8 + strlen(records[i]);
        g_fields[g_nfields++] = at;
        g_fields[g_nfields++] = type_at;
        g_fields[g_nfields++] = type_at + 4;
        g_fields[g_nfields++] = type_at + 8; /* array length */
        g_fields[g_nfields++] = type_at + 16;
    }
    for (int t = 0; t < TU_N_TYPES; t++) {
        char name[32];
        snprintf(name, sizeof name, "t.%s", hy_ggml_type_name(tu_types[t]));
        tu_ti ti;
        if (!tu_tensor_info(buf, size, name, &ti)) continue;
        const size_t f[] = {ti.name, ti.n_dims, ti.ne0, ti.ne1, ti.type, ti.offset};
        for (int i = 0; i < 6; i++)
            g_fields[g_nfields++] = f[i];
    }
}

/* Applies one mutation in place; may change *size (truncate/insert/delete). */
static void mutate(uint8_t *buf, size_t *size, size_t cap, uint64_t *rng) {
    size_t n = *size;
    if (!n) return;
    switch (tu_rng(rng) % 7) {
    case 0: { /* bit flips */
        int k = 1 + (int)(tu_rng(rng) % 4);
        for (int i = 0; i < k; i++)
            buf[tu_rng(rng) % n] ^= (uint8_t)(1u << (tu_rng(rng) % 8));
        break;
    }
    case 1: { /* 0xFF / 0x00 bytes, biased to the metadata region */
        size_t meta = n < 2048 ? n : 2048;
        buf[tu_rng(rng) % meta] = tu_rng(rng) & 1 ? 0xff : 0x00;
        break;
    }
    case 2:
    case 3: { /* a large integer at a field start */
        size_t at = g_fields[tu_rng(rng) % (uint64_t)g_nfields] + (tu_rng(rng) % 5 == 0 ? 4 : 0);
        uint64_t v = k_large[tu_rng(rng) % (sizeof k_large / sizeof k_large[0])];
        int width = tu_rng(rng) & 1 ? 8 : 4;
        for (int i = 0; i < width && at + (size_t)i < n; i++)
            buf[at + (size_t)i] = (uint8_t)(v >> (8 * i));
        break;
    }
    case 4: /* truncate */
        *size = (size_t)(tu_rng(rng) % n);
        break;
    case 5: { /* insert 1..16 random bytes */
        size_t k = 1 + (size_t)(tu_rng(rng) % 16);
        if (n + k > cap) break;
        size_t at = (size_t)(tu_rng(rng) % n);
        memmove(buf + at + k, buf + at, n - at);
        for (size_t i = 0; i < k; i++)
            buf[at + i] = (uint8_t)tu_rng(rng);
        *size = n + k;
        break;
    }
    default: { /* delete 1..16 bytes */
        size_t at = (size_t)(tu_rng(rng) % n), k = 1 + (size_t)(tu_rng(rng) % 16);
        if (at + k > n) k = n - at;
        memmove(buf + at, buf + at + k, n - at - k);
        *size = n - k;
        break;
    }
    }
}

static void exercise(const hy_gguf *g, int *dequantised) {
    for (int64_t i = 0; i < hy_gguf_n_kv(g); i++) {
        hy_gguf_str k = hy_gguf_kv_key(g, i);
        char key[128];
        size_t n = k.len < sizeof key - 1 ? (size_t)k.len : sizeof key - 1;
        memcpy(key, k.ptr, n);
        key[n] = 0;
        uint32_t u;
        float f;
        hy_gguf_str s;
        uint64_t len;
        hy_gguf_vtype et;
        (void)hy_gguf_get_u32(g, key, &u);
        (void)hy_gguf_get_f32(g, key, &f);
        (void)hy_gguf_get_str(g, key, &s);
        if (!hy_gguf_get_arr(g, key, &et, &len, NULL) && et == HY_GGUF_STRING && len)
            if (hy_gguf_get_arr_str(g, key, len - 1, &s))
                HY_FAILF("string array element unreadable");
    }
    for (int64_t i = 0; i < hy_gguf_n_tensors(g); i++) {
        const hy_gguf_tensor *t = hy_gguf_tensor_at(g, i);
        if (!hy_ggml_type_supported(t->type) || t->n_elements > (1 << 20)) continue;
        float *out = malloc((size_t)t->n_elements * sizeof *out);
        if (!out) continue;
        if (hy_gguf_tensor_to_f32(t, out))
            HY_FAILF("tensor %lld of an opened file: %s", (long long)i, hy_last_error());
        else
            (*dequantised)++;
        free(out);
    }
}

HY_TEST(seeded_mutations_never_crash) {
    void *base;
    size_t base_size;
    HY_OK_OR_FAIL(tu_build_small(32, &base, &base_size));
    collect_fields(base, base_size);
    HY_REQUIRE(g_nfields > 20);
    size_t cap = base_size + 256;
    uint8_t *work = malloc(cap);
    HY_REQUIRE(work);
    uint64_t rng = 0x5eed;
    int opened = 0, failed = 0, dequantised = 0, bad_msg = 0;
    for (int m = 0; m < N_MUTANTS; m++) {
        size_t size = base_size;
        memcpy(work, base, base_size);
        int k = 1 + (int)(tu_rng(&rng) % 3);
        for (int i = 0; i < k; i++)
            mutate(work, &size, cap, &rng);
        /* an exact-size copy so any over-read leaves the allocation */
        uint8_t *exact = malloc(size ? size : 1);
        memcpy(exact, work, size);
        hy_gguf *g = NULL;
        hy_clear_error();
        hy_status st = hy_gguf_open_memory(exact, size, "mutant.gguf", &g);
        if (st == HY_OK) {
            opened++;
            exercise(g, &dequantised);
            hy_gguf_close(g);
        } else {
            failed++;
            const char *msg = hy_last_error();
            if ((!msg[0] || !strcmp(msg, "no error recorded") || g) && bad_msg++ < 5)
                HY_FAILF("mutant %d: status %d without a message", m, st);
        }
        free(exact);
    }
    printf("# %d mutants: %d opened (%d tensors dequantised), %d refused\n", N_MUTANTS, opened,
           dequantised, failed);
    /* the mutations must exercise both paths, or the test proves little */
    HY_CHECK(opened > N_MUTANTS / 20);
    HY_CHECK(failed > N_MUTANTS / 4);
    free(work);
    free(base);
}

HY_TEST_MAIN()
