/* SmolLM2 (or another $HY_MODEL: Gemma 3 270M) on the CUDA runtime (bf16 weights, activations and
 * K/V) against the CPU runtime (fp32) on real text: prefill CTX - TF tokens of the eval text, then
 * TF teacher-forced decode steps; per step the top-1 token and KL(cpu || cuda) of the next-token
 * distributions, for dense attention and for a layer-reuse plan with a refresh stride. Targets
 * (issue 11, for SmolLM2): agreement >= 99%, mean KL < 1e-3. Gemma 3 270M (H200, 2026-12-05)
 * meets them dense (99.4%, 1.3e-4) and not on the plan (99.4%, mean KL 1.2e-3: a few steps
 * whose top-256 sets flip at the boundary between bf16 and fp32 scores, max 0.29). Needs a GPU and
 * the model: run by scripts/gpu-check; suite `gpu` of `meson test` skips it without a GPU. Env:
 * HY_MODEL (the GGUF), HY_EVALTEXT (default .cache/evaltext/devil.txt). */
#include "hy_gguf.h"
#include "hy_runtime.h"
#include "hy_test.h"
#include "hy_test_gpu.h"
#include "hy_tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CTX = 2048, TF = 512 };

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[n] = 0, *len = (size_t)n;
    return b;
}

/* logits of the last prompt token and of every teacher-forced step: [TF][V] */
static float *run(hy_model *m, hy_device dev, const hy_plan *plan, const int32_t *tok) {
    const int V = hy_model_info_borrow(m)->n_vocab;
    hy_ctx *c = NULL;
    if (hy_ctx_create_on(m, dev, CTX, 1, &c)) return NULL;
    float *lg = malloc((size_t)TF * V * sizeof *lg);
    const int P = CTX - TF;
    int ok = lg && hy_ctx_set_plan(c, 0, plan) == HY_OK && hy_forward(c, 0, tok, P, lg, 1) == HY_OK;
    for (int t = 1; ok && t < TF; t++)
        ok = hy_forward(c, 0, tok + P + t - 1, 1, lg + (int64_t)t * V, 1) == HY_OK;
    if (!ok) fprintf(stderr, "%s: %s\n", hy_device_name(dev), hy_last_error());
    hy_ctx_free(c);
    if (!ok) free(lg);
    return ok ? lg : NULL;
}

static void compare(const float *cpu, const float *gpu, int V, const char *what) {
    int agree = 0;
    double kl_sum = 0, kl_max = 0;
    for (int t = 0; t < TF; t++) {
        const float *a = cpu + (int64_t)t * V, *b = gpu + (int64_t)t * V;
        int ia = 0, ib = 0;
        double ma = a[0], mb = b[0];
        for (int v = 1; v < V; v++) {
            if (a[v] > ma) ma = a[v], ia = v;
            if (b[v] > mb) mb = b[v], ib = v;
        }
        double za = 0, zb = 0;
        for (int v = 0; v < V; v++)
            za += exp(a[v] - ma), zb += exp(b[v] - mb);
        double kl = 0;
        for (int v = 0; v < V; v++) {
            const double la = a[v] - ma - log(za), lb = b[v] - mb - log(zb);
            kl += exp(la) * (la - lb);
        }
        agree += ia == ib;
        kl_sum += kl;
        kl_max = kl > kl_max ? kl : kl_max;
    }
    const double frac = (double)agree / TF, kl_mean = kl_sum / TF;
    printf("%s: top-1 agreement %.4f (%d/%d), KL(cpu||cuda) mean %.3g max %.3g\n", what, frac,
           agree, TF, kl_mean, kl_max);
    if (frac < 0.99) HY_FAILF("%s: agreement %.4f < 0.99", what, frac);
    if (!(kl_mean < 1e-3)) HY_FAILF("%s: mean KL %.3g >= 1e-3", what, kl_mean);
}

HY_TEST(gpu_parity_smollm2) {
    const char *path = hy_test_model_path();
    const char *tp = getenv("HY_EVALTEXT") ? getenv("HY_EVALTEXT") : ".cache/evaltext/devil.txt";
    hy_gguf *g = NULL;
    hy_tokenizer *tk = NULL;
    hy_model *m = NULL;
    HY_OK_OR_FAIL(hy_gguf_open(path, &g));
    HY_OK_OR_FAIL(hy_tokenizer_from_gguf(g, &tk));
    const hy_model_opts f32 = {HY_WEIGHTS_F32}; /* the CPU side is the fp32 reference */
    HY_OK_OR_FAIL(hy_model_load_opts(path, &f32, &m));
    size_t len = 0;
    char *text = read_all(tp, &len);
    HY_REQUIRE(text);
    hy_token *ids = NULL;
    int64_t n_ids = 0;
    HY_OK_OR_FAIL(hy_tokenizer_encode(tk, text, len, 0, &ids, &n_ids));
    HY_REQUIRE(n_ids >= CTX + 1000);
    const int32_t *tok = ids + 1000; /* past the front matter */
    const hy_model_info *mi = hy_model_info_borrow(m);

    float *cpu = run(m, HY_DEVICE_CPU, NULL, tok), *gpu = run(m, HY_DEVICE_CUDA, NULL, tok);
    HY_REQUIRE(cpu && gpu);
    compare(cpu, gpu, mi->n_vocab, "dense");
    free(cpu), free(gpu);

    /* layers 0-1 dense, the first global layer from 2 on selects every step (SmolLM2: 2),
     * the first from the middle on every 4 steps (15), the other global layers reuse the
     * nearest select layer before them (same head): TidalDecode-like with recycling. Gemma 3's
     * sliding-window layers stay dense (their window: plan_exec.c); its selecting layers are
     * 5 and 11. */
    hy_plan *p = NULL;
    HY_OK_OR_FAIL(hy_plan_create(mi->n_layers, mi->n_heads, mi->n_kv_heads, mi->head_dim, &p));
    p->k = 256, p->sink = 4, p->window = 64;
    int sel0 = -1, sel1 = -1;
    for (int l = 2; l < mi->n_layers; l++) {
        if (hy_model_layer_window(mi, l)) continue;
        if (sel0 < 0) sel0 = l;
        if (sel1 < 0 && l >= mi->n_layers / 2 && l != sel0) sel1 = l;
    }
    HY_REQUIRE(sel0 >= 0 && sel1 > sel0);
    for (int l = sel0; l < mi->n_layers; l++)
        for (int h = 0; h < mi->n_kv_heads; h++) {
            hy_plan_unit *u = &p->units[l * mi->n_kv_heads + h];
            if (hy_model_layer_window(mi, l)) continue;
            if (l == sel0 || l == sel1) {
                u->mode = HY_MODE_SELECT;
                u->refresh = l == sel0 ? 1 : 4;
            } else {
                u->mode = HY_MODE_REUSE;
                u->src = (l < sel1 ? sel0 : sel1) * mi->n_kv_heads + h;
            }
        }
    cpu = run(m, HY_DEVICE_CPU, p, tok), gpu = run(m, HY_DEVICE_CUDA, p, tok);
    HY_REQUIRE(cpu && gpu);
    char what[64];
    snprintf(what, sizeof what, "plan (select %d, %d/4, reuse)", sel0, sel1);
    compare(cpu, gpu, mi->n_vocab, what);
    free(cpu), free(gpu);
    hy_plan_free(p);
    free(ids), free(text);
    hy_model_free(m);
    hy_tokenizer_free(tk);
    hy_gguf_close(g);
}

HY_TEST_MAIN()
