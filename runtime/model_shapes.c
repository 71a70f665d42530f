/* Synthetic models: the named shapes of `--shape` (published configs of each family) and
 * the model they describe. The weights are drawn on the GPU (gpu_model.c); without CUDA the
 * shapes are known but refused. */
#include "arch.h"
#include "runtime_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HY_HAVE_CUDA
hy_status hy_gpu_model_synthetic(hy_model *m, uint64_t seed);
#endif

/* Qwen2.5's q/k/v biases are left out: they add 0.01% of the bytes a step reads. */
typedef struct {
    const char *name, *arch;
    int n_layers, d_model, n_heads, n_kv_heads, head_dim, d_ff, n_vocab, n_ctx;
    float theta, eps;
    int tied;
} shape_def;

static const shape_def shapes[] = {
    {"llama3-8b", "llama", 32, 4096, 32, 8, 128, 14336, 128256, 262144, 500000.f, 1e-5f, 0},
    {"qwen2.5-7b", "qwen2", 28, 3584, 28, 4, 128, 18944, 152064, 262144, 1000000.f, 1e-6f, 0},
    {"mistral-7b", "llama", 32, 4096, 32, 8, 128, 14336, 32768, 262144, 1000000.f, 1e-5f, 0},
    {"tiny", "llama", 2, 256, 4, 2, 64, 512, 512, 8192, 10000.f, 1e-5f, 1},
};

const char *const hy_model_shapes[] = {"llama3-8b", "qwen2.5-7b", "mistral-7b", "tiny", NULL};

hy_status hy_model_synthetic(const char *shape, uint64_t seed, hy_model **out) {
    if (!out || !shape) return hy_fail(HY_EINVAL, "hy_model_synthetic: NULL argument");
    *out = NULL;
    const shape_def *s = NULL;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (!strcmp(shapes[i].name, shape)) s = &shapes[i];
    if (!s)
        return hy_fail(HY_EINVAL,
                       "shape \"%s\" is unknown, expected llama3-8b, qwen2.5-7b, mistral-7b or "
                       "tiny",
                       shape);
#ifndef HY_HAVE_CUDA
    (void)seed;
    return hy_fail(HY_EUNSUPPORTED,
                   "shape %s: synthetic models draw their weights on the GPU, and this hylra "
                   "was built without CUDA",
                   shape);
#else
    hy_model *m = hy_calloc(1, sizeof *m, "model");
    if (!m) return HY_ENOMEM;
    hy_model_info *mi = &m->info;
    snprintf(mi->arch, sizeof mi->arch, "%s", s->arch);
    snprintf(mi->name, sizeof mi->name, "synthetic:%s", s->name);
    mi->n_layers = s->n_layers, mi->d_model = s->d_model, mi->n_heads = s->n_heads;
    mi->n_kv_heads = s->n_kv_heads, mi->head_dim = s->head_dim, mi->d_ff = s->d_ff;
    mi->n_vocab = s->n_vocab, mi->n_ctx_train = s->n_ctx;
    mi->rope_theta = s->theta, mi->rms_eps = s->eps;
    mi->rope_layout = 0;
    mi->tied_output = s->tied;
    mi->attn_scale = 1.0f / sqrtf((float)s->head_dim);
    m->arch = hy_arch_find("llama"); /* drawn Llama-shaped, whatever family the shape names */
    m->synthetic = 1;
    hy_status st = hy_gpu_model_synthetic(m, seed);
    if (st) {
        free(m);
        return st;
    }
    *out = m;
    return HY_OK;
#endif
}

double hy_model_step_weight_bytes(const hy_model *m) {
    if (!m) return 0.0;
    const hy_model_info *mi = &m->info;
    const double d = mi->d_model, hd = mi->head_dim, ff = mi->d_ff;
    const double qkv = (mi->n_heads + 2.0 * mi->n_kv_heads) * hd, att = mi->n_heads * hd;
    const double per_layer = 2.0 * (qkv * d + d * att + 3.0 * ff * d) + 4.0 * 2.0 * d;
    return mi->n_layers * per_layer + 2.0 * mi->n_vocab * d + 4.0 * d;
}
