/* formats/profile: the dataset table of schema v1 (see profile_schema.h) and the HDF5
 * error-printing guard shared by the reader and the writer. */
#include "profile_schema.h"

#include <stddef.h>

#define STAT(path, shape, field, req)                                                              \
    { path, shape, offsetof(hy_profile, field), req }
const hy_pstat_desc hy_profile_stats[] = {
    STAT("layer/recall", HY_PSHAPE_UNIT_K, layer_recall, 1),
    STAT("layer/out_err", HY_PSHAPE_UNIT_K, layer_out_err, 1),
    STAT("cross/recall", HY_PSHAPE_CROSS_K, cross_recall, 1),
    STAT("cross/out_err", HY_PSHAPE_CROSS_K, cross_out_err, 1),
    STAT("cross/jaccard", HY_PSHAPE_CROSS_K, cross_jaccard, 1),
    STAT("cross_layer/recall", HY_PSHAPE_LAYER_K, cl_recall, 1),
    STAT("cross_layer/out_err", HY_PSHAPE_LAYER_K, cl_out_err, 1),
    STAT("cross_layer/jaccard", HY_PSHAPE_LAYER_K, cl_jaccard, 1),
    STAT("temporal/recall", HY_PSHAPE_UNIT_S, temporal_recall, 1),
    /* not named in docs/design.md; the ILP's temporal loss in out_err mode needs it. Optional so
     * that a profile without it still loads (the solver then falls back to 1 - recall). */
    STAT("temporal/out_err", HY_PSHAPE_UNIT_S, temporal_out_err, 0),
    /* version 2: the key sketches' selection (optional: a version 1 file has none) */
    STAT("selector/sketch8_overlap", HY_PSHAPE_UNIT_K, sketch_overlap[0], 0),
    STAT("selector/sketch8_recall", HY_PSHAPE_UNIT_K, sketch_recall[0], 0),
    STAT("selector/sketch8_out_err", HY_PSHAPE_UNIT_K, sketch_out_err[0], 0),
    STAT("selector/sketch4_overlap", HY_PSHAPE_UNIT_K, sketch_overlap[1], 0),
    STAT("selector/sketch4_recall", HY_PSHAPE_UNIT_K, sketch_recall[1], 0),
    STAT("selector/sketch4_out_err", HY_PSHAPE_UNIT_K, sketch_out_err[1], 0),
};
const int hy_profile_n_stats = (int)(sizeof hy_profile_stats / sizeof hy_profile_stats[0]);

int hy_profile_shape_dims(const hy_profile *p, hy_pshape s, hsize_t dims[3]) {
    hsize_t L = (hsize_t)p->n_layers, H = (hsize_t)p->n_kv_heads;
    switch (s) {
    case HY_PSHAPE_UNIT_K:
        dims[0] = L, dims[1] = H, dims[2] = (hsize_t)p->n_k;
        break;
    case HY_PSHAPE_CROSS_K:
        dims[0] = dims[1] = L * H, dims[2] = (hsize_t)p->n_k;
        break;
    case HY_PSHAPE_LAYER_K:
        dims[0] = dims[1] = L, dims[2] = (hsize_t)p->n_k;
        break;
    case HY_PSHAPE_UNIT_S:
        dims[0] = L, dims[1] = H, dims[2] = (hsize_t)p->n_strides;
        break;
    }
    return 3;
}

void hy_h5_quiet_begin(hy_h5_quiet *q) {
    H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void hy_h5_quiet_end(const hy_h5_quiet *q) {
    H5Eset_auto2(H5E_DEFAULT, q->fn, q->data);
}
