// glassgpt prepare: a corpus of any size into token shards, in constant
// memory, on every core, with the same ids as one thread.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "../src/shard.h"
#include "cli.h"

static const char usage_prepare[] =
    "usage: glassgpt prepare CORPUS -t TOKENIZER -o DIR [--val F] [--shard-tokens N]\n"
    "                        [--threads N]\n"
    "\n"
    "Encodes CORPUS, a file of any size, into token shards for training:\n"
    "DIR/train_000000.bin, ... and DIR/val_000000.bin, ... (the format is in\n"
    "src/shard.h). The last F of the corpus (default 0.1) is held out for\n"
    "validation, cut where no token can span the cut. The corpus streams\n"
    "through in blocks, so memory does not grow with it, and each block is\n"
    "encoded on every core: the ids equal those of `glassgpt bpe encode`. A\n"
    "directory that already holds shards is refused. Train on the result with\n"
    "`glassgpt train --data DIR -t TOKENIZER`.\n"
    "\n"
    "  -t, --tokenizer FILE  the tokenizer (or a checkpoint, which carries one)\n"
    "  -o, --output DIR      where to write the shards (created if missing)\n"
    "  --val F               the held-out fraction, 0 to 0.5 (default 0.1)\n"
    "  --shard-tokens N      ids per shard (default 10,000,000: 20 MB)\n"
    "  --threads N           threads to encode with (default: all cores)\n";

enum { BLOCK = 16 << 20 };  // bytes of corpus in memory at once

typedef struct {
    const char *dir;
    const gg_tokenizer *tok;
    int split;
    uint32_t *ids;  // the shard being filled
    size_t n, cap;
    int written;    // shards written so far
    size_t total;   // ids written so far
} shard_out;

static int flush_shard(shard_out *o, gg_error *err) {
    if (o->n == 0) return GG_OK;
    char name[64], path[4096];
    gg_shard_name(name, sizeof name, o->split, o->written);
    snprintf(path, sizeof path, "%s/%s", o->dir, name);
    int rc = gg_shard_write(path, o->ids, o->n, o->tok, o->split, err);
    if (rc) return rc;
    o->written++;
    o->total += o->n;
    o->n = 0;
    return GG_OK;
}

static int add_ids(shard_out *o, const uint32_t *ids, size_t n, gg_error *err) {
    while (n > 0) {
        size_t take = o->cap - o->n < n ? o->cap - o->n : n;
        memcpy(o->ids + o->n, ids, sizeof *ids * take);
        o->n += take;
        ids += take;
        n -= take;
        if (o->n == o->cap && flush_shard(o, err)) return -1;
    }
    return GG_OK;
}

// Whether dir holds a file named like a shard.
static int holds_shards(const char *dir) {
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; d && !found && (e = readdir(d));)
        found = gg_shard_name_split(e->d_name) >= 0;
    if (d) closedir(d);
    return found;
}

static void progress(const char *corpus, size_t done, size_t total, double t0, int tty, int last) {
    static double shown;
    double now = now_seconds();
    if (!last && now - shown < (tty ? 0.25 : 5.0)) return;
    shown = now;
    double mbs = (double)done / 1e6 / (now - t0 > 1e-9 ? now - t0 : 1e-9);
    char eta[32];
    format_duration(mbs > 0 ? (double)(total - done) / 1e6 / mbs : 0, eta, sizeof eta);
    fprintf(stderr, "%sprepare: %s %.1f of %.1f MB | %.1f MB/s | ETA %s%s", tty ? "\r\033[K" : "",
            corpus, (double)done / 1e6, (double)total / 1e6, mbs, eta, last || !tty ? "\n" : "");
}

int cmd_prepare(int argc, char **argv) {
    const char *corpus = NULL, *tok_path = NULL, *dir = NULL, *v;
    double val = 0.1;
    long shard_tokens = 10000000, threads = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            fputs(usage_prepare, stdout);
            return EXIT_OK;
        } else if ((r = take_option(argc, argv, &i, "--tokenizer", "-t", &tok_path)) ||
                   (r = take_option(argc, argv, &i, "--output", "-o", &dir))) {
            if (r < 0) return usage_error("prepare", "%s needs a value", argv[i]);
        } else if ((r = take_option(argc, argv, &i, "--val", NULL, &v))) {
            if (r < 0 || !parse_float(v, 0.0, 0.5, &val))
                return usage_error("prepare", "--val needs a fraction from 0 to 0.5");
        } else if ((r = take_option(argc, argv, &i, "--shard-tokens", NULL, &v))) {
            if (r < 0 || !parse_long(v, 1, 1000000000, &shard_tokens))
                return usage_error("prepare", "--shard-tokens needs a number from 1 to 1e9");
        } else if ((r = take_option(argc, argv, &i, "--threads", NULL, &v))) {
            if (r < 0 || !parse_long(v, 1, 256, &threads))
                return usage_error("prepare", "--threads needs a number from 1 to 256");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("prepare", "unknown option '%s'", argv[i]);
        } else if (!corpus) {
            corpus = argv[i];
        } else {
            return usage_error("prepare", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!corpus) return usage_error("prepare", "missing CORPUS, the text to encode");
    if (!tok_path) return usage_error("prepare", "missing -t TOKENIZER");
    if (!dir) return usage_error("prepare", "missing -o DIR, where to write the shards");

    gg_error err;
    gg_tokenizer tok;
    if (load_tokenizer_any(tok_path, &tok, &err)) return runtime_error("%s", err.msg);
    FILE *f = fopen(corpus, "rb");
    struct stat st;
    int rc = 0;
    if (!f) rc = runtime_error("%s: cannot open: %s", corpus, strerror(errno));
    else if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        rc = runtime_error("%s: not a regular file; prepare reads a file whose size it knows, to "
                           "hold out its end", corpus);
    else if (st.st_size == 0)
        rc = runtime_error("%s: the corpus is empty", corpus);
    struct stat dst;
    if (!rc && stat(dir, &dst) != 0 && mkdir(dir, 0755) != 0)
        rc = runtime_error("%s: cannot create the directory: %s", dir, strerror(errno));
    else if (!rc && stat(dir, &dst) == 0 && !S_ISDIR(dst.st_mode))
        rc = runtime_error("%s exists and is not a directory", dir);
    if (!rc && holds_shards(dir))  // training would read old shards with the new ones
        rc = runtime_error("%s already holds shards; remove them, or give another directory", dir);
    if (rc) {
        if (f) fclose(f);
        gg_tokenizer_free(&tok);
        return rc;
    }
    size_t size = (size_t)st.st_size;
    // The held-out part starts at the first seam at or after (1 - val) of
    // the corpus, within a megabyte (else exactly there).
    uint8_t *buf = malloc(BLOCK);
    uint32_t *ids = malloc(sizeof *ids * BLOCK);
    size_t val_at = size - (size_t)((double)size * val);
    if (buf && val_at < size) {
        size_t from = val_at > 0 ? val_at - 1 : 0;
        size_t got = fseeko(f, (off_t)from, SEEK_SET) == 0 ? fread(buf, 1, 1 << 20, f) : 0;
        size_t seam = got > 1 ? gg_bpe_next_seam(&tok, buf, got, val_at - from) : 0;
        if (seam) val_at = from + seam;
        rewind(f);
    }

    shard_out out[2];  // the training part's shards, then the held-out part's
    for (int split = GG_SHARD_TRAIN; split <= GG_SHARD_VAL; split++)
        out[split] = (shard_out){.dir = dir, .tok = &tok, .split = split,
                                 .ids = malloc(sizeof(uint32_t) * (size_t)shard_tokens),
                                 .cap = (size_t)shard_tokens};
    if (!buf || !ids || !out[0].ids || !out[1].ids)
        rc = gg_fail(&err, GG_ERR_NOMEM, "out of memory for a block of %d MB and a shard of %ld "
                     "ids", BLOCK >> 20, shard_tokens);
    int tty = isatty(STDERR_FILENO);
    double t0 = now_seconds();
    size_t pos = 0, have = 0;  // the block holds bytes pos .. pos + have
    while (!rc && pos < size) {
        size_t part_end = pos < val_at ? val_at : size;  // the train and val parts apart
        size_t want = BLOCK - have < part_end - pos - have ? BLOCK - have : part_end - pos - have;
        size_t got = fread(buf + have, 1, want, f);
        if (got != want) {
            rc = gg_fail(&err, GG_ERR_IO, "%s: cannot read%s%s", corpus, ferror(f) ? ": " : "",
                         ferror(f) ? strerror(errno) : " (the file shrank)");
            break;
        }
        have += got;
        int at_end = pos + have == part_end;
        size_t cut = at_end ? have : gg_bpe_last_seam(&tok, buf, have);
        if (!cut) {  // no seam in a whole block: a pathological text, encoded as it is
            cut = have;
        }
        size_t n_ids;
        if (gg_bpe_encode_parallel(&tok, buf, cut, ids, &n_ids, (int)threads, &err) ||
            add_ids(&out[pos >= val_at], ids, n_ids, &err)) {
            rc = -1;
            break;
        }
        memmove(buf, buf + cut, have - cut);
        pos += cut;
        have -= cut;
        progress(corpus, pos, size, t0, tty, 0);
    }
    fclose(f);
    if (!rc && flush_shard(&out[0], &err)) rc = -1;
    if (!rc && flush_shard(&out[1], &err)) rc = -1;
    if (!rc) {
        progress(corpus, size, size, t0, tty, 1);
        printf("wrote %zu training ids in %d shard%s and %zu validation ids in %d to %s\n",
               out[0].total, out[0].written, out[0].written == 1 ? "" : "s", out[1].total,
               out[1].written, dir);
    }
    free(buf);
    free(ids);
    free(out[0].ids);
    free(out[1].ids);
    gg_tokenizer_free(&tok);
    return rc ? runtime_error("%s", err.msg) : EXIT_OK;
}
