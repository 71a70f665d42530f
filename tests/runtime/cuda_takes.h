/* Whether the CUDA backend takes a model, checked where CI can (no GPU there): the context is
 * made and freed on a GPU machine; without a GPU it fails at the device (HY_EDEVICE), not on
 * the model; a build without CUDA says so. Test-only. */
#ifndef RUNTIME_CUDA_TAKES_H
#define RUNTIME_CUDA_TAKES_H

#include "hy_runtime.h"

#include <string.h>

/* 1 when one of the three holds, else 0 (hy_last_error says why) */
static inline int rt_cuda_takes(hy_model *m, int64_t n_ctx) {
    hy_ctx *c = NULL;
    const hy_status st = hy_ctx_create_on(m, HY_DEVICE_CUDA, n_ctx, 1, &c);
    if (st == HY_OK) {
        hy_ctx_free(c);
        return 1;
    }
    return c == NULL && (st == HY_EDEVICE || strstr(hy_last_error(), "without CUDA") != NULL);
}

#endif
