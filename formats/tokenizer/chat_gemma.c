/* Gemma's chat turn format (Gemma 2 and 3), rendered natively: the text llama.cpp's built-in
 * "gemma" template produces (tests/fixtures/chat_gemma.json, scripts/fixtures/chat_gemma.py).
 * Turns are "<start_of_turn>ROLE\n" + content trimmed of surrounding whitespace +
 * "<end_of_turn>\n", with the assistant's role written "model"; system messages are not turns
 * of their own: their trimmed text, concatenated, opens the next user turn followed by a
 * blank line (and is dropped if no user turn follows). BOS is the tokenizer's. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

static bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* s without its leading and trailing whitespace: start and length */
static void trimmed(const char *s, const char **at, size_t *len) {
    size_t n = strlen(s);
    while (n && space(*s))
        s++, n--;
    while (n && space(s[n - 1]))
        n--;
    *at = s, *len = n;
}

hy_status hy_chat_render_gemma(const hy_chat_msg *msgs, size_t n, bool add_generation_prompt,
                               char **out) {
    if (!out || (n && !msgs)) return hy_fail(HY_EINVAL, "hy_chat_render_gemma: NULL argument");
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return hy_fail(HY_EINVAL, "hy_chat_render_gemma: message %zu has no %s", i,
                           msgs[i].role ? "content" : "role");
    hy_sbuf b = {0}, sys = {0};
    hy_sbuf_put(&b, "", 0);
    hy_sbuf_put(&sys, "", 0);
    for (size_t i = 0; i < n; i++) {
        const char *c;
        size_t cn;
        trimmed(msgs[i].content, &c, &cn);
        if (!strcmp(msgs[i].role, "system")) {
            hy_sbuf_put(&sys, c, cn);
            continue;
        }
        const bool model = !strcmp(msgs[i].role, "assistant") || !strcmp(msgs[i].role, "model");
        const char *role = model ? "model" : msgs[i].role;
        hy_sbuf_put(&b, "<start_of_turn>", 15);
        hy_sbuf_put(&b, role, strlen(role));
        hy_sbuf_put(&b, "\n", 1);
        if (!model && sys.n) {
            hy_sbuf_put(&b, sys.p, sys.n);
            hy_sbuf_put(&b, "\n\n", 2);
            sys.n = 0;
        }
        hy_sbuf_put(&b, c, cn);
        hy_sbuf_put(&b, "<end_of_turn>\n", 14);
    }
    if (add_generation_prompt) hy_sbuf_put(&b, "<start_of_turn>model\n", 21);
    const bool oom = b.oom || sys.oom;
    free(sys.p);
    if (oom) {
        free(b.p);
        return hy_fail(HY_ENOMEM, "hy_chat_render_gemma: out of memory");
    }
    *out = b.p;
    return HY_OK;
}
