/* tests/profile: HDF5 profile schema v1 round trip, the accumulators, and named errors for
 * files of another format or version, missing or reshaped datasets, and corrupt bytes. */
#include "hy_profile.h"
#include "hy_test.h"

#include <hdf5.h>
#include <stdint.h>
#include <unistd.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0));
}

static void fill(hy_profile_stat *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i % 7 == 3) continue; /* leave NaN cells: reuse not allowed */
        hy_profile_stat_set(s, i, frand(), frand() * 0.1f, 1 + (int32_t)(i % 5));
    }
}

static hy_profile *make(void) {
    int32_t kg[] = {32, 64, 128}, sg[] = {1, 2, 4, 8};
    hy_profile *p = NULL;
    if (hy_profile_create(4, 6, 2, 16, 3, kg, 4, sg, 10, NULL, &p)) return NULL;
    snprintf(p->model_name, sizeof p->model_name, "tiny-test");
    snprintf(p->arch, sizeof p->arch, "llama");
    snprintf(p->model_sha256, sizeof p->model_sha256, "%064d", 7);
    snprintf(p->calib_source, sizeof p->calib_source, "synthetic");
    p->seed = 12345678901234ull;
    p->ctx = 512, p->n_queries = 8, p->n_samples = 3, p->sink = 4, p->window = 16;
    p->model_ctx_train = 8192;
    size_t U = 8, K = 3, L = 4, S = 4;
    fill(&p->layer_recall, U * K);
    fill(&p->layer_out_err, U * K);
    fill(&p->cross_recall, U * U * K);
    fill(&p->cross_out_err, U * U * K);
    fill(&p->cross_jaccard, U * U * K);
    fill(&p->cl_recall, L * L * K);
    fill(&p->cl_out_err, L * L * K);
    fill(&p->cl_jaccard, L * L * K);
    fill(&p->temporal_recall, U * S);
    fill(&p->temporal_out_err, U * S);
    for (size_t i = 0; i < U * 10; i++)
        p->temporal_qsim[i] = frand();
    return p;
}

static int same_f(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i])))) return 0;
    return 1;
}

static int same_stat(const hy_profile_stat *a, const hy_profile_stat *b, size_t n) {
    return same_f(a->mean, b->mean, n) && same_f(a->std, b->std, n) &&
           !memcmp(a->count, b->count, n * sizeof(int32_t));
}

static const char *tmp_path(const char *tag) {
    static char buf[256];
    snprintf(buf, sizeof buf, "/tmp/hy_test_profile_%d_%s.h5", (int)getpid(), tag);
    return buf;
}

HY_TEST(round_trip_every_dataset) {
    hy_profile *p = make(), *q = NULL;
    HY_REQUIRE(p);
    const char *path = tmp_path("rt");
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    HY_OK_OR_FAIL(hy_profile_read(path, &q));
    HY_CHECK(!strcmp(q->model_name, "tiny-test"));
    HY_CHECK(!strcmp(q->arch, "llama"));
    HY_CHECK(!strcmp(q->model_sha256, p->model_sha256));
    HY_CHECK(!strcmp(q->calib_source, "synthetic"));
    HY_CHECK_EQ_INT(q->model_ctx_train, 8192);
    HY_CHECK(q->seed == p->seed);
    HY_CHECK_EQ_INT(q->n_layers, 4);
    HY_CHECK_EQ_INT(q->n_heads, 6);
    HY_CHECK_EQ_INT(q->n_kv_heads, 2);
    HY_CHECK_EQ_INT(q->head_dim, 16);
    HY_CHECK_EQ_INT(q->ctx, 512);
    HY_CHECK_EQ_INT(q->n_samples, 3);
    HY_CHECK_EQ_INT(q->sink, 4);
    HY_CHECK_EQ_INT(q->window, 16);
    HY_CHECK_EQ_INT(q->n_k, 3);
    HY_CHECK_EQ_INT(q->k_grid[2], 128);
    HY_CHECK_EQ_INT(q->n_strides, 4);
    HY_CHECK_EQ_INT(q->strides[3], 8);
    HY_CHECK_EQ_INT(q->n_qsim_bins, 10);
    HY_CHECK(same_f(p->qsim_edges, q->qsim_edges, 11));
    size_t U = 8, K = 3, L = 4, S = 4;
    HY_CHECK(same_stat(&p->layer_recall, &q->layer_recall, U * K));
    HY_CHECK(same_stat(&p->layer_out_err, &q->layer_out_err, U * K));
    HY_CHECK(same_stat(&p->cross_recall, &q->cross_recall, U * U * K));
    HY_CHECK(same_stat(&p->cross_out_err, &q->cross_out_err, U * U * K));
    HY_CHECK(same_stat(&p->cross_jaccard, &q->cross_jaccard, U * U * K));
    HY_CHECK(same_stat(&p->cl_recall, &q->cl_recall, L * L * K));
    HY_CHECK(same_stat(&p->cl_out_err, &q->cl_out_err, L * L * K));
    HY_CHECK(same_stat(&p->cl_jaccard, &q->cl_jaccard, L * L * K));
    HY_CHECK(same_stat(&p->temporal_recall, &q->temporal_recall, U * S));
    HY_CHECK(same_stat(&p->temporal_out_err, &q->temporal_out_err, U * S));
    HY_CHECK(same_f(p->temporal_qsim, q->temporal_qsim, U * 10));
    /* the writer's temporary file is gone (path is tmp_path's static buffer: build the
     * name beside it rather than calling tmp_path again, which would overwrite path) */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    HY_CHECK(access(tmp, F_OK) != 0);
    remove(path);
    HY_CHECK(access(path, F_OK) != 0);
    hy_profile_free(p);
    hy_profile_free(q);
}

HY_TEST(no_tmp_file_left_behind) {
    hy_profile *p = make();
    HY_REQUIRE(p);
    const char *path = tmp_path("tmpname");
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    HY_CHECK(access(path, F_OK) == 0);
    HY_CHECK(access(tmp, F_OK) != 0);
    remove(path);
    hy_profile_free(p);
}

HY_TEST(welford_accumulators_match_two_pass) {
    hy_profile *p = make();
    HY_REQUIRE(p);
    double xs[] = {0.5, 0.7, 0.2, 0.9, 0.4};
    hy_profile_stat_set(&p->layer_recall, 0, NAN, NAN, 0);
    for (int i = 0; i < 5; i++)
        hy_profile_stat_push(&p->layer_recall, 0, xs[i]);
    hy_profile_stat_push(&p->layer_recall, 0, NAN); /* ignored */
    double m = 0, v = 0;
    for (int i = 0; i < 5; i++)
        m += xs[i] / 5;
    for (int i = 0; i < 5; i++)
        v += (xs[i] - m) * (xs[i] - m) / 4;
    HY_CHECK_NEAR(p->layer_recall.mean[0], m, 1e-6);
    HY_CHECK_NEAR(p->layer_recall.std[0], sqrt(v), 1e-6);
    HY_CHECK_EQ_INT(p->layer_recall.count[0], 5);
    hy_profile_free(p);
}

/* Resume: accumulators survive a write/read and keep folding samples correctly. */
HY_TEST(accumulators_resume_after_round_trip) {
    hy_profile *p = make(), *q = NULL;
    HY_REQUIRE(p);
    hy_profile_stat_set(&p->cross_recall, 5, NAN, NAN, 0);
    hy_profile_stat_push(&p->cross_recall, 5, 1.0);
    hy_profile_stat_push(&p->cross_recall, 5, 2.0);
    const char *path = tmp_path("resume");
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    HY_OK_OR_FAIL(hy_profile_read(path, &q));
    hy_profile_stat_push(&q->cross_recall, 5, 3.0);
    HY_CHECK_NEAR(q->cross_recall.mean[5], 2.0, 1e-6);
    HY_CHECK_NEAR(q->cross_recall.std[5], 1.0, 1e-6);
    HY_CHECK_EQ_INT(q->cross_recall.count[5], 3);
    remove(path);
    hy_profile_free(p);
    hy_profile_free(q);
}

/* Opens a written file for editing with raw HDF5 calls. */
static hid_t reopen(const char *path) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
}

static void set_int_attr(hid_t f, const char *name, int32_t v) {
    H5Adelete(f, name);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, &v);
    H5Aclose(a);
    H5Sclose(sp);
}

HY_TEST(refuses_other_version_by_name) {
    hy_profile *p = make(), *q = NULL;
    HY_REQUIRE(p);
    const char *path = tmp_path("ver");
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    hid_t f = reopen(path);
    HY_REQUIRE(f >= 0);
    set_int_attr(f, "version", 3);
    H5Fclose(f);
    HY_CHECK_EQ_INT(hy_profile_read(path, &q), HY_EUNSUPPORTED);
    HY_CHECK(strstr(hy_last_error(), "version is 3, expected 1..2"));
    HY_CHECK(q == NULL);
    remove(path);
    hy_profile_free(p);
}

/* A version 1 file (no /selector datasets) still reads, its selector statistics NaN; version
 * 2 round-trips them. */
HY_TEST(version_1_reads_and_selector_stats_round_trip) {
    hy_profile *p = make(), *q = NULL;
    HY_REQUIRE(p);
    const size_t i = hy_profile_idx_unit(p, 1, 0, 0);
    hy_profile_stat_push(&p->sketch_overlap[1], i, 0.75);
    hy_profile_stat_push(&p->sketch_overlap[1], i, 0.25);
    const char *path = tmp_path("sel");
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    HY_OK_OR_FAIL(hy_profile_read(path, &q));
    HY_CHECK_NEAR(q->sketch_overlap[1].mean[i], 0.5, 1e-6);
    HY_CHECK_EQ_INT(q->sketch_overlap[1].count[i], 2);
    hy_profile_free(q);
    q = NULL;
    hid_t f = reopen(path);
    HY_REQUIRE(f >= 0);
    set_int_attr(f, "version", 1);
    H5Ldelete(f, "selector", H5P_DEFAULT);
    H5Fclose(f);
    HY_OK_OR_FAIL(hy_profile_read(path, &q));
    HY_CHECK(isnan(q->sketch_overlap[1].mean[i]) && q->sketch_overlap[1].count[i] == 0);
    hy_profile_free(q);
    remove(path);
    hy_profile_free(p);
}

HY_TEST(refuses_other_format_by_name) {
    hy_profile *p = make(), *q = NULL;
    HY_REQUIRE(p);
    const char *path = tmp_path("fmt");
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    hid_t f = reopen(path);
    HY_REQUIRE(f >= 0);
    H5Adelete(f, "format");
    set_int_attr(f, "format", 1);
    H5Fclose(f);
    HY_CHECK_EQ_INT(hy_profile_read(path, &q), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "'format' is not a string"));
    f = reopen(path);
    H5Adelete(f, "format");
    H5Fclose(f);
    HY_CHECK_EQ_INT(hy_profile_read(path, &q), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "'format' missing"));
    remove(path);
    hy_profile_free(p);
}

HY_TEST(missing_dataset_is_named) {
    hy_profile *p = make(), *q = NULL;
    HY_REQUIRE(p);
    const char *path = tmp_path("miss");
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    hid_t f = reopen(path);
    HY_REQUIRE(f >= 0);
    H5Ldelete(f, "cross/jaccard_std", H5P_DEFAULT);
    H5Fclose(f);
    HY_CHECK_EQ_INT(hy_profile_read(path, &q), HY_ENOTFOUND);
    HY_CHECK(strstr(hy_last_error(), "'/cross/jaccard_std' missing"));
    remove(path);
    hy_profile_free(p);
}

HY_TEST(optional_temporal_out_err_may_be_absent) {
    hy_profile *p = make(), *q = NULL;
    HY_REQUIRE(p);
    const char *path = tmp_path("opt");
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    hid_t f = reopen(path);
    HY_REQUIRE(f >= 0);
    H5Ldelete(f, "temporal/out_err", H5P_DEFAULT);
    H5Fclose(f);
    HY_OK_OR_FAIL(hy_profile_read(path, &q));
    HY_CHECK(isnan(q->temporal_out_err.mean[0]));
    remove(path);
    hy_profile_free(p);
    hy_profile_free(q);
}

HY_TEST(reshaped_dataset_is_named_with_shapes) {
    hy_profile *p = make(), *q = NULL;
    HY_REQUIRE(p);
    const char *path = tmp_path("shape");
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    hid_t f = reopen(path);
    HY_REQUIRE(f >= 0);
    H5Ldelete(f, "layer/out_err", H5P_DEFAULT);
    hsize_t dims[3] = {4, 3, 3};
    hid_t sp = H5Screate_simple(3, dims, NULL);
    hid_t d =
        H5Dcreate2(f, "layer/out_err", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(f);
    HY_CHECK_EQ_INT(hy_profile_read(path, &q), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "'/layer/out_err' has shape [4,3,3], expected [4,2,3]"));
    remove(path);
    hy_profile_free(p);
}

HY_TEST(not_hdf5_and_missing_file) {
    hy_profile *q = NULL;
    const char *path = tmp_path("text");
    FILE *f = fopen(path, "w");
    HY_REQUIRE(f);
    fputs("{\"format\": \"hylra-plan\"}\n", f);
    fclose(f);
    HY_CHECK_EQ_INT(hy_profile_read(path, &q), HY_EFORMAT);
    HY_CHECK(strstr(hy_last_error(), "not an HDF5 file"));
    remove(path);
    HY_CHECK_EQ_INT(hy_profile_read("/nonexistent/dir/p.h5", &q), HY_EIO);
}

/* Corrupt bytes: truncations and byte flips at seeded offsets must give an error or a
 * valid profile, never a crash. */
HY_TEST(corrupt_bytes_never_crash) {
    hy_profile *p = make();
    HY_REQUIRE(p);
    const char *path = tmp_path("corrupt");
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    FILE *f = fopen(path, "rb");
    HY_REQUIRE(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n), *mut = malloc((size_t)n);
    HY_REQUIRE(buf && mut && fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    char mpath[300];
    snprintf(mpath, sizeof mpath, "%s.mut", path);
    int errors = 0;
    for (int trial = 0; trial < 40; trial++) {
        memcpy(mut, buf, (size_t)n);
        long len = n;
        if (trial % 2)
            len = (long)(frand() * (float)n);
        else
            for (int j = 0; j < 8; j++)
                mut[(size_t)(frand() * (float)(n - 1))] ^= 0xff;
        FILE *g = fopen(mpath, "wb");
        HY_REQUIRE(g);
        fwrite(mut, 1, (size_t)len, g);
        fclose(g);
        hy_profile *q = NULL;
        hy_status st = hy_profile_read(mpath, &q);
        if (st) {
            errors++;
            HY_CHECK(q == NULL);
            HY_CHECK(strlen(hy_last_error()) > 10);
        }
        hy_profile_free(q);
    }
    HY_CHECK(errors >= 20); /* every truncation at least must fail */
    /* failed reads release every HDF5 handle they opened */
    HY_CHECK_EQ_INT(H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
    remove(mpath);
    remove(path);
    free(buf);
    free(mut);
    hy_profile_free(p);
}

HY_TEST(create_rejects_bad_grids) {
    hy_profile *p = NULL;
    int32_t bad[] = {64, 32}, good[] = {1};
    HY_CHECK_EQ_INT(hy_profile_create(2, 2, 1, 8, 2, bad, 1, good, 4, NULL, &p), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "ascending"));
    HY_CHECK_EQ_INT(hy_profile_create(2, 3, 2, 8, 1, good, 1, good, 4, NULL, &p), HY_EINVAL);
    HY_CHECK(p == NULL);
}

HY_TEST_MAIN()
