/* Device queries for the CLI and benches; the error macros themselves live in cuda_check.h. */
#include <stdio.h>

#include "cuda_check.h"

extern "C" hy_status hy_cuda_device_name(char *name, size_t cap, int *sm_count, size_t *mem_bytes) {
    int n = 0, dev = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError();
        /* without a GPU (no driver, or a stub one) the runtime says "driver insufficient":
         * say first what it means for the user */
        return hy_fail(HY_EDEVICE, "no usable GPU on this machine (CUDA: %s)",
                       cudaGetErrorString(e));
    }
    if (n < 1) return hy_fail(HY_EDEVICE, "no usable GPU on this machine (no CUDA device)");
    HY_CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp p;
    HY_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
    if (name && cap) snprintf(name, cap, "%s", p.name);
    if (sm_count) *sm_count = p.multiProcessorCount;
    if (mem_bytes) *mem_bytes = p.totalGlobalMem;
    return HY_OK;
}
