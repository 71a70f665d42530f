/* tests/eval_stats/svg_check: a tiny XML well-formedness check for the SVGs the tests write
 * (balanced and properly nested tags, quoted attributes, known entities, one root), plus
 * xmllint when meson found it. Enough to catch an unescaped '<' or a tag left open. */
#ifndef HY_SVG_CHECK_H
#define HY_SVG_CHECK_H

#include <stddef.h>

/* 0 when text is well-formed with root element `root`; else -1 and why in msg. */
int svg_check(const char *text, const char *root, char *msg, size_t cap);
/* Reads the file at path (caller frees), NULL on failure. */
char *svg_read(const char *path);
/* xmllint --noout on path: 0 ok or not installed (*ran = 0), else its exit status. */
int svg_xmllint(const char *path, int *ran);

#endif
