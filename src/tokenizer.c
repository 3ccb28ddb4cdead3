// The tokenizer's tables, the encoder and the decoder.
#include "tokenizer.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <stdlib.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif
// Vectors of 16 keys built from 16 bytes: masked loads of bytes (which touch
// nothing past the mask) and gathers from the tables.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define GATHER_KEYS 1
#else
#define GATHER_KEYS 0
#endif

#define NONE UINT32_MAX  // "no neighbour" in the encoder's linked list
#define DEAD UINT32_MAX  // the token of a position merged into its left neighbour

static uint32_t pair_key(uint32_t left, uint32_t right) { return left << 16 | right; }

// Fibonacci hashing: multiply by 2^64 / phi; the high half mixes every bit.
static uint32_t pair_hash(uint32_t key, uint32_t mask) {
    return (uint32_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

// The merge rank of (left, right), or NO_RANK when that pair was never
// merged. Inlined by force: the encoder's inner loop calls it after every
// merge.
#define NO_RANK 0xffffu
static inline __attribute__((always_inline))
uint32_t rank16(const gg_tokenizer *t, uint32_t left, uint32_t right) {
    uint32_t li = t->left_index[left], ri = t->right_index[right];
    if (t->rank_table) return t->rank_table[li * (t->n_right + 1) + ri];
    if (li >= t->n_left || ri >= t->n_right) return NO_RANK;  // (while building, too)
    uint32_t key = pair_key(left, right);
    for (uint32_t i = pair_hash(key, t->rank_mask);; i = (i + 1) & t->rank_mask) {
        const struct gg_rank_slot *s = &t->rank_slots[i];
        if (s->rank < 0) return NO_RANK;
        if (s->key == key) return (uint32_t)s->rank;
    }
}

// The merge rank of (left, right), or -1 when that pair was never merged.
static inline __attribute__((always_inline))
int32_t rank_of(const gg_tokenizer *t, uint32_t left, uint32_t right) {
    uint32_t r = rank16(t, left, right);
    return r == NO_RANK ? -1 : (int32_t)r;
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
    // (one more entry: a gather reads byte_rank[65535] as 4 bytes)
    t->byte_rank = malloc(sizeof *t->byte_rank * 65537);
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
    for (uint32_t id = 0; id < vocab; id++) {
        if (t->left_index[id] == 0xffff) t->left_index[id] = (uint16_t)t->n_left;
        if (t->right_index[id] == 0xffff) t->right_index[id] = (uint16_t)t->n_right;
    }
    if ((uint64_t)(t->n_left + 1) * (t->n_right + 1) <= 1u << 20) {  // at most 2 MB
        size_t cells = (size_t)(t->n_left + 1) * (t->n_right + 1);
        if (!(t->rank_table = malloc(sizeof *t->rank_table * cells))) goto nomem;
        memset(t->rank_table, 0xff, sizeof *t->rank_table * cells);
        for (int i = 0; i < n_merges; i++)
            t->rank_table[t->left_index[merges[i].left] * (t->n_right + 1) +
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

// x read from memory as little-endian: the first byte in the lowest bits.
static uint64_t le64(uint64_t x) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(x);
#else
    return x;
#endif
}

// The cache's key for the segment of 2 <= len <= 8 bytes at text, which has
// room bytes after it (for one load of 8 when there are).
static uint64_t segment_key(const uint8_t *text, size_t len, size_t room) {
    uint64_t key = 0;
    if (room >= 8) {  // one load, then keep the segment's bytes
        memcpy(&key, text, 8);
        return le64(key) & (~0ull >> (64 - 8 * len));
    }
    for (size_t i = 0; i < len; i++) key |= (uint64_t)text[i] << (8 * i);
    return key;
}

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
        if (r != NO_RANK && !bucket_push(e, r, (uint32_t)i)) return 0;
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

// A short segment of 1 <= n <= SHORT_SEGMENT bytes is encoded by merging the
// leftmost pair of lowest rank until none is left, as minbpe does. The tokens
// stay where their first byte was, and one bit per byte says whether a token
// starts there, so a token's neighbours are a count of zeros away. Each
// position holds the key of the pair it starts: rank << 8 | position (NO_RANK
// when it starts none, DEAD_KEY once merged away). The smallest key is the
// merge to make, the leftmost of its rank. The keys live in vector registers,
// KEY_LANES to a vector, so the minimum is found without a branch and without
// a trip through memory. (A search that branched on each new minimum
// mispredicted several times a merge; one that read the keys back from memory
// right after a merge wrote one waited each time for the store.)
enum { KEY_LANES = 16 };
#define DEAD_KEY UINT32_MAX
_Static_assert(SHORT_SEGMENT == 4 * KEY_LANES, "a short segment's keys fill at most 4 vectors");
_Static_assert(SHORT_SEGMENT <= 64, "a short segment's token starts fit in the bits of a word");
typedef uint32_t key_vec __attribute__((vector_size(KEY_LANES * sizeof(uint32_t))));
static const key_vec key_lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// *m = the lanewise minimum of *m and *b. (By pointer: GCC notes that passing
// a 64-byte vector by value changes the calling convention on a target
// without AVX-512.)
static inline void key_min(key_vec *m, const key_vec *b) {
#ifdef __AVX512F__
    *m = (key_vec)_mm512_min_epu32((__m512i)*m, (__m512i)*b);
#else
    key_vec less = (key_vec)(*m < *b);
    *m = (*m & less) | (*b & ~less);
#endif
}

static inline __attribute__((always_inline))
uint32_t pair_key_at(const gg_tokenizer *t, uint32_t left, uint32_t right, uint32_t pos) {
    return rank16(t, left, right) << 8 | pos;
}

// Sets the key at pos in the vecs vectors k.
static inline __attribute__((always_inline))
void key_set(key_vec *k, int vecs, uint32_t pos, uint32_t key) {
    for (int v = 0; v < vecs; v++) {
        key_vec here = (key_vec)(key_lane + (uint32_t)(v * KEY_LANES) == pos);
        k[v] = (k[v] & ~here) | (key & here);
    }
}

#ifdef __wasm__
enum { LEAST_WHILE_LOOKING = 0 };  // (see short_step)
#else
enum { LEAST_WHILE_LOOKING = 1 };
#endif

// The least of the keys in the vecs vectors k, in every lane of *m: each
// round takes the minimum with the lanes 8, 4, 2 and then 1 apart (lane i
// with lane i ^ d), and the last two rounds stay within groups of 4 lanes,
// where a shuffle is quickest.
static inline __attribute__((always_inline))
void key_least(key_vec *m, const key_vec *k, int vecs) {
    key_vec other;
    *m = k[0];
    for (int v = 1; v < vecs; v++) key_min(m, &k[v]);
    other = __builtin_shufflevector(*m, *m, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
    key_min(m, &other);
    other = __builtin_shufflevector(*m, *m, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
    key_min(m, &other);
    other = __builtin_shufflevector(*m, *m, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    key_min(m, &other);
    other = __builtin_shufflevector(*m, *m, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    key_min(m, &other);
}

// A short segment being encoded: its keys, its tokens where they start, the
// bit of every token start, and its least key (the next merge).
typedef struct {
    key_vec k[SHORT_SEGMENT / KEY_LANES];
    uint16_t tok[SHORT_SEGMENT];
    uint64_t starts;
    uint32_t best;
} short_segment;

#if GATHER_KEYS
// The byte pairs (left[i] << 8 | right[i]) of 16 bytes and the 16 after them.
static inline __m512i byte_pairs(__m128i left, __m128i right) {
    return _mm512_or_si512(_mm512_slli_epi32(_mm512_cvtepu8_epi32(left), 8),
                           _mm512_cvtepu8_epi32(right));
}

// Bit i of the result is set when lane i is below n (n may be any size).
static inline __mmask16 lanes_below(size_t n) {
    return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1);
}

// The keys of the segment's pairs at base .. base + 15 (the segment is n
// bytes), and its tokens there, in vectors: 16 bytes and the 16 after each,
// the ranks of those pairs gathered from byte_rank.
static inline __attribute__((always_inline))
void short_keys(const gg_tokenizer *t, short_segment *g, const uint8_t *text, size_t n,
                size_t base) {
    size_t bytes = n > base ? n - base : 0;
    __mmask16 in = lanes_below(bytes), paired = lanes_below(bytes > 0 ? bytes - 1 : 0);
    __m128i left = _mm_maskz_loadu_epi8(in, text + base);
    __m128i right = _mm_maskz_loadu_epi8(paired, text + base + 1);
    __m512i rank = _mm512_mask_i32gather_epi32(_mm512_set1_epi32(NO_RANK), paired,
                                               byte_pairs(left, right), t->byte_rank,
                                               2);  // 16 bits and the next 16
    rank = _mm512_and_si512(rank, _mm512_set1_epi32(0xffff));
    __m512i key = _mm512_or_si512(_mm512_slli_epi32(rank, 8),
                                  (__m512i)(key_lane + (uint32_t)base));
    g->k[base / KEY_LANES] = (key_vec)_mm512_mask_mov_epi32(_mm512_set1_epi32(-1), in, key);
    _mm256_storeu_si256((__m256i *)(g->tok + base), _mm256_cvtepu8_epi16(left));
}
#endif

static inline __attribute__((always_inline))
void short_begin(const gg_tokenizer *t, short_segment *g, const uint8_t *text, size_t n,
                 int vecs) {
    g->tok[SHORT_SEGMENT - 1] = 0;  // for short_step's lookup after the last token
#if GATHER_KEYS
    // (Key by key, the vectors would be read back right after narrow
    // stores into them, and wait for the stores.)
    for (int v = 0; v < vecs; v++) short_keys(t, g, text, n, (size_t)v * KEY_LANES);
#else
    union {
        key_vec v[SHORT_SEGMENT / KEY_LANES];
        uint32_t at[SHORT_SEGMENT];
    } init;
    for (size_t i = 0; i < n; i++) {
        g->tok[i] = text[i];
        uint32_t r = i + 1 < n ? t->byte_rank[text[i] << 8 | text[i + 1]] : NO_RANK;
        init.at[i] = r << 8 | (uint32_t)i;
    }
    for (size_t i = n; i < (size_t)vecs * KEY_LANES; i++) init.at[i] = DEAD_KEY;
    for (int v = 0; v < vecs; v++) g->k[v] = init.v[v];
#endif
    for (int v = vecs; v < SHORT_SEGMENT / KEY_LANES; v++) g->k[v] = (key_vec){0} - 1;
    g->starts = ~0ull >> (64 - n);
    key_vec least;
    key_least(&least, g->k, vecs);
    g->best = least[0];
}

// Makes the segment's next merge; returns 0 when none is left.
static inline __attribute__((always_inline))
int short_step(const gg_tokenizer *t, short_segment *g, int vecs) {
    uint32_t best = g->best;
    if (best >> 8 >= NO_RANK) return 0;
    // The pair at a joins the token at a to the next one, at s; x and y are
    // the tokens before and after, when there are.
    uint32_t a = best & 0xff, z = GG_BPE_BYTES + (best >> 8);
    uint64_t above = ~1ull << a, below = (1ull << a) - 1;
    uint32_t s = (uint32_t)__builtin_ctzll(g->starts & above);
    g->starts &= ~(1ull << s);
    g->tok[a] = (uint16_t)z;
    uint64_t after = g->starts & above, before = g->starts & below;
    uint32_t y = (uint32_t)__builtin_ctzll(after | 1ull << 63);
    uint32_t x = 63 - (uint32_t)__builtin_clzll(before | 1);
    // The next merge is the least of the keys this one leaves alone (all but
    // those at x, a and s, which go dead) and the two it makes. Natively,
    // the first is found while the ranks of the second are looked up, rather
    // than after; in WebAssembly that order took twice as long.
    key_vec least;
    if (LEAST_WHILE_LOOKING) {
        for (int v = 0; v < vecs; v++) {
            key_vec at = key_lane + (uint32_t)(v * KEY_LANES);
            g->k[v] |= (key_vec)(at == a) | (key_vec)(at == s) | (key_vec)(at == x);
        }
        key_least(&least, g->k, vecs);
    }
    // Without a branch, which would mispredict a merge at either end of the
    // segment: where there is no y, the rank is looked up with the token at
    // 63 (a byte, when the segment is shorter) and then ignored; where there
    // is no x (a is 0), with the token at 0 and set at a position past every
    // vector, which changes no key.
    uint32_t key_a = pair_key_at(t, z, g->tok[y], a), key_x = pair_key_at(t, g->tok[x], z, x);
    key_a = after ? key_a : NO_RANK << 8 | a;
    key_x = before ? key_x : DEAD_KEY;
    if (!LEAST_WHILE_LOOKING) key_set(g->k, vecs, s, DEAD_KEY);
    key_set(g->k, vecs, a, key_a);
    key_set(g->k, vecs, before ? x : 0xff, key_x);
    if (!LEAST_WHILE_LOOKING) {
        key_least(&least, g->k, vecs);
        g->best = least[0];
    } else {
        best = least[0] < key_a ? least[0] : key_a;
        g->best = best < key_x ? best : key_x;
    }
    return 1;
}

static inline size_t short_end(const short_segment *g, uint32_t *ids) {
    size_t len = 0;
    for (uint64_t starts = g->starts; starts; starts &= starts - 1)
        ids[len++] = g->tok[__builtin_ctzll(starts)];
    return len;
}

static inline int short_vecs(size_t n) {
    return n <= KEY_LANES ? 1 : n <= 2 * KEY_LANES ? 2 : 4;
}

// The seams after bytes base .. base + 63 of the text, as bits: bit i is set
// when no merge joins byte base + i to the next, or when it is the last byte
// (or past it). A fixed loop with no branch to mispredict; the caller then
// finds each segment's end with one count of trailing zeros.
static uint64_t seams_from(const gg_tokenizer *t, const uint8_t *text, size_t n, size_t base) {
    uint64_t seams = 0;
#if GATHER_KEYS
    if (base + 64 < n) {  // 16 pairs at a time, their bits gathered from joinable's words
        for (int v = 0; v < 4; v++) {
            const uint8_t *p = text + base + 16 * v;
            __m512i k = byte_pairs(_mm_loadu_si128((const __m128i *)p),
                                   _mm_loadu_si128((const __m128i *)(p + 1)));
            __m512i word = _mm512_i32gather_epi32(_mm512_srli_epi32(k, 5), t->joinable, 4);
            __m512i bit = _mm512_srlv_epi32(word, _mm512_and_si512(k, _mm512_set1_epi32(31)));
            __mmask16 joined = _mm512_test_epi32_mask(bit, _mm512_set1_epi32(1));
            seams |= (uint64_t)(uint16_t)~joined << (16 * v);
        }
        return seams;
    }
#endif
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

// A stretch of the text, encoded in order from its first byte: its ids go to
// ids, whose room is one id per byte.
typedef struct {
    const uint8_t *text;
    size_t n, at;    // bytes, and where the next segment starts
    uint32_t *ids;
    size_t out;      // ids written
    size_t window;   // seams holds the seams after bytes window .. window + 63
    uint64_t seams;
    cache_entry *miss;  // where the next segment's ids go in the cache, when
    uint64_t miss_key;  // it is short enough: its slot, and its key there
    short_segment seg;  // the short segment being merged,
    size_t len;         // its length in bytes,
    int vecs;           // and the vectors of keys it takes
} lane;

static void lane_begin(const gg_tokenizer *t, lane *l, const uint8_t *text, size_t n,
                       uint32_t *ids) {
    *l = (lane){.text = text, .n = n, .ids = ids};
    if (n > 0) l->seams = seams_from(t, text, n, 0);
}

// Encodes the lane's segments up to the next short one that needs merging,
// and returns its length (0 at the end of the lane), leaving it to the
// caller. Lone bytes and segments in the cache are copied out; long ones go
// to encode_segment. Returns SIZE_MAX when out of memory.
static size_t lane_advance(const gg_tokenizer *t, lane *l, encoder *e, cache_entry *cache) {
    const uint8_t *text = l->text;
    size_t n = l->n;
    uint32_t *ids = l->ids;
    for (size_t start = l->at, end; start < n; start = l->at = end) {
        for (size_t from = start;; from = l->window + 64) {
            if (from >= l->window + 64) l->seams = seams_from(t, text, n, l->window = from);
            uint64_t ahead = l->seams >> (from - l->window);
            if (ahead) {
                end = from + (size_t)__builtin_ctzll(ahead) + 1;
                break;
            }
        }
        size_t len = end - start;
        if (len == 1) {  // a lone byte is its own token
            ids[l->out++] = text[start];
            continue;
        }
        if (len <= 8) {
            uint64_t key = segment_key(text + start, len, n - start);
            cache_entry *c = &cache[((key + len) * 0x9e3779b97f4a7c15ull) >> (64 - CACHE_BITS)];
            if (c->len == len && c->bytes == key) {
                if (l->out + CACHED_IDS <= n) {  // a fixed copy; ids past n_ids are scratch
                    for (size_t i = 0; i < CACHED_IDS; i++) ids[l->out + i] = c->ids[i];
                } else {
                    for (size_t i = 0; i < c->n_ids; i++) ids[l->out + i] = c->ids[i];
                }
                l->out += c->n_ids;
                continue;
            }
            l->miss = c, l->miss_key = key;
            return len;
        }
        if (len <= SHORT_SEGMENT) {
            l->miss = NULL;
            return len;
        }
        if (!e->buckets) {
            e->buckets = calloc((size_t)t->n_merges, sizeof *e->buckets);
            e->pending = calloc(((size_t)t->n_merges + 63) / 64, sizeof *e->pending);
            if (!e->buckets || !e->pending) return SIZE_MAX;
        }
        size_t m = encode_segment(t, e, text + start, len, ids + l->out);
        if (m == 0) return SIZE_MAX;
        l->out += m;
    }
    return 0;
}

// Starts the lane's next short segment that needs merging: 1, or 0 at the
// end of the lane, or -1 when out of memory.
static int lane_next(const gg_tokenizer *t, lane *l, encoder *e, cache_entry *cache) {
    size_t len = lane_advance(t, l, e, cache);
    if (len == SIZE_MAX) return -1;
    if (len == 0) return 0;
    l->len = len;
    l->vecs = short_vecs(len);
    short_begin(t, &l->seg, l->text + l->at, len, l->vecs);
    return 1;
}

// The lane's segment is merged: its ids out, remembered in the cache where
// lane_advance missed them, and the lane past it.
static void lane_finish(lane *l) {
    size_t m = short_end(&l->seg, l->ids + l->out);
    if (l->miss && m <= CACHED_IDS) {
        *l->miss = (cache_entry){l->miss_key, (uint8_t)l->len, (uint8_t)m, {0}};
        for (size_t i = 0; i < m; i++) l->miss->ids[i] = (uint16_t)l->ids[l->out + i];
    }
    l->at += l->len;
    l->out += m;
}

// Merges in the segments of both lanes in step, vecs vectors of keys each,
// until one of them is done; returns which (bit 0: a, bit 1: b). Each merge
// waits on the one before it: on the least of the keys it left alone, and
// on the rank of each pair it made. Two segments in step keep the core busy
// while either waits, and a lane whose segment is done starts its next one
// while the other's goes on.
static inline __attribute__((always_inline))
int merge_in_step(const gg_tokenizer *t, short_segment *a, short_segment *b, int vecs) {
    int more_a, more_b;
    do {
        more_a = short_step(t, a, vecs);
        more_b = short_step(t, b, vecs);
    } while (more_a & more_b);
    return (more_a ? 0 : 1) | (more_b ? 0 : 2);
}

// Merges in the lane's segment alone, to the end.
static void merge_alone(const gg_tokenizer *t, lane *l) {
    if (l->vecs == 1) while (short_step(t, &l->seg, 1)) {}
    else if (l->vecs == 2) while (short_step(t, &l->seg, 2)) {}
    else while (short_step(t, &l->seg, 4)) {}
}

// The text is encoded as two lanes, its halves cut at a seam (where there is
// one), so that the short segments that need merging are merged two at a
// time (see merge_in_step); the second half's ids then move down behind the
// first's.
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
    if (!cache) goto nomem;
    size_t cut = gg_bpe_next_seam(t, text, n, n / 2);
    lane halves[2];
    lane_begin(t, &halves[0], text, cut ? cut : n, ids);
    lane_begin(t, &halves[1], text + cut, cut ? n - cut : 0, ids + cut);
    lane *a = &halves[0], *b = &halves[1];
    int busy_a = lane_next(t, a, &e, cache), busy_b = lane_next(t, b, &e, cache);
    while (busy_a > 0 && busy_b > 0) {
        int vecs = a->vecs > b->vecs ? a->vecs : b->vecs, done;
        if (vecs == 1) done = merge_in_step(t, &a->seg, &b->seg, 1);
        else if (vecs == 2) done = merge_in_step(t, &a->seg, &b->seg, 2);
        else done = merge_in_step(t, &a->seg, &b->seg, 4);
        if (done & 1) {
            lane_finish(a);
            busy_a = lane_next(t, a, &e, cache);
        }
        if (done & 2) {
            lane_finish(b);
            busy_b = lane_next(t, b, &e, cache);
        }
    }
    // the rest of the lane that is not done, alone
    int busy = busy_a < 0 || busy_b < 0 ? -1 : busy_a | busy_b;
    lane *l = busy_a > 0 ? a : b;
    for (; busy > 0; busy = lane_next(t, l, &e, cache)) {
        merge_alone(t, l);
        lane_finish(l);
    }
    if (busy < 0) goto nomem;
    memmove(ids + halves[0].out, halves[1].ids, sizeof *ids * halves[1].out);
    *n_ids = halves[0].out + halves[1].out;
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
