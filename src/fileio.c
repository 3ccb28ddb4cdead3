#define _GNU_SOURCE  // O_TMPFILE, MADV_HUGEPAGE
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/mman.h>
#endif
#ifndef __wasi__
#include <dirent.h>
#include <signal.h>
#endif
#include <unistd.h>

int gg_read_stream(FILE *f, const char *name, size_t max, uint8_t **data, size_t *len,
                   gg_error *err) {
    *data = NULL;
    *len = 0;
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return gg_fail(err, GG_ERR_IO, "%s: cannot read: %s", name, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return gg_fail(err, GG_ERR_IO, "%s: is a directory; give a file", name);
    struct stat null;  // /dev/null is the one device read: it is empty
    int is_null = S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) &&
                  null.st_rdev == st.st_rdev;
    // A pipe may be a socket: Node.js gives a child's standard input as one.
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !is_null &&
        !isatty(fileno(f)))
        return gg_fail(err, GG_ERR_IO, "%s: is not a regular file (a device?); give a file",
                       name);
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
        return gg_fail(err, GG_ERR_IO, "%s: is %lld bytes, more than the %zu MiB that glassgpt "
                       "reads whole", name, (long long)st.st_size, max >> 20);
    // A regular file is read in one allocation of its size; a pipe, a socket
    // or a terminal grows its buffer as it goes, up to max.
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size : 1 << 16, n = 0;
    uint8_t *buf = malloc(cap + 1);
    if (!buf) return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", name);
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (n >= max) {
            int over = fgetc(f) != EOF;
            if (!over) break;
            free(buf);
            return gg_fail(err, GG_ERR_IO, "%s: holds more than the %zu MiB that glassgpt reads "
                           "whole", name, max >> 20);
        }
        size_t bigger_cap = cap > max / 2 ? max : cap * 2;
        uint8_t *bigger = realloc(buf, bigger_cap + 1);
        if (!bigger) {
            free(buf);
            return gg_fail(err, GG_ERR_NOMEM, "%s: too large to read into memory", name);
        }
        buf = bigger;
        cap = bigger_cap;
    }
    if (ferror(f)) {
        int saved = errno;
        free(buf);
        return gg_fail(err, GG_ERR_IO, "%s: cannot read: %s", name, strerror(saved));
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return GG_OK;
}

int gg_read_file_max(const char *path, size_t max, uint8_t **data, size_t *len, gg_error *err) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return gg_fail(err, GG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int rc = gg_read_stream(f, path, max, data, len, err);
    fclose(f);
    return rc;
}

int gg_read_file(const char *path, uint8_t **data, size_t *len, gg_error *err) {
    return gg_read_file_max(path, GG_READ_MAX, data, len, err);
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
int gg_check_writable(const char *path, gg_error *err) {
    (void)path, (void)err;
    return GG_OK;
}
#else
// Where a write to path goes: path itself, or, when path is a link, the file
// it leads to, so that models/latest.ckpt -> run3.ckpt updates run3.ckpt and
// keeps the link. Only a regular file is ever replaced; *mode receives its
// permissions (0644 for a new file).
static int write_target(const char *path, char **dest, mode_t *mode, gg_error *err) {
    struct stat st;
    *dest = NULL;
    *mode = 0644;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return gg_fail(err, GG_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        *dest = strdup(path);
        return *dest ? GG_OK : gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", path);
    }
    if (S_ISLNK(st.st_mode)) {
        if (!(*dest = realpath(path, NULL)))
            return gg_fail(err, GG_ERR_IO, "%s: is a link that leads nowhere (%s); remove it or "
                           "write elsewhere", path, strerror(errno));
        if (stat(*dest, &st) != 0) st.st_mode = 0;
    } else if (!(*dest = strdup(path))) {
        return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", path);
    }
    if (!S_ISREG(st.st_mode)) {
        const char *what = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
                           : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                        : "not a regular file";
        free(*dest);
        *dest = NULL;
        return gg_fail(err, GG_ERR_IO, "%s: is %s; glassgpt writes only regular files, which it "
                       "replaces whole", path, what);
    }
    *mode = st.st_mode & 0777;
    return GG_OK;
}

int gg_check_writable(const char *path, gg_error *err) {
    char *dest;
    mode_t mode;
    int rc = write_target(path, &dest, &mode, err);
    free(dest);
    return rc;
}

static int write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w;
        len -= (size_t)w;
    }
    return 1;
}

// A temporary file is named "<target>.tmp-<pid>-<suffix>" (TMP_INFIX). One
// whose process is gone was left by a kill between naming it and renaming
// it; the next write of the same target removes it. Nothing is removed whose
// process still runs, nor anything of another name.
#define TMP_INFIX ".tmp-"
static void remove_stale_temporaries(const char *dir, const char *base) {
    DIR *d = opendir(dir);
    if (!d) return;  // only tidying: the write itself has succeeded
    size_t blen = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        if (strncmp(name, base, blen) != 0 ||
            strncmp(name + blen, TMP_INFIX, strlen(TMP_INFIX)) != 0)
            continue;
        const char *digits = name + blen + strlen(TMP_INFIX);
        char *end;
        errno = 0;
        long pid = strtol(digits, &end, 10);
        if (errno || end == digits || *end != '-' || pid <= 0 || pid == (long)getpid() ||
            (pid_t)pid != pid)
            continue;
        struct stat st;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to tell
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            unlinkat(dirfd(d), name, 0);
    }
    closedir(d);
}

// The bytes are written to a file with no name in the target's directory
// (O_TMPFILE), which the system removes by itself if the process dies, even
// by kill -9 or SIGXFSZ. Only when they are all on disk is it given a
// temporary name and renamed over the target in one step; a kill between
// the two leaves a complete copy, which the next write removes. Where
// O_TMPFILE is not supported, a named temporary file (mkstemp) does the
// same, removed on every failure this process sees.
int gg_write_file_atomic(const char *path, const void *data, size_t len, gg_error *err) {
    char *dest;
    mode_t mode;
    int rc = write_target(path, &dest, &mode, err);
    if (rc) return rc;
    size_t dlen = strlen(dest);
    char *dir = malloc(dlen + 2), *tmp = malloc(dlen + 64);
    if (!dir || !tmp) {
        free(dir), free(tmp), free(dest);
        return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(dir, dest, dlen + 1);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? dest + (slash - dir) + 1 : dest;  // the target's own name
    if (slash) slash[slash == dir ? 1 : 0] = 0;
    else strcpy(dir, ".");

    int named = 0;
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
#else
    int fd = -1;
#endif
    if (fd < 0) {
        snprintf(tmp, dlen + 64, "%s" TMP_INFIX "%ld-XXXXXX", dest, (long)getpid());
        fd = mkstemp(tmp);
        named = 1;
    }
    int ok = fd >= 0, saved = errno;
    const char *stage = "cannot create a temporary file beside it";
    if (ok && named && !(ok = fchmod(fd, mode) == 0)) saved = errno;
    if (ok && !(ok = write_all(fd, data, len))) saved = errno, stage = "cannot write";
    if (ok && !(ok = fsync(fd) == 0)) saved = errno, stage = "cannot write";
    if (ok && !named) {
        // give the finished file a temporary name
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        for (unsigned i = 0; i < 100; i++) {
            snprintf(tmp, dlen + 64, "%s" TMP_INFIX "%ld-%u", dest, (long)getpid(), i);
            if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0) {
                named = 1;
                break;
            }
            if (errno != EEXIST) break;
        }
        if (!(ok = named)) saved = errno, stage = "cannot name the written file";
    }
    if (fd >= 0 && close(fd) != 0 && ok) ok = 0, saved = errno, stage = "cannot write";
    if (ok && rename(tmp, dest) != 0) ok = 0, saved = errno, stage = "cannot replace it";
    if (!ok && named) unlink(tmp);
    if (ok) remove_stale_temporaries(dir, base);
    free(dir), free(tmp), free(dest);
    if (!ok)
        return gg_fail(err, GG_ERR_IO, "%s: %s: %s (the previous file, if any, is untouched)",
                       path, stage, strerror(saved));
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
