/* Writes a seed corpus for the libFuzzer target formats/gguf/fuzz_gguf into a directory:
 * small valid GGUF files from the writer (every KV kind, every tensor type, two alignments).
 * Usage: gguf_fuzz_seeds DIR (see docs/gguf.md). Not a test; built beside them. */
#include "gguf_test_util.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gguf_fuzz_seeds DIR\n");
        return 2;
    }
    const uint32_t aligns[] = {32, 1, 64};
    for (int i = 0; i < 3; i++) {
        void *buf;
        size_t size;
        if (tu_build_small(aligns[i], &buf, &size)) {
            fprintf(stderr, "gguf_fuzz_seeds: %s\n", hy_last_error());
            return 1;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/small_align%u.gguf", argv[1], aligns[i]);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, size, f) != size) {
            fprintf(stderr, "gguf_fuzz_seeds: cannot write %s\n", path);
            return 1;
        }
        fclose(f);
        free(buf);
        printf("%s (%zu bytes)\n", path, size);
    }
    return 0;
}
