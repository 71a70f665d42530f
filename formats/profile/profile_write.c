/* formats/profile: HDF5 writer of schema v1. Root attributes, one group per family, every
 * statistic as <name>, <name>_std, <name>_count, chunked with shuffle + gzip, the k / stride
 * / qsim grids as dimension scales. Written to "<path>.tmp" and renamed when complete. */
#include "profile_schema.h"

#ifdef HY_HAVE_HDF5_HL
#include <hdf5_hl.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hid_t file;
    const char *path; /* for messages */
    hid_t scale_k, scale_stride, scale_qsim;
} wctx;

static hy_status h5err(const wctx *w, const char *what, const char *name) {
    return hy_fail(HY_EIO, "%s: writing %s '%s' failed (HDF5)", w->path, what, name);
}

static hy_status attr_str(const wctx *w, const char *name, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(w->file, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, t, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return e < 0 ? h5err(w, "attribute", name) : HY_OK;
}

static hy_status attr_num(const wctx *w, const char *name, hid_t file_type, hid_t mem_type,
                          const void *v, hsize_t n) {
    hid_t sp = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate2(w->file, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, mem_type, v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return e < 0 ? h5err(w, "attribute", name) : HY_OK;
}

static hy_status attr_i32(const wctx *w, const char *name, int32_t v) {
    return attr_num(w, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v, 0);
}

/* A dataset of rank r, chunked (at most 64 along the leading dims, whole along the last so
 * that one cell's k curve is one chunk read), shuffled and deflated. */
static hid_t make_dataset(const wctx *w, const char *path, int rank, const hsize_t *dims,
                          hid_t file_type) {
    hsize_t chunk[3];
    for (int i = 0; i < rank; i++)
        chunk[i] = i == rank - 1 ? dims[i] : (dims[i] < 64 ? dims[i] : 64);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, rank, chunk);
    H5Pset_fletcher32(dcpl);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d = H5Dcreate2(w->file, path, file_type, sp, lcpl, dcpl, H5P_DEFAULT);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return d;
}

static hy_status write_array(const wctx *w, const char *path, int rank, const hsize_t *dims,
                             hid_t file_type, hid_t mem_type, const void *data, hid_t scale,
                             hid_t *keep) {
    hid_t d = make_dataset(w, path, rank, dims, file_type);
    if (d < 0) return h5err(w, "dataset", path);
    herr_t e = H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
#ifdef HY_HAVE_HDF5_HL
    if (e >= 0 && scale >= 0) e = H5DSattach_scale(d, scale, (unsigned)(rank - 1));
#endif
    if (e < 0) {
        H5Dclose(d);
        return h5err(w, "dataset", path);
    }
    if (keep)
        *keep = d;
    else
        H5Dclose(d);
    return HY_OK;
}

/* A 1-D grid written as a dimension scale; the handle stays open for attaching. */
static hy_status write_scale(const wctx *w, const char *path, hid_t file_type, hid_t mem_type,
                             const void *data, hsize_t n, hid_t *out) {
    hid_t d = make_dataset(w, path, 1, &n, file_type);
    herr_t e = d < 0 ? -1 : H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
#ifdef HY_HAVE_HDF5_HL
    if (e >= 0) e = H5DSset_scale(d, path);
#endif
    if (e < 0) {
        if (d >= 0) H5Dclose(d);
        return h5err(w, "dimension scale", path);
    }
    *out = d;
    return HY_OK;
}

static hy_status write_root_attrs(const wctx *w, const hy_profile *p) {
    hy_status st = HY_OK;
    if (!st) st = attr_str(w, "format", HY_PROFILE_FORMAT);
    if (!st) st = attr_i32(w, "version", HY_PROFILE_VERSION);
    if (!st) st = attr_str(w, "model_name", p->model_name);
    if (!st) st = attr_str(w, "architecture", p->arch);
    if (!st) st = attr_str(w, "model_sha256", p->model_sha256);
    if (!st) st = attr_str(w, "calibration_source", p->calib_source);
    if (!st) st = attr_str(w, "tool_version", p->tool_version);
    if (!st) st = attr_num(w, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &p->seed, 0);
    if (!st) st = attr_i32(w, "n_layers", p->n_layers);
    if (!st) st = attr_i32(w, "n_heads", p->n_heads);
    if (!st) st = attr_i32(w, "n_kv_heads", p->n_kv_heads);
    if (!st) st = attr_i32(w, "head_dim", p->head_dim);
    if (!st) st = attr_i32(w, "ctx", p->ctx);
    if (!st) st = attr_i32(w, "n_queries", p->n_queries);
    if (!st) st = attr_i32(w, "n_samples", p->n_samples);
    if (!st) st = attr_i32(w, "samples_planned", p->samples_planned);
    if (!st) st = attr_i32(w, "sink", p->sink);
    if (!st) st = attr_i32(w, "window", p->window);
    if (!st && p->model_ctx_train > 0) st = attr_i32(w, "model_ctx_train", p->model_ctx_train);
    if (!st && p->sliding_window > 0) st = attr_i32(w, "sliding_window", p->sliding_window);
    if (!st && p->sliding_window > 0) st = attr_i32(w, "swa_period", p->swa_period);
    if (!st)
        st = attr_num(w, "k_grid", H5T_STD_I32LE, H5T_NATIVE_INT32, p->k_grid, (hsize_t)p->n_k);
    if (!st)
        st = attr_num(w, "strides", H5T_STD_I32LE, H5T_NATIVE_INT32, p->strides,
                      (hsize_t)p->n_strides);
    return st;
}

static hy_status write_stats(const wctx *w, hy_profile *p) {
    char name[96];
    for (int i = 0; i < hy_profile_n_stats; i++) {
        const hy_pstat_desc *d = &hy_profile_stats[i];
        hy_profile_stat *s = hy_profile_stat_at(p, d);
        hsize_t dims[3];
        int rank = hy_profile_shape_dims(p, d->shape, dims);
        hid_t scale = d->shape == HY_PSHAPE_UNIT_S ? w->scale_stride : w->scale_k;
        hy_status st = write_array(w, d->path, rank, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                                   s->mean, scale, NULL);
        snprintf(name, sizeof name, "%s_std", d->path);
        if (!st)
            st = write_array(w, name, rank, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, s->std, scale,
                             NULL);
        snprintf(name, sizeof name, "%s_count", d->path);
        if (!st)
            st = write_array(w, name, rank, dims, H5T_STD_I32LE, H5T_NATIVE_INT32, s->count, scale,
                             NULL);
        if (st) return st;
    }
    hsize_t qd[3] = {(hsize_t)p->n_layers, (hsize_t)p->n_kv_heads, (hsize_t)p->n_qsim_bins};
    return write_array(w, "temporal/qsim", 3, qd, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                       p->temporal_qsim, w->scale_qsim, NULL);
}

static hy_status write_file(wctx *w, const hy_profile *p) {
    hy_status st = write_root_attrs(w, p);
    float *centers = NULL;
    if (!st)
        st = write_scale(w, "k", H5T_STD_I32LE, H5T_NATIVE_INT32, p->k_grid, (hsize_t)p->n_k,
                         &w->scale_k);
    if (!st)
        st = write_scale(w, "stride", H5T_STD_I32LE, H5T_NATIVE_INT32, p->strides,
                         (hsize_t)p->n_strides, &w->scale_stride);
    if (!st) {
        centers = hy_malloc((size_t)p->n_qsim_bins * sizeof(float), "qsim bin centers");
        if (!centers) return HY_ENOMEM;
        for (int32_t i = 0; i < p->n_qsim_bins; i++)
            centers[i] = 0.5f * (p->qsim_edges[i] + p->qsim_edges[i + 1]);
        st = write_scale(w, "qsim_bin", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, centers,
                         (hsize_t)p->n_qsim_bins, &w->scale_qsim);
        free(centers);
    }
    if (!st) {
        hsize_t ne = (hsize_t)p->n_qsim_bins + 1;
        st = write_array(w, "qsim_edges", 1, &ne, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, p->qsim_edges,
                         -1, NULL);
    }
    if (!st) st = write_stats(w, (hy_profile *)p);
    return st;
}

hy_status hy_profile_write(const hy_profile *p, const char *path) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return hy_fail(HY_EINVAL, "%s: path too long", path);
    hy_h5_quiet q;
    hy_h5_quiet_begin(&q);
    wctx w = {.path = tmp, .scale_k = -1, .scale_stride = -1, .scale_qsim = -1};
    /* v1.8+ object headers and superblock carry checksums: with fletcher32 on every
     * dataset, a flipped byte is reported as an error instead of being read as data. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    w.file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    hy_status st;
    if (w.file < 0) {
        st = hy_fail(HY_EIO, "%s: cannot create HDF5 file", tmp);
    } else {
        st = write_file(&w, p);
        hid_t scales[] = {w.scale_k, w.scale_stride, w.scale_qsim};
        for (int i = 0; i < 3; i++)
            if (scales[i] >= 0) H5Dclose(scales[i]);
        if (H5Fclose(w.file) < 0 && !st) st = hy_fail(HY_EIO, "%s: closing failed", tmp);
    }
    hy_h5_quiet_end(&q);
    if (!st && rename(tmp, path) != 0) st = hy_fail(HY_EIO, "%s: cannot rename to %s", tmp, path);
    if (st) remove(tmp);
    return st;
}
