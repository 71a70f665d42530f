/* Gemma's chat turn format (Gemma 2 and 3), one renderer for both ways a file asks for it:
 * Gemma 3's own Jinja template, recognised in chat_template.c (family "gemma3"), and a Gemma
 * vocabulary with no template at all, rendered as llama.cpp's built-in "gemma" template does.
 * Both write BOS, then "<start_of_turn>ROLE\n" + content trimmed + "<end_of_turn>\n" per turn
 * with the assistant's role written "model", a system message folded into the first user
 * turn, and "<start_of_turn>model\n" as the generation prompt. The two differ only where the
 * template is stricter (hy_gemma_dialect). References: tests/fixtures/chat_gemma.json from
 * scripts/fixtures/chat_gemma.py (jinja2 through llama-cpp-python, and llama.cpp itself). */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

/* C isspace in the "C" locale: what llama.cpp's trim() strips. */
static bool c_space(unsigned cp) {
    return cp == ' ' || (cp >= '\t' && cp <= '\r');
}

/* Python's str.isspace: what Jinja's trim filter (str.strip) strips. */
static bool py_space(unsigned cp) {
    return c_space(cp) || (cp >= 0x1c && cp <= 0x1f) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

/* The code point of the UTF-8 sequence at s[0..n) and its length; a byte that starts no
 * valid sequence reads as itself (never a space above 0x7f), length 1. */
static unsigned utf8_at(const unsigned char *s, size_t n, size_t *len) {
    unsigned c = s[0];
    size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (k == 1 || k == 0 || k > n) {
        *len = 1;
        return k == 1 ? c : 0xfffd;
    }
    unsigned cp = c & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *len = 1;
            return 0xfffd;
        }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    *len = k;
    return cp;
}

/* s without its leading and trailing whitespace (Python's or C's): start and length. */
static void trimmed(const char *text, bool python, const char **at, size_t *len) {
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), k;
    while (n) {
        unsigned cp = utf8_at(s, n, &k);
        if (!(python ? py_space(cp) : c_space(cp))) break;
        s += k, n -= k;
    }
    while (n) {
        size_t b = n - 1; /* start of the last character: back over continuation bytes */
        while (b && n - b < 4 && (s[b] & 0xc0) == 0x80)
            b--;
        unsigned cp = utf8_at(s + b, n - b, &k);
        if (b + k != n) /* not one whole character: a lone byte, a space only if ASCII */
            b = n - 1, cp = s[b] < 0x80 ? s[b] : 0xfffd;
        if (!(python ? py_space(cp) : c_space(cp))) break;
        n = b;
    }
    *at = (const char *)s, *len = n;
}

hy_status hy_chat_gemma_render(const hy_chat_msg *msgs, size_t n, bool add_generation_prompt,
                               const char *bos, hy_gemma_dialect d, char **out) {
    if (!out || (n && !msgs)) return hy_fail(HY_EINVAL, "Gemma chat format: NULL argument");
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return hy_fail(HY_EINVAL, "Gemma chat format: message %zu has no %s", i,
                           msgs[i].role ? "content" : "role");
    const bool tmpl = d == HY_GEMMA_TEMPLATE;
    /* the template reads messages[0] unconditionally: Jinja fails on an empty list */
    if (tmpl && !n)
        return hy_fail(HY_EINVAL, "Gemma's chat template: no messages (it reads messages[0])");
    hy_sbuf b = {0}, sys = {0};
    hy_sbuf_put(&b, bos ? bos : "", bos ? strlen(bos) : 0);
    hy_sbuf_put(&sys, "", 0);
    size_t first = 0;    /* the first message the turn loop sees */
    bool pending = true; /* the system text still waits for a user turn */
    if (tmpl) {          /* only messages[0] may be the system message, kept untrimmed */
        pending = !strcmp(msgs[0].role, "system");
        if (pending) hy_sbuf_put(&sys, msgs[0].content, strlen(msgs[0].content)), first = 1;
    }
    hy_status st = HY_OK;
    for (size_t i = first; i < n && !st; i++) {
        const char *c;
        size_t cn;
        trimmed(msgs[i].content, tmpl, &c, &cn);
        const bool user = !strcmp(msgs[i].role, "user");
        if (tmpl && user != ((i - first) % 2 == 0)) {
            st = hy_fail(HY_EINVAL,
                         "Gemma's chat template: message %zu has role '%s'; conversation roles "
                         "must alternate user/assistant/user/assistant/... (after one optional "
                         "system message)",
                         i, msgs[i].role);
            break;
        }
        if (!tmpl && !strcmp(msgs[i].role, "system")) { /* llama.cpp: merged, in order */
            hy_sbuf_put(&sys, c, cn);
            continue;
        }
        const bool model = !strcmp(msgs[i].role, "assistant") || !strcmp(msgs[i].role, "model");
        const char *role = model ? "model" : msgs[i].role;
        hy_sbuf_put(&b, "<start_of_turn>", 15);
        hy_sbuf_put(&b, role, strlen(role));
        hy_sbuf_put(&b, "\n", 1);
        /* the template: the first turn (a user's) even for an empty system text; llama.cpp:
         * the next non-model turn, and only a non-empty text */
        if (!model && pending && (tmpl || sys.n)) {
            hy_sbuf_put(&b, sys.p, sys.n);
            hy_sbuf_put(&b, "\n\n", 2);
            sys.n = 0;
        }
        if (tmpl) pending = false;
        hy_sbuf_put(&b, c, cn);
        hy_sbuf_put(&b, "<end_of_turn>\n", 14);
    }
    if (add_generation_prompt) hy_sbuf_put(&b, "<start_of_turn>model\n", 21);
    const bool oom = b.oom || sys.oom;
    free(sys.p);
    if (!st && oom) st = hy_fail(HY_ENOMEM, "Gemma chat format: out of memory");
    if (st) {
        free(b.p);
        return st;
    }
    *out = b.p;
    return HY_OK;
}

hy_status hy_chat_render_gemma(const hy_chat_msg *msgs, size_t n, bool add_generation_prompt,
                               char **out) {
    return hy_chat_gemma_render(msgs, n, add_generation_prompt, NULL, HY_GEMMA_LLAMA_CPP, out);
}
