/* tests/eval_stats/test_svg_plot: the generic SVG plot writer of common/hy_svg.h: output is
 * well-formed XML with every text escaped, non-finite points are skipped, degenerate ranges
 * still give finite coordinates, and bad arguments are errors. */
#include "hy_svg.h"
#include "hy_test.h"
#include "svg_check.h"

#include <stdlib.h>
#include <unistd.h>

static char *plot_to_string(const char *title, const hy_svg_panel *p, int32_t n, int *st) {
    char path[] = "/tmp/hy_svg_plotXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    close(fd);
    *st = hy_svg_plot_file(path, title, "note <&>", p, n, 2);
    char *s = svg_read(path);
    int ran = 0, lint = svg_xmllint(path, &ran);
    if (ran && lint)
        HY_FAILF("xmllint rejected %s (exit %d)", path, lint);
    else
        remove(path);
    return s;
}

HY_TEST(plot_is_wellformed_and_escaped) {
    double x[4] = {0.1, 0.5, NAN, 0.3}, y[4] = {0.9, 0.99, 0.5, 0.95};
    double lo[4] = {0.85, 0.98, 0.4, 0.9}, hi[4] = {0.95, 1.0, 0.6, 0.97};
    hy_svg_series s[2] = {
        {"dp <a&b>", x, y, lo, hi, 4, 0, true, false},
        {"window \"w\"", x, y, NULL, NULL, 2, 1, false, true},
    };
    hy_svg_panel p[2] = {
        {"ctx 2048", "cost", "agreement", s, 2, 1.0, "dense", 0, NAN, NAN, NAN},
        {"ctx 'b'", "cost", "agreement", s, 1, NAN, NULL, NAN, NAN, NAN, NAN},
    };
    int st = -1;
    char *svg = plot_to_string("title <x> & y", p, 2, &st);
    HY_REQUIRE(svg);
    HY_CHECK_EQ_INT(st, HY_OK);
    char msg[256];
    if (svg_check(svg, "svg", msg, sizeof msg)) HY_FAILF("not well-formed: %s", msg);
    HY_CHECK(strstr(svg, "title &lt;x&gt; &amp; y") != NULL);
    HY_CHECK(strstr(svg, "dp &lt;a&amp;b&gt;") != NULL);
    HY_CHECK(strstr(svg, "window &quot;w&quot;") != NULL);
    HY_CHECK(strstr(svg, "ctx &apos;b&apos;") != NULL);
    HY_CHECK(strstr(svg, "stroke-dasharray") != NULL); /* the reference line */
    HY_CHECK(strstr(svg, "polyline") != NULL);
    HY_CHECK(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL);
    free(svg);
}

HY_TEST(degenerate_ranges_stay_finite) {
    double x[3] = {0.5, 0.5, 0.5}, y[3] = {1, 1, 1};
    hy_svg_series s = {"flat", x, y, NULL, NULL, 3, 2, true, false};
    hy_svg_panel p = {NULL, "x", "y", &s, 1, 1.0, "ref", NAN, NAN, NAN, NAN};
    hy_svg_panel empty = {"nothing", "x", "y", NULL, 0, NAN, NULL, NAN, NAN, NAN, NAN};
    hy_svg_panel both[2] = {p, empty};
    int st = -1;
    char *svg = plot_to_string(NULL, both, 2, &st);
    HY_REQUIRE(svg);
    HY_CHECK_EQ_INT(st, HY_OK);
    char msg[256];
    if (svg_check(svg, "svg", msg, sizeof msg)) HY_FAILF("not well-formed: %s", msg);
    HY_CHECK(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL);
    free(svg);
}

HY_TEST(bad_arguments_are_errors) {
    hy_svg_series s = {"broken", NULL, NULL, NULL, NULL, 3, 0, true, false};
    hy_svg_panel p = {NULL, "x", "y", &s, 1, NAN, NULL, NAN, NAN, NAN, NAN};
    HY_CHECK_EQ_INT(hy_svg_plot(stdout, "t", NULL, &p, 0, 1), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_svg_plot(NULL, "t", NULL, &p, 1, 1), HY_EINVAL);
    FILE *f = tmpfile();
    HY_REQUIRE(f);
    HY_CHECK_EQ_INT(hy_svg_plot(f, "t", NULL, &p, 1, 1), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "broken") != NULL);
    fclose(f);
    HY_CHECK_EQ_INT(hy_svg_plot_file("/nonexistent-dir/x.svg", "t", NULL, &p, 1, 1), HY_EIO);
}

HY_TEST(palette_cycles) {
    HY_CHECK(strcmp(hy_svg_color(0), hy_svg_color(10)) == 0);
    HY_CHECK(strcmp(hy_svg_color(0), hy_svg_color(1)) != 0);
    HY_CHECK(strcmp(hy_svg_color(-1), hy_svg_color(9)) == 0);
}

/* The checker the other cases rely on must itself reject broken XML. */
HY_TEST(checker_rejects_broken_svg) {
    char msg[256];
    HY_CHECK(svg_check("<svg><g></g></svg>", "svg", msg, sizeof msg) == 0);
    HY_CHECK(svg_check("<svg><g></svg>", "svg", msg, sizeof msg) != 0);
    HY_CHECK(svg_check("<svg><text>a < b</text></svg>", "svg", msg, sizeof msg) != 0);
    HY_CHECK(svg_check("<svg><text>a & b</text></svg>", "svg", msg, sizeof msg) != 0);
    HY_CHECK(svg_check("<svg x=1/>", "svg", msg, sizeof msg) != 0);
    HY_CHECK(svg_check("<svg/><svg/>", "svg", msg, sizeof msg) != 0);
    HY_CHECK(svg_check("<svg><g/>", "svg", msg, sizeof msg) != 0);
}

HY_TEST_MAIN()
