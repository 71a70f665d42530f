/* ggml tensor type table: block sizes and names for every type ggml defines, so that any
 * valid GGUF opens (and `hylra info` can list it) even when hylra cannot dequantise a type.
 * Sizes are the facts of ggml's block layouts (ggml-common.h); dequantisation support is
 * the smaller set in quants.c / quants_k.c. */
#include "hy_gguf.h"

#include <stdio.h>

typedef struct {
    const char *name;
    int64_t block_elems;
    size_t block_bytes;
    bool supported;
} type_info;

/* Indexed by type id; a NULL name marks an id ggml never used or has retired (4, 5, 31-33,
 * 36-38), which the reader refuses. */
static const type_info k_types[] = {
    [0] = {"F32", 1, 4, true},          [1] = {"F16", 1, 2, true},
    [2] = {"Q4_0", 32, 18, true},       [3] = {"Q4_1", 32, 20, true},
    [6] = {"Q5_0", 32, 22, true},       [7] = {"Q5_1", 32, 24, true},
    [8] = {"Q8_0", 32, 34, true},       [9] = {"Q8_1", 32, 36, false},
    [10] = {"Q2_K", 256, 84, false},    [11] = {"Q3_K", 256, 110, false},
    [12] = {"Q4_K", 256, 144, true},    [13] = {"Q5_K", 256, 176, true},
    [14] = {"Q6_K", 256, 210, true},    [15] = {"Q8_K", 256, 292, false},
    [16] = {"IQ2_XXS", 256, 66, false}, [17] = {"IQ2_XS", 256, 74, false},
    [18] = {"IQ3_XXS", 256, 98, false}, [19] = {"IQ1_S", 256, 50, false},
    [20] = {"IQ4_NL", 32, 18, false},   [21] = {"IQ3_S", 256, 110, false},
    [22] = {"IQ2_S", 256, 82, false},   [23] = {"IQ4_XS", 256, 136, false},
    [24] = {"I8", 1, 1, false},         [25] = {"I16", 1, 2, false},
    [26] = {"I32", 1, 4, false},        [27] = {"I64", 1, 8, false},
    [28] = {"F64", 1, 8, false},        [29] = {"IQ1_M", 256, 56, false},
    [30] = {"BF16", 1, 2, true},        [34] = {"TQ1_0", 256, 54, false},
    [35] = {"TQ2_0", 256, 66, false},   [39] = {"MXFP4", 32, 17, false},
    [40] = {"NVFP4", 64, 36, false},    [41] = {"Q1_0", 128, 18, false},
};
#define N_TYPES (sizeof k_types / sizeof k_types[0])

static const type_info *info(hy_ggml_type t) {
    unsigned u = (unsigned)t;
    return u < N_TYPES && k_types[u].name ? &k_types[u] : NULL;
}

int64_t hy_ggml_block_elems(hy_ggml_type t) {
    const type_info *i = info(t);
    return i ? i->block_elems : 0;
}

size_t hy_ggml_block_bytes(hy_ggml_type t) {
    const type_info *i = info(t);
    return i ? i->block_bytes : 0;
}

const char *hy_ggml_type_name(hy_ggml_type t) {
    const type_info *i = info(t);
    if (i) return i->name;
    /* Unknown ids are rare and only named in messages; a small ring keeps the result valid
     * for a few calls without allocation. */
    static _Thread_local char ring[4][24];
    static _Thread_local unsigned slot;
    char *buf = ring[slot++ % 4];
    snprintf(buf, sizeof ring[0], "type#%u", (unsigned)t);
    return buf;
}

bool hy_ggml_type_supported(hy_ggml_type t) {
    const type_info *i = info(t);
    return i && i->supported;
}

bool hy_ggml_type_known(hy_ggml_type t) {
    return info(t) != NULL;
}
