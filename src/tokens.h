// A sequence of token ids that may live in pieces: an int array in memory,
// or shards mapped in from disk (16-bit little-endian ids). Training draws
// its windows from one, whatever its pieces.
#ifndef GLASSGPT_TOKENS_H
#define GLASSGPT_TOKENS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const int *ints;     // either ints in memory,
    const uint8_t *le16; // or 16-bit little-endian ids (a mapped shard)
    size_t n;
} gg_token_piece;

typedef struct {
    const gg_token_piece *pieces;
    int n_pieces;
    size_t n;  // the tokens of all pieces
} gg_token_seq;

// Copies tokens start .. start + count - 1 of s (which must exist) to out,
// across pieces.
void gg_token_seq_read(const gg_token_seq *s, size_t start, size_t count, int *out);

#endif
