/* Reads the llama.cpp reference fixtures (JSON index + raw float32 logits) for the e2e tests,
 * and the row comparison those tests share. Every malformed field is reported with the file,
 * the JSON path and what was expected, so a stale or truncated fixture explains itself. */
#include "e2e_reference.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_DIR "tests/fixtures/model"

/* Copies a JSON array of integers into a fresh int32/int64 buffer. */
static hy_status read_int_array(const char *file, const json_t *arr, const char *what,
                                int64_t **out64, int32_t **out32, int64_t *n_out) {
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return hy_fail(HY_EFORMAT, "%s: field %s: expected a non-empty array of integers", file,
                       what);
    size_t n = json_array_size(arr);
    int64_t *v64 = out64 ? hy_calloc(n, sizeof *v64, what) : NULL;
    int32_t *v32 = out32 ? hy_calloc(n, sizeof *v32, what) : NULL;
    if ((out64 && !v64) || (out32 && !v32)) {
        free(v64);
        free(v32);
        return HY_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > INT32_MAX) {
            free(v64);
            free(v32);
            return hy_fail(HY_EFORMAT, "%s: field %s[%zu]: expected an integer in [0, 2^31)", file,
                           what, i);
        }
        if (v64) v64[i] = json_integer_value(e);
        if (v32) v32[i] = (int32_t)json_integer_value(e);
    }
    if (out64) *out64 = v64;
    if (out32) *out32 = v32;
    *n_out = (int64_t)n;
    return HY_OK;
}

/* Reads n_vocab floats at byte offset off of an already opened logits file. */
static hy_status read_row(FILE *f, const char *path, int64_t off, int n_vocab, float *dst) {
    if (off < 0 || fseek(f, (long)off, SEEK_SET) != 0)
        return hy_fail(HY_EFORMAT, "%s: cannot seek to logits offset %lld", path, (long long)off);
    size_t got = fread(dst, sizeof(float), (size_t)n_vocab, f);
    if (got != (size_t)n_vocab)
        return hy_fail(HY_EFORMAT, "%s: offset %lld: read %zu floats, expected %d (truncated?)",
                       path, (long long)off, got, n_vocab);
    return HY_OK; /* fixtures are little-endian float32, as are all hosts we build on */
}

static hy_status load_prompt(const char *file, const json_t *jp, const char *variant, int n_vocab,
                             FILE *bin, const char *bin_path, e2e_prompt *p) {
    const char *name = json_string_value(json_object_get(jp, "name"));
    if (!name || strlen(name) >= sizeof p->name)
        return hy_fail(HY_EFORMAT, "%s: prompt field name: expected a short string", file);
    snprintf(p->name, sizeof p->name, "%s", name);
    hy_status st =
        read_int_array(file, json_object_get(jp, "ids"), "ids", NULL, &p->ids, &p->n_ids);
    if (st) return st;
    const json_t *jv = json_object_get(jp, variant);
    if (!json_is_object(jv))
        return hy_fail(HY_EFORMAT, "%s: prompt %s: no object for variant %s", file, name, variant);
    int64_t n_pos, n_off, n_top1, n_greedy, *offsets = NULL;
    if ((st = read_int_array(file, json_object_get(jv, "positions"), "positions", &p->positions,
                             NULL, &n_pos)) ||
        (st = read_int_array(file, json_object_get(jv, "logits_offset_bytes"),
                             "logits_offset_bytes", &offsets, NULL, &n_off)) ||
        (st = read_int_array(file, json_object_get(jv, "top1"), "top1", NULL, &p->top1, &n_top1)) ||
        (st = read_int_array(file, json_object_get(jv, "greedy"), "greedy", NULL, &p->greedy,
                             &n_greedy))) {
        free(offsets);
        return st;
    }
    if (n_off != n_pos || n_top1 != n_pos) {
        free(offsets);
        return hy_fail(HY_EFORMAT,
                       "%s: prompt %s/%s: %lld positions but %lld offsets and %lld top1 values",
                       file, name, variant, (long long)n_pos, (long long)n_off, (long long)n_top1);
    }
    p->n_pos = (int)n_pos;
    p->n_greedy = (int)n_greedy;
    /* optional: the reference's top-1 minus top-2 logit at each greedy step */
    const json_t *jm = json_object_get(jv, "greedy_top2_margin");
    if (json_array_size(jm) == (size_t)n_greedy) {
        p->greedy_margin = hy_calloc((size_t)n_greedy + 1, sizeof(float), "greedy margins");
        for (int i = 0; p->greedy_margin && i < p->n_greedy; i++)
            p->greedy_margin[i] = (float)json_number_value(json_array_get(jm, (size_t)i));
    }
    for (int i = 0; i < p->n_pos; i++) {
        if (p->positions[i] >= p->n_ids || (i > 0 && p->positions[i] <= p->positions[i - 1])) {
            free(offsets);
            return hy_fail(HY_EFORMAT,
                           "%s: prompt %s/%s: positions[%d] = %lld, expected ascending and < "
                           "%lld",
                           file, name, variant, i, (long long)p->positions[i], (long long)p->n_ids);
        }
    }
    p->logits = hy_malloc((size_t)p->n_pos * (size_t)n_vocab * sizeof(float), "ref logits");
    if (!p->logits) {
        free(offsets);
        return HY_ENOMEM;
    }
    for (int i = 0; i < p->n_pos && !st; i++)
        st = read_row(bin, bin_path, offsets[i], n_vocab, p->logits + (size_t)i * n_vocab);
    free(offsets);
    return st;
}

hy_status e2e_reference_load(const char *root, const char *variant, e2e_reference *out) {
    memset(out, 0, sizeof *out);
    if (!root) root = ".";
    char path[4096], bin_path[4096];
    snprintf(path, sizeof path, "%s/%s/reference.json", root, REF_DIR);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j)
        return hy_fail(HY_EIO, "%s: line %d: %s (run scripts/make-fixtures?)", path, jerr.line,
                       jerr.text);
    hy_status st = HY_OK;
    const char *fmt = json_string_value(json_object_get(j, "format"));
    json_int_t n_vocab = json_integer_value(json_object_get(j, "n_vocab"));
    const char *sha = json_string_value(json_object_get(json_object_get(j, "model"), "sha256"));
    const json_t *ref = json_object_get(json_object_get(j, "references"), variant);
    const char *bin_name = json_string_value(json_object_get(ref, "logits_file"));
    const json_t *prompts = json_object_get(j, "prompts");
    if (!fmt || strcmp(fmt, "hylra-model-reference") != 0) {
        st = hy_fail(HY_EFORMAT, "%s: field format = %s, expected hylra-model-reference", path,
                     fmt ? fmt : "(missing)");
    } else if (n_vocab <= 0 || n_vocab > (1 << 24)) {
        st = hy_fail(HY_EFORMAT, "%s: field n_vocab = %lld, expected 1..2^24", path,
                     (long long)n_vocab);
    } else if (!sha || strlen(sha) != 64) {
        st = hy_fail(HY_EFORMAT, "%s: field model.sha256: expected 64 hex digits", path);
    } else if (!bin_name || strchr(bin_name, '/')) {
        st = hy_fail(HY_EFORMAT, "%s: field references.%s.logits_file: expected a file name", path,
                     variant);
    } else if (!json_is_array(prompts) || json_array_size(prompts) == 0 ||
               json_array_size(prompts) > E2E_MAX_PROMPTS) {
        st =
            hy_fail(HY_EFORMAT, "%s: field prompts: expected 1..%d prompts", path, E2E_MAX_PROMPTS);
    }
    if (st) {
        json_decref(j);
        return st;
    }
    out->n_vocab = (int)n_vocab;
    snprintf(out->model_sha256, sizeof out->model_sha256, "%s", sha);
    snprintf(bin_path, sizeof bin_path, "%s/%s/%s", root, REF_DIR, bin_name);
    FILE *bin = fopen(bin_path, "rb");
    if (!bin) {
        json_decref(j);
        return hy_fail(HY_EIO, "%s: cannot open (named by %s)", bin_path, path);
    }
    for (size_t i = 0; i < json_array_size(prompts) && !st; i++) {
        st = load_prompt(path, json_array_get(prompts, i), variant, out->n_vocab, bin, bin_path,
                         &out->prompts[i]);
        out->n_prompts = (int)i + 1;
    }
    fclose(bin);
    json_decref(j);
    if (st) e2e_reference_free(out);
    return st;
}

void e2e_reference_free(e2e_reference *r) {
    for (int i = 0; i < r->n_prompts; i++) {
        e2e_prompt *p = &r->prompts[i];
        free(p->ids);
        free(p->positions);
        free(p->logits);
        free(p->top1);
        free(p->greedy);
        free(p->greedy_margin);
    }
    memset(r, 0, sizeof *r);
}

const e2e_prompt *e2e_reference_prompt(const e2e_reference *r, const char *name) {
    for (int i = 0; i < r->n_prompts; i++)
        if (strcmp(r->prompts[i].name, name) == 0) return &r->prompts[i];
    return NULL;
}

int32_t e2e_argmax(const float *v, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

e2e_diff e2e_compare(const float *got, const float *ref, int n) {
    double max_abs = 0, num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        double d = (double)got[i] - (double)ref[i];
        /* NaN must fail, so it is turned into an infinite difference. */
        double a = isnan(d) ? INFINITY : fabs(d);
        if (a > max_abs) max_abs = a;
        num += d * d;
        den += (double)ref[i] * (double)ref[i];
    }
    double rel = den > 0 ? sqrt(num / den) : INFINITY;
    if (isnan(rel)) rel = INFINITY;
    return (e2e_diff){max_abs, rel, e2e_argmax(got, n), e2e_argmax(ref, n)};
}

int e2e_diff_ok(const e2e_diff *d) {
    return d->max_abs <= E2E_MAX_ABS_DIFF && d->rel_l2 <= E2E_MAX_REL_L2 &&
           d->top1_got == d->top1_ref;
}
