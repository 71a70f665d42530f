/* CUDA error checking for the kernels module: HY_CUDA_CHECK turns a failed CUDA or cuBLAS
 * call into hy_status HY_EDEVICE with file, line, the call's text and the error string;
 * HY_CUDA_LAUNCH follows every kernel launch. Plus device queries the CLI needs. Included by
 * .cu files and by C code built with CUDA (HY_HAVE_CUDA). */
#ifndef HY_KERNELS_CUDA_CHECK_H
#define HY_KERNELS_CUDA_CHECK_H
#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

#define HY_CUDA_CHECK(call)                                                                        \
    do {                                                                                           \
        cudaError_t hy_ce_ = (call);                                                               \
        if (hy_ce_ != cudaSuccess)                                                                 \
            return hy_fail(HY_EDEVICE, "%s:%d: %s failed: %s (%s)", __FILE__, __LINE__, #call,     \
                           cudaGetErrorName(hy_ce_), cudaGetErrorString(hy_ce_));                  \
    } while (0)
#define HY_CUDA_LAUNCH(what) HY_CUDA_CHECK(cudaGetLastError() /* after launching what */)
#define HY_CUBLAS_CHECK(call)                                                                      \
    do {                                                                                           \
        int hy_bs_ = (int)(call);                                                                  \
        if (hy_bs_ != 0)                                                                           \
            return hy_fail(HY_EDEVICE, "%s:%d: %s failed: cublas status %d", __FILE__, __LINE__,   \
                           #call, hy_bs_);                                                         \
    } while (0)

/* Fails with HY_EDEVICE (and the driver's reason) when no usable GPU is present. */
hy_status hy_cuda_device_name(char *name, size_t cap, int *sm_count, size_t *mem_bytes);

#ifdef __cplusplus
}
#endif
#endif
