/* hylra report: renders a profile (formats/profile) as one self-contained HTML page with SVG
 * pictures (profiler/hy_report.h). */
#include "commands.h"
#include "hy_common.h"
#include "hy_profile.h"
#include "hy_report.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: hylra report PROF.h5 -o REPORT.html [options]\n"
            "  -o, --output PATH    HTML page to write\n"
            "      --k K            k of the pictures (nearest grid value; default 256)\n"
            "      --layer L        layer of the head-pair heatmap (default: the layer with\n"
            "                       the largest own-set out_err)\n"
            "      --sensitive E    own-set out_err above which a layer is marked (default 0.1)\n");
}

int hy_cmd_report(int argc, char **argv) {
    enum { O_K = 256, O_LAYER, O_SENS };
    static const struct option lo[] = {{"output", 1, 0, 'o'},    {"k", 1, 0, O_K},
                                       {"layer", 1, 0, O_LAYER}, {"sensitive", 1, 0, O_SENS},
                                       {"help", 0, 0, 'h'},      {0, 0, 0, 0}};
    hy_report_opts o = {256, -1, 0.1f};
    const char *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case O_K:
            o.k = atoi(optarg);
            break;
        case O_LAYER:
            o.layer = atoi(optarg);
            break;
        case O_SENS:
            o.sensitive_err = strtof(optarg, NULL);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!out || optind + 1 != argc) {
        usage(stderr);
        return 2;
    }
    hy_profile *p = NULL;
    if (hy_profile_read(argv[optind], &p)) return hy_cli_die("reading the profile");
    int rc = 0;
    if (hy_report_write_html(p, &o, out))
        rc = hy_cli_die("writing the report");
    else
        fprintf(stderr, "report: wrote %s\n", out);
    hy_profile_free(p);
    return rc;
}
