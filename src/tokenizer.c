// The tokenizer's tables, the encoder and the decoder.
#include "tokenizer.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX  // "no neighbour" in the encoder's linked list
#define DEAD UINT32_MAX  // the token of a position merged into its left neighbour

static uint32_t pair_key(uint32_t left, uint32_t right) { return left << 16 | right; }

// Fibonacci hashing: multiply by 2^64 / phi; the high half mixes every bit.
static uint32_t pair_hash(uint32_t key, uint32_t mask) {
    return (uint32_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

// The merge rank of (left, right), or -1 when that pair was never merged.
// Inlined by force: the encoder's inner loop calls it after every merge.
static inline __attribute__((always_inline))
int32_t rank_of(const gg_tokenizer *t, uint32_t left, uint32_t right) {
    uint32_t li = t->left_index[left], ri = t->right_index[right];
    if (li == 0xffff || ri == 0xffff) return -1;
    if (t->rank_table) {
        uint32_t r = t->rank_table[li * t->n_right + ri];
        return r == 0xffff ? -1 : (int32_t)r;
    }
    uint32_t key = pair_key(left, right);
    for (uint32_t i = pair_hash(key, t->rank_mask);; i = (i + 1) & t->rank_mask) {
        const struct gg_rank_slot *s = &t->rank_slots[i];
        if (s->rank < 0 || s->key == key) return s->rank;
    }
}

void gg_tokenizer_free(gg_tokenizer *t) {
    free(t->merges);
    free(t->counts);
    free(t->tok_start);
    free(t->tok_bytes);
    free(t->rank_slots);
    free(t->byte_rank);
    free(t->left_index);
    free(t->right_index);
    free(t->rank_table);
    memset(t, 0, sizeof *t);
}

int gg_tokenizer_init(gg_tokenizer *t, const gg_pair *merges, const uint32_t *counts,
                      int n_merges, int *bad_merge, gg_error *err) {
    memset(t, 0, sizeof *t);
    if (n_merges < 0 || n_merges > GG_BPE_MAX_VOCAB - GG_BPE_BYTES)
        return gg_fail(err, GG_ERR_ARG, "%d merges is out of range (0..%d)", n_merges,
                       GG_BPE_MAX_VOCAB - GG_BPE_BYTES);
    uint32_t vocab = GG_BPE_BYTES + (uint32_t)n_merges;
    uint32_t slots = 16;
    while (slots < 2 * (uint32_t)n_merges) slots *= 2;
    t->n_merges = n_merges;
    t->merges = malloc(sizeof *t->merges * (n_merges ? n_merges : 1));
    t->counts = calloc(n_merges ? n_merges : 1, sizeof *t->counts);
    t->tok_start = malloc(sizeof *t->tok_start * (vocab + 1));
    t->rank_slots = malloc(sizeof *t->rank_slots * slots);
    t->byte_rank = malloc(sizeof *t->byte_rank * 65536);
    t->left_index = malloc(sizeof *t->left_index * vocab);
    t->right_index = malloc(sizeof *t->right_index * vocab);
    if (!t->merges || !t->counts || !t->tok_start || !t->rank_slots || !t->byte_rank ||
        !t->left_index || !t->right_index)
        goto nomem;
    memset(t->left_index, 0xff, sizeof *t->left_index * vocab);
    memset(t->right_index, 0xff, sizeof *t->right_index * vocab);
    t->rank_mask = slots - 1;
    memset(t->rank_slots, 0xff, sizeof *t->rank_slots * slots);
    memset(t->byte_rank, 0xff, sizeof *t->byte_rank * 65536);

    // Validate in rank order, inserting as we go, so that a duplicate is
    // reported at its second occurrence, and bound the tokens' total bytes
    // before anything of that size is allocated.
    uint64_t total = GG_BPE_BYTES;
    for (uint32_t id = 0; id < GG_BPE_BYTES; id++) t->tok_start[id + 1] = 1;
    for (int i = 0; i < n_merges; i++) {
        uint32_t l = merges[i].left, r = merges[i].right, id = GG_BPE_BYTES + (uint32_t)i;
        if (l >= id || r >= id) {
            gg_tokenizer_free(t);
            if (bad_merge) *bad_merge = i;
            return gg_fail(err, GG_ERR_FORMAT,
                           "merge %d (%u, %u) uses id %u, which is not defined yet "
                           "(ids so far go up to %u)", i + 1, l, r, l >= id ? l : r, id - 1);
        }
        int32_t prior = rank_of(t, l, r);
        if (prior >= 0) {
            gg_tokenizer_free(t);
            if (bad_merge) *bad_merge = i;
            return gg_fail(err, GG_ERR_FORMAT,
                           "merge %d (%u, %u) repeats merge %d", i + 1, l, r, prior + 1);
        }
        uint32_t key = pair_key(l, r), s = pair_hash(key, t->rank_mask);
        while (t->rank_slots[s].rank >= 0) s = (s + 1) & t->rank_mask;
        t->rank_slots[s] = (struct gg_rank_slot){key, i};
        if (l < GG_BPE_BYTES && r < GG_BPE_BYTES) t->byte_rank[l << 8 | r] = (uint16_t)i;
        t->merges[i] = merges[i];
        if (t->left_index[l] == 0xffff) t->left_index[l] = (uint16_t)t->n_left++;
        if (t->right_index[r] == 0xffff) t->right_index[r] = (uint16_t)t->n_right++;
        if (counts) t->counts[i] = counts[i];
        // tok_start temporarily holds lengths, shifted by one.
        uint64_t len = (uint64_t)t->tok_start[l + 1] + t->tok_start[r + 1];
        total += len;
        if (total > GG_BPE_MAX_TOKEN_BYTES) {
            gg_tokenizer_free(t);
            if (bad_merge) *bad_merge = i;
            return gg_fail(err, GG_ERR_FORMAT, "merge %d (%u, %u) makes a token of %llu bytes, "
                           "and the tokens' bytes add up to more than the limit of %d MiB",
                           i + 1, l, r, (unsigned long long)len, GG_BPE_MAX_TOKEN_BYTES >> 20);
        }
        t->tok_start[id + 1] = (uint32_t)len;
    }
    if ((uint64_t)t->n_left * t->n_right <= 1u << 20) {  // at most 2 MB
        size_t cells = (size_t)t->n_left * t->n_right;
        if (!(t->rank_table = malloc(sizeof *t->rank_table * (cells ? cells : 1)))) goto nomem;
        memset(t->rank_table, 0xff, sizeof *t->rank_table * cells);
        for (int i = 0; i < n_merges; i++)
            t->rank_table[t->left_index[merges[i].left] * t->n_right +
                          t->right_index[merges[i].right]] = (uint16_t)i;
    }
    // Every adjacent byte pair inside a token is the seam of some merge:
    // the last byte of its left part and the first byte of its right part.
    for (int i = 0; i < n_merges; i++) {
        uint32_t l = merges[i].left, r = merges[i].right;
        while (l >= GG_BPE_BYTES) l = merges[l - GG_BPE_BYTES].right;
        while (r >= GG_BPE_BYTES) r = merges[r - GG_BPE_BYTES].left;
        t->joinable[(l << 8 | r) / 64] |= 1ull << ((l << 8 | r) % 64);
    }
    t->tok_start[0] = 0;
    for (uint32_t id = 0; id < vocab; id++) t->tok_start[id + 1] += t->tok_start[id];
    t->tok_bytes = malloc(total);
    if (!t->tok_bytes) goto nomem;
    for (uint32_t id = 0; id < vocab; id++) {
        uint8_t *dst = t->tok_bytes + t->tok_start[id];
        if (id < GG_BPE_BYTES) {
            *dst = (uint8_t)id;
        } else {
            size_t ll, rl;
            const uint8_t *lb = gg_token_bytes(t, t->merges[id - GG_BPE_BYTES].left, &ll);
            const uint8_t *rb = gg_token_bytes(t, t->merges[id - GG_BPE_BYTES].right, &rl);
            memcpy(dst, lb, ll);
            memcpy(dst + ll, rb, rl);
        }
    }
    return GG_OK;
nomem:
    gg_tokenizer_free(t);
    return gg_fail(err, GG_ERR_NOMEM, "out of memory building a tokenizer of %d merges", n_merges);
}

// ---- encoding ----
//
// The text falls apart into segments at seams that no merge can cross:
// between two bytes that are not adjacent in any token. Each segment encodes
// on its own with the same result as within the whole text. In prose most
// segments are a few bytes long.
//
// Merging "the present pair of lowest rank, everywhere, left to right" is the
// same as merging, again and again, the leftmost occurrence of the lowest
// rank: a merge that uses token 256 + r always has a rank above r, so the
// pairs a merge makes never jump the queue. A short segment does exactly
// that on a small array, in the manner of minbpe itself.
//
// A long segment would make that quadratic, so it becomes a doubly linked
// list of nodes instead, and its pending merges wait in one bucket per rank;
// one sweep over the ranks, in order, performs the same merges in linear
// time. 1 MB of one repeated byte is one long segment.

enum { SHORT_SEGMENT = 64 };  // bytes
#define NO_RANK 0xffffu  // the rank of a pair that is never merged, in 16 bits

// Most segments of prose are short and recur ("the", "To be"), so the ids of
// segments of up to 8 bytes are remembered in a small direct-mapped cache,
// keyed by the bytes themselves.
enum { CACHE_BITS = 14, CACHED_IDS = 4 };

typedef struct {
    uint64_t bytes;              // the segment, little-endian, zero-padded
    uint8_t len;                 // 0 for an empty entry
    uint8_t n_ids;
    uint16_t ids[CACHED_IDS];
} cache_entry;

typedef struct {
    uint32_t tok, prev, next;
} enc_node;

typedef struct {
    uint32_t *pos;
    uint32_t len, cap;
    int sorted;  // positions were appended in ascending order
} bucket;

typedef struct {
    enc_node *seq;
    size_t cap_seq;
    bucket *buckets;      // [n_merges]
    uint64_t *pending;    // bit r: bucket r is not empty
    uint32_t end_pending; // no bucket at or above this rank is pending
} encoder;

static int bucket_push(encoder *e, uint32_t r, uint32_t pos) {
    bucket *b = &e->buckets[r];
    if (b->len == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 16;
        uint32_t *p = realloc(b->pos, sizeof *p * cap);
        if (!p) return 0;
        b->pos = p;
        b->cap = cap;
    }
    if (b->len == 0) {
        b->sorted = 1;
        e->pending[r / 64] |= 1ull << (r % 64);
        if (r >= e->end_pending) e->end_pending = r + 1;
    } else if (b->pos[b->len - 1] > pos) {
        b->sorted = 0;
    }
    b->pos[b->len++] = pos;
    return 1;
}

// The lowest rank >= from with a non-empty bucket, or -1.
static int32_t next_pending(const encoder *e, uint32_t from) {
    for (uint32_t w = from / 64; w * 64 < e->end_pending; w++) {
        uint64_t bits = e->pending[w] & (w == from / 64 ? ~0ull << (from % 64) : ~0ull);
        if (bits) return (int32_t)(w * 64 + (uint32_t)__builtin_ctzll(bits));
    }
    return -1;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

// Encodes a segment of n >= 1 bytes into ids in linear time; returns the
// number of ids, or 0 when out of memory.
static size_t encode_segment(const gg_tokenizer *t, encoder *e, const uint8_t *text, size_t n,
                             uint32_t *ids) {
    if (n > e->cap_seq) {
        free(e->seq);
        e->cap_seq = n > 4096 ? n : 4096;
        if (!(e->seq = malloc(sizeof *e->seq * e->cap_seq))) return 0;
    }
    enc_node *seq = e->seq;
    for (size_t i = 0; i < n; i++)
        seq[i] = (enc_node){text[i], i > 0 ? (uint32_t)(i - 1) : NONE,
                            i + 1 < n ? (uint32_t)(i + 1) : NONE};
    e->end_pending = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        uint32_t r = t->byte_rank[text[i] << 8 | text[i + 1]];
        if (r != 0xffff && !bucket_push(e, r, (uint32_t)i)) return 0;
    }
    for (int32_t r = next_pending(e, 0); r >= 0; r = next_pending(e, (uint32_t)r + 1)) {
        bucket *b = &e->buckets[r];
        e->pending[r / 64] &= ~(1ull << (r % 64));
        uint32_t a = t->merges[r].left, c = t->merges[r].right, z = GG_BPE_BYTES + (uint32_t)r;
        // Only a pair of two equal tokens can overlap itself ("aaa"), and
        // only then does the left-to-right order change the result.
        if (a == c && !b->sorted) qsort(b->pos, b->len, sizeof *b->pos, cmp_u32);
        for (uint32_t k = 0; k < b->len; k++) {
            uint32_t q = b->pos[k], s = seq[q].next;
            if (seq[q].tok != a || s == NONE || seq[s].tok != c) continue;  // gone since queued
            uint32_t y = seq[s].next, x = seq[q].prev;
            seq[q].tok = z;
            seq[q].next = y;
            seq[s].tok = DEAD;
            if (y != NONE) seq[y].prev = q;
            int32_t rx = x != NONE ? rank_of(t, seq[x].tok, z) : -1;
            int32_t ry = y != NONE ? rank_of(t, z, seq[y].tok) : -1;
            if (rx >= 0 && !bucket_push(e, (uint32_t)rx, x)) return 0;
            if (ry >= 0 && !bucket_push(e, (uint32_t)ry, q)) return 0;
        }
        b->len = 0;
    }
    size_t m = 0;
    for (uint32_t q = 0; q != NONE; q = seq[q].next) ids[m++] = seq[q].tok;
    return m;
}

// Encodes a short segment of 1 <= n <= SHORT_SEGMENT bytes into ids by
// merging the leftmost pair of lowest rank until none is left, as minbpe
// does; returns the number of ids. The tokens stay where their first byte
// was, in a small linked list, and each position holds the key of the pair
// it starts: rank << 8 | position (NO_RANK when it starts none, DEAD_KEY once
// merged away). The smallest key is the merge to make, the leftmost of its
// rank, and it is found without a branch, over every key in groups of
// KEY_GROUP that the compiler turns into vector minimums. (A search that
// branched on each new minimum mispredicted several times a merge; that
// and shifting the tail of a packed array were most of encoding's time.)
enum { KEY_GROUP = 8 };
#define DEAD_KEY UINT32_MAX
_Static_assert(SHORT_SEGMENT < 0xff, "a short segment's positions fit in a byte, 0xff meaning none");

static inline __attribute__((always_inline))
uint32_t pair_key_at(const gg_tokenizer *t, uint32_t left, uint32_t right, uint32_t pos) {
    return ((uint32_t)rank_of(t, left, right) & NO_RANK) << 8 | pos;
}

static size_t encode_short(const gg_tokenizer *t, const uint8_t *text, size_t n, uint32_t *ids) {
    uint32_t key[SHORT_SEGMENT];
    uint16_t tok[SHORT_SEGMENT];
    uint8_t prev[SHORT_SEGMENT], next[SHORT_SEGMENT];  // 0xff: none
    size_t width = (n + KEY_GROUP - 1) / KEY_GROUP * KEY_GROUP;
    for (size_t i = 0; i < n; i++) {
        tok[i] = text[i];
        prev[i] = (uint8_t)(i - 1);
        next[i] = i + 1 < n ? (uint8_t)(i + 1) : 0xff;
        uint32_t r = i + 1 < n ? t->byte_rank[text[i] << 8 | text[i + 1]] : NO_RANK;
        key[i] = r << 8 | (uint32_t)i;
    }
    for (size_t i = n; i < width; i++) key[i] = DEAD_KEY;
    for (;;) {
        uint32_t best = DEAD_KEY;
        for (size_t g = 0; g < width; g += KEY_GROUP)
            for (size_t i = g; i < g + KEY_GROUP; i++) best = key[i] < best ? key[i] : best;
        if (best >> 8 >= NO_RANK) break;
        uint32_t a = best & 0xff, s = next[a], y = next[s], x = prev[a];
        uint32_t z = GG_BPE_BYTES + (best >> 8);
        tok[a] = (uint16_t)z;
        key[s] = DEAD_KEY;
        next[a] = (uint8_t)y;
        if (y != 0xff) {
            prev[y] = (uint8_t)a;
            key[a] = pair_key_at(t, z, tok[y], a);
        } else {
            key[a] = NO_RANK << 8 | a;
        }
        if (x != 0xff) key[x] = pair_key_at(t, tok[x], z, x);
    }
    size_t len = 0;
    for (uint32_t q = 0; q != 0xff; q = next[q]) ids[len++] = tok[q];
    return len;
}

// x read from memory as little-endian: the first byte in the lowest bits.
static uint64_t le64(uint64_t x) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(x);
#else
    return x;
#endif
}

// The seams after bytes base .. base + 63 of the text, as bits: bit i is set
// when no merge joins byte base + i to the next, or when it is the last byte
// (or past it). A fixed loop with no branch to mispredict; the caller then
// finds each segment's end with one count of trailing zeros.
static uint64_t seams_from(const gg_tokenizer *t, const uint8_t *text, size_t n, size_t base) {
    uint64_t seams = 0;
    if (base + 64 < n) {
        for (unsigned i = 0; i < 64; i++) {
            uint32_t k = (uint32_t)text[base + i] << 8 | text[base + i + 1];
            seams |= (~t->joinable[k / 64] >> (k % 64) & 1) << i;
        }
        return seams;
    }
    for (unsigned i = 0; i < 64; i++) {
        size_t at = base + i;
        uint32_t k = at + 1 < n ? (uint32_t)text[at] << 8 | text[at + 1] : 0;
        uint64_t joined = at + 1 < n ? t->joinable[k / 64] >> (k % 64) & 1 : 0;
        seams |= (joined ^ 1) << i;
    }
    return seams;
}

static int is_seam(const gg_tokenizer *t, uint8_t a, uint8_t b) {
    unsigned k = (unsigned)a << 8 | b;
    return t->n_merges == 0 || !(t->joinable[k / 64] >> (k % 64) & 1);
}

size_t gg_bpe_last_seam(const gg_tokenizer *t, const uint8_t *text, size_t n) {
    for (size_t i = n > 0 ? n - 1 : 0; i >= 1; i--)
        if (is_seam(t, text[i - 1], text[i])) return i;
    return 0;
}

size_t gg_bpe_next_seam(const gg_tokenizer *t, const uint8_t *text, size_t n, size_t from) {
    for (size_t i = from < 1 ? 1 : from; i < n; i++)
        if (is_seam(t, text[i - 1], text[i])) return i;
    return 0;
}

int gg_bpe_encode_parallel(const gg_tokenizer *t, const uint8_t *text, size_t n, uint32_t *ids,
                           size_t *n_ids, int threads, gg_error *err) {
    enum { MAX_PIECES = 64 };
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#endif
    int pieces = threads < 1 ? 1 : threads > MAX_PIECES ? MAX_PIECES : threads;
    if (n < (size_t)pieces * 65536) pieces = 1;  // not worth waking threads for
    size_t cut[MAX_PIECES + 1] = {0}, got[MAX_PIECES];
    int k = 1;
    for (int p = 1; p < pieces; p++) {
        size_t at = gg_bpe_next_seam(t, text, n, n / (size_t)pieces * (size_t)p);
        if (at > cut[k - 1]) cut[k++] = at;
    }
    cut[k] = n;
    int rc[MAX_PIECES];
    gg_error errs[MAX_PIECES];
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(k) if (k > 1)
#endif
    for (int p = 0; p < k; p++)  // each piece into the room its bytes leave
        rc[p] = gg_bpe_encode(t, text + cut[p], cut[p + 1] - cut[p], ids + cut[p], &got[p], &errs[p]);
    for (int p = 0; p < k; p++)
        if (rc[p]) return gg_fail(err, rc[p], "%s", errs[p].msg);
    size_t out = got[0];
    for (int p = 1; p < k; p++) {
        memmove(ids + out, ids + cut[p], sizeof *ids * got[p]);
        out += got[p];
    }
    *n_ids = out;
    return GG_OK;
}

int gg_bpe_encode(const gg_tokenizer *t, const uint8_t *text, size_t n,
                  uint32_t *ids, size_t *n_ids, gg_error *err) {
    *n_ids = 0;
    if (n >= NONE)
        return gg_fail(err, GG_ERR_ARG, "input of %zu bytes is too large to encode at once", n);
    if (t->n_merges == 0) {
        for (size_t i = 0; i < n; i++) ids[i] = text[i];
        *n_ids = n;
        return GG_OK;
    }
    encoder e = {0};
    cache_entry *cache = calloc(1u << CACHE_BITS, sizeof *cache);
    int rc = GG_OK;
    size_t out = 0;
    if (!cache) goto nomem;
    size_t window = 0;  // seams holds the seams after bytes window .. window + 63
    uint64_t seams = seams_from(t, text, n, window);
    for (size_t start = 0, end; start < n; start = end) {
        for (size_t from = start;; from = window + 64) {
            if (from >= window + 64) seams = seams_from(t, text, n, window = from);
            uint64_t ahead = seams >> (from - window);
            if (ahead) {
                end = from + (size_t)__builtin_ctzll(ahead) + 1;
                break;
            }
        }
        size_t len = end - start;
        if (len == 1) {  // a lone byte is its own token
            ids[out++] = text[start];
            continue;
        }
        if (len <= 8) {
            uint64_t key = 0;
            if (start + 8 <= n) {  // one load, then keep the segment's bytes
                memcpy(&key, text + start, 8);
                key = le64(key) & (~0ull >> (64 - 8 * len));
            } else {
                for (size_t i = 0; i < len; i++) key |= (uint64_t)text[start + i] << (8 * i);
            }
            cache_entry *c = &cache[((key + len) * 0x9e3779b97f4a7c15ull) >> (64 - CACHE_BITS)];
            if (c->len == len && c->bytes == key) {
                if (out + CACHED_IDS <= n) {  // a fixed copy; ids past n_ids are scratch
                    for (size_t i = 0; i < CACHED_IDS; i++) ids[out + i] = c->ids[i];
                } else {
                    for (size_t i = 0; i < c->n_ids; i++) ids[out + i] = c->ids[i];
                }
                out += c->n_ids;
                continue;
            }
            size_t m = encode_short(t, text + start, len, ids + out);
            if (m <= CACHED_IDS) {
                *c = (cache_entry){key, (uint8_t)len, (uint8_t)m, {0}};
                for (size_t i = 0; i < m; i++) c->ids[i] = (uint16_t)ids[out + i];
            }
            out += m;
            continue;
        }
        if (len <= SHORT_SEGMENT) {
            out += encode_short(t, text + start, len, ids + out);
            continue;
        }
        if (!e.buckets) {
            e.buckets = calloc((size_t)t->n_merges, sizeof *e.buckets);
            e.pending = calloc(((size_t)t->n_merges + 63) / 64, sizeof *e.pending);
            if (!e.buckets || !e.pending) goto nomem;
        }
        size_t m = encode_segment(t, &e, text + start, len, ids + out);
        if (m == 0) goto nomem;
        out += m;
    }
    *n_ids = out;
    goto done;
nomem:
    rc = gg_fail(err, GG_ERR_NOMEM, "out of memory encoding %zu bytes", n);
done:
    if (e.buckets)
        for (int r = 0; r < t->n_merges; r++) free(e.buckets[r].pos);
    free(e.buckets);
    free(e.pending);
    free(e.seq);
    free(cache);
    return rc;
}

long gg_bpe_encode_steps(const gg_tokenizer *t, const uint8_t *text, size_t n, int32_t *out,
                         size_t cap) {
    size_t used = 0, len = n;
    int32_t *ids = malloc(sizeof *ids * (n ? n : 1));
    if (!ids) return -1;
    for (size_t i = 0; i < n; i++) ids[i] = text[i];
    for (int32_t rank = -1;;) {
        if (used + 2 + len > cap) {
            free(ids);
            return -1;
        }
        out[used++] = rank;
        out[used++] = (int32_t)len;
        memcpy(out + used, ids, sizeof *ids * len);
        used += len;
        rank = -1;  // the present pair of lowest rank
        for (size_t i = 0; i + 1 < len; i++) {
            int32_t r = rank_of(t, (uint32_t)ids[i], (uint32_t)ids[i + 1]);
            if (r >= 0 && (rank < 0 || r < rank)) rank = r;
        }
        if (rank < 0) break;
        size_t k = 0;  // merge it everywhere, left to right
        for (size_t i = 0; i < len; i++) {
            if (i + 1 < len && (uint32_t)ids[i] == t->merges[rank].left &&
                (uint32_t)ids[i + 1] == t->merges[rank].right) {
                ids[k++] = GG_BPE_BYTES + rank;
                i++;
            } else {
                ids[k++] = ids[i];
            }
        }
        len = k;
    }
    free(ids);
    return (long)used;
}

// ---- decoding ----

int gg_bpe_decoded_size(const gg_tokenizer *t, const uint32_t *ids, size_t n_ids,
                        size_t *n_bytes, gg_error *err) {
    uint32_t vocab = (uint32_t)gg_tokenizer_vocab(t);
    size_t total = 0;
    for (size_t i = 0; i < n_ids; i++) {
        if (ids[i] >= vocab)
            return gg_fail(err, GG_ERR_ARG,
                           "id %u (token %zu) is out of range: the vocabulary has %u tokens, 0..%u",
                           ids[i], i + 1, vocab, vocab - 1);
        total += t->tok_start[ids[i] + 1] - t->tok_start[ids[i]];
    }
    *n_bytes = total;
    return GG_OK;
}

int gg_bpe_decode(const gg_tokenizer *t, const uint32_t *ids, size_t n_ids,
                  uint8_t *out, gg_error *err) {
    size_t total;
    int rc = gg_bpe_decoded_size(t, ids, n_ids, &total, err);
    if (rc) return rc;
    for (size_t i = 0; i < n_ids; i++) {
        size_t len;
        const uint8_t *b = gg_token_bytes(t, ids[i], &len);
        memcpy(out, b, len);
        out += len;
    }
    return GG_OK;
}

// ---- display ----

// Length of the complete UTF-8 character that starts s, or 0 if s does not
// start one (a stray continuation byte, an overlong form, a surrogate...).
static size_t utf8_char_len(const uint8_t *s, size_t n) {
    size_t len;
    uint32_t cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef) len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) len = 4, cp = s[0] & 0x07;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

size_t gg_escape_bytes(const uint8_t *s, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t u;
        if (c == '\n') *o++ = '\\', *o++ = 'n';
        else if (c == '\t') *o++ = '\\', *o++ = 't';
        else if (c == '\r') *o++ = '\\', *o++ = 'r';
        else if (c == '\\') *o++ = '\\', *o++ = '\\';
        else if (c == ' ') memcpy(o, "\xe2\x90\xa3", 3), o += 3;  // U+2423 OPEN BOX
        else if (c > ' ' && c < 0x7f) *o++ = (char)c;
        else if (c >= 0x80 && (u = utf8_char_len(s + i, n - i)) > 0) {
            memcpy(o, s + i, u);
            o += u;
            i += u;
            continue;
        } else {
            *o++ = '\\', *o++ = 'x', *o++ = hex[c >> 4], *o++ = hex[c & 15];
        }
        i++;
    }
    *o = 0;
    return (size_t)(o - out);
}

size_t gg_utf8_complete(const uint8_t *s, size_t n) {
    size_t k = n;
    while (k > 0 && n - k < 3 && (s[k - 1] & 0xc0) == 0x80) k--;  // continuation bytes
    if (k == 0) return n;
    uint8_t lead = s[k - 1];
    size_t want = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 && lead < 0xf0 ? 3
                : lead >= 0xc2 && lead < 0xe0 ? 2 : 1;
    return n - (k - 1) < want ? k - 1 : n;
}
