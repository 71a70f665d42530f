/* hylra profile: runs calibration samples through the CPU runtime with the attention
 * observer attached and writes the HDF5 profile (formats/profile) after every sample, so an
 * interrupted run resumes from its last finished sample (--resume). Progress on stderr. */
#include "commands.h"
#include "hy_common.h"
#include "hy_profile.h"
#include "hy_profiler.h"
#include "hy_runtime.h"
#include "hy_tokenizer.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: hylra profile -m MODEL.gguf --data TEXT -o PROF.h5 [options]\n"
            "  -m, --model PATH      GGUF model file\n"
            "      --data PATH       calibration text (UTF-8); scripts/fetch-calibration\n"
            "  -o, --output PATH     profile to write (HDF5, docs/profile-format.md)\n"
            "      --ctx N           tokens per sample (default 4096)\n"
            "      --samples N       calibration samples (default 16)\n"
            "      --queries N       decode-like queries: the last N positions (default 64)\n"
            "      --seed S          sample selection seed (default 0)\n"
            "      --k-grid a,b,...  top-k sizes (default powers of two 32..4096, <= ctx)\n"
            "      --sink N          first tokens in every set (default 4)\n"
            "      --window N        last tokens in every set (default 64)\n"
            "      --temporal-k K    k of the temporal statistics (default 256; the largest\n"
            "                        grid k not above it)\n"
            "      --cross-err-every N  cross-unit out_err on every N-th query only (default 4;\n"
            "                        1 = all; recall and Jaccard always use every query)\n"
            "      --threads N       threads for the statistics (default: the runtime's)\n"
            "      --weights W       native (default: the file's block format) or f32\n"
            "      --resume          continue the profile at -o from its last finished sample\n");
}

struct prof_opts {
    const char *model, *data, *out;
    int32_t ctx, samples, queries, sink, window, temporal_k, threads, n_k, err_every;
    int32_t k_grid[64];
    uint64_t seed;
    int resume;
    hy_model_opts mo;
};

static int parse_grid(const char *s, struct prof_opts *o) {
    o->n_k = 0;
    while (*s && o->n_k < 64) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || (o->n_k && v <= o->k_grid[o->n_k - 1])) return -1;
        o->k_grid[o->n_k++] = (int32_t)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return o->n_k ? 0 : -1;
}

static int parse(int argc, char **argv, struct prof_opts *o) {
    enum {
        O_DATA = 256,
        O_CTX,
        O_SAMPLES,
        O_QUERIES,
        O_SEED,
        O_KGRID,
        O_SINK,
        O_WINDOW,
        O_TK,
        O_THREADS,
        O_RESUME,
        O_ERR,
        O_WEIGHTS
    };
    static const struct option lo[] = {{"model", 1, 0, 'm'},
                                       {"output", 1, 0, 'o'},
                                       {"data", 1, 0, O_DATA},
                                       {"ctx", 1, 0, O_CTX},
                                       {"samples", 1, 0, O_SAMPLES},
                                       {"queries", 1, 0, O_QUERIES},
                                       {"seed", 1, 0, O_SEED},
                                       {"k-grid", 1, 0, O_KGRID},
                                       {"sink", 1, 0, O_SINK},
                                       {"window", 1, 0, O_WINDOW},
                                       {"temporal-k", 1, 0, O_TK},
                                       {"threads", 1, 0, O_THREADS},
                                       {"resume", 0, 0, O_RESUME},
                                       {"cross-err-every", 1, 0, O_ERR},
                                       {"weights", 1, 0, O_WEIGHTS},
                                       {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    *o = (struct prof_opts){.ctx = 4096,
                            .samples = 16,
                            .queries = 64,
                            .sink = 4,
                            .window = 64,
                            .temporal_k = 256,
                            .err_every = 4};
    int c, grid_given = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->model = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case O_DATA:
            o->data = optarg;
            break;
        case O_CTX:
            if (hy_cli_i32("profile", "--ctx", optarg, 1, INT32_MAX, &o->ctx)) return 2;
            break;
        case O_SAMPLES:
            if (hy_cli_i32("profile", "--samples", optarg, 1, INT32_MAX, &o->samples)) return 2;
            break;
        case O_QUERIES:
            if (hy_cli_i32("profile", "--queries", optarg, 1, INT32_MAX, &o->queries)) return 2;
            break;
        case O_SEED:
            if (hy_cli_u64("profile", "--seed", optarg, &o->seed)) return 2;
            break;
        case O_KGRID:
            if (parse_grid(optarg, o)) {
                fprintf(stderr,
                        "hylra profile: --k-grid '%s': expected ascending positive "
                        "integers separated by commas\n",
                        optarg);
                return 2;
            }
            grid_given = 1;
            break;
        case O_SINK:
            if (hy_cli_i32("profile", "--sink", optarg, 0, INT32_MAX, &o->sink)) return 2;
            break;
        case O_WINDOW:
            if (hy_cli_i32("profile", "--window", optarg, 0, INT32_MAX, &o->window)) return 2;
            break;
        case O_TK:
            if (hy_cli_i32("profile", "--temporal-k", optarg, 1, INT32_MAX, &o->temporal_k))
                return 2;
            break;
        case O_THREADS:
            if (hy_cli_i32("profile", "--threads", optarg, 0, INT32_MAX, &o->threads)) return 2;
            break;
        case O_RESUME:
            o->resume = 1;
            break;
        case O_ERR:
            if (hy_cli_i32("profile", "--cross-err-every", optarg, 1, INT32_MAX, &o->err_every))
                return 2;
            break;
        case O_WEIGHTS:
            if (hy_cli_weights("profile", optarg, &o->mo.weights)) return 2;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o->model || !o->data || !o->out) {
        fprintf(stderr, "hylra profile: missing %s\n(hylra profile --help lists the options)\n",
                !o->model  ? "-m MODEL.gguf"
                : !o->data ? "--data TEXT"
                           : "-o PROF.h5");
        return 2;
    }
    if (hy_cli_check_output("profile", "-o", o->out)) return 2;
    if (o->ctx <= 0 || o->samples <= 0 || o->queries <= 0 || o->queries > o->ctx || o->sink < 0 ||
        o->window < 0 || o->temporal_k <= 0 || o->err_every < 1 || o->err_every > o->queries) {
        fprintf(stderr,
                "hylra profile: ctx %d, samples %d, queries %d (1..ctx), sink %d, "
                "window %d, temporal-k %d, cross-err-every %d (1..queries): out of range\n",
                o->ctx, o->samples, o->queries, o->sink, o->window, o->temporal_k, o->err_every);
        return 2;
    }
    if (!grid_given)
        for (int32_t k = 32; k <= 4096; k *= 2)
            o->k_grid[o->n_k++] = k;
    int32_t n = 0; /* clip to the context */
    for (int32_t i = 0; i < o->n_k; i++)
        if (o->k_grid[i] <= o->ctx) o->k_grid[n++] = o->k_grid[i];
    o->n_k = n;
    if (!n) {
        fprintf(stderr, "hylra profile: no k of the grid is <= ctx %d\n", o->ctx);
        return 2;
    }
    return 0;
}

/* The calibration source a profile records: the --data path and the text's sha256, so that a
 * resumed run can tell another text (or the same name with other contents). */
static void calib_source(const struct prof_opts *o, char *out, size_t cap) {
    char sha[65] = "";
    if (hy_sha256_file(o->data, sha)) hy_clear_error(); /* read again by the caller, who says */
    snprintf(out, cap, "%.180s sha256:%s", o->data, sha);
}

/* A resumed profile must have been made with the same settings, or its samples would mix. */
static int same_settings(const hy_profile *p, const struct prof_opts *o, const hy_model_info *mi) {
    int ok = p->ctx == o->ctx && p->n_queries == o->queries && p->sink == o->sink &&
             p->window == o->window && p->seed == o->seed && p->n_k == o->n_k &&
             !strcmp(p->model_sha256, mi->sha256);
    for (int32_t i = 0; ok && i < o->n_k; i++)
        ok = p->k_grid[i] == o->k_grid[i];
    /* the same text: by its hash where the profile recorded one, else by its path */
    char now[256];
    calib_source(o, now, sizeof now);
    const char *had = strstr(p->calib_source, "sha256:"), *has = strstr(now, "sha256:");
    const int same_text = had ? !strcmp(had, has) : !strcmp(p->calib_source, o->data);
    if (ok && !same_text) {
        fprintf(stderr,
                "hylra profile: --resume: %s was made from another calibration text (%s); this "
                "run's --data is %s; use the same text or a new -o\n",
                o->out, p->calib_source, now);
        return 0;
    }
    if (!ok)
        fprintf(stderr,
                "hylra profile: --resume: %s was made with other settings (ctx %d, queries %d, "
                "sink %d, window %d, seed %llu, %d k values, model %.12s); use the same "
                "options or a new -o\n",
                o->out, p->ctx, p->n_queries, p->sink, p->window, (unsigned long long)p->seed,
                p->n_k, p->model_sha256);
    return ok;
}

static const int32_t strides[] = {1, 2, 4, 8, 16, 32};

static hy_status new_profile(const struct prof_opts *o, const hy_model_info *mi, hy_profile **out) {
    hy_status st = hy_profile_create(mi->n_layers, mi->n_heads, mi->n_kv_heads, mi->head_dim,
                                     o->n_k, o->k_grid, 6, strides, 40, NULL, out);
    if (st) return st;
    hy_profile *p = *out;
    snprintf(p->model_name, sizeof p->model_name, "%s", mi->name);
    snprintf(p->arch, sizeof p->arch, "%s", mi->arch);
    p->model_ctx_train = mi->n_ctx_train;
    p->sliding_window = mi->sliding_window, p->swa_period = mi->swa_period;
    snprintf(p->model_sha256, sizeof p->model_sha256, "%s", mi->sha256);
    calib_source(o, p->calib_source, sizeof p->calib_source);
    snprintf(p->tool_version, sizeof p->tool_version, "hylra %s", HY_VERSION);
    p->seed = o->seed, p->ctx = o->ctx, p->n_queries = o->queries;
    p->sink = o->sink, p->window = o->window, p->n_samples = 0;
    return HY_OK;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    static const char msg[] = "\nprofile: stopping after the sample in progress (Ctrl-C again "
                              "to abort at once)\n";
    if (interrupted) _exit(130);
    interrupted = 1;
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing to do: the flag is what matters */
    }
}

static int run(const struct prof_opts *o, hy_model *m, const hy_token *toks, int64_t n_tok) {
    void (*old_int)(int) = SIG_DFL;
    int sig_set = 0;
    const hy_model_info *mi = hy_model_info_borrow(m);
    hy_profile *p = NULL;
    hy_ctx *c = NULL;
    hy_capture *cap = NULL;
    int rc = 0;
    int64_t *starts = malloc((size_t)o->samples * sizeof *starts);
    if (!starts) return hy_cli_die("allocating sample offsets");
    if (hy_calib_starts(n_tok, o->ctx, o->samples, o->seed, starts)) {
        rc = hy_cli_die("choosing calibration samples");
        goto out;
    }
    if (o->resume) {
        if (hy_profile_read(o->out, &p)) {
            rc = hy_cli_die("--resume: reading the profile");
            goto out;
        }
        if (!same_settings(p, o, mi)) {
            rc = 1;
            goto out;
        }
        p->model_ctx_train = mi->n_ctx_train; /* same model (sha256 checked); older files lack it */
        p->sliding_window = mi->sliding_window, p->swa_period = mi->swa_period;
    } else if (new_profile(o, mi, &p)) {
        rc = hy_cli_die("creating the profile");
        goto out;
    }
    if (hy_ctx_create(m, o->ctx, 1, &c)) {
        rc = hy_cli_die("creating the context");
        goto out;
    }
    (void)hy_ctx_set_bf16_attention(c, 1); /* statistics come from the observer, in double */
    if (hy_capture_create(mi->n_layers, mi->n_kv_heads, mi->n_heads / mi->n_kv_heads, mi->head_dim,
                          o->queries, o->ctx - o->queries, &cap)) {
        rc = hy_cli_die("allocating the capture");
        goto out;
    }
    const hy_fold_opts fo = {o->temporal_k, o->err_every,
                             o->threads > 0 ? o->threads : hy_ctx_threads(c)};
    const int32_t first = p->n_samples;
    if (first >= o->samples)
        fprintf(stderr, "profile: %s already holds %d samples\n", o->out, first);
    /* until the last sample is in, the file says it is incomplete (solve and report refuse
     * it); Ctrl-C stops after the sample in progress, with the file resumable */
    p->samples_planned = o->samples > p->n_samples ? o->samples : p->n_samples;
    interrupted = 0;
    old_int = signal(SIGINT, on_sigint), sig_set = 1;
    const double t0 = hy_now();
    double sec[2], fwd = 0.0, fold = 0.0;
    for (int32_t s = first; s < o->samples; s++) {
        if (interrupted) {
            fprintf(stderr,
                    "profile: interrupted after %d of %d samples; %s is kept and marked "
                    "incomplete: resume with the same options and --resume\n",
                    p->n_samples, o->samples, o->out);
            rc = 130;
            goto out;
        }
        if (hy_profile_sample(c, cap, toks + starts[s], o->ctx, p, &fo, sec)) {
            rc = hy_cli_die("profiling a sample");
            goto out;
        }
        if (hy_profile_write(p, o->out)) {
            rc = hy_cli_die("writing the profile");
            goto out;
        }
        const double el = hy_now() - t0;
        fwd += sec[0], fold += sec[1];
        const int32_t done = s + 1 - first, left = o->samples - s - 1;
        fprintf(stderr,
                "profile: sample %d/%d, %.0f tok/s, %.1fs (forward %.1fs, statistics %.1fs), "
                "ETA %.0fs\n",
                s + 1, o->samples, (double)done * o->ctx / el, el, fwd, fold, el / done * left);
    }
    fprintf(stderr, "profile: wrote %s (%d samples x %d queries, ctx %d) in %.1fs\n", o->out,
            p->n_samples, o->queries, o->ctx, hy_now() - t0);
out:
    if (sig_set) signal(SIGINT, old_int);
    free(starts);
    hy_capture_free(cap);
    hy_ctx_free(c);
    hy_profile_free(p);
    return rc;
}

int hy_cmd_profile(int argc, char **argv) {
    struct prof_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    hy_tokenizer *tok = NULL;
    hy_model *m = NULL;
    hy_token *toks = NULL;
    int64_t n_tok = 0;
    size_t len = 0;
    char *text = hy_cli_read_file(o.data, "calibration text", &len);
    if (!text) return hy_cli_die("reading the calibration text");
    if (hy_tokenizer_open(o.model, &tok)) {
        rc = hy_cli_die("loading the tokenizer");
        goto out;
    }
    if (hy_tokenizer_encode(tok, text, len, 0, &toks, &n_tok)) {
        rc = hy_cli_die("tokenizing the calibration text");
        goto out;
    }
    fprintf(stderr, "profile: %s: %zu bytes, %lld tokens\n", o.data, len, (long long)n_tok);
    if (hy_model_load_opts(o.model, &o.mo, &m)) {
        rc = hy_cli_die("loading the model");
        goto out;
    }
    rc = run(&o, m, toks, n_tok);
out:
    free(text);
    free(toks);
    hy_model_free(m);
    hy_tokenizer_free(tok);
    return rc;
}
