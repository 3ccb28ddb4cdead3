#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void reserve(gg_strbuf *b, size_t more) {
    if (b->failed || b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) cap *= 2;
    char *bigger = realloc(b->p, cap);
    if (!bigger) {
        b->failed = 1;
        return;
    }
    b->p = bigger;
    b->cap = cap;
}

void gg_sb_printf(gg_strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) b->failed = 1;
    else reserve(b, (size_t)n);
    if (b->failed) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void gg_sb_clear(gg_strbuf *b) {
    b->len = 0;
    reserve(b, 0);
    if (!b->failed) b->p[0] = 0;
}

// The length of the UTF-8 character that starts s (of n bytes), or 0 when
// it is not one: overlong forms, surrogates and code points past U+10FFFF
// are not.
static size_t utf8_char(const unsigned char *s, size_t n) {
    if (s[0] < 0x80) return 1;
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (!len || len > n || s[0] > 0xf4) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return len;
}

void gg_sb_json_string(gg_strbuf *b, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    gg_sb_printf(b, "\"");
    while (p < end) {
        size_t k = utf8_char(p, (size_t)(end - p));
        if (*p == '"' || *p == '\\') gg_sb_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f) gg_sb_printf(b, "\\u%04x", *p);
        else if (k) gg_sb_printf(b, "%.*s", (int)k, (const char *)p);
        else gg_sb_printf(b, "\\ufffd");
        p += k ? k : 1;
    }
    gg_sb_printf(b, "\"");
}
