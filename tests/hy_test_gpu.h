/* For test programs that need a GPU: before main runs, a machine without a usable CUDA device
 * makes the program print why and exit 77, which meson counts as a skip (so CI, which has no
 * GPU, reports these suites as skipped rather than passed or failed). */
#ifndef HY_TEST_GPU_H
#define HY_TEST_GPU_H

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void hy_test_need_gpu(void) {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n < 1) {
        printf("SKIP: no usable GPU (%s)\n",
               e != cudaSuccess ? cudaGetErrorString(e) : "no device");
        fflush(stdout);
        exit(77);
    }
}

#endif
