/* hylra report: renders a profile (formats/profile) as one self-contained HTML page with SVG
 * pictures (profiler/hy_report.h). */
#include "commands.h"
#include "eval_common.h"
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
    int c, layer_given = 0;
    long v = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case O_K:
            if (hy_cli_parse_int("report", "--k", optarg, 1, 1 << 30, &v)) return 2;
            o.k = (int32_t)v;
            break;
        case O_LAYER: /* its upper bound is the profile's: checked once it is read */
            if (hy_cli_parse_int("report", "--layer", optarg, 0, 1 << 20, &v)) return 2;
            o.layer = (int32_t)v, layer_given = 1;
            break;
        case O_SENS: {
            char *end = NULL;
            o.sensitive_err = strtof(optarg, &end);
            if (end == optarg || *end || !(o.sensitive_err >= 0)) {
                fprintf(stderr, "hylra report: --sensitive %s: expected a number >= 0\n", optarg);
                return 2;
            }
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!out || optind + 1 != argc) {
        fprintf(stderr, "hylra report: %s\n(hylra report --help lists the options)\n",
                optind >= argc      ? "missing PROF.h5"
                : optind + 1 < argc ? "one PROF.h5 only"
                                    : "missing -o REPORT.html");
        return 2;
    }
    hy_profile *p = NULL;
    if (hy_cli_check_output("report", "-o", out)) return 2;
    if (hy_profile_read(argv[optind], &p)) return hy_cli_die("reading the profile");
    if (hy_profile_check_complete(p, argv[optind])) {
        hy_profile_free(p);
        return hy_cli_die("report");
    }
    if (layer_given && o.layer >= p->n_layers) {
        fprintf(stderr, "hylra report: --layer %d: expected 0..%d (the profile's layers)\n",
                o.layer, p->n_layers - 1);
        hy_profile_free(p);
        return 2;
    }
    int rc = 0;
    if (hy_report_write_html(p, &o, out))
        rc = hy_cli_die("writing the report");
    else
        fprintf(stderr, "report: wrote %s\n", out);
    hy_profile_free(p);
    return rc;
}
