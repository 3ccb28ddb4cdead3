// Byte-level byte pair encoding (BPE), with exactly the semantics of
// karpathy/minbpe's BasicTokenizer.
//
// The base vocabulary is the 256 byte values, so every input encodes and no
// token is ever unknown. Merge i joins the pair merges[i] into the new token
// 256 + i. Training picks, in each round, the most frequent adjacent pair of
// the current sequence (overlapping occurrences count: "aaa" holds (a,a)
// twice); a tie goes to the pair whose first occurrence is leftmost. The
// winner is then replaced left to right without overlap. Encoding repeats
// "merge the present pair of lowest rank, everywhere, left to right" until no
// learned pair is left, which is minbpe's encode.
#ifndef GLASSGPT_TOKENIZER_H
#define GLASSGPT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum {
    GG_BPE_BYTES = 256,      // ids 0..255 are the raw bytes
    GG_BPE_MAX_VOCAB = 65536,
    GG_BPE_DEFAULT_VOCAB = 768,
    GG_BPE_TOP = 10,         // candidates recorded per training step
    // The bytes of all tokens together. A trained vocabulary of 65,536 tokens
    // holds well under a megabyte; a merge list that joins a token to itself
    // over and over doubles a token's length each time, and would otherwise
    // ask for gigabytes from a file of a few hundred bytes.
    GG_BPE_MAX_TOKEN_BYTES = 8 << 20,
};

typedef struct {
    uint32_t left, right;
} gg_pair;

typedef struct {
    int n_merges;
    gg_pair *merges;       // [n_merges] merge i makes token 256 + i
    uint32_t *counts;      // [n_merges] occurrences when merged; 0 = not recorded
    // Derived at construction: the bytes of every token, and a hash from pair
    // to merge rank for the encoder.
    uint32_t *tok_start;   // [vocab + 1] token t is tok_bytes[tok_start[t] ..
    uint8_t *tok_bytes;    //             tok_start[t + 1])
    struct gg_rank_slot {
        uint32_t key;      // left << 16 | right
        int32_t rank;      // merge rank, -1 for an empty slot
    } *rank_slots;         // [rank_mask + 1]
    uint32_t rank_mask;
    uint16_t *byte_rank;   // [65536] rank of the pair of bytes (x << 8 | y), or
                           // 0xffff: the first step of every encoding
    // Most tokens are never the left (or never the right) part of a merge.
    // Those that are get a dense index, and when the vocabulary is small the
    // ranks sit in a table that fits in cache. Its last row and column stand
    // for every token that is never a left (right) part, so a lookup needs
    // no branch.
    uint16_t *left_index;  // [vocab] n_left: never a left part
    uint16_t *right_index; // [vocab] n_right: never a right part
    uint32_t n_left, n_right;
    uint16_t *rank_table;  // [(n_left + 1) x (n_right + 1)] 0xffff: no merge;
                           // NULL: use the hash
    // Bit (x << 8 | y) is set when some token holds byte x followed by byte y.
    // Where two such bytes are not joinable, no merge can ever cross.
    uint64_t joinable[65536 / 64];
} gg_tokenizer;

static inline int gg_tokenizer_vocab(const gg_tokenizer *t) {
    return GG_BPE_BYTES + t->n_merges;
}

// Builds a tokenizer from a merge list, checking that every id is defined
// before it is used, that no pair is merged twice, and that the tokens' bytes
// add up to at most GG_BPE_MAX_TOKEN_BYTES. counts may be NULL.
// Copies its inputs. When a merge is invalid, *bad_merge (if not NULL)
// receives its index.
int gg_tokenizer_init(gg_tokenizer *t, const gg_pair *merges, const uint32_t *counts,
                      int n_merges, int *bad_merge, gg_error *err);
void gg_tokenizer_free(gg_tokenizer *t);

// The bytes of token id (which must be < vocab); *len receives their count.
static inline const uint8_t *gg_token_bytes(const gg_tokenizer *t, uint32_t id,
                                            size_t *len) {
    *len = t->tok_start[id + 1] - t->tok_start[id];
    return t->tok_bytes + t->tok_start[id];
}

// ---- training ----

// One training step as recorded for the walkthrough: the new token and the
// best candidate pairs at that moment, best first. top[0] is the pair that
// was merged, with its count. All fields are uint32 so that JavaScript can
// read a trace in place as a Uint32Array of 2 + 3 * GG_BPE_TOP words a step.
typedef struct {
    uint32_t left, right, count;
} gg_bpe_candidate;

typedef struct {
    uint32_t id;     // 256 + step
    uint32_t n_top;  // how many entries of top are filled (<= GG_BPE_TOP)
    gg_bpe_candidate top[GG_BPE_TOP];
} gg_bpe_step;

typedef void (*gg_bpe_progress_fn)(void *user, int merges_done, int merges_wanted);

typedef struct {
    int vocab_size;               // target vocabulary, 256..65536
    gg_bpe_step *trace;           // optional: room for vocab_size - 256 steps
    gg_bpe_progress_fn progress;  // optional: called after every merge
    void *progress_user;
    int threads;  // threads that count the byte pairs at the start (0: all of
                  // them); any number gives the same merges
    int *pieces;  // optional: receives how many pieces of the text the byte
                  // pairs were counted in (one per thread, each at least 256 KB)
} gg_bpe_train_opts;

// Learns merges from text until vocab_size is reached, the sequence has no
// pair left (a corpus too small), or the next token would take the tokens'
// bytes past GG_BPE_MAX_TOKEN_BYTES (a corpus that repeats one long text);
// t->n_merges then says how many were learned. On success *t is initialised and *n_tokens, when not NULL,
// receives the length of the text in tokens after the last merge.
int gg_bpe_train(gg_tokenizer *t, const uint8_t *text, size_t n,
                 const gg_bpe_train_opts *opts, size_t *n_tokens, gg_error *err);

// ---- encoding and decoding ----

// Encodes n bytes into ids, which must have room for n ids (a token is never
// shorter than one byte). *n_ids receives the number of ids written; the
// entries after them may have been used as scratch.
int gg_bpe_encode(const gg_tokenizer *t, const uint8_t *text, size_t n,
                  uint32_t *ids, size_t *n_ids, gg_error *err);

// The last seam of text: the largest i in 1 .. n-1 such that no merge can
// join byte i - 1 to byte i, or 0 when there is none. Encoding the text cut
// there, in two calls, gives exactly the ids of one call, so a large input
// can be encoded a piece at a time, on any number of threads.
size_t gg_bpe_last_seam(const gg_tokenizer *t, const uint8_t *text, size_t n);
// The first seam at or after `from` (1 <= from), or 0 when there is none.
size_t gg_bpe_next_seam(const gg_tokenizer *t, const uint8_t *text, size_t n, size_t from);

// gg_bpe_encode on up to `threads` threads (0: all of them): the text is cut
// at seams near even splits and the pieces encoded at once. The same ids as
// one call, always.
int gg_bpe_encode_parallel(const gg_tokenizer *t, const uint8_t *text, size_t n, uint32_t *ids,
                           size_t *n_ids, int threads, gg_error *err);

// Replays the encoder on a short text, round by round, for showing: each
// round merges every occurrence of the present pair of lowest rank, as
// minbpe does. Writes to out, for the start and after every round, the
// state as [rank of the merge (-1 for the start), count, ids...], and
// returns the number of words written, or -1 when cap is too small (16 + 3n
// words per round is always enough). The last state equals gg_bpe_encode's.
long gg_bpe_encode_steps(const gg_tokenizer *t, const uint8_t *text, size_t n, int32_t *out,
                         size_t cap);

// The number of bytes that ids decode to, or GG_ERR_ARG (with the index of
// the offending id in the message) when an id is outside the vocabulary.
int gg_bpe_decoded_size(const gg_tokenizer *t, const uint32_t *ids, size_t n_ids,
                        size_t *n_bytes, gg_error *err);

// Writes the bytes of ids to out, which must hold gg_bpe_decoded_size bytes.
int gg_bpe_decode(const gg_tokenizer *t, const uint32_t *ids, size_t n_ids,
                  uint8_t *out, gg_error *err);

// ---- the file format ----
//
//   glassgpt-bpe 1
//   vocab 768
//   101 32 26234    # e␣
//   116 104 23711   # th
//   ...
//
// A magic line with the format version, the vocabulary size, then one merge
// per line in rank order: left id, right id and, optionally, the count the
// pair had when it was merged. Text after '#' is a comment: the writer uses
// it to show the new token. Blank lines are ignored.

enum { GG_BPE_FILE_VERSION = 1 };

// Parses a tokenizer file held in memory. name is used in messages, which
// carry the line number and the reason ("tok.bpe:7: id 300 is not defined
// yet ...").
int gg_tokenizer_parse(gg_tokenizer *t, const char *text, size_t len,
                       const char *name, gg_error *err);

// Renders t in the file format into a fresh NUL-terminated buffer (free() it).
int gg_tokenizer_format(const gg_tokenizer *t, char **text, size_t *len, gg_error *err);

int gg_tokenizer_load(gg_tokenizer *t, const char *path, gg_error *err);
int gg_tokenizer_save(const gg_tokenizer *t, const char *path, gg_error *err);

// Writes bytes as readable text: \n, \t, \r, \\ and \xNN escapes, "␣" for a
// space, and complete UTF-8 characters as themselves. out needs room for
// 4 * n + 1 bytes; returns the length written (without the NUL).
size_t gg_escape_bytes(const uint8_t *s, size_t n, char *out);

// How many of the n bytes can be written now without splitting a UTF-8
// character: all of them, unless they end in the first bytes of one that the
// next token will complete. Streams keep those bytes back, and never drop any.
size_t gg_utf8_complete(const uint8_t *s, size_t n);

#endif
