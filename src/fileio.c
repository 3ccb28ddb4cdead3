#define _DEFAULT_SOURCE  // for MADV_HUGEPAGE
#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/mman.h>
#endif
#include <unistd.h>

int gg_read_file(const char *path, uint8_t **data, size_t *len, gg_error *err) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return gg_fail(err, GG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *bigger = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2 + 1) : NULL;
        if (!bigger) {
            free(buf);
            fclose(f);
            return gg_fail(err, GG_ERR_NOMEM, "%s: too large to read into memory", path);
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        free(buf);
        return gg_fail(err, GG_ERR_IO, "%s: cannot read: %s", path, strerror(saved));
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return GG_OK;
}

#ifdef __wasi__
// WASI has neither mkstemp nor fchmod: a fixed temporary name will do, as a
// page has one writer.
int gg_write_file_atomic(const char *path, const void *data, size_t len, gg_error *err) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".tmp");
    if (!tmp) return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", sizeof ".tmp");
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    ok = f && fclose(f) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    int saved = errno;
    if (!ok) remove(tmp);
    free(tmp);
    return ok ? GG_OK : gg_fail(err, GG_ERR_IO, "%s: cannot write: %s", path, strerror(saved));
}
#else
int gg_write_file_atomic(const char *path, const void *data, size_t len,
                         gg_error *err) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".tmp-XXXXXX");
    if (!tmp) return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = gg_fail(err, GG_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                         path, strerror(errno));
        free(tmp);
        return rc;
    }
    const char *p = data;
    size_t left = len;
    int ok = fchmod(fd, 0644) == 0;
    while (ok && left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) ok = 0;
        else {
            p += w;
            left -= (size_t)w;
        }
    }
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    ok = (close(fd) == 0) && ok;
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return gg_fail(err, GG_ERR_IO, "%s: cannot write: %s (the previous file, if any, is untouched)",
                       path, strerror(saved));
    }
    free(tmp);
    return GG_OK;
}
#endif

void *gg_big_alloc(size_t size) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const size_t huge = 2u << 20;
    if (size >= huge) {
        size_t rounded = (size + huge - 1) / huge * huge;
        void *p = aligned_alloc(huge, rounded);
        if (p) madvise(p, rounded, MADV_HUGEPAGE);  // only a hint; failure is harmless
        return p;
    }
#endif
    return malloc(size ? size : 1);
}

void gg_big_free(void *p) { free(p); }
