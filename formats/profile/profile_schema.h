/* formats/profile: the table of datasets of schema v1, shared by the writer and the reader
 * so that both walk the same list (path, shape class, where it lives in hy_profile). Private
 * to formats/profile. */
#ifndef HY_PROFILE_SCHEMA_H
#define HY_PROFILE_SCHEMA_H

#include "hy_profile.h"

#include <hdf5.h>

typedef enum {
    HY_PSHAPE_UNIT_K,  /* [L, Hkv, K] */
    HY_PSHAPE_CROSS_K, /* [U, U, K] */
    HY_PSHAPE_LAYER_K, /* [L, L, K] */
    HY_PSHAPE_UNIT_S,  /* [L, Hkv, S] */
} hy_pshape;

typedef struct {
    const char *path;
    hy_pshape shape;
    size_t offset; /* of the hy_profile_stat inside hy_profile */
    int required;
} hy_pstat_desc;

extern const hy_pstat_desc hy_profile_stats[];
extern const int hy_profile_n_stats;

/* Dims of a shape class for p; returns the rank (3). */
int hy_profile_shape_dims(const hy_profile *p, hy_pshape s, hsize_t dims[3]);

static inline hy_profile_stat *hy_profile_stat_at(hy_profile *p, const hy_pstat_desc *d) {
    return (hy_profile_stat *)((char *)p + d->offset);
}

/* Silences HDF5's own error printing for the duration of a call (library code prints
 * nothing); restore with the saved handler. */
typedef struct {
    H5E_auto2_t fn;
    void *data;
} hy_h5_quiet;
void hy_h5_quiet_begin(hy_h5_quiet *q);
void hy_h5_quiet_end(const hy_h5_quiet *q);

#endif
