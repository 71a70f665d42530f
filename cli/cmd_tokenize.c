/* `hylra tokenize -m MODEL [-p TEXT | -f FILE] [--no-bos] [--no-special] [--chat] [-v]`:
 * the token ids of a text under the model's own tokenizer (formats/tokenizer), one line of
 * ids, or with -v one token per line with its text. --chat wraps the text as a user turn in
 * the model's chat template first. */
#include "commands.h"
#include "hy_common.h"
#include "hy_tokenizer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: hylra tokenize -m MODEL.gguf [-p TEXT | -f FILE] [options]\n\n"
        "Prints the token ids of TEXT (or of FILE, '-' for stdin) under the model's tokenizer.\n\n"
        "options:\n"
        "  -m, --model PATH   GGUF model whose tokenizer to use (required)\n"
        "  -p, --prompt TEXT  text to tokenize\n"
        "  -f, --file PATH    read the text from a file ('-' = stdin)\n"
        "      --no-bos       do not add BOS/EOS even where the model asks for them\n"
        "      --no-special   treat special-token text like <|im_start|> as plain text\n"
        "      --chat         render TEXT as a user message with the chat template\n"
        "                     (and the generation prompt) before tokenizing\n"
        "  -v, --verbose      one token per line: id, then its text as escaped bytes\n"
        "  -h, --help         show this help\n");
}

/* Length of the valid UTF-8 character at p[0..n), 0 if none starts there. */
static size_t utf8_char(const unsigned char *p, size_t n) {
    size_t need = p[0] >= 0xC2 && p[0] <= 0xDF   ? 2
                  : (p[0] & 0xF0) == 0xE0        ? 3
                  : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
                                                 : 0;
    if (!need || n < need) return 0;
    for (size_t i = 1; i < need; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) ||
        (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] > 0x8F))
        return 0;
    return need;
}

/* Bytes as printable text: escapes for control bytes, quotes and bytes that are not part of
 * a complete UTF-8 character (a token may hold half of one). */
static void print_escaped(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t k = c >= 0x80 ? utf8_char(p + i, n - i) : 1;
        if (k > 1)
            fwrite(p + i, 1, k, stdout);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '\r')
            fputs("\\r", stdout);
        else if (c == '\\' || c == '\'')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7F)
            printf("\\x%02x", c);
        else
            putchar(c);
        i += k ? k : 1;
    }
}

int hy_cmd_tokenize(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"prompt", required_argument, 0, 'p'},
                                         {"file", required_argument, 0, 'f'},
                                         {"no-bos", no_argument, 0, 'B'},
                                         {"no-special", no_argument, 0, 'S'},
                                         {"chat", no_argument, 0, 'c'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = NULL, *prompt = NULL, *file = NULL;
    unsigned flags = HY_TOK_ADD_SPECIAL | HY_TOK_PARSE_SPECIAL;
    int chat = 0, verbose = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:f:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'p':
            prompt = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'B':
            flags &= ~(unsigned)HY_TOK_ADD_SPECIAL;
            break;
        case 'S':
            flags &= ~(unsigned)HY_TOK_PARSE_SPECIAL;
            break;
        case 'c':
            chat = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!model || (!prompt == !file) || optind < argc) {
        fprintf(stderr, "hylra tokenize: need -m MODEL and exactly one of -p TEXT or -f FILE\n\n");
        usage(stderr);
        return 2;
    }
    size_t len = 0;
    char *text = NULL;
    if (file) {
        if (!(text = hy_cli_read_file(file, "input text", &len))) return hy_cli_die("tokenize");
    } else {
        len = strlen(prompt);
        if (!(text = hy_malloc(len + 1, "prompt"))) return hy_cli_die("tokenize");
        memcpy(text, prompt, len + 1);
    }
    hy_tokenizer *tok = NULL;
    if (hy_tokenizer_open(model, &tok)) {
        free(text);
        return hy_cli_die("tokenize");
    }
    if (chat) {
        char *user = realloc(text, len + 1), *rendered;
        if (!user) {
            free(text);
            hy_tokenizer_free(tok);
            hy_fail(HY_ENOMEM, "out of memory for a %zu-byte message", len);
            return hy_cli_die("tokenize --chat");
        }
        text = user;
        text[len] = '\0'; /* a NUL inside the file ends the message */
        hy_chat_msg m = {"user", text};
        if (hy_chat_render(tok, &m, 1, true, &rendered)) {
            free(text);
            hy_tokenizer_free(tok);
            return hy_cli_die("tokenize --chat");
        }
        free(text);
        text = rendered, len = strlen(rendered);
        flags &= ~(unsigned)HY_TOK_ADD_SPECIAL; /* the rendering carries its own, as generate's */
    }
    hy_token *ids;
    int64_t n;
    if (hy_tokenizer_encode(tok, text, len, flags, &ids, &n)) {
        free(text);
        hy_tokenizer_free(tok);
        return hy_cli_die("tokenize");
    }
    for (int64_t i = 0; i < n; i++) {
        if (verbose) {
            size_t bl;
            const char *b = hy_tokenizer_token_bytes(tok, ids[i], HY_TOK_DECODE_SPECIAL, &bl);
            printf("%6d  '", ids[i]);
            print_escaped(b, bl);
            puts("'");
        } else {
            printf(i ? " %d" : "%d", ids[i]);
        }
    }
    if (!verbose)
        putchar('\n');
    else
        fprintf(stderr, "%lld tokens, %zu bytes\n", (long long)n, len);
    free(ids);
    free(text);
    hy_tokenizer_free(tok);
    return 0;
}
