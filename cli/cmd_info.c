/* `hylra info MODEL.gguf`: what a GGUF file holds, from its metadata alone (no weights are
 * loaded and the runtime is not involved): architecture and shapes, RoPE and norm settings,
 * tokenizer, and a table of tensor types with counts, bytes and the parameter total. For a
 * Hugging Face checkpoint directory, what the runtime loads from it. */
#include "commands.h"
#include "hy_common.h"
#include "hy_gguf.h"
#include "hy_runtime.h"
#include "hy_tokenizer.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: hylra info MODEL.gguf|CHECKPOINT_DIR\n\n"
            "Prints the model's architecture, shapes, RoPE/norm settings, tokenizer and a table\n"
            "of tensor types with counts and bytes, reading only the GGUF metadata. For a\n"
            "Hugging Face checkpoint directory: what the runtime loads from it.\n\n"
            "options:\n"
            "  -h, --help   show this help\n");
}

/* "<arch>.<suffix>" as an integer; -1 when absent or not an integer. */
static int64_t arch_int(const hy_gguf *g, const char *arch, const char *suffix) {
    char key[256];
    int64_t v;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return hy_gguf_get_i64(g, key, &v) == HY_OK ? v : -1;
}

static int arch_f64(const hy_gguf *g, const char *arch, const char *suffix, double *out) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return hy_gguf_get_f64(g, key, out) == HY_OK;
}

static void print_int(const char *label, int64_t v) {
    if (v >= 0)
        printf("%-16s %lld\n", label, (long long)v);
    else
        printf("%-16s -\n", label);
}

/* Which RoPE layout llama.cpp uses for an architecture: "norm" rotates adjacent pairs
 * (x[2i], x[2i+1]), "neox" rotates the two halves (x[i], x[i + d/2]). */
static const char *rope_layout(const char *arch) {
    static const char *neox[] = {
        "qwen",   "qwen2",  "qwen2moe", "qwen3",  "qwen3moe", "phi2",       "phi3",  "gemma",
        "gemma2", "gemma3", "stablelm", "falcon", "gptneox",  "starcoder2", "olmo2", "exaone"};
    static const char *norm[] = {"llama",    "mistral",   "granite", "deci",
                                 "baichuan", "internlm2", "olmo",    "minicpm"};
    for (size_t i = 0; i < sizeof neox / sizeof neox[0]; i++)
        if (!strcmp(arch, neox[i])) return "neox (rotates halves)";
    for (size_t i = 0; i < sizeof norm / sizeof norm[0]; i++)
        if (!strcmp(arch, norm[i])) return "norm (rotates adjacent pairs)";
    return "unknown for this architecture";
}

static void print_str_kv(const hy_gguf *g, const char *label, const char *key) {
    hy_gguf_str s;
    if (hy_gguf_get_str(g, key, &s) == HY_OK)
        printf("%-16s %.*s\n", label, (int)s.len, s.ptr);
    else
        printf("%-16s -\n", label);
}

static void print_shapes(const hy_gguf *g, const char *arch) {
    int64_t d_model = arch_int(g, arch, "embedding_length");
    int64_t heads = arch_int(g, arch, "attention.head_count");
    int64_t kv_heads = arch_int(g, arch, "attention.head_count_kv");
    if (kv_heads < 0) kv_heads = heads; /* GGUF omits it when there is no GQA */
    int64_t head_dim = arch_int(g, arch, "attention.key_length");
    if (head_dim < 0 && heads > 0 && d_model > 0) head_dim = d_model / heads;
    print_int("layers", arch_int(g, arch, "block_count"));
    print_int("d_model", d_model);
    if (heads > 0 && kv_heads > 0)
        printf("%-16s %lld (kv heads %lld, %lld query heads per kv head)\n", "heads",
               (long long)heads, (long long)kv_heads, (long long)(heads / kv_heads));
    else
        print_int("heads", heads);
    print_int("head dim", head_dim);
    print_int("d_ff", arch_int(g, arch, "feed_forward_length"));
    print_int("context length", arch_int(g, arch, "context_length"));
    double theta = 10000.0, eps;
    int have_theta = arch_f64(g, arch, "rope.freq_base", &theta);
    int64_t rope_dims = arch_int(g, arch, "rope.dimension_count");
    printf("%-16s theta %g%s, type %s", "rope", theta, have_theta ? "" : " (default)",
           rope_layout(arch));
    if (rope_dims > 0) printf(", %lld dims", (long long)rope_dims);
    char key[256];
    hy_gguf_str sc;
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    if (hy_gguf_get_str(g, key, &sc) == HY_OK) printf(", scaling %.*s", (int)sc.len, sc.ptr);
    printf("\n");
    if (arch_f64(g, arch, "attention.layer_norm_rms_epsilon", &eps))
        printf("%-16s %g\n", "rms eps", eps);
    else
        printf("%-16s -\n", "rms eps"); /* Gemma 3: window layers (the runtime's defaults when the
                                           file leaves them out) */
    const int64_t window = arch_int(g, arch, "attention.sliding_window");
    if (window > 0) {
        int64_t period = arch_int(g, arch, "attention.sliding_window_pattern");
        double local = 10000.0;
        int have_local = arch_f64(g, arch, "rope.freq_base_swa", &local);
        printf("%-16s %lld positions; every %lld%s layer global, window layers RoPE theta %g%s\n",
               "sliding window", (long long)window, (long long)(period > 0 ? period : 6),
               period > 0 ? "th" : "th (default)", local, have_local ? "" : " (default)");
    }
}

static void print_tokenizer(const hy_gguf *g, const char *arch) {
    int64_t vocab = arch_int(g, arch, "vocab_size");
    uint64_t n_tokens = 0;
    hy_gguf_vtype et;
    if (hy_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n_tokens, NULL) == HY_OK && vocab < 0)
        vocab = (int64_t)n_tokens;
    print_int("vocab size", vocab);
    hy_gguf_str model = {"-", 1}, pre = {"-", 1};
    (void)hy_gguf_get_str(g, "tokenizer.ggml.model", &model);
    (void)hy_gguf_get_str(g, "tokenizer.ggml.pre", &pre);
    printf("%-16s %.*s (pre-tokenizer %.*s, %llu tokens)\n", "tokenizer", (int)model.len, model.ptr,
           (int)pre.len, pre.ptr, (unsigned long long)n_tokens);
    int64_t bos, eos;
    if (hy_gguf_get_i64(g, "tokenizer.ggml.bos_token_id", &bos)) bos = -1;
    if (hy_gguf_get_i64(g, "tokenizer.ggml.eos_token_id", &eos)) eos = -1;
    printf("%-16s bos %lld, eos %lld\n", "special tokens", (long long)bos, (long long)eos);
    hy_gguf_str tmpl;
    if (hy_gguf_get_str(g, "tokenizer.chat_template", &tmpl) == HY_OK)
        printf("%-16s yes (%llu bytes)\n", "chat template", (unsigned long long)tmpl.len);
    else
        printf("%-16s no\n", "chat template");
}

static void print_tensor_table(const hy_gguf *g) {
    enum { MAX_TYPE = 64 };
    int64_t count[MAX_TYPE] = {0}, elems[MAX_TYPE] = {0};
    uint64_t bytes[MAX_TYPE] = {0};
    int64_t total_elems = 0;
    uint64_t total_bytes = 0;
    for (int64_t i = 0; i < hy_gguf_n_tensors(g); i++) {
        const hy_gguf_tensor *t = hy_gguf_tensor_at(g, i);
        unsigned ty = (unsigned)t->type < MAX_TYPE ? (unsigned)t->type : MAX_TYPE - 1;
        count[ty]++;
        elems[ty] += t->n_elements;
        bytes[ty] += t->nbytes;
        total_elems += t->n_elements;
        total_bytes += t->nbytes;
    }
    printf("\n%-10s %8s %14s %14s %8s\n", "type", "tensors", "elements", "bytes", "bits/w");
    for (int ty = 0; ty < MAX_TYPE; ty++)
        if (count[ty])
            printf("%-10s %8lld %14lld %14llu %8.2f%s\n", hy_ggml_type_name((hy_ggml_type)ty),
                   (long long)count[ty], (long long)elems[ty], (unsigned long long)bytes[ty],
                   8.0 * (double)bytes[ty] / (double)elems[ty],
                   hy_ggml_type_supported((hy_ggml_type)ty) ? ""
                                                            : "  (not dequantisable by hylra)");
    printf("%-10s %8lld %14lld %14llu %8.2f\n", "total", (long long)hy_gguf_n_tensors(g),
           (long long)total_elems, (unsigned long long)total_bytes,
           total_elems ? 8.0 * (double)total_bytes / (double)total_elems : 0.0);
    printf("\n%-16s %lld (%.1fM)\n", "parameters", (long long)total_elems,
           (double)total_elems / 1e6);
}

/* A Hugging Face checkpoint directory: what the runtime makes of it (this loads the weights:
 * the config is read through the loader so the same checks apply) and its tokenizer.json. */
static int info_checkpoint(const char *dir) {
    hy_model *m;
    if (hy_model_load(dir, &m) != HY_OK) return hy_cli_die("reading the checkpoint");
    const hy_model_info *mi = hy_model_info_borrow(m);
    printf("%-16s %s (Hugging Face checkpoint; weights loaded to read it)\n", "directory", dir);
    printf("%-16s %s\n%-16s %s\n", "architecture", mi->arch, "name", mi->name);
    printf("%-16s %d\n%-16s %d\n", "layers", mi->n_layers, "d_model", mi->d_model);
    printf("%-16s %d (kv heads %d)\n%-16s %d\n%-16s %d\n", "heads", mi->n_heads, mi->n_kv_heads,
           "head dim", mi->head_dim, "d_ff", mi->d_ff);
    printf("%-16s %d\n%-16s theta %g, type %s\n%-16s %g\n", "context length", mi->n_ctx_train,
           "rope", (double)mi->rope_theta, mi->rope_layout ? "neox" : "norm", "rms eps",
           (double)mi->rms_eps);
    if (mi->sliding_window > 0)
        printf("%-16s %d positions; global layers every %d (0: none); window layers RoPE theta "
               "%g\n",
               "sliding window", mi->sliding_window, mi->swa_period, (double)mi->rope_theta_local);
    /* the softmax scale differs from head_dim^-1/2 when the config says so (Gemma's
     * query_pre_attn_scalar) */
    printf("%-16s %g%s\n", "query scale", (double)mi->attn_scale,
           fabsf(mi->attn_scale * sqrtf((float)mi->head_dim) - 1.0f) < 1e-6f ? " (head_dim^-1/2)"
                                                                             : "");
    printf("%-16s %d%s\n", "vocab size", mi->n_vocab, mi->tied_output ? " (output tied)" : "");
    hy_tokenizer *tok;
    if (hy_tokenizer_open(dir, &tok) == HY_OK) {
        printf("%-16s tokenizer.json, byte-level BPE (pre-tokenizer %s, %lld tokens)\n",
               "tokenizer", hy_tokenizer_pre(tok), (long long)hy_tokenizer_n_vocab(tok));
        hy_tokenizer_free(tok);
    } else {
        printf("%-16s not readable: %s\n", "tokenizer", hy_last_error());
    }
    printf("%-16s %s\n", "sha256", mi->sha256);
    hy_model_free(m);
    return 0;
}

int hy_cmd_info(int argc, char **argv) {
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    if (argc - optind != 1) {
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return info_checkpoint(path);
    hy_gguf *g;
    if (hy_gguf_open(path, &g) != HY_OK) return hy_cli_die("reading model");
    hy_gguf_str arch_s = {"", 0};
    char arch[128] = "";
    if (hy_gguf_get_str(g, "general.architecture", &arch_s) == HY_OK)
        snprintf(arch, sizeof arch, "%.*s", (int)(arch_s.len < 127 ? arch_s.len : 127), arch_s.ptr);
    printf("%-16s %s (%.1f MB)\n", "file", path, (double)hy_gguf_file_size(g) / 1e6);
    printf("%-16s %u (alignment %llu, %lld KVs, %lld tensors)\n", "gguf version",
           hy_gguf_version(g), (unsigned long long)hy_gguf_alignment(g), (long long)hy_gguf_n_kv(g),
           (long long)hy_gguf_n_tensors(g));
    printf("%-16s %s\n", "architecture", arch[0] ? arch : "-");
    print_str_kv(g, "name", "general.name");
    print_shapes(g, arch);
    print_tokenizer(g, arch);
    print_tensor_table(g);
    hy_gguf_close(g);
    return 0;
}
