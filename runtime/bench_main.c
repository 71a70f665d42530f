/* hy-bench-runtime: measures the CPU runtime on a real model: prefill tokens/s at the
 * given prompt lengths (last-position logits only, as the profiler asks), and decode
 * tokens/s after a prefill of each given context length. Tokens are a fixed pseudo-random
 * sequence; speed does not depend on their values.
 *   hy-bench-runtime MODEL [--prefill 512,2048,4096] [--decode 2048,8192] [--steps 32]
 *                    [--weights native|f32] */
#include "hy_runtime.h"
#include "matmul.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Process CPU seconds (all threads): on a shared machine wall time alone hides whether we
 * were slow or just not scheduled. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One thread's streaming read rate over 256 MB (best of 3), the bound decode works against. */
static double read_bandwidth(void) {
    const size_t n = (size_t)64 << 20;
    float *a = malloc(n * sizeof(float));
    if (!a) return 0.0;
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(i & 7);
    double best = 1e30, sink = 0.0;
    for (int r = 0; r < 3; r++) {
        float acc[8] = {0};
        double t = hy_now();
        for (size_t i = 0; i < n; i += 8)
            for (int k = 0; k < 8; k++)
                acc[k] += a[i + k];
        t = hy_now() - t;
        best = t < best ? t : best;
        sink += acc[0] + acc[7];
    }
    free(a);
    return sink >= 0.0 ? (double)(n * sizeof(float)) / best / 1e9 : 0.0;
}

static int parse_list(const char *s, int64_t *out, int max) {
    int n = 0;
    while (*s && n < max) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 1) return -1;
        out[n++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static int die(const char *what) {
    fprintf(stderr, "hy-bench-runtime: %s: %s\n", what, hy_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr,
                "usage: %s MODEL [--prefill N,..] [--decode N,..] [--steps S] "
                "[--weights native|f32]\n",
                argv[0]);
        return 2;
    }
    int64_t prefill[16] = {512, 2048, 4096}, decode[16] = {2048, 8192};
    int n_prefill = 3, n_decode = 2, steps = 32;
    hy_model_opts mo = {HY_WEIGHTS_NATIVE};
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--prefill"))
            n_prefill = parse_list(argv[i + 1], prefill, 16);
        else if (!strcmp(argv[i], "--decode"))
            n_decode = parse_list(argv[i + 1], decode, 16);
        else if (!strcmp(argv[i], "--steps"))
            steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--weights")) {
            if (hy_weights_parse(argv[i + 1], &mo.weights)) return die("--weights");
        } else
            n_prefill = -1;
        if (n_prefill < 0 || n_decode < 0 || steps < 1) {
            fprintf(stderr, "hy-bench-runtime: bad option %s %s\n", argv[i], argv[i + 1]);
            return 2;
        }
    }
    double t0 = hy_now();
    hy_model *m;
    if (hy_model_load_opts(argv[1], &mo, &m)) return die("loading model");
    const hy_model_info *mi = hy_model_info_borrow(m);
    printf("model %s: %d layers, d_model %d, heads %d/%d, vocab %d; load %.2f s\n", mi->name,
           mi->n_layers, mi->d_model, mi->n_heads, mi->n_kv_heads, mi->n_vocab, hy_now() - t0);
    int64_t max_len = 1;
    for (int i = 0; i < n_prefill; i++)
        max_len = prefill[i] > max_len ? prefill[i] : max_len;
    for (int i = 0; i < n_decode; i++)
        max_len = decode[i] + steps > max_len ? decode[i] + steps : max_len;
    if (max_len > mi->n_ctx_train) max_len = mi->n_ctx_train;
    int32_t *tok = malloc((size_t)max_len * sizeof(int32_t));
    float *logits = malloc((size_t)mi->n_vocab * sizeof(float));
    uint64_t z = 12345;
    for (int64_t i = 0; i < max_len; i++) {
        z = z * 6364136223846793005ull + 1442695040888963407ull;
        tok[i] = (int32_t)((z >> 33) % (uint64_t)mi->n_vocab);
    }
    hy_ctx *c = NULL;
    int rc = 0;
    if (!tok || !logits) {
        fprintf(stderr, "hy-bench-runtime: out of memory\n");
        rc = 1;
        goto done;
    }
    if (hy_ctx_create(m, max_len, 1, &c)) {
        rc = die("creating context");
        goto done;
    }
    printf("threads: attention %d, OpenBLAS %d; read bandwidth (1 thread) %.1f GB/s\n",
           hy_ctx_threads(c), hy_matmul_threads(), read_bandwidth());
    for (int i = 0; i < n_prefill; i++) {
        int64_t n = prefill[i] > max_len ? max_len : prefill[i];
        hy_ctx_seq_reset(c, 0);
        t0 = hy_now();
        double c0 = cpu_now();
        if (hy_forward(c, 0, tok, n, logits, 1)) {
            rc = die("prefill");
            goto done;
        }
        double dt = hy_now() - t0, dc = cpu_now() - c0;
        printf("prefill %6lld tokens: %7.2f s  %8.1f tok/s  (cpu %.2f s)\n", (long long)n, dt,
               n / dt, dc);
        fflush(stdout);
    }
    for (int i = 0; i < n_decode; i++) {
        int64_t n = decode[i] + steps > max_len ? max_len - steps : decode[i];
        if (n < 1) continue;
        hy_ctx_seq_reset(c, 0);
        if (hy_forward(c, 0, tok, n, logits, 1)) {
            rc = die("prefill before decode");
            goto done;
        }
        t0 = hy_now();
        double c0 = cpu_now();
        for (int s = 0; s < steps; s++)
            if (hy_forward(c, 0, tok + n + s, 1, logits, 1)) {
                rc = die("decode");
                goto done;
            }
        double dt = hy_now() - t0, dc = cpu_now() - c0;
        printf("decode at %6lld context: %d steps %7.3f s  %8.2f tok/s  (cpu %.2f s)\n",
               (long long)n, steps, dt, steps / dt, dc);
        fflush(stdout);
    }
done:
    hy_ctx_free(c);
    hy_model_free(m);
    free(tok);
    free(logits);
    return rc;
}
