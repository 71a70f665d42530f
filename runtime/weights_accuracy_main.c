/* hy-weights-accuracy: how far the default (quantized-weight) CPU path is from the fp32
 * reference on real text. Both paths prefill the first --ctx0 tokens, then decode the next
 * --n tokens teacher-forced (the true next token is fed at every step); per step it compares
 * the two logit rows: top-1 agreement and KL(fp32 || native) in nats, plus how often each
 * path's top-1 is the text's next token.
 *   hy-weights-accuracy MODEL TEXT [--ctx0 64] [--n 512] */
#include "bf16_gemm.h"
#include "hy_gguf.h"
#include "hy_runtime.h"
#include "hy_tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const char *what) {
    fprintf(stderr, "hy-weights-accuracy: %s: %s\n", what, hy_last_error());
    return 1;
}

static int argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

/* KL(p || q) of the softmaxes of logits a (p) and b (q), in double. */
static double kl(const float *a, const float *b, int n) {
    double ma = a[argmax(a, n)], mb = b[argmax(b, n)], za = 0, zb = 0;
    for (int i = 0; i < n; i++)
        za += exp(a[i] - ma), zb += exp(b[i] - mb);
    double k = 0;
    for (int i = 0; i < n; i++) {
        const double lp = a[i] - ma - log(za), lq = b[i] - mb - log(zb);
        k += exp(lp) * (lp - lq);
    }
    return k;
}

static hy_token *read_tokens(const char *model, const char *text_path, int64_t *n) {
    FILE *f = fopen(text_path, "rb");
    if (!f) return NULL;
    char *text = malloc(1 << 20);
    const size_t len = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    hy_gguf *g = NULL;
    hy_tokenizer *tok = NULL;
    hy_token *ids = NULL;
    if (text && hy_gguf_open(model, &g) == HY_OK && hy_tokenizer_from_gguf(g, &tok) == HY_OK &&
        hy_tokenizer_encode(tok, text, len, 0, &ids, n) != HY_OK)
        ids = NULL;
    hy_tokenizer_free(tok), hy_gguf_close(g), free(text);
    return ids;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL TEXT [--ctx0 N] [--n N]\n", argv[0]);
        return 2;
    }
    long ctx0 = 64, steps = 512;
    for (int i = 3; i + 1 < argc; i += 2) {
        long *v = !strcmp(argv[i], "--ctx0") ? &ctx0 : !strcmp(argv[i], "--n") ? &steps : NULL;
        char *end;
        if (!v || (*v = strtol(argv[i + 1], &end, 10), *end || *v < 1)) {
            fprintf(stderr, "hy-weights-accuracy: bad option %s %s\n", argv[i], argv[i + 1]);
            return 2;
        }
    }
    int64_t n_ids = 0;
    hy_token *ids = read_tokens(argv[1], argv[2], &n_ids);
    if (!ids) return die(argv[2]);
    if (n_ids < ctx0 + steps + 1) {
        fprintf(stderr, "hy-weights-accuracy: %s has %lld tokens, need %ld\n", argv[2],
                (long long)n_ids, ctx0 + steps + 1);
        return 1;
    }
    hy_model *m[2] = {NULL, NULL};
    hy_ctx *c[2] = {NULL, NULL};
    const hy_model_opts opts[2] = {{HY_WEIGHTS_F32}, {HY_WEIGHTS_NATIVE}};
    for (int k = 0; k < 2; k++)
        if (hy_model_load_opts(argv[1], &opts[k], &m[k]) ||
            hy_ctx_create(m[k], ctx0 + steps, 1, &c[k]))
            return die("loading the model");
    const int nv = hy_model_info_borrow(m[0])->n_vocab;
    float *lg[2] = {malloc((size_t)nv * sizeof(float)), malloc((size_t)nv * sizeof(float))};
    int64_t agree = 0, hit[2] = {0, 0};
    double kl_sum = 0, kl_max = 0;
    for (int k = 0; k < 2; k++)
        if (hy_forward(c[k], 0, ids, ctx0, lg[k], 1)) return die("prefill");
    const double prefill_kl = kl(lg[0], lg[1], nv);
    for (long s = 0; s < steps; s++) {
        for (int k = 0; k < 2; k++) {
            if (hy_forward(c[k], 0, ids + ctx0 + s, 1, lg[k], 1)) return die("decode");
            hit[k] += argmax(lg[k], nv) == ids[ctx0 + s + 1];
        }
        agree += argmax(lg[0], nv) == argmax(lg[1], nv);
        const double d = kl(lg[0], lg[1], nv);
        kl_sum += d, kl_max = d > kl_max ? d : kl_max;
    }
    printf("model %s, text %s: %ld prefilled tokens, %ld teacher-forced decode steps\n", argv[1],
           argv[2], ctx0, steps);
    printf("prefill (native: %s): KL at its last position %.3g\n",
           hy_bf16_gemm_usable() ? "bf16 on AMX tiles" : "fp32 tiles, as the f32 path", prefill_kl);
    printf("decode: top-1 agreement native vs f32 %.2f%% (%lld/%ld)\n", 100.0 * agree / steps,
           (long long)agree, steps);
    printf("decode: KL(f32 || native) mean %.4g nats, max %.4g\n", kl_sum / steps, kl_max);
    printf("decode: top-1 = next text token: f32 %.2f%%, native %.2f%%\n", 100.0 * hit[0] / steps,
           100.0 * hit[1] / steps);
    for (int k = 0; k < 2; k++)
        hy_ctx_free(c[k]), hy_model_free(m[k]), free(lg[k]);
    free(ids);
    return 0;
}
