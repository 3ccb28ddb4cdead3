// The tokenizer's text file format: see tokenizer.h.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "tokenizer.h"

#define MAGIC "glassgpt-bpe"

typedef struct {
    const char *p, *end;  // the unread text
    const char *name;
    int line;             // number of the line last returned
} reader;

// Returns the next line as [*s, *e) without its newline, or 0 at the end of
// the text. A last line without a newline means the file was cut short.
static int next_line(reader *r, const char **s, const char **e, gg_error *err, int *rc) {
    if (r->p >= r->end) return 0;
    r->line++;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    if (!nl) {
        *rc = gg_fail(err, GG_ERR_FORMAT,
                      "%s:%d: truncated: the last line does not end with a newline; "
                      "was the file copied completely?", r->name, r->line);
        return 0;
    }
    *s = r->p;
    *e = nl;
    r->p = nl + 1;
    return 1;
}

static void skip_blanks(const char **p, const char *e) {
    while (*p < e && (**p == ' ' || **p == '\t' || **p == '\r')) ++*p;
}

// Parses an unsigned decimal number of at most 32 bits.
static int parse_u32(const char **p, const char *e, uint32_t *v) {
    const char *q = *p;
    uint64_t x = 0;
    while (q < e && *q >= '0' && *q <= '9' && x <= UINT32_MAX) x = x * 10 + (uint64_t)(*q++ - '0');
    if (q == *p || x > UINT32_MAX || (q < e && *q != ' ' && *q != '\t' && *q != '\r')) return 0;
    *v = (uint32_t)x;
    *p = q;
    return 1;
}

// Parses "WORD NUMBER" exactly (a header line).
static int parse_header(const char *s, const char *e, const char *word, uint32_t *v) {
    size_t n = strlen(word);
    if ((size_t)(e - s) <= n || memcmp(s, word, n) != 0 || (s[n] != ' ' && s[n] != '\t')) return 0;
    s += n;
    skip_blanks(&s, e);
    if (!parse_u32(&s, e, v)) return 0;
    skip_blanks(&s, e);
    return s == e;
}

int gg_tokenizer_parse(gg_tokenizer *t, const char *text, size_t len,
                       const char *name, gg_error *err) {
    memset(t, 0, sizeof *t);
    reader r = {text, text + len, name, 0};
    const char *s, *e;
    int rc = GG_OK;
    uint32_t version, vocab;

    if (!next_line(&r, &s, &e, err, &rc)) {
        return rc ? rc : gg_fail(err, GG_ERR_FORMAT, "%s: the file is empty; "
                                 "expected a glassgpt tokenizer ('" MAGIC " %d')",
                                 name, GG_BPE_FILE_VERSION);
    }
    if (!parse_header(s, e, MAGIC, &version))
        return gg_fail(err, GG_ERR_FORMAT, "%s:1: not a glassgpt tokenizer file "
                       "(the first line should be '" MAGIC " %d')", name, GG_BPE_FILE_VERSION);
    if (version != GG_BPE_FILE_VERSION)
        return gg_fail(err, GG_ERR_FORMAT, "%s:1: unknown format version %u; this build of "
                       "glassgpt reads version %d%s", name, version, GG_BPE_FILE_VERSION,
                       version > GG_BPE_FILE_VERSION ? ", so it was written by a newer one" : "");
    if (!next_line(&r, &s, &e, err, &rc))
        return rc ? rc : gg_fail(err, GG_ERR_FORMAT, "%s:2: truncated: the 'vocab N' line is "
                                 "missing", name);
    if (!parse_header(s, e, "vocab", &vocab))
        return gg_fail(err, GG_ERR_FORMAT, "%s:2: expected 'vocab N', found '%.*s'", name,
                       (int)(e - s > 60 ? 60 : e - s), s);
    if (vocab < GG_BPE_BYTES || vocab > GG_BPE_MAX_VOCAB)
        return gg_fail(err, GG_ERR_FORMAT, "%s:2: vocabulary size %u is %s", name, vocab,
                       vocab < GG_BPE_BYTES ? "below 256, the byte alphabet"
                                            : "over the maximum of 65536");

    int want = (int)vocab - GG_BPE_BYTES, n = 0;
    gg_pair *merges = malloc(sizeof *merges * (want ? want : 1));
    uint32_t *counts = malloc(sizeof *counts * (want ? want : 1));
    int *lines = malloc(sizeof *lines * (want ? want : 1));
    if (!merges || !counts || !lines) {
        rc = gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", name);
        goto out;
    }
    while (next_line(&r, &s, &e, err, &rc)) {
        const char *hash = memchr(s, '#', (size_t)(e - s));
        if (hash) e = hash;
        skip_blanks(&s, e);
        if (s == e) continue;
        if (n == want) {
            rc = gg_fail(err, GG_ERR_FORMAT, "%s:%d: more merges than 'vocab %u' allows (%d)",
                         name, r.line, vocab, want);
            goto out;
        }
        const char *p = s;
        uint32_t l = 0, rt = 0, c = 0;
        int ok = parse_u32(&p, e, &l);
        skip_blanks(&p, e);
        ok = ok && parse_u32(&p, e, &rt);
        skip_blanks(&p, e);
        if (ok && p < e) ok = parse_u32(&p, e, &c);
        skip_blanks(&p, e);
        if (!ok || p != e) {
            rc = gg_fail(err, GG_ERR_FORMAT, "%s:%d: expected 'left right [count]', found '%.*s'",
                         name, r.line, (int)(e - s > 60 ? 60 : e - s), s);
            goto out;
        }
        merges[n] = (gg_pair){l, rt};
        counts[n] = c;
        lines[n++] = r.line;
    }
    if (rc) goto out;
    if (n < want) {
        rc = gg_fail(err, GG_ERR_FORMAT, "%s:%d: truncated: 'vocab %u' promises %d merges but the "
                     "file ends after %d; was it copied completely?", name, r.line, vocab, want, n);
        goto out;
    }
    int bad = -1;
    gg_error why;
    rc = gg_tokenizer_init(t, merges, counts, n, &bad, &why);
    if (rc) {
        if (bad >= 0) gg_fail(err, rc, "%s:%d: %s", name, lines[bad], why.msg);
        else gg_fail(err, rc, "%s: %s", name, why.msg);
    }
out:
    free(merges);
    free(counts);
    free(lines);
    return rc;
}

int gg_tokenizer_format(const gg_tokenizer *t, char **text, size_t *len, gg_error *err) {
    // A line is at most three numbers, a comment mark and an escaped token.
    size_t cap = 64, longest = 0;
    for (int i = 0; i < t->n_merges; i++) {
        size_t n;
        gg_token_bytes(t, GG_BPE_BYTES + (uint32_t)i, &n);
        cap += 40 + 4 * n;
        if (n > longest) longest = n;
    }
    char *out = malloc(cap), *tok = malloc(4 * longest + 1);
    if (!out || !tok) {
        free(out);
        free(tok);
        return gg_fail(err, GG_ERR_NOMEM, "out of memory formatting a tokenizer");
    }
    size_t n = (size_t)sprintf(out, MAGIC " %d\nvocab %d\n", GG_BPE_FILE_VERSION,
                               gg_tokenizer_vocab(t));
    for (int i = 0; i < t->n_merges; i++) {
        size_t blen;
        const uint8_t *b = gg_token_bytes(t, GG_BPE_BYTES + (uint32_t)i, &blen);
        gg_escape_bytes(b, blen, tok);
        n += (size_t)sprintf(out + n, "%u %u %u # %s\n", t->merges[i].left, t->merges[i].right,
                             t->counts[i], tok);
    }
    free(tok);
    *text = out;
    *len = n;
    return GG_OK;
}

int gg_tokenizer_load(gg_tokenizer *t, const char *path, gg_error *err) {
    uint8_t *data;
    size_t len;
    memset(t, 0, sizeof *t);
    int rc = gg_read_file(path, &data, &len, err);
    if (rc) return rc;
    rc = gg_tokenizer_parse(t, (const char *)data, len, path, err);
    free(data);
    return rc;
}

int gg_tokenizer_save(const gg_tokenizer *t, const char *path, gg_error *err) {
    char *text;
    size_t len;
    int rc = gg_tokenizer_format(t, &text, &len, err);
    if (rc) return rc;
    rc = gg_write_file_atomic(path, text, len, err);
    free(text);
    return rc;
}
