/* hylra report's page: a profile renders to one HTML file with its five SVG pictures, no
 * external references, NaN cells as grey; an unwritable path is an error, not a crash. */
#include "hy_report.h"
#include "hy_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = calloc(1, 1 << 22);
    if (b && fread(b, 1, (1 << 22) - 1, f) == 0) b[0] = 0;
    fclose(f);
    return b;
}

static int count(const char *s, const char *w) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, w)); p++)
        n++;
    return n;
}

HY_TEST(report_has_every_picture_and_no_external_reference) {
    const int32_t kg[] = {32, 256}, st[] = {1, 2, 4};
    hy_profile *p = NULL;
    HY_OK_OR_FAIL(hy_profile_create(4, 6, 2, 8, 2, kg, 3, st, 10, NULL, &p));
    snprintf(p->model_name, sizeof p->model_name, "tiny");
    for (int32_t l = 0; l < 4; l++)
        for (int32_t h = 0; h < 2; h++)
            for (int32_t ki = 0; ki < 2; ki++) {
                hy_profile_stat_set(&p->layer_recall, hy_profile_idx_unit(p, l, h, ki), 0.9f, 0.01f,
                                    2);
                hy_profile_stat_set(&p->layer_out_err, hy_profile_idx_unit(p, l, h, ki),
                                    l == 2 ? 0.3f : 0.02f, 0.01f, 2);
            }
    hy_profile_stat_set(&p->cl_recall, hy_profile_idx_cl(p, 0, 1, 1), 0.77f, 0.0f, 2);
    char path[64];
    snprintf(path, sizeof path, "/tmp/hylra-test-report-%d.html", (int)getpid());
    hy_report_opts o = {256, -1, 0.1f};
    HY_OK_OR_FAIL(hy_report_write_html(p, &o, path));
    char *s = slurp(path);
    HY_REQUIRE(s);
    HY_CHECK_EQ_INT(count(s, "<svg "), 5);
    HY_CHECK_EQ_INT(count(s, "</svg>"), 5);
    HY_CHECK(strstr(s, "Head pairs of layer 2") != NULL); /* the most sensitive layer */
    HY_CHECK(strstr(s, "#c0392b") != NULL);               /* ... marked red */
    HY_CHECK(strstr(s, "0.7700") != NULL);                /* the cell value in its tooltip */
    HY_CHECK(strstr(s, "#dddddd") != NULL);               /* NaN cells grey */
    HY_CHECK(strstr(s, "http://") == NULL || count(s, "http://") == count(s, "xmlns='http://"));
    HY_CHECK(strstr(s, "<script") == NULL && strstr(s, "src=") == NULL);
    free(s);
    remove(path);
    HY_CHECK_EQ_INT(hy_report_write_html(p, &o, "/nonexistent-dir/r.html"), HY_EIO);
    hy_profile_free(p);
}

HY_TEST_MAIN()
