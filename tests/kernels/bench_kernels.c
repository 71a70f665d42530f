/* A stand-alone driver of the kernel benchmark (kernels/cuda_bench.h), the same as
 * `hylra bench kernels -o FILE --torch FILE [--quick]` but linked against the kernels alone,
 * so scripts/gpu-check can time the kernels while the rest of the CLI is being changed.
 * Usage: bench_kernels [-o costs.json] [--torch torch.json] [--quick] [--point B,n] */
#include <stdio.h>
#include <string.h>

#include "cuda_bench.h"

int main(int argc, char **argv) {
    hy_bench_kernels_opts o = {NULL, NULL, 0, 16, 0, 0, stdout};
    long long pn = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            o.costs_path = argv[++i];
        else if (!strcmp(argv[i], "--torch") && i + 1 < argc)
            o.torch_json = argv[++i];
        else if (!strcmp(argv[i], "--quick"))
            o.quick = 1;
        else if (!strcmp(argv[i], "--point") && i + 1 < argc &&
                 sscanf(argv[++i], "%d,%lld", &o.point_b, &pn) == 2)
            o.point_n = (int64_t)pn;
        else {
            fprintf(stderr, "bench_kernels: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (hy_cuda_bench_kernels(&o)) {
        fprintf(stderr, "bench_kernels: %s\n", hy_last_error());
        return 1;
    }
    return 0;
}
