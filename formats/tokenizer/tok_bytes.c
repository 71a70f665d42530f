/* Byte-level helpers: GPT-2's byte<->unicode map (every byte gets a printable code point so
 * that BPE token texts are valid UTF-8 without spaces or control characters), a strict UTF-8
 * decoder and the string hash the vocabulary tables use. */
#include "tok_internal.h"

/* Bytes GPT-2 keeps as themselves: printable Latin-1 minus space and the soft hyphen. */
static int byte_is_direct(int b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

static uint32_t byte_to_cpt(uint8_t b) {
    if (byte_is_direct(b)) return b;
    /* the others take 256, 257, ... in byte order */
    uint32_t n = 0;
    for (int c = 0; c < b; c++)
        if (!byte_is_direct(c)) n++;
    return 256 + n;
}

void hy_tok_byte_to_utf8(uint8_t b, char out[2], int *n) {
    uint32_t c = byte_to_cpt(b);
    if (c < 0x80) {
        out[0] = (char)c;
        *n = 1;
    } else { /* every mapped code point is below 0x800 */
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        *n = 2;
    }
}

int hy_tok_cpt_to_byte(uint32_t cpt) {
    if (cpt < 256) return byte_is_direct((int)cpt) ? (int)cpt : -1;
    uint32_t n = 256;
    for (int b = 0; b < 256; b++)
        if (!byte_is_direct(b) && n++ == cpt) return b;
    return -1;
}

int hy_tok_utf8_next(const unsigned char *s, size_t n, uint32_t *cpt) {
    if (n == 0) return 0;
    unsigned char c = s[0];
    int len;
    uint32_t v, min;
    if (c < 0x80) {
        *cpt = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < (size_t)len) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cpt = v;
    return len;
}

/* FNV-1a, 64 bit: token texts are short, and this is only used for table lookups. */
uint64_t hy_tok_hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}
