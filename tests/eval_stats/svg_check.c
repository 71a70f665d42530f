/* tests/eval_stats/svg_check: see svg_check.h. A hand-written scanner, deliberately strict:
 * it accepts only the XML subset our writers emit. */
#include "svg_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ':' || c == '.';
}

static int entity_ok(const char *p) { /* p at '&' */
    static const char *ents[] = {"&amp;", "&lt;", "&gt;", "&apos;", "&quot;"};
    for (size_t i = 0; i < sizeof ents / sizeof *ents; i++)
        if (!strncmp(p, ents[i], strlen(ents[i]))) return 1;
    return 0;
}

int svg_check(const char *s, const char *root, char *msg, size_t cap) {
    char stack[64][32];
    int depth = 0, roots = 0;
    const char *p = s;
#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(msg, cap, __VA_ARGS__);                                                           \
        return -1;                                                                                 \
    } while (0)
    while (*p) {
        if (*p == '&' && !entity_ok(p)) BAD("bad entity at offset %td", p - s);
        if (*p == '>') BAD("stray '>' at offset %td", p - s);
        if (*p != '<') {
            p++;
            continue;
        }
        if (!strncmp(p, "<?", 2)) {
            const char *e = strstr(p, "?>");
            if (!e || depth) BAD("bad processing instruction at offset %td", p - s);
            p = e + 2;
            continue;
        }
        if (!strncmp(p, "<!--", 4)) {
            const char *e = strstr(p, "-->");
            if (!e) BAD("unterminated comment at offset %td", p - s);
            p = e + 3;
            continue;
        }
        int closing = p[1] == '/';
        const char *n = p + 1 + closing, *q = n;
        while (name_char(*q))
            q++;
        size_t len = (size_t)(q - n);
        if (len == 0 || len >= 32) BAD("bad tag name at offset %td", p - s);
        if (closing) {
            if (*q != '>') BAD("bad closing tag at offset %td", p - s);
            if (!depth || strlen(stack[depth - 1]) != len || strncmp(stack[depth - 1], n, len))
                BAD("closing </%.*s> at offset %td does not match <%s>", (int)len, n, p - s,
                    depth ? stack[depth - 1] : "(none)");
            depth--;
            p = q + 1;
            continue;
        }
        if (depth == 0) {
            if (roots++ || strlen(root) != len || strncmp(root, n, len))
                BAD("root element <%.*s> at offset %td, expected one <%s>", (int)len, n, p - s,
                    root);
        }
        for (;;) { /* attributes */
            while (*q == ' ' || *q == '\n' || *q == '\t')
                q++;
            if (*q == '>' || (q[0] == '/' && q[1] == '>')) break;
            const char *a = q;
            while (name_char(*q))
                q++;
            if (q == a || *q != '=' || (q[1] != '\'' && q[1] != '"'))
                BAD("bad attribute at offset %td", a - s);
            char quote = q[1];
            q += 2;
            while (*q && *q != quote) {
                if (*q == '<') BAD("'<' inside an attribute at offset %td", q - s);
                if (*q == '&' && !entity_ok(q)) BAD("bad entity at offset %td", q - s);
                q++;
            }
            if (!*q) BAD("unterminated attribute at offset %td", a - s);
            q++;
        }
        if (*q == '/') {
            p = q + 2;
            continue;
        }
        if (depth == 64) BAD("nesting deeper than 64 at offset %td", p - s);
        snprintf(stack[depth++], 32, "%.*s", (int)len, n);
        p = q + 1;
    }
    if (depth) BAD("<%s> never closed", stack[depth - 1]);
    if (!roots) BAD("no root element");
    return 0;
#undef BAD
}

char *svg_read(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

int svg_xmllint(const char *path, int *ran) {
#ifdef HY_XMLLINT
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --noout '%s'", HY_XMLLINT, path);
    *ran = 1;
    return system(cmd);
#else
    (void)path;
    *ran = 0;
    return 0;
#endif
}
