// A text buffer that grows as it is written, for JSON and other text made
// of many pieces: no fixed size to overflow, and every write is checked.
#ifndef GLASSGPT_STRBUF_H
#define GLASSGPT_STRBUF_H

#include <stddef.h>

typedef struct {
    char *p;     // NUL-terminated once anything is written; free() it
    size_t len, cap;
    int failed;  // out of memory: the contents are incomplete
} gg_strbuf;

void gg_sb_printf(gg_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Empties b, keeping its memory; b->p is then "" (not NULL).
void gg_sb_clear(gg_strbuf *b);
// s as a JSON string, quotes included: '"', '\' and control characters
// escaped, and a byte that is not part of valid UTF-8 written as U+FFFD.
void gg_sb_json_string(gg_strbuf *b, const char *s, size_t n);

#endif
