/* hylra generate: prompt (or chat) in, streamed continuation out on the CPU runtime.
 * Text goes to stdout as it decodes; prefill and decode rates go to stderr. */
#include "commands.h"
#include "eval_common.h"
#include "hy_common.h"
#include "hy_runtime.h"
#include "hy_tokenizer.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: hylra generate -m MODEL.gguf (-p TEXT | -f FILE) [options]\n"
            "  -m, --model PATH     GGUF model file\n"
            "  -p, --prompt TEXT    prompt text\n"
            "  -f, --file PATH      read the prompt from a file\n"
            "      --chat           wrap the prompt as a user turn with the model's chat template\n"
            "      --system TEXT    system message for --chat (default: the template's own)\n"
            "  -n, --n-predict N    tokens to generate (default 128)\n"
            "      --temp T         sampling temperature; 0 = greedy (default 0)\n"
            "      --top-k K        sample among the K most likely tokens (default 40)\n"
            "      --top-p P        nucleus sampling mass (default 0.95)\n"
            "      --seed S         sampling seed (default 42)\n"
            "      --ctx N          KV cache size in tokens (default: prompt + n, at most the\n"
            "                       model's context length)\n"
            "      --ids            print token ids instead of text\n"
            "      --device D       cpu (default) or cuda (sampling stays on the "
            "host)\n" HY_CLI_WEIGHTS_HELP);
}

struct gen_opts {
    const char *model, *prompt, *file, *system;
    int chat, print_ids;
    hy_device device;
    hy_model_opts mo;
    int64_t n_predict, n_ctx;
    hy_sampler_params sp;
};

/* A whole-string float (no trailing characters); 0 on success. */
static int parse_float(const char *s, float *out) {
    char *end = NULL;
    const float v = strtof(s, &end);
    if (end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int bad_num(const char *opt, const char *arg) {
    fprintf(stderr, "hylra generate: %s %s: expected a number\n", opt, arg);
    return 2;
}

static int parse(int argc, char **argv, struct gen_opts *o) {
    long lv = 0;
    enum {
        O_CHAT = 256,
        O_SYSTEM,
        O_TEMP,
        O_TOPK,
        O_TOPP,
        O_SEED,
        O_CTX,
        O_IDS,
        O_DEVICE,
        O_WEIGHTS
    };
    static const struct option lo[] = {{"model", 1, 0, 'm'},       {"prompt", 1, 0, 'p'},
                                       {"file", 1, 0, 'f'},        {"chat", 0, 0, O_CHAT},
                                       {"system", 1, 0, O_SYSTEM}, {"n-predict", 1, 0, 'n'},
                                       {"temp", 1, 0, O_TEMP},     {"top-k", 1, 0, O_TOPK},
                                       {"top-p", 1, 0, O_TOPP},    {"seed", 1, 0, O_SEED},
                                       {"ctx", 1, 0, O_CTX},       {"ids", 0, 0, O_IDS},
                                       {"device", 1, 0, O_DEVICE}, {"weights", 1, 0, O_WEIGHTS},
                                       {"help", 0, 0, 'h'},        {0, 0, 0, 0}};
    *o = (struct gen_opts){.n_predict = 128, .sp = {0.0f, 40, 0.95f, 42}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:f:n:h", lo, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->model = optarg;
            break;
        case 'p':
            o->prompt = optarg;
            break;
        case 'f':
            o->file = optarg;
            break;
        case 'n':
            if (hy_cli_parse_int("generate", "-n", optarg, 0, 1L << 30, &lv)) return 2;
            o->n_predict = lv;
            break;
        case O_CHAT:
            o->chat = 1;
            break;
        case O_SYSTEM:
            o->system = optarg;
            break;
        case O_TEMP:
            if (parse_float(optarg, &o->sp.temperature)) return bad_num("--temp", optarg);
            break;
        case O_TOPK:
            if (hy_cli_parse_int("generate", "--top-k", optarg, 0, 1L << 30, &lv)) return 2;
            o->sp.top_k = (int)lv;
            break;
        case O_TOPP:
            if (parse_float(optarg, &o->sp.top_p)) return bad_num("--top-p", optarg);
            break;
        case O_SEED:
            if (hy_cli_parse_int("generate", "--seed", optarg, 0, LONG_MAX, &lv)) return 2;
            o->sp.seed = (uint64_t)lv;
            break;
        case O_CTX:
            if (hy_cli_parse_int("generate", "--ctx", optarg, 1, 1L << 30, &lv)) return 2;
            o->n_ctx = lv;
            break;
        case O_IDS:
            o->print_ids = 1;
            break;
        case O_DEVICE:
            if (hy_device_parse(optarg, &o->device)) {
                fprintf(stderr, "hylra generate: %s\n", hy_last_error());
                return 2;
            }
            break;
        case O_WEIGHTS:
            if (hy_cli_weights("generate", optarg, &o->mo.weights)) return 2;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o->model || (!o->prompt == !o->file)) {
        fprintf(stderr, "hylra generate: need -m MODEL and exactly one of -p TEXT or -f FILE\n");
        usage(stderr);
        return 2;
    }
    if (o->n_predict < 0 || o->sp.temperature < 0 || o->sp.top_p <= 0 || o->sp.top_p > 1) {
        fprintf(stderr, "hylra generate: -n must be >= 0, --temp >= 0, --top-p in (0, 1]\n");
        return 2;
    }
    return 0;
}

/* Prompt text -> ids, through the chat template when asked. */
static hy_status prompt_ids(const hy_tokenizer *tok, const struct gen_opts *o, const char *text,
                            hy_token **ids, int64_t *n) {
    if (!o->chat)
        return hy_tokenizer_encode(tok, text, strlen(text),
                                   HY_TOK_ADD_SPECIAL | HY_TOK_PARSE_SPECIAL, ids, n);
    hy_chat_msg msgs[2];
    size_t nm = 0;
    if (o->system) msgs[nm++] = (hy_chat_msg){"system", o->system};
    msgs[nm++] = (hy_chat_msg){"user", text};
    char *rendered = NULL;
    hy_status st = hy_chat_render(tok, msgs, nm, true, &rendered);
    if (st) return st;
    /* The rendered template carries its own special tokens; add none beyond them. */
    st = hy_tokenizer_encode(tok, rendered, strlen(rendered), HY_TOK_PARSE_SPECIAL, ids, n);
    free(rendered);
    return st;
}

static int run(const struct gen_opts *o, hy_tokenizer *tok, hy_model *m, const char *text) {
    const hy_model_info *mi = hy_model_info_borrow(m);
    hy_token *ids = NULL;
    int64_t n_prompt = 0;
    int rc = 1;
    hy_ctx *ctx = NULL;
    hy_sampler *smp = NULL;
    hy_tok_stream *stream = NULL;
    float *logits = malloc(sizeof(float) * (size_t)mi->n_vocab);
    if (!logits) return hy_cli_die("allocating logits");
    if (prompt_ids(tok, o, text, &ids, &n_prompt)) {
        rc = hy_cli_die("tokenizing the prompt");
        goto out;
    }
    if (n_prompt == 0) {
        fprintf(stderr, "hylra generate: the prompt is empty\n");
        goto out;
    }
    int64_t n_ctx = o->n_ctx ? o->n_ctx : n_prompt + o->n_predict;
    if (n_ctx > mi->n_ctx_train && !o->n_ctx) n_ctx = mi->n_ctx_train;
    if (n_prompt + o->n_predict > n_ctx) {
        fprintf(
            stderr,
            "hylra generate: prompt (%lld tokens) + -n %lld exceeds the context of %lld tokens\n",
            (long long)n_prompt, (long long)o->n_predict, (long long)n_ctx);
        goto out;
    }
    if (hy_ctx_create_on(m, o->device, n_ctx, 1, &ctx)) {
        rc = hy_cli_die("creating the context");
        goto out;
    }
    if (hy_sampler_create(&o->sp, mi->n_vocab, &smp)) {
        rc = hy_cli_die("sampler");
        goto out;
    }
    if (hy_tok_stream_create(tok, 0, &stream)) {
        rc = hy_cli_die("decoder");
        goto out;
    }

    double t0 = hy_now();
    if (hy_forward(ctx, 0, ids, n_prompt, logits, 1)) {
        rc = hy_cli_die("prefill");
        goto out;
    }
    double t_prefill = hy_now() - t0;
    int64_t n_gen = 0;
    t0 = hy_now();
    for (; n_gen < o->n_predict; n_gen++) {
        hy_token next = hy_sampler_sample(smp, logits);
        if (hy_tokenizer_is_eog(tok, next)) break;
        if (o->print_ids) {
            printf("%d ", next);
        } else {
            const char *piece;
            size_t len;
            if (hy_tok_stream_push(stream, next, &piece, &len)) {
                rc = hy_cli_die("decoding");
                goto out;
            }
            fwrite(piece, 1, len, stdout);
        }
        fflush(stdout);
        if (n_gen + 1 < o->n_predict && hy_forward(ctx, 0, &next, 1, logits, 1)) {
            rc = hy_cli_die("decode step");
            goto out;
        }
    }
    double t_decode = hy_now() - t0;
    if (!o->print_ids) {
        const char *piece;
        size_t len;
        hy_tok_stream_flush(stream, &piece, &len);
        fwrite(piece, 1, len, stdout);
    }
    printf("\n");
    fflush(stdout);
    fprintf(stderr,
            "generate: prompt %lld tok in %.2fs (%.1f tok/s), generated %lld tok in %.2fs (%.1f "
            "tok/s)\n",
            (long long)n_prompt, t_prefill, n_prompt / (t_prefill > 0 ? t_prefill : 1e-9),
            (long long)n_gen, t_decode, n_gen / (t_decode > 0 ? t_decode : 1e-9));
    rc = 0;
out:
    hy_tok_stream_free(stream);
    hy_sampler_free(smp);
    hy_ctx_free(ctx);
    free(ids);
    free(logits);
    return rc;
}

int hy_cmd_generate(int argc, char **argv) {
    struct gen_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    char *file_text = NULL;
    const char *text = o.prompt;
    if (o.file && !(text = file_text = hy_cli_read_file(o.file, "prompt file", NULL)))
        return hy_cli_die("reading the prompt");

    hy_tokenizer *tok = NULL;
    hy_model *m = NULL;
    rc = 1;
    if (hy_tokenizer_open(o.model, &tok)) {
        rc = hy_cli_die("loading the tokenizer");
        goto out;
    }
    double t0 = hy_now();
    if (hy_model_load_opts(o.model, &o.mo, &m)) {
        rc = hy_cli_die("loading the model");
        goto out;
    }
    fprintf(stderr, "generate: loaded %s in %.2fs\n", o.model, hy_now() - t0);
    rc = run(&o, tok, m, text);
out:
    hy_model_free(m);
    hy_tokenizer_free(tok);
    free(file_text);
    return rc;
}
