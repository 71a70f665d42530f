/* `hylra bench`: measured costs. `bench kernels` times the CUDA attention kernels and writes
 * the cost table (costs.json) the solver reads; `bench decode` (end-to-end decode throughput)
 * is added by the runtime's bench. Without CUDA, or with no GPU, it says so and fails. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hy_common.h"
#ifdef HY_HAVE_CUDA
#include "cuda_bench.h"
#endif

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: hylra bench kernels [-o costs.json] [--torch torch.json] [--quick] "
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
            max_batch = atoi(optarg);
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

int hy_cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "kernels")) return bench_kernels(argc - 1, argv + 1);
    fprintf(stderr, "hylra: bench: unknown target '%s' (expected: kernels)\n\n", argv[1]);
    usage(stderr);
    return 2;
}
