/* Model loading for the CPU runtime: reads the hyperparameters of a GGUF (or a Hugging Face
 * checkpoint directory) whose architecture the runtime runs (arch.h: Llama and the rows of
 * differences over it), checks every tensor's presence, type and shape against them (errors
 * name the tensor and the shape found vs expected), and copies each weight matrix of a GGUF in
 * its file's block format (default) or dequantises it once to fp32 (HY_WEIGHTS_F32; always
 * for checkpoints, whose F32/F16/BF16 tensors the fp32 path takes), fusing Q/K/V and gate/up
 * so each becomes one product. Norms and biases are always fp32. */
#include "arch.h"
#include "hf_checkpoint.h"
#include "hy_gguf.h"
#include "qmatmul.h"
#include "rope.h"
#include "runtime_internal.h"
#ifdef HY_HAVE_CUDA
#include "gpu_internal.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const hy_gguf *g; /* the file, or the GGUF image of a checkpoint's config.json */
    const char *path;
    const char *arch;
    const hy_arch *a;
    hy_hf *hf; /* a Hugging Face checkpoint directory: tensors come from here */
    hy_weights weights;
} loader;

/* Shape and type of tensor `name` of either source: ne[0] is the row length (ggml order),
 * ok whether hylra can convert it to fp32. */
typedef struct {
    uint32_t n_dims;
    int64_t ne[HY_GGUF_MAX_DIMS];
    const char *type;
    bool ok;
    const hy_gguf_tensor *gt;
    const hy_st_tensor *st;
} tensor_ref;

static hy_status find_tensor(const loader *L, const char *name, tensor_ref *r) {
    memset(r, 0, sizeof *r);
    for (int i = 0; i < HY_GGUF_MAX_DIMS; i++)
        r->ne[i] = 1;
    if (L->hf) {
        HY_TRY(hy_hf_tensor(L->hf, name, &r->st));
        if (r->st->n_dims > HY_GGUF_MAX_DIMS)
            return hy_fail(HY_EMISMATCH, "%s: tensor %s has %d dims", L->path, name, r->st->n_dims);
        r->n_dims = (uint32_t)r->st->n_dims; /* [rows, cols] -> ne = [cols, rows] */
        for (int i = 0; i < r->st->n_dims; i++)
            r->ne[i] = r->st->shape[r->st->n_dims - 1 - i];
        r->type = hy_st_dtype_name(r->st->dtype);
        r->ok = r->st->dtype <= HY_ST_BF16;
        return HY_OK;
    }
    hy_status st = hy_gguf_find_tensor(L->g, name, &r->gt);
    if (st != HY_OK) return hy_fail_ctx(st, "%s", L->path);
    r->n_dims = r->gt->n_dims;
    for (uint32_t i = 0; i < r->n_dims; i++)
        r->ne[i] = r->gt->ne[i];
    r->type = hy_ggml_type_name(r->gt->type);
    r->ok = hy_ggml_type_supported(r->gt->type);
    return HY_OK;
}

static hy_status get_u32(const loader *L, const char *field, int *out, int required, int dflt) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", L->arch, field);
    uint32_t v = 0;
    hy_status st = hy_gguf_get_u32(L->g, key, &v);
    if (st == HY_ENOTFOUND && !required) {
        hy_clear_error();
        *out = dflt;
        return HY_OK;
    }
    if (st != HY_OK) return hy_fail_ctx(st, "%s: hyperparameter %s", L->path, key);
    if (v == 0 || v > (1u << 30))
        return hy_fail(HY_EFORMAT, "%s: hyperparameter %s = %u, expected 1..2^30", L->path, key, v);
    *out = (int)v;
    return HY_OK;
}

static hy_status get_f32(const loader *L, const char *field, float *out, int required, float dflt) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", L->arch, field);
    hy_status st = hy_gguf_get_f32(L->g, key, out);
    if (st == HY_ENOTFOUND && !required) {
        hy_clear_error();
        *out = dflt;
        return HY_OK;
    }
    if (st != HY_OK) return hy_fail_ctx(st, "%s: hyperparameter %s", L->path, key);
    return HY_OK;
}

/* Refuses what this forward pass would silently get wrong: other graphs, scaled RoPE,
 * partial RoPE, per-dimension frequency factors. */
static hy_status check_supported(const loader *L, const hy_model_info *mi) {
    char key[128];
    hy_gguf_str s;
    snprintf(key, sizeof key, "%s.rope.scaling.type", L->arch);
    if (hy_gguf_get_str(L->g, key, &s) == HY_OK && !(s.len == 4 && !memcmp(s.ptr, "none", 4)))
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: %s = \"%.*s\": RoPE scaling is not supported "
                       "(expected \"none\" or absent)",
                       L->path, key, (int)s.len, s.ptr);
    float f = 1.0f;
    snprintf(key, sizeof key, "%s.rope.scaling.factor", L->arch);
    if (hy_gguf_get_f32(L->g, key, &f) == HY_OK && f != 0.0f && f != 1.0f)
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: %s = %g: RoPE scaling is not supported "
                       "(expected 1 or absent)",
                       L->path, key, (double)f);
    const hy_gguf_tensor *t;
    if (hy_gguf_find_tensor(L->g, "rope_freqs.weight", &t) == HY_OK)
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: tensor rope_freqs.weight (RoPE frequency factors) "
                       "is not supported",
                       L->path);
    hy_clear_error();
    int rope_dim = 0, key_len = 0, val_len = 0;
    hy_status st;
    if ((st = get_u32(L, "rope.dimension_count", &rope_dim, 0, mi->head_dim)) ||
        (st = get_u32(L, "attention.key_length", &key_len, 0, mi->head_dim)) ||
        (st = get_u32(L, "attention.value_length", &val_len, 0, mi->head_dim)))
        return st;
    if (val_len != key_len)
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: %s.attention.key_length = %d but value_length = %d "
                       "(different K and V head sizes are not supported)",
                       L->path, L->arch, key_len, val_len);
    if (rope_dim != mi->head_dim)
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: %s.rope.dimension_count = %d, expected head_dim %d "
                       "(partial RoPE is not supported)",
                       L->path, L->arch, rope_dim, mi->head_dim);
    return HY_OK;
}

static hy_status read_hparams(const loader *L, hy_model_info *mi) {
    hy_status st;
    if ((st = get_u32(L, "block_count", &mi->n_layers, 1, 0)) ||
        (st = get_u32(L, "embedding_length", &mi->d_model, 1, 0)) ||
        (st = get_u32(L, "feed_forward_length", &mi->d_ff, 1, 0)) ||
        (st = get_u32(L, "attention.head_count", &mi->n_heads, 1, 0)) ||
        (st = get_u32(L, "attention.head_count_kv", &mi->n_kv_heads, 0, mi->n_heads)) ||
        (st = get_u32(L, "context_length", &mi->n_ctx_train, 1, 0)) ||
        (st = get_f32(L, "rope.freq_base", &mi->rope_theta, 0, 10000.0f)) ||
        (st = get_f32(L, "attention.layer_norm_rms_epsilon", &mi->rms_eps, 1, 0.0f)))
        return st;
    if (mi->n_heads % mi->n_kv_heads != 0)
        return hy_fail(HY_EFORMAT,
                       "%s: %s.attention.head_count = %d is not a multiple of "
                       "head_count_kv = %d",
                       L->path, L->arch, mi->n_heads, mi->n_kv_heads);
    /* the head size is key_length where given (Gemma 3: 256 with d_model 640, 4 heads),
     * else d_model / n_heads, which must then divide */
    if ((st = get_u32(L, "attention.key_length", &mi->head_dim, 0, 0))) return st;
    if (!mi->head_dim && mi->d_model % mi->n_heads != 0)
        return hy_fail(HY_EFORMAT,
                       "%s: %s.embedding_length = %d is not a multiple of "
                       "attention.head_count = %d (and there is no attention.key_length)",
                       L->path, L->arch, mi->d_model, mi->n_heads);
    if (!mi->head_dim) mi->head_dim = mi->d_model / mi->n_heads;
    if (mi->head_dim % 2 != 0 || mi->head_dim > 1024)
        return hy_fail(HY_EUNSUPPORTED, "%s: head_dim = %d, expected an even value <= 1024",
                       L->path, mi->head_dim);
    if (!(mi->rope_theta > 0.0f))
        return hy_fail(HY_EFORMAT, "%s: %s.rope.freq_base = %g, expected a positive number",
                       L->path, mi->arch, (double)mi->rope_theta);
    if (!(mi->rms_eps >= 0.0f))
        return hy_fail(HY_EFORMAT,
                       "%s: %s.attention.layer_norm_rms_epsilon = %g, expected a number >= 0",
                       L->path, mi->arch, (double)mi->rms_eps);
    mi->rope_layout = L->a->rope;
    mi->attn_scale = 1.0f / sqrtf((float)mi->head_dim);
    if (L->a->swa) {
        /* Gemma 3 27B scales queries by (d_model / n_heads)^-1/2, not head_dim^-1/2 (its
         * query_pre_attn_scalar); llama.cpp tells it by its 62 layers, as here */
        if (mi->n_layers == 62) mi->attn_scale = 1.0f / sqrtf((float)mi->d_model / mi->n_heads);
        /* checkpoints say it: query_pre_attn_scalar^-1/2 (hf_config.c) */
        if ((st = get_f32(L, "attention.scale", &mi->attn_scale, 0, mi->attn_scale))) return st;
        if (!(mi->attn_scale > 0.0f))
            return hy_fail(HY_EFORMAT, "%s: %s.attention.scale = %g, expected a positive number",
                           L->path, mi->arch, (double)mi->attn_scale);
        if ((st = get_u32(L, "attention.sliding_window", &mi->sliding_window, 1, 0)) ||
            (st = get_u32(L, "attention.sliding_window_pattern", &mi->swa_period, 0,
                          L->a->swa_period)) ||
            (st = get_f32(L, "rope.freq_base_swa", &mi->rope_theta_local, 0,
                          L->a->rope_theta_local)))
            return st;
    } else if ((st = get_u32(L, "attention.sliding_window", &mi->sliding_window, 0, 0))) {
        return st; /* a window in every layer (Mistral 7B v0.1 checkpoints) */
    } else {
        mi->rope_theta_local = mi->rope_theta;
    }
    return check_supported(L, mi);
}

/* Finds `name` and checks it is 1-D [ne0] (ne1 == 0) or 2-D [ne0, ne1] (ggml order: ne0 is
 * the row length) with a dequantisable type. */
static hy_status find_checked(const loader *L, const char *name, int64_t ne0, int64_t ne1,
                              tensor_ref *t) {
    HY_TRY(find_tensor(L, name, t));
    int64_t want[HY_GGUF_MAX_DIMS] = {ne0, ne1 ? ne1 : 1, 1, 1};
    int ok = 1;
    for (uint32_t i = 0; i < t->n_dims; i++)
        ok &= t->ne[i] == want[i];
    for (uint32_t i = t->n_dims; i < HY_GGUF_MAX_DIMS; i++)
        ok &= want[i] == 1;
    if (!ok) {
        char found[96] = "";
        size_t o = 0;
        for (uint32_t i = 0; i < t->n_dims && o < sizeof found; i++)
            o += (size_t)snprintf(found + o, sizeof found - o, "%s%lld", i ? ", " : "",
                                  (long long)t->ne[i]);
        if (ne1)
            return hy_fail(HY_EMISMATCH, "%s: tensor %s has shape [%s], expected [%lld, %lld]",
                           L->path, name, found, (long long)ne0, (long long)ne1);
        return hy_fail(HY_EMISMATCH, "%s: tensor %s has shape [%s], expected [%lld]", L->path, name,
                       found, (long long)ne0);
    }
    if (!t->ok)
        return hy_fail(HY_EUNSUPPORTED, "%s: tensor %s has type %s, which cannot be dequantised",
                       L->path, name, t->type);
    return HY_OK;
}

/* Dequantises tensor `name` (checked shape) into dst, which holds ne0 * max(ne1, 1) floats. */
static hy_status load_into(const loader *L, const char *name, int64_t ne0, int64_t ne1,
                           float *dst) {
    tensor_ref t;
    hy_status st = find_checked(L, name, ne0, ne1, &t);
    if (st != HY_OK) return st;
    st = t.st ? hy_st_tensor_to_f32(t.st, dst) : hy_gguf_tensor_to_f32(t.gt, dst);
    if (st != HY_OK) return hy_fail_ctx(st, "%s: tensor %s", L->path, name);
    /* Gemma checkpoints store RMSNorm weights w for 1 + w; GGUF files store 1 + w */
    if (L->hf && hy_hf_norm_plus_one(L->hf) && strstr(name, "norm.weight"))
        for (int64_t i = 0; i < ne0 * (ne1 ? ne1 : 1); i++)
            dst[i] += 1.0f;
    return HY_OK;
}

static hy_status alloc_load(const loader *L, const char *name, int64_t ne0, int64_t ne1,
                            float **out) {
    const int64_t n = ne0 * (ne1 ? ne1 : 1);
    *out = hy_malloc((size_t)n * sizeof(float), name);
    if (!*out) return HY_ENOMEM;
    return load_into(L, name, ne0, ne1, *out);
}

/* Appends GGUF tensor `name` (checked shape [ne0, ne1]) to q as it is stored: to the last part
 * when the type matches, else as a new part. A type the codec dequantises but no CPU kernel
 * multiplies (Q5_0, Q5_1, Q5_K: Gemma 3 270M's attention) is held as fp32 rows instead, so
 * such files run on the default path, those matrices at fp32's cost (docs/runtime.md). */
static hy_status qmat_add(const loader *L, const char *name, int64_t ne0, int64_t ne1, hy_qmat *q) {
    tensor_ref r;
    hy_status st = find_checked(L, name, ne0, ne1, &r);
    if (st != HY_OK) return st;
    const hy_gguf_tensor *t = r.gt;
    const int as_f32 = !hy_qtype_known((int)t->type);
    const int type = as_f32 ? HY_QT_F32 : (int)t->type;
    const size_t nbytes =
        as_f32 ? (size_t)(ne0 * (ne1 ? ne1 : 1)) * sizeof(float) : (size_t)t->nbytes;
    hy_qpart *p = q->n_parts ? &q->part[q->n_parts - 1] : NULL;
    if (!p || p->type != type) {
        if (q->n_parts == HY_QMAT_MAX_PARTS)
            return hy_fail(HY_EUNSUPPORTED, "%s: tensor %s: more than %d types in one fused matrix",
                           L->path, name, HY_QMAT_MAX_PARTS);
        p = &q->part[q->n_parts++];
        *p = (hy_qpart){type, 0, NULL};
    }
    const size_t row_bytes = nbytes / (size_t)(ne1 ? ne1 : 1);
    const size_t old = (size_t)p->rows * row_bytes;
    uint8_t *data = realloc(p->data, old + nbytes);
    if (!data)
        return hy_fail(HY_ENOMEM, "%s: tensor %s: out of memory for %llu bytes", L->path, name,
                       (unsigned long long)(old + nbytes));
    if (as_f32) {
        st = hy_gguf_tensor_to_f32(t, (float *)(void *)(data + old));
        if (st) {
            p->data = data;
            return hy_fail_ctx(st, "%s: tensor %s (held as fp32: no CPU kernel for %s)", L->path,
                               name, hy_ggml_type_name(t->type));
        }
    } else {
        memcpy(data + old, t->data, nbytes);
    }
    p->data = data;
    p->rows += ne1 ? ne1 : 1;
    return HY_OK;
}

/* Loads a projection matrix made of the n named tensors (each [ne0, ne1[i]], stacked): fp32
 * into *f (allocated here) or in the file's format into *q. */
static hy_status load_matrix(const loader *L, int n, const char *const *names, int64_t ne0,
                             const int64_t *ne1, float **f, hy_qmat *q) {
    hy_status st;
    if (L->weights == HY_WEIGHTS_NATIVE) {
        for (int i = 0; i < n; i++)
            if ((st = qmat_add(L, names[i], ne0, ne1[i], q))) return st;
        return HY_OK;
    }
    int64_t rows = 0;
    for (int i = 0; i < n; i++)
        rows += ne1[i];
    *f = hy_malloc((size_t)(rows * ne0) * sizeof(float), names[0]);
    if (!*f) return HY_ENOMEM;
    for (int64_t i = 0, r = 0; i < n; r += ne1[i], i++)
        if ((st = load_into(L, names[i], ne0, ne1[i], *f + r * ne0))) return st;
    return HY_OK;
}

static hy_status load_layer(const loader *L, const hy_model_info *mi, int l, hy_layer_weights *w) {
    const int64_t d = mi->d_model, hd = mi->head_dim, nq = (int64_t)mi->n_heads * hd,
                  nkv = (int64_t)mi->n_kv_heads * hd, ff = mi->d_ff;
    char name[96];
    hy_status st;
    char q[96], k[96], v[96], up[96];
    snprintf(q, sizeof q, "blk.%d.attn_q.weight", l);
    snprintf(k, sizeof k, "blk.%d.attn_k.weight", l);
    snprintf(v, sizeof v, "blk.%d.attn_v.weight", l);
    snprintf(up, sizeof up, "blk.%d.ffn_up.weight", l);
    const char *qkv_names[3] = {q, k, v};
    const int64_t qkv_rows[3] = {nq, nkv, nkv}, ff2[2] = {ff, ff};
#define TNAME(suffix) (snprintf(name, sizeof name, "blk.%d.%s", l, suffix), name)
    if ((st = alloc_load(L, TNAME("attn_norm.weight"), d, 0, &w->attn_norm)) ||
        (st = alloc_load(L, TNAME("ffn_norm.weight"), d, 0, &w->ffn_norm)) ||
        (st = load_matrix(L, 1, (const char *[]){TNAME("attn_output.weight")}, nq, &d, &w->wo,
                          &w->q_o)) ||
        (st = load_matrix(L, 1, (const char *[]){TNAME("ffn_down.weight")}, ff, &d, &w->wdown,
                          &w->q_down)) ||
        (st = load_matrix(L, 3, qkv_names, d, qkv_rows, &w->wqkv, &w->q_qkv)) ||
        (st = load_matrix(L, 2, (const char *[]){TNAME("ffn_gate.weight"), up}, d, ff2, &w->wgu,
                          &w->q_gu)))
        return st;
    if (L->a->qkv_bias) {
        w->bqkv = hy_malloc((size_t)(nq + 2 * nkv) * sizeof(float), "fused QKV bias");
        if (!w->bqkv) return HY_ENOMEM;
        if ((st = load_into(L, TNAME("attn_q.bias"), nq, 0, w->bqkv)) ||
            (st = load_into(L, TNAME("attn_k.bias"), nkv, 0, w->bqkv + nq)) ||
            (st = load_into(L, TNAME("attn_v.bias"), nkv, 0, w->bqkv + nq + nkv)))
            return st;
    }
    if (L->a->qk_norm && ((st = alloc_load(L, TNAME("attn_q_norm.weight"), hd, 0, &w->q_norm)) ||
                          (st = alloc_load(L, TNAME("attn_k_norm.weight"), hd, 0, &w->k_norm))))
        return st;
    if (L->a->post_norms &&
        ((st = alloc_load(L, TNAME("post_attention_norm.weight"), d, 0, &w->post_attn_norm)) ||
         (st = alloc_load(L, TNAME("post_ffw_norm.weight"), d, 0, &w->post_ffn_norm))))
        return st;
#undef TNAME
    return HY_OK;
}

/* Vocabulary size: the token embedding's rows, which must agree with the tokenizer's list
 * and <arch>.vocab_size when those are present. */
static hy_status read_vocab(const loader *L, hy_model_info *mi) {
    tensor_ref t;
    hy_status st = find_tensor(L, "token_embd.weight", &t);
    if (st != HY_OK) return st;
    if (t.n_dims != 2 || t.ne[0] != mi->d_model || t.ne[1] < 1 || t.ne[1] > (1 << 30))
        return hy_fail(HY_EMISMATCH,
                       "%s: tensor token_embd.weight has %u dims [%lld, %lld], "
                       "expected [%d, n_vocab]",
                       L->path, t.n_dims, (long long)t.ne[0], (long long)t.ne[1], mi->d_model);
    mi->n_vocab = (int)t.ne[1];
    int64_t i = hy_gguf_find_kv(L->g, "tokenizer.ggml.tokens");
    if (i >= 0 && hy_gguf_kv_arr_len(L->g, i) != (uint64_t)mi->n_vocab)
        return hy_fail(HY_EMISMATCH,
                       "%s: tokenizer.ggml.tokens has %llu entries, expected %d "
                       "(rows of token_embd.weight)",
                       L->path, (unsigned long long)hy_gguf_kv_arr_len(L->g, i), mi->n_vocab);
    int vs = 0;
    if ((st = get_u32(L, "vocab_size", &vs, 0, mi->n_vocab))) return st;
    if (vs != mi->n_vocab)
        return hy_fail(HY_EMISMATCH,
                       "%s: %s.vocab_size = %d, expected %d (rows of "
                       "token_embd.weight)",
                       L->path, L->arch, vs, mi->n_vocab);
    return HY_OK;
}

/* Tensors another family's row would use: present in a file whose row does not read them,
 * they would be ignored and the logits silently wrong, so the file is refused instead. */
static hy_status check_no_extras(const loader *L) {
    const struct {
        bool used;
        const char *tensor, *what;
    } extras[] = {
        {L->a->qkv_bias, "blk.0.attn_q.bias", "QKV biases"},
        {L->a->qk_norm, "blk.0.attn_q_norm.weight", "per-head QK norm"},
        {L->a->post_norms, "blk.0.post_attention_norm.weight", "post-attention norm"},
        {L->a->post_norms, "blk.0.post_ffw_norm.weight", "post-FFN norm"},
    };
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        tensor_ref t;
        if (extras[i].used || find_tensor(L, extras[i].tensor, &t) != HY_OK) continue;
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: tensor %s (%s) is present, but the runtime's %s path has no %s: it "
                       "would be ignored",
                       L->path, extras[i].tensor, extras[i].what, L->arch, extras[i].what);
    }
    hy_clear_error();
    return HY_OK;
}

static hy_status load_all(loader *L, hy_model *m) {
    hy_model_info *mi = &m->info;
    hy_gguf_str s;
    hy_status st = hy_gguf_get_str(L->g, "general.architecture", &s);
    if (st != HY_OK) return hy_fail_ctx(st, "%s", L->path);
    if (s.len >= sizeof mi->arch) s.len = sizeof mi->arch - 1;
    memcpy(mi->arch, s.ptr, s.len);
    L->a = m->arch = hy_arch_find(mi->arch);
    if (!L->a)
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: general.architecture = \"%s\": the runtime does not run this "
                       "architecture (it runs %s)",
                       L->path, mi->arch, hy_arch_names());
    L->arch = mi->arch;
    if (hy_gguf_get_str(L->g, "general.name", &s) == HY_OK) {
        if (s.len >= sizeof mi->name) s.len = sizeof mi->name - 1;
        memcpy(mi->name, s.ptr, s.len);
    }
    hy_clear_error();
    if ((st = read_hparams(L, mi)) || (st = read_vocab(L, mi)) || (st = check_no_extras(L)))
        return st;
    /* checkpoints keep Q/K rows in the order RoPE's halves pair them (GGUF converters
     * permute Llama's into adjacent pairs) */
    if (L->hf) mi->rope_layout = HY_ROPE_NEOX;
    const int64_t d = mi->d_model, nv = mi->n_vocab;
    if ((st = load_matrix(L, 1, (const char *[]){"token_embd.weight"}, d, &nv, &m->tok_embd,
                          &m->q_embd)) ||
        (st = alloc_load(L, "output_norm.weight", d, 0, &m->output_norm)))
        return st;
    tensor_ref t;
    if (find_tensor(L, "output.weight", &t) == HY_OK) {
        if ((st = load_matrix(L, 1, (const char *[]){"output.weight"}, d, &nv, &m->output,
                              &m->q_output)))
            return st;
    } else {
        hy_clear_error();
        m->output = m->tok_embd;
        mi->tied_output = true;
    }
    m->layers = hy_calloc((size_t)mi->n_layers, sizeof *m->layers, "layer table");
    if (!m->layers) return HY_ENOMEM;
    for (int l = 0; l < mi->n_layers; l++)
        if ((st = load_layer(L, mi, l, &m->layers[l]))) return st;
    return HY_OK;
}

hy_status hy_model_load(const char *path, hy_model **out) {
    return hy_model_load_opts(path, NULL, out);
}

hy_status hy_model_load_opts(const char *path, const hy_model_opts *opts, hy_model **out) {
    if (!out || !path) return hy_fail(HY_EINVAL, "hy_model_load: NULL %s", path ? "out" : "path");
    *out = NULL;
    hy_weights weights = opts ? opts->weights : HY_WEIGHTS_NATIVE;
    if (weights != HY_WEIGHTS_NATIVE && weights != HY_WEIGHTS_F32)
        return hy_fail(HY_EINVAL,
                       "hy_model_load: opts->weights = %d, expected %d (native) or %d (f32)",
                       (int)weights, HY_WEIGHTS_NATIVE, HY_WEIGHTS_F32);
    struct stat sb;
    const bool dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    /* checkpoint tensors (F32/F16/BF16, no blocks) take the fp32 path */
    if (dir) weights = HY_WEIGHTS_F32;
    hy_model *m = hy_calloc(1, sizeof *m, "model");
    if (!m) return HY_ENOMEM;
    m->weights = weights;
    loader L = {NULL, path, NULL, NULL, NULL, weights};
    hy_gguf *g = NULL;
    hy_status st = dir ? hy_hf_open(path, &L.hf) : hy_gguf_open(path, &g);
    L.g = dir && !st ? hy_hf_gguf(L.hf) : g;
    if (st == HY_OK) st = load_all(&L, m);
    if (st == HY_OK) {
        st = dir ? hy_hf_sha256(L.hf, m->info.sha256) : hy_sha256_file(path, m->info.sha256);
        if (st != HY_OK) hy_fail_ctx(st, "%s: hashing the model file", path);
    }
    hy_gguf_close(g);
    hy_hf_close(L.hf);
    if (st != HY_OK) {
        hy_model_free(m);
        return st;
    }
    *out = m;
    return HY_OK;
}

void hy_model_free(hy_model *m) {
    if (!m) return;
#ifdef HY_HAVE_CUDA
    hy_gpu_model_free(m->gpu);
#endif
    if (m->layers)
        for (int l = 0; l < m->info.n_layers; l++) {
            hy_layer_weights *w = &m->layers[l];
            free(w->attn_norm), free(w->wqkv), free(w->wo);
            free(w->ffn_norm), free(w->wgu), free(w->wdown);
            free(w->bqkv), free(w->q_norm), free(w->k_norm);
            free(w->post_attn_norm), free(w->post_ffn_norm);
            hy_qmat_free(&w->q_qkv), hy_qmat_free(&w->q_o);
            hy_qmat_free(&w->q_gu), hy_qmat_free(&w->q_down);
        }
    free(m->layers);
    if (m->output != m->tok_embd) free(m->output);
    free(m->tok_embd);
    hy_qmat_free(&m->q_embd), hy_qmat_free(&m->q_output);
    free(m->output_norm);
    free(m);
}

const hy_model_info *hy_model_info_borrow(const hy_model *m) {
    return m ? &m->info : NULL;
}
