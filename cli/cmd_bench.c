/* `hylra bench`: measured costs. `bench kernels` times the CUDA attention kernels and writes
 * the cost table (costs.json) the solver reads; `bench decode` measures end-to-end decode
 * throughput of the CUDA runtime (bench_decode.c). Without CUDA, or with no GPU, each says so
 * and fails. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_decode.h"
#include "commands.h"
#include "hy_common.h"
#ifdef HY_HAVE_CUDA
#include "cuda_bench.h"
#endif

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: hylra bench decode (--shape S | -m MODEL) [options]   (see bench decode --help)\n"
        "       hylra bench kernels [-o costs.json] [--torch torch.json] [--quick] "
        "[--max-batch N]\n"
        "  kernels   time dense, select (dense + scores + top-k), reuse (sparse) and top-k\n"
        "            on this GPU for B in {1,8,16}, n in {8K,32K,128K}, k in\n"
        "            {256,1024,2048,4096} (32/8 heads, d 128, bf16) and write costs.json\n"
        "  -o FILE        where to write the cost table (default: no file)\n"
        "  --torch FILE   PyTorch timings of the same ops (scripts/bench-torch) to print beside\n"
        "  --quick        B = 1, n <= 32K only\n"
        "  --max-batch N  largest batch in the grid (default 16)\n"
        "  --point B,n    only this (B, n) point (for profiling with ncu)\n");
}

static int bench_kernels(int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"torch", required_argument, 0, 't'},
                                         {"quick", no_argument, 0, 'q'},
                                         {"max-batch", required_argument, 0, 'b'},
                                         {"point", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL, *torch = NULL;
    int quick = 0, max_batch = 16, point_b = 0, c;
    long long point_n = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 't':
            torch = optarg;
            break;
        case 'q':
            quick = 1;
            break;
        case 'b':
            if (hy_cli_i32("bench kernels", "--max-batch", optarg, 1, 4096, &max_batch)) return 2;
            break;
        case 'p':
            if (sscanf(optarg, "%d,%lld", &point_b, &point_n) != 2 || point_b < 1 || point_n < 1) {
                fprintf(stderr, "hylra: bench kernels: --point %s: expected B,n (e.g. 1,131072)\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
#ifdef HY_HAVE_CUDA
    hy_bench_kernels_opts o = {out, torch, quick, max_batch, point_b, point_n, stdout};
    if (hy_cuda_bench_kernels(&o)) return hy_cli_die("bench kernels");
    if (out) fprintf(stderr, "hylra: wrote %s\n", out);
    return 0;
#else
    (void)out, (void)torch, (void)quick, (void)max_batch, (void)point_b, (void)point_n;
    fprintf(stderr, "hylra: bench kernels: this hylra was built without CUDA "
                    "(configure with meson setup -Dcuda=enabled on a machine with nvcc)\n");
    return 1;
#endif
}

static void usage_decode(FILE *f) {
    fprintf(f,
            "usage: hylra bench decode (--shape S | -m MODEL.gguf) [options]\n"
            "  End-to-end decode throughput of the CUDA runtime: dense, then each plan and\n"
            "  policy, at every (context, batch) point; contexts hold seeded random K/V.\n"
            "  --shape S        llama3-8b, qwen2.5-7b, mistral-7b or tiny (random weights)\n"
            "  -m, --model F    a GGUF model instead\n"
            "  --ctx LIST       contexts (default 8192,32768,131072)\n"
            "  --batch LIST     batch sizes (default 1,4,8,16)\n"
            "  --plan FILE      a plan to run (repeatable)\n"
            "  --policy SPEC    a peer policy: window:W, tidal:L1,L2,k, recycled:s,k (repeatable)\n"
            "  --steps N        timed decode steps per point (default 32)\n"
            "  --sink N, --window N   tokens every sparse set keeps (default 4, 64)\n"
            "  --costs FILE     costs.json for the predicted step time (default: analytic)\n"
            "  --torch FILE     scripts/bench-torch-e2e results to compare with\n"
            "  --seed N         seed of a synthetic model's weights (default 1)\n"
            "  -o FILE          write the results as JSON\n");
}

static int parse_list(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *v, int cap) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long long x = strtoll(p, &end, 10);
        if (end == p || (*end && *end != ',') || x < lo || x > hi || n == cap) {
            fprintf(stderr,
                    "hylra: bench decode: %s %s: expected up to %d comma-separated "
                    "integers in %lld..%lld\n",
                    opt, s, cap, (long long)lo, (long long)hi);
            return -1;
        }
        v[n++] = x;
        p = *end ? end + 1 : end;
    }
    if (!n) {
        fprintf(stderr, "hylra: bench decode: %s: empty list\n", opt);
        return -1;
    }
    return n;
}

static int bench_decode(int argc, char **argv) {
    static const struct option opts[] = {{"shape", required_argument, 0, 'S'},
                                         {"model", required_argument, 0, 'm'},
                                         {"ctx", required_argument, 0, 'c'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"plan", required_argument, 0, 'P'},
                                         {"policy", required_argument, 0, 'p'},
                                         {"steps", required_argument, 0, 'n'},
                                         {"sink", required_argument, 0, 's'},
                                         {"window", required_argument, 0, 'w'},
                                         {"costs", required_argument, 0, 'C'},
                                         {"torch", required_argument, 0, 't'},
                                         {"seed", required_argument, 0, 'r'},
                                         {"output", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    hy_bench_decode_opts o = {0};
    o.seed = 1, o.steps = 32, o.sink = 4, o.window = 64;
    o.ctx[0] = 8192, o.ctx[1] = 32768, o.ctx[2] = 131072, o.n_ctx = 3;
    o.batch[0] = 1, o.batch[1] = 4, o.batch[2] = 8, o.batch[3] = 16, o.n_batch = 4;
    static char plan_specs[32][1100];
    int64_t tmp[16];
    int c, n;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            o.shape = optarg;
            break;
        case 'm':
            o.model = optarg;
            break;
        case 'c':
            if ((n = parse_list("--ctx", optarg, 1, 1 << 20, o.ctx, 16)) < 0) return 2;
            o.n_ctx = n;
            break;
        case 'b':
            if ((n = parse_list("--batch", optarg, 1, 4096, tmp, 16)) < 0) return 2;
            for (int i = 0; i < n; i++)
                o.batch[i] = (int)tmp[i];
            o.n_batch = n;
            break;
        case 'P':
        case 'p':
            if (o.n_methods == 32) {
                fprintf(stderr, "hylra: bench decode: at most 32 plans and policies\n");
                return 2;
            }
            if (c == 'P') {
                snprintf(plan_specs[o.n_methods], sizeof plan_specs[0], "plan:%s", optarg);
                o.methods[o.n_methods] = plan_specs[o.n_methods];
                o.n_methods++;
            } else {
                o.methods[o.n_methods++] = optarg;
            }
            break;
        case 'n':
        case 's':
        case 'w':
            if (parse_list(c == 'n'   ? "--steps"
                           : c == 's' ? "--sink"
                                      : "--window",
                           optarg, c == 'n' ? 1 : 0, 65536, tmp, 1) < 0)
                return 2;
            if (c == 'n')
                o.steps = (int)tmp[0];
            else if (c == 's')
                o.sink = (int)tmp[0];
            else
                o.window = (int)tmp[0];
            break;
        case 'C':
            o.costs = optarg;
            break;
        case 't':
            o.torch = optarg;
            break;
        case 'r':
            if (hy_cli_u64("bench decode", "--seed", optarg, &o.seed)) return 2;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'h':
            usage_decode(stdout);
            return 0;
        default:
            usage_decode(stderr);
            return 2;
        }
    }
    if (!o.shape == !o.model) {
        fprintf(stderr, "hylra: bench decode: give exactly one of --shape and -m\n");
        usage_decode(stderr);
        return 2;
    }
    if (hy_cli_check_output("bench decode", "-o", o.out)) return 2;
    if (hy_bench_decode(&o)) return hy_cli_die("bench decode");
    if (o.out) fprintf(stderr, "hylra: wrote %s\n", o.out);
    return 0;
}

int hy_cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "kernels")) return bench_kernels(argc - 1, argv + 1);
    if (!strcmp(argv[1], "decode")) return bench_decode(argc - 1, argv + 1);
    fprintf(stderr, "hylra: bench: unknown target '%s' (expected: decode, kernels)\n\n", argv[1]);
    usage(stderr);
    return 2;
}
