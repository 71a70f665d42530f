/* formats/profile: HDF5 reader of schema v1. Checks the format and version attributes
 * first (a file of another format or version is refused by name), then that every dataset
 * exists with the shape the root attributes imply, so the solver can index blindly. */
#include "profile_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hid_t file;
    const char *path;
} rctx;

/* Every link on the way exists and the last one is an object: H5Lexists on "a/b" fails
 * (rather than answering no) when "a" is missing, so walk the components. */
static int path_exists(hid_t file, const char *path) {
    char buf[256];
    size_t n = strlen(path);
    if (n >= sizeof buf) return 0;
    for (size_t i = 0; i <= n; i++) {
        if (path[i] != '/' && path[i] != 0) continue;
        memcpy(buf, path, i);
        buf[i] = 0;
        if (H5Lexists(file, buf, H5P_DEFAULT) <= 0) return 0;
    }
    return H5Oexists_by_name(file, path, H5P_DEFAULT) > 0;
}

/* Reads a string attribute, fixed or variable length, into out (truncated to cap). */
static hy_status attr_str(const rctx *r, const char *name, char *out, size_t cap, int required) {
    out[0] = 0;
    if (H5Aexists(r->file, name) <= 0)
        return required ? hy_fail(HY_EFORMAT, "%s: root attribute '%s' missing, expected a string",
                                  r->path, name)
                        : HY_OK;
    hid_t a = H5Aopen(r->file, name, H5P_DEFAULT);
    hid_t ft = a < 0 ? -1 : H5Aget_type(a);
    hy_status st = HY_OK;
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING) {
        st = hy_fail(HY_EFORMAT, "%s: root attribute '%s' is not a string", r->path, name);
    } else if (H5Tis_variable_str(ft) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        char *s = NULL;
        if (H5Aread(a, mt, &s) < 0 || !s)
            st = hy_fail(HY_EFORMAT, "%s: attribute '%s' unreadable", r->path, name);
        else
            snprintf(out, cap, "%s", s);
        if (s) H5free_memory(s);
        H5Tclose(mt);
    } else {
        size_t n = H5Tget_size(ft);
        char *buf = hy_calloc(n + 1, 1, "string attribute");
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, n);
        H5Tset_cset(mt, H5Tget_cset(ft));
        if (!buf)
            st = HY_ENOMEM;
        else if (H5Aread(a, mt, buf) < 0)
            st = hy_fail(HY_EFORMAT, "%s: attribute '%s' unreadable", r->path, name);
        else
            snprintf(out, cap, "%s", buf);
        free(buf);
        H5Tclose(mt);
    }
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return st;
}

/* Reads a numeric attribute of exactly n elements (n = 1 accepts a scalar). */
static hy_status attr_num(const rctx *r, const char *name, hid_t mem_type, void *out, hssize_t n,
                          int required) {
    if (H5Aexists(r->file, name) <= 0)
        return required ? hy_fail(HY_EFORMAT, "%s: root attribute '%s' missing", r->path, name)
                        : HY_OK;
    hid_t a = H5Aopen(r->file, name, H5P_DEFAULT);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    hid_t ft = a < 0 ? -1 : H5Aget_type(a);
    hssize_t got = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    H5T_class_t cls = ft < 0 ? H5T_NO_CLASS : H5Tget_class(ft);
    hy_status st = HY_OK;
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        st = hy_fail(HY_EFORMAT, "%s: root attribute '%s' is not numeric", r->path, name);
    else if (got != n)
        st = hy_fail(HY_EFORMAT, "%s: root attribute '%s' has %lld elements, expected %lld",
                     r->path, name, (long long)got, (long long)n);
    else if (H5Aread(a, mem_type, out) < 0)
        st = hy_fail(HY_EFORMAT, "%s: root attribute '%s' unreadable", r->path, name);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    if (a >= 0) H5Aclose(a);
    return st;
}

static hy_status attr_i32(const rctx *r, const char *name, int32_t *out) {
    return attr_num(r, name, H5T_NATIVE_INT32, out, 1, 1);
}

/* Opens path and checks rank and dims; HY_ENOTFOUND when absent (and required). */
static hy_status read_array(const rctx *r, const char *path, int rank, const hsize_t *dims,
                            hid_t mem_type, void *out, int required, int *present) {
    if (present) *present = 0;
    if (!path_exists(r->file, path))
        return required ? hy_fail(HY_ENOTFOUND, "%s: dataset '/%s' missing", r->path, path) : HY_OK;
    hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
    if (d < 0) return hy_fail(HY_EFORMAT, "%s: '/%s' is not a dataset", r->path, path);
    hid_t sp = H5Dget_space(d);
    hid_t ft = H5Dget_type(d);
    hsize_t got[8] = {0};
    int grank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    if (grank > 0 && grank <= 8) H5Sget_simple_extent_dims(sp, got, NULL);
    hy_status st = HY_OK;
    H5T_class_t want = mem_type == H5T_NATIVE_FLOAT ? H5T_FLOAT : H5T_INTEGER;
    H5T_class_t cls = ft < 0 ? H5T_NO_CLASS : H5Tget_class(ft);
    int same = grank == rank;
    for (int i = 0; same && i < rank; i++)
        same = got[i] == dims[i];
    if (!same) {
        char fs[96] = "", es[96] = "";
        for (int i = 0; i < grank && i < 8; i++)
            snprintf(fs + strlen(fs), sizeof fs - strlen(fs), "%s%llu", i ? "," : "",
                     (unsigned long long)got[i]);
        for (int i = 0; i < rank; i++)
            snprintf(es + strlen(es), sizeof es - strlen(es), "%s%llu", i ? "," : "",
                     (unsigned long long)dims[i]);
        st = hy_fail(HY_EFORMAT, "%s: dataset '/%s' has shape [%s], expected [%s]", r->path, path,
                     fs, es);
    } else if (cls != want) {
        st = hy_fail(HY_EFORMAT, "%s: dataset '/%s' has type class %d, expected %s", r->path, path,
                     (int)cls, want == H5T_FLOAT ? "float" : "integer");
    } else if (H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        st = hy_fail(HY_EFORMAT, "%s: dataset '/%s' unreadable (corrupt data?)", r->path, path);
    }
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    if (!st && present) *present = 1;
    return st;
}

static hy_status check_identity(const rctx *r) {
    char fmt[64];
    int32_t version = 0;
    if (H5Aexists(r->file, "format") <= 0)
        return hy_fail(HY_EFORMAT, "%s: root attribute 'format' missing, expected \"%s\"", r->path,
                       HY_PROFILE_FORMAT);
    hy_status st = attr_str(r, "format", fmt, sizeof fmt, 1);
    if (st) return st;
    if (strcmp(fmt, HY_PROFILE_FORMAT))
        return hy_fail(HY_EUNSUPPORTED, "%s: attribute format is \"%s\", expected \"%s\"", r->path,
                       fmt, HY_PROFILE_FORMAT);
    st = attr_i32(r, "version", &version);
    if (st) return st;
    if (version < 1 || version > HY_PROFILE_VERSION)
        return hy_fail(HY_EUNSUPPORTED, "%s: attribute version is %d, expected 1..%d", r->path,
                       version, HY_PROFILE_VERSION);
    return HY_OK;
}

/* Reads a 1-D int grid whose length the dataset itself gives. */
static hy_status read_grid(const rctx *r, const char *path, int32_t **out, int32_t *n) {
    if (!path_exists(r->file, path))
        return hy_fail(HY_ENOTFOUND, "%s: dimension scale '/%s' missing", r->path, path);
    hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
    hid_t sp = d < 0 ? -1 : H5Dget_space(d);
    hsize_t dim = 0;
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    if (rank == 1) H5Sget_simple_extent_dims(sp, &dim, NULL);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    if (rank != 1 || dim == 0 || dim > 4096)
        return hy_fail(HY_EFORMAT,
                       "%s: '/%s' has rank %d and %llu entries, expected 1-D with 1..4096", r->path,
                       path, rank, (unsigned long long)dim);
    *out = hy_malloc((size_t)dim * sizeof(int32_t), path);
    if (!*out) return HY_ENOMEM;
    *n = (int32_t)dim;
    return read_array(r, path, 1, &dim, H5T_NATIVE_INT32, *out, 1, NULL);
}

static hy_status read_body(const rctx *r, hy_profile **out) {
    hy_status st = check_identity(r);
    int32_t L = 0, H = 0, Hkv = 0, D = 0, nk = 0, ns = 0, nb = 0;
    int32_t *kg = NULL, *sg = NULL;
    if (!st) st = attr_i32(r, "n_layers", &L);
    if (!st) st = attr_i32(r, "n_heads", &H);
    if (!st) st = attr_i32(r, "n_kv_heads", &Hkv);
    if (!st) st = attr_i32(r, "head_dim", &D);
    if (!st && (L <= 0 || L > 4096 || Hkv <= 0 || Hkv > 1024 || (int64_t)L * Hkv > 65536))
        st = hy_fail(HY_EFORMAT, "%s: n_layers=%d n_kv_heads=%d out of range (1..4096, 1..1024)",
                     r->path, L, Hkv);
    if (!st) st = read_grid(r, "k", &kg, &nk);
    if (!st) st = read_grid(r, "stride", &sg, &ns);
    if (!st) {
        hid_t d = H5Dopen2(r->file, "qsim_bin", H5P_DEFAULT);
        hid_t sp = d < 0 ? -1 : H5Dget_space(d);
        hsize_t n = 0;
        if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1) H5Sget_simple_extent_dims(sp, &n, NULL);
        if (sp >= 0) H5Sclose(sp);
        if (d >= 0) H5Dclose(d);
        if (n == 0 || n > 4096)
            st = hy_fail(HY_EFORMAT, "%s: dimension scale '/qsim_bin' missing or not 1-D", r->path);
        nb = (int32_t)n;
    }
    hy_profile *p = NULL;
    if (!st) st = hy_profile_create(L, H, Hkv, D, nk, kg, ns, sg, nb, NULL, &p);
    free(kg);
    free(sg);
    if (st) return st == HY_EINVAL ? hy_fail_ctx(HY_EFORMAT, "%s", r->path) : st;
    attr_str(r, "model_name", p->model_name, sizeof p->model_name, 0);
    attr_str(r, "architecture", p->arch, sizeof p->arch, 0);
    attr_str(r, "model_sha256", p->model_sha256, sizeof p->model_sha256, 0);
    attr_str(r, "calibration_source", p->calib_source, sizeof p->calib_source, 0);
    attr_str(r, "tool_version", p->tool_version, sizeof p->tool_version, 0);
    st = attr_num(r, "seed", H5T_NATIVE_UINT64, &p->seed, 1, 0);
    if (!st) st = attr_i32(r, "ctx", &p->ctx);
    if (!st) st = attr_i32(r, "sink", &p->sink);
    if (!st) st = attr_i32(r, "window", &p->window);
    if (!st) st = attr_num(r, "n_queries", H5T_NATIVE_INT32, &p->n_queries, 1, 0);
    if (!st) st = attr_num(r, "n_samples", H5T_NATIVE_INT32, &p->n_samples, 1, 0);
    if (!st) st = attr_num(r, "samples_planned", H5T_NATIVE_INT32, &p->samples_planned, 1, 0);
    if (!st) st = attr_num(r, "model_ctx_train", H5T_NATIVE_INT32, &p->model_ctx_train, 1, 0);
    if (!st) st = attr_num(r, "sliding_window", H5T_NATIVE_INT32, &p->sliding_window, 1, 0);
    if (!st) st = attr_num(r, "swa_period", H5T_NATIVE_INT32, &p->swa_period, 1, 0);
    hsize_t ne = (hsize_t)nb + 1;
    if (!st) st = read_array(r, "qsim_edges", 1, &ne, H5T_NATIVE_FLOAT, p->qsim_edges, 1, NULL);
    char name[96];
    for (int i = 0; !st && i < hy_profile_n_stats; i++) {
        const hy_pstat_desc *d = &hy_profile_stats[i];
        hy_profile_stat *s = hy_profile_stat_at(p, d);
        hsize_t dims[3];
        int rank = hy_profile_shape_dims(p, d->shape, dims), present = 0;
        st = read_array(r, d->path, rank, dims, H5T_NATIVE_FLOAT, s->mean, d->required, &present);
        if (!present) continue;
        snprintf(name, sizeof name, "%s_std", d->path);
        if (!st) st = read_array(r, name, rank, dims, H5T_NATIVE_FLOAT, s->std, 1, NULL);
        snprintf(name, sizeof name, "%s_count", d->path);
        if (!st) st = read_array(r, name, rank, dims, H5T_NATIVE_INT32, s->count, 1, NULL);
    }
    hsize_t qd[3] = {(hsize_t)L, (hsize_t)Hkv, (hsize_t)nb};
    if (!st)
        st = read_array(r, "temporal/qsim", 3, qd, H5T_NATIVE_FLOAT, p->temporal_qsim, 1, NULL);
    if (st) {
        hy_profile_free(p);
        return st;
    }
    *out = p;
    return HY_OK;
}

hy_status hy_profile_read(const char *path, hy_profile **out) {
    *out = NULL;
    hy_h5_quiet q;
    hy_h5_quiet_begin(&q);
    hy_status st;
    if (H5Fis_hdf5(path) <= 0) {
        FILE *f = fopen(path, "rb");
        st = f ? hy_fail(HY_EFORMAT, "%s: not an HDF5 file (expected a hylra profile)", path)
               : hy_fail(HY_EIO, "%s: cannot open", path);
        if (f) fclose(f);
    } else {
        /* strong close: a failed read must not leave objects (and the file) open inside HDF5 */
        hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
        rctx r = {.file = H5Fopen(path, H5F_ACC_RDONLY, fapl), .path = path};
        H5Pclose(fapl);
        if (r.file < 0) {
            st = hy_fail(HY_EFORMAT, "%s: HDF5 open failed (corrupt file?)", path);
        } else {
            st = read_body(&r, out);
            H5Fclose(r.file);
        }
    }
    hy_h5_quiet_end(&q);
    return st;
}
