/* Chat templates without a Jinja engine: the template text is reduced to a canonical form
 * (whitespace inside tags dropped, string literals unescaped and re-quoted one way, text
 * outside tags trimmed as Jinja does with trim_blocks + lstrip_blocks, which is how
 * llama-cpp-python and transformers render) and compared with the canonical form of each
 * template family we can render natively. A family may leave one slot open: the default
 * system message, taken from the file. ChatML families render here; Gemma 3's template renders
 * through chat_gemma.c, the renderer a Gemma vocabulary without a template also gets. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

#define SYS_SLOT "@@HY_SYSTEM@@"

typedef enum { FAM_CHATML, FAM_GEMMA } family_kind;

typedef struct {
    const char *name;
    const char *skeleton; /* Jinja text; SYS_SLOT marks the default system message */
    bool default_system;
    family_kind kind;
} family;

static const family families[] = {
    {"chatml-default-system",
     "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
     "{{ '<|im_start|>system\n" SYS_SLOT "<|im_end|>\n' }}{% endif %}"
     "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
     true, FAM_CHATML},
    {"chatml",
     "{% for message in messages %}"
     "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
     false, FAM_CHATML},
    /* Gemma 3's template (google/gemma-3-*-it tokenizer_config.json; the text itself is in
     * scripts/fixtures/chat_gemma.py), laid out compactly: its whitespace between tags is all
     * eaten by {%- -%}. List contents (images) never reach us: hy_chat_msg is text. */
    {"gemma3",
     "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
     "{% if messages[0]['content'] is string %}"
     "{% set first_user_prefix = messages[0]['content'] + '\n\n' %}"
     "{% else %}{% set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' %}"
     "{% endif %}{% set loop_messages = messages[1:] %}"
     "{% else %}{% set first_user_prefix = '' %}{% set loop_messages = messages %}{% endif %}"
     "{% for message in loop_messages %}"
     "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
     "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
     "{% endif %}"
     "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}"
     "{% else %}{% set role = message['role'] %}{% endif %}"
     "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
     "{% if message['content'] is string %}{{ message['content'] | trim }}"
     "{% elif message['content'] is iterable %}{% for item in message['content'] %}"
     "{% if item['type'] == 'image' %}{{ '<start_of_image>' }}"
     "{% elif item['type'] == 'text' %}{{ item['text'] | trim }}{% endif %}{% endfor %}"
     "{% else %}{{ raise_exception('Invalid content type') }}{% endif %}"
     "{{ '<end_of_turn>\n' }}{% endfor %}"
     "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}",
     false, FAM_GEMMA},
};

void hy_sbuf_put(hy_sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_puts(hy_sbuf *b, const char *s) {
    hy_sbuf_put(b, s, strlen(s));
}

static bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Emits a text segment (outside tags) if anything is left of it. */
static void put_text(hy_sbuf *out, const char *s, size_t n) {
    if (!n) return;
    sb_puts(out, "T'");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\') hy_sbuf_put(out, "\\", 1);
        hy_sbuf_put(out, s + i, 1);
    }
    sb_puts(out, "'");
}

/* Canonical form of a template; NULL when a tag or literal is not closed (not a template
 * we could recognise anyway) or on allocation failure. */
static char *canonical(const char *t, size_t n) {
    hy_sbuf out = {0};
    size_t i = 0;
    bool strip_next = false, trim_nl = false; /* from the previous tag's close */
    hy_sbuf_put(&out, "", 0);
    while (i <= n) {
        size_t j = i;
        while (j + 1 < n &&
               !(t[j] == '{' && (t[j + 1] == '{' || t[j + 1] == '%' || t[j + 1] == '#')))
            j++;
        if (j + 1 >= n) j = n;
        size_t a = i, b = j;
        if (strip_next)
            while (a < b && is_space(t[a]))
                a++;
        else if (trim_nl && a < b && t[a] == '\n')
            a++;
        else if (trim_nl && a + 1 < b && t[a] == '\r' && t[a + 1] == '\n')
            a += 2;
        if (j == n) { /* Jinja drops one trailing newline of the template */
            if (b > a && t[b - 1] == '\n') b--;
            put_text(&out, t + a, b - a);
            break;
        }
        char kind = t[j + 1];
        size_t k = j + 2;
        bool minus_open = k < n && t[k] == '-', plus_open = k < n && t[k] == '+';
        if (minus_open || plus_open) k++;
        if (minus_open) {
            while (b > a && is_space(t[b - 1]))
                b--;
        } else if (kind != '{' && !plus_open) { /* lstrip_blocks: the tag starts its line */
            size_t c = b;
            while (c > a && (t[c - 1] == ' ' || t[c - 1] == '\t'))
                c--;
            if (c == 0 || t[c - 1] == '\n') b = c; /* t[c-1] may be a newline trim_blocks ate */
        }
        put_text(&out, t + a, b - a);
        char close = kind == '{' ? '}' : kind;
        sb_puts(&out, kind == '{' ? "{{" : kind == '%' ? "{%" : "{#");
        char last = 0;
        bool closed = false, minus_close = false;
        while (k < n) {
            char c = t[k];
            if ((c == '-' || c == '+') && k + 2 < n + 0 && t[k + 1] == close && t[k + 2] == '}') {
                minus_close = c == '-';
                k += 3, closed = true;
                break;
            }
            if (c == close && k + 1 < n && t[k + 1] == '}') {
                k += 2, closed = true;
                break;
            }
            if (kind == '#') {
                k++;
                continue;
            }
            if (is_space(c)) {
                size_t m = k;
                while (m < n && is_space(t[m]))
                    m++;
                if (m < n && is_ident(last) && is_ident(t[m])) hy_sbuf_put(&out, " ", 1);
                k = m;
                continue;
            }
            if (c == '\'' || c == '"') {
                hy_sbuf_put(&out, "'", 1);
                size_t m = k + 1;
                for (; m < n && t[m] != c; m++) {
                    char ch = t[m];
                    if (ch == '\\' && m + 1 < n) {
                        char e = t[++m];
                        ch = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
                        if (e != 'n' && e != 't' && e != 'r' && e != '\\' && e != '\'' && e != '"')
                            hy_sbuf_put(&out, "\\\\",
                                        2); /* unknown escape: Python keeps the backslash */
                    }
                    if (ch == '\'' || ch == '\\') hy_sbuf_put(&out, "\\", 1);
                    hy_sbuf_put(&out, &ch, 1);
                }
                if (m >= n) break; /* unterminated literal */
                hy_sbuf_put(&out, "'", 1);
                k = m + 1;
                last = '\'';
                continue;
            }
            hy_sbuf_put(&out, &c, 1);
            last = c;
            k++;
        }
        if (!closed) {
            free(out.p);
            return NULL;
        }
        if (kind == '#')
            out.n -= 2, out.p[out.n] = '\0'; /* comments render nothing */
        else
            sb_puts(&out, kind == '{' ? "}}" : "%}");
        strip_next = minus_close;
        trim_nl = kind != '{'; /* trim_blocks: a block or comment tag eats one newline */
        i = k;
    }
    if (out.oom) {
        free(out.p);
        return NULL;
    }
    return out.p;
}

/* Matches canonical template c against family f; on success *sys (malloc'd) is the default
 * system message for families that have one. */
static bool match_family(const char *c, const family *f, char **sys) {
    char *sk = canonical(f->skeleton, strlen(f->skeleton));
    if (!sk) return false;
    bool ok = false;
    const char *slot = strstr(sk, SYS_SLOT);
    if (!slot) {
        ok = !strcmp(c, sk);
    } else {
        size_t np = (size_t)(slot - sk), ns = strlen(slot + strlen(SYS_SLOT)), nc = strlen(c);
        if (nc >= np + ns && !memcmp(c, sk, np) &&
            !memcmp(c + nc - ns, slot + strlen(SYS_SLOT), ns)) {
            const char *m = c + np;
            size_t nm = nc - np - ns;
            char *s = malloc(nm + 1);
            size_t o = 0;
            ok = s != NULL;
            for (size_t i = 0; ok && i < nm; i++) {
                if (m[i] == '\'')
                    ok = false; /* the slot must stay inside one literal */
                else if (m[i] == '\\' && i + 1 < nm)
                    s[o++] = m[++i];
                else
                    s[o++] = m[i];
            }
            if (ok) {
                s[o] = '\0';
                *sys = s;
            } else {
                free(s);
            }
        }
    }
    free(sk);
    return ok;
}

static hy_status recognise(const char *tmpl, size_t len, const family **fam, char **sys) {
    *fam = NULL, *sys = NULL;
    if (!tmpl) return hy_fail(HY_EINVAL, "chat template: NULL text");
    char *c = canonical(tmpl, len);
    if (c) {
        for (size_t i = 0; i < sizeof families / sizeof families[0] && !*fam; i++)
            if (match_family(c, &families[i], sys)) *fam = &families[i];
        free(c);
    }
    if (!*fam) {
        char head[81];
        size_t h = len < 80 ? len : 80;
        memcpy(head, tmpl, h);
        head[h] = '\0';
        for (char *q = head; (q = strchr(q, '\n')) != NULL;)
            *q = ' ';
        return hy_fail(
            HY_EUNSUPPORTED,
            "chat template not recognised (%zu bytes, starting '%s'); recognised families: "
            "chatml, chatml-default-system, gemma3",
            len, head);
    }
    return HY_OK;
}

hy_status hy_chat_template_family(const char *tmpl, size_t tmpl_len, const char **name) {
    const family *f;
    char *sys;
    hy_status st = recognise(tmpl, tmpl_len, &f, &sys);
    if (st) return st;
    free(sys);
    *name = f->name;
    return HY_OK;
}

static void put_turn(hy_sbuf *b, const char *role, const char *content) {
    sb_puts(b, "<|im_start|>");
    sb_puts(b, role);
    sb_puts(b, "\n");
    sb_puts(b, content);
    sb_puts(b, "<|im_end|>\n");
}

hy_status hy_chat_render_template(const char *tmpl, size_t tmpl_len, const char *bos_token,
                                  const hy_chat_msg *msgs, size_t n, bool add_generation_prompt,
                                  char **out) {
    if (!out || (n && !msgs)) return hy_fail(HY_EINVAL, "hy_chat_render: NULL argument");
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return hy_fail(HY_EINVAL, "hy_chat_render: message %zu has no %s", i,
                           msgs[i].role ? "content" : "role");
    const family *f;
    char *sys;
    hy_status st = recognise(tmpl, tmpl_len, &f, &sys);
    if (st) return st;
    if (f->kind == FAM_GEMMA)
        return hy_chat_gemma_render(msgs, n, add_generation_prompt, bos_token, HY_GEMMA_TEMPLATE,
                                    out);
    hy_sbuf b = {0};
    hy_sbuf_put(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 && f->default_system && strcmp(msgs[0].role, "system"))
            put_turn(&b, "system", sys);
        put_turn(&b, msgs[i].role, msgs[i].content);
    }
    if (add_generation_prompt) sb_puts(&b, "<|im_start|>assistant\n");
    free(sys);
    if (b.oom) {
        free(b.p);
        return hy_fail(HY_ENOMEM, "hy_chat_render: out of memory");
    }
    *out = b.p;
    return HY_OK;
}

hy_status hy_chat_render(const hy_tokenizer *t, const hy_chat_msg *msgs, size_t n,
                         bool add_generation_prompt, char **out) {
    if (!t) return hy_fail(HY_EINVAL, "hy_chat_render: NULL tokenizer");
    /* {{ bos_token }} is the BOS token's text; Jinja prints nothing for an undefined one */
    const hy_token bos = hy_tokenizer_bos(t);
    const char *bos_text = bos != HY_TOKEN_NONE ? hy_tokenizer_token_text(t, bos) : "";
    if (t->chat_template)
        return hy_chat_render_template(t->chat_template, t->chat_template_len, bos_text, msgs, n,
                                       add_generation_prompt, out);
    /* a vocabulary with Gemma's turn markers and no template (Gemma 3 270M's GGUF): Gemma's
     * format as llama.cpp's built-in template renders it, through the renderer Gemma 3's own
     * template gets, BOS first as that template writes {{ bos_token }} first */
    if (hy_tokenizer_find(t, "<start_of_turn>", 15) == HY_TOKEN_NONE ||
        hy_tokenizer_find(t, "<end_of_turn>", 13) == HY_TOKEN_NONE)
        return hy_fail(HY_ENOTFOUND, "hy_chat_render: the model has no tokenizer.chat_template "
                                     "(and no Gemma turn markers to fall back on)");
    return hy_chat_gemma_render(msgs, n, add_generation_prompt, bos_text, HY_GEMMA_LLAMA_CPP, out);
}
