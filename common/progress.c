/* Progress lines on stderr for long commands: rate and ETA, redrawn in place on a terminal
 * and throttled to one line every 5 s when stderr is a file or pipe (CI logs). */
#include "hy_common.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double hy_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void hy_progress_begin(hy_progress *p, const char *label, int64_t total, const char *unit) {
    p->label = label;
    p->unit = unit;
    p->total = total;
    p->t0 = hy_now();
    p->last_print = 0;
    p->tty = isatty(2);
}

static void print_line(hy_progress *p, int64_t done, int final) {
    double el = hy_now() - p->t0;
    double rate = el > 0 ? (double)done / el : 0;
    char eta[32] = "";
    if (!final && p->total > 0 && rate > 0 && done < p->total)
        snprintf(eta, sizeof eta, ", ETA %.0fs", (double)(p->total - done) / rate);
    if (p->total > 0)
        fprintf(stderr, "%s%s: %lld/%lld %s, %.1f %s/s, %.1fs%s%s", p->tty ? "\r" : "", p->label,
                (long long)done, (long long)p->total, p->unit, rate, p->unit, el, eta,
                p->tty && !final ? "   " : "\n");
    else
        fprintf(stderr, "%s%s: %lld %s, %.1f %s/s, %.1fs%s", p->tty ? "\r" : "", p->label,
                (long long)done, p->unit, rate, p->unit, el, p->tty && !final ? "   " : "\n");
    if (final && p->tty) fputc('\n', stderr);
    fflush(stderr);
}

void hy_progress_update(hy_progress *p, int64_t done) {
    double now = hy_now();
    if (now - p->last_print < (p->tty ? 0.2 : 5.0)) return;
    p->last_print = now;
    print_line(p, done, 0);
}

void hy_progress_end(hy_progress *p, int64_t done) {
    print_line(p, done, 1);
}
