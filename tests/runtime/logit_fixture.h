/* Test-only: the reference-logit fixtures the architecture tests share, a directory with
 * reference.json (the models and prompts) and logits.bin (little-endian float32 rows), as
 * scripts/fixtures/arch_reference.py and hf_reference.py write them. Header-only: it fails
 * the calling test through hy_test.h, whose counters are per test file. */
#ifndef HY_TEST_LOGIT_FIXTURE_H
#define HY_TEST_LOGIT_FIXTURE_H

#include "hy_test.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    json_t *json;
    float *logits;
    size_t n; /* floats in logits */
} logit_fixture;

/* Reads dir/reference.json and dir/logits.bin (paths relative to the source root, the tests'
 * working directory); 1 on success, else 0 with a test failure naming the files. */
static inline int logit_fixture_load(const char *dir, logit_fixture *fx) {
    char jpath[512], bpath[512];
    snprintf(jpath, sizeof jpath, "%s/reference.json", dir);
    snprintf(bpath, sizeof bpath, "%s/logits.bin", dir);
    json_error_t err;
    fx->json = json_load_file(jpath, 0, &err);
    FILE *f = fopen(bpath, "rb");
    if (!fx->json || !f) {
        HY_FAILF("cannot read %s and %s", jpath, bpath);
        if (f) fclose(f);
        return 0;
    }
    fseek(f, 0, SEEK_END);
    fx->n = (size_t)ftell(f) / sizeof(float);
    fseek(f, 0, SEEK_SET);
    fx->logits = malloc(fx->n * sizeof(float));
    const size_t got = fx->logits ? fread(fx->logits, sizeof(float), fx->n, f) : 0;
    fclose(f);
    return got == fx->n;
}

#endif
