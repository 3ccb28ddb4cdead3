#include "shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"  // gg_crc32
#include "fileio.h"
#ifndef __wasi__
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static const char *const split_names[] = {"train", "val"};

void gg_shard_name(char *out, size_t cap, int split, int index) {
    snprintf(out, cap, "%s_%06d.bin", split_names[split == GG_SHARD_VAL], index);
}

int gg_shard_name_split(const char *name) {
    size_t n = strlen(name);
    if (n < 4 || strcmp(name + n - 4, ".bin") != 0) return -1;
    for (int split = GG_SHARD_TRAIN; split <= GG_SHARD_VAL; split++) {
        size_t k = strlen(split_names[split]);
        if (strncmp(name, split_names[split], k) == 0 && name[k] == '_') return split;
    }
    return -1;
}

uint32_t gg_tokenizer_fingerprint(const gg_tokenizer *t) {
    uint8_t *buf = malloc(8 * (size_t)t->n_merges + 1);
    if (!buf) return 0;
    for (int i = 0; i < t->n_merges; i++) {
        put32(buf + 8 * i, t->merges[i].left);
        put32(buf + 8 * i + 4, t->merges[i].right);
    }
    uint32_t crc = gg_crc32(buf, 8 * (size_t)t->n_merges);
    free(buf);
    return crc;
}

int gg_shard_write(const char *path, const uint32_t *ids, size_t n, const gg_tokenizer *t,
                   int split, gg_error *err) {
    uint32_t vocab = (uint32_t)gg_tokenizer_vocab(t);
    uint8_t *buf = malloc(GG_SHARD_HEADER + 2 * n);
    if (!buf) return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory for %zu ids", path, n);
    memset(buf, 0, GG_SHARD_HEADER);
    memcpy(buf, GG_SHARD_MAGIC, 8);
    put32(buf + 8, GG_SHARD_VERSION);
    put32(buf + 12, 2);
    put32(buf + 16, (uint32_t)n);
    put32(buf + 20, (uint32_t)((uint64_t)n >> 32));
    put32(buf + 24, vocab);
    put32(buf + 28, gg_tokenizer_fingerprint(t));
    put32(buf + 36, (uint32_t)split);
    uint8_t *o = buf + GG_SHARD_HEADER;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= vocab) {
            free(buf);
            return gg_fail(err, GG_ERR_ARG, "%s: id %u is outside the vocabulary of %u", path,
                           ids[i], vocab);
        }
        o[2 * i] = (uint8_t)ids[i];
        o[2 * i + 1] = (uint8_t)(ids[i] >> 8);
    }
    put32(buf + 32, gg_crc32(o, 2 * n));
    int rc = gg_write_file_atomic(path, buf, GG_SHARD_HEADER + 2 * n, err);
    free(buf);
    return rc;
}

// Checks a shard held in memory (data, len); fills s but its map.
static int check(const char *path, const uint8_t *data, size_t len, gg_shard *s, gg_error *err) {
    if (len < 8 || memcmp(data, GG_SHARD_MAGIC, 8) != 0)
        return gg_fail(err, GG_ERR_FORMAT, "%s: not a glassgpt token shard (it does not start "
                       "with '" GG_SHARD_MAGIC "')", path);
    if (len < GG_SHARD_HEADER)
        return gg_fail(err, GG_ERR_FORMAT, "%s: truncated at byte %zu (the header alone is %d "
                       "bytes)", path, len, GG_SHARD_HEADER);
    uint32_t version = get32(data + 8), width = get32(data + 12);
    uint64_t count = get32(data + 16) | (uint64_t)get32(data + 20) << 32;
    if (version != GG_SHARD_VERSION)
        return gg_fail(err, GG_ERR_FORMAT, "%s: token shard format version %u; this build reads "
                       "version %d", path, version, GG_SHARD_VERSION);
    if (width != 2)
        return gg_fail(err, GG_ERR_FORMAT, "%s: ids of %u bytes; glassgpt's shards hold 2",
                       path, width);
    if (count > (uint64_t)(len - GG_SHARD_HEADER) / 2 ||
        (uint64_t)GG_SHARD_HEADER + 2 * count != (uint64_t)len)
        return gg_fail(err, GG_ERR_FORMAT, "%s: %zu bytes where a header and %llu ids take "
                       "%llu; the file is truncated or has bytes after its end", path, len,
                       (unsigned long long)count,
                       (unsigned long long)(GG_SHARD_HEADER + 2 * count));
    s->ids = data + GG_SHARD_HEADER;
    s->count = (size_t)count;
    s->vocab = get32(data + 24);
    s->fingerprint = get32(data + 28);
    s->split = (int)get32(data + 36);
    if (s->vocab < GG_BPE_BYTES || s->vocab > GG_BPE_MAX_VOCAB || s->split > GG_SHARD_VAL)
        return gg_fail(err, GG_ERR_FORMAT, "%s: the header holds an impossible vocabulary (%u) "
                       "or split (%d); the file is corrupted", path, s->vocab, s->split);
    if (gg_crc32(s->ids, 2 * s->count) != get32(data + 32))
        return gg_fail(err, GG_ERR_FORMAT, "%s: corrupted: the CRC-32 does not match the ids",
                       path);
    for (size_t i = 0; i < s->count; i++)
        if ((uint32_t)(s->ids[2 * i] | s->ids[2 * i + 1] << 8) >= s->vocab)
            return gg_fail(err, GG_ERR_FORMAT, "%s: id %zu is outside the vocabulary of %u", path,
                           i, s->vocab);
    return GG_OK;
}

int gg_shard_open(const char *path, gg_shard *s, gg_error *err) {
    memset(s, 0, sizeof *s);
#ifdef __wasi__
    uint8_t *data;
    size_t len;
    int rc = gg_read_file_max(path, SIZE_MAX, &data, &len, err);
    if (rc) return rc;
    s->map = data;
    s->map_len = len;
#else
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gg_fail(err, GG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gg_fail(err, GG_ERR_IO, "%s: not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (len && map == MAP_FAILED)
        return gg_fail(err, GG_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    s->map = map;
    s->map_len = len;
    const uint8_t *data = map;
    int rc = GG_OK;
#endif
    rc = check(path, data ? data : (const uint8_t *)"", len, s, err);
    if (rc) gg_shard_close(s);
    return rc;
}

void gg_shard_close(gg_shard *s) {
#ifdef __wasi__
    free(s->map);
#else
    if (s->map) munmap(s->map, s->map_len);
#endif
    memset(s, 0, sizeof *s);
}
