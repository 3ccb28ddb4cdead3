// Token shards: a corpus tokenized once, so that training reads ids instead
// of text, through mmap, in memory that does not grow with the corpus.
//
//   offset  field
//   0       magic "GGTOKENS"
//   8       u32 format version (1)
//   12      u32 bytes per id (2: every vocabulary of glassgpt fits in 16 bits)
//   16      u64 number of ids
//   24      u32 vocabulary size of the tokenizer (every id is below it)
//   28      u32 the tokenizer's fingerprint: CRC-32 of its merges, each as
//           u32 left, u32 right, little-endian
//   32      u32 CRC-32 of the ids
//   36      u32 split: 0 training, 1 validation
//   40      24 bytes of zeros (reserved)
//   64      the ids, little-endian
//
// As llm.c's .bin shards, a header and then the ids; unlike them, every
// field is checked on opening.
#ifndef GLASSGPT_SHARD_H
#define GLASSGPT_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "tokenizer.h"

enum { GG_SHARD_VERSION = 1, GG_SHARD_HEADER = 64, GG_SHARD_TRAIN = 0, GG_SHARD_VAL = 1 };
#define GG_SHARD_MAGIC "GGTOKENS"

// Shards are named for their split and number: train_000000.bin, ...,
// val_000000.bin, ... Writes the name of shard `index` to out (of cap
// bytes); gg_shard_name_split tells a name's split, or -1 for another file.
void gg_shard_name(char *out, size_t cap, int split, int index);
int gg_shard_name_split(const char *name);

uint32_t gg_tokenizer_fingerprint(const gg_tokenizer *t);

// Writes n ids (each below the tokenizer's vocabulary) as a shard, atomically.
int gg_shard_write(const char *path, const uint32_t *ids, size_t n, const gg_tokenizer *t,
                   int split, gg_error *err);

typedef struct {
    const uint8_t *ids;  // count little-endian 16-bit ids, mapped in
    size_t count;
    uint32_t vocab, fingerprint;
    int split;
    void *map;           // the whole file, mapped
    size_t map_len;
} gg_shard;

// Maps a shard in and checks it whole: magic, version, sizes, the CRC of the
// ids and that every id is below the vocabulary. A truncated, foreign or
// corrupted file is refused with a message that says which.
int gg_shard_open(const char *path, gg_shard *s, gg_error *err);
void gg_shard_close(gg_shard *s);

#endif
