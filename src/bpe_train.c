// The BPE trainer: incremental, so that each merge costs time in proportion
// to the places it changes, not to the length of the corpus.
//
// The corpus is an array of nodes, one per byte. A token lives in the node
// of its first byte, which knows the token and the pair that starts there;
// the nodes of its other bytes are merged away. Its neighbours are found
// from the tokens' lengths: the next token starts right after its bytes, and
// the node of the byte before it knows which token ends there. So a node is
// 8 bytes, and the 9 MB of them for tinyshakespeare take half the cache
// lines that a doubly linked list took (the merges are bound by them).
//
// Every distinct adjacent pair keeps its exact count and the list of
// positions where it was ever seen, in ascending order. A merge walks only
// its own pair's positions; at each it takes one from the counts of the
// neighbouring pairs it breaks and adds the pairs it makes, which always
// contain the new token.
//
// A pair gets all its positions at once: the byte pairs at the start, and a
// pair made with a new token during the merge that makes the token (no later
// merge can make it again). So every position list is allocated once, at its
// exact length, from one arena sized once for the whole run: a merge first
// stages the positions it makes in order, then deals them out to their pairs.
//
// The next winner comes from a max-heap keyed by (count, leftmost position).
// The keys of old pairs only ever get worse, because a merge makes new pairs
// only with the new token: an old pair can lose occurrences but never gain
// one. So the heap may hold stale keys: when the top is stale it is pushed
// back with its true key, and the first top that is current is the true
// winner. Likewise a position that stops holding its pair never holds it
// again, so each pair skips its dead positions from the front just once.
#include "fileio.h"
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define NONE UINT32_MAX
#define NOINLINE __attribute__((noinline))

_Static_assert(GG_BPE_MAX_VOCAB <= UINT16_MAX + 1, "a node holds token ids in 16 bits");

typedef struct {
    uint32_t pair;  // the pair (tok, next token), NONE at the end and once merged away
    uint16_t tok;   // the token that starts at this byte, while it is one's first
    uint16_t last;  // the token that ends at this byte, while it is one's last
} node;

typedef struct {
    uint32_t left, right;
    size_t pos;          // its positions, ascending: arena[pos .. pos + len)
    uint32_t len, head;  // arena[pos .. pos + head) are known dead
} pair_stats;

typedef struct {
    uint32_t count, first, pair;
} heap_entry;

typedef struct {
    node *seq;
    uint32_t n;     // nodes in seq
    uint32_t *len;  // [vocab] every token's length in bytes
    pair_stats *pairs;
    uint32_t *count;  // [n_pairs] exact number of (overlapping) occurrences now;
                      // apart from pairs because a merge touches it most
    uint32_t n_pairs, cap_pairs, cap_count;
    heap_entry *heap;
    uint32_t heap_len, heap_cap;
    // The pairs made by the current merge into token z, found by their other
    // token t: (t, z) in with_left[t] and (z, t) in with_right[t].
    uint32_t *with_left, *with_right;  // [vocab]
    size_t *at;                        // [pairs made] where each one's next position goes
    uint32_t cap_at;
    uint32_t *arena;                   // [3 * corpus bytes] every pair's positions
    size_t arena_len;
    uint32_t *staged;                  // the merge's new (pair - made_from, position)s
    size_t cap_staged;
} trainer;

static int grow(void **p, uint32_t *cap, size_t elem, uint32_t need) {
    if (need <= *cap) return 1;
    uint32_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *q = realloc(*p, elem * c);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
}

// Appends a new pair with no occurrences; returns its index or NONE.
static uint32_t new_pair(trainer *tr, uint32_t l, uint32_t r) {
    if (!grow((void **)&tr->pairs, &tr->cap_pairs, sizeof *tr->pairs, tr->n_pairs + 1) ||
        !grow((void **)&tr->count, &tr->cap_count, sizeof *tr->count, tr->n_pairs + 1))
        return NONE;
    tr->pairs[tr->n_pairs] = (pair_stats){.left = l, .right = r};
    tr->count[tr->n_pairs] = 0;
    return tr->n_pairs++;
}

// The index of pair (l, r), one of whose tokens is z, the token being made.
static uint32_t made_pair(trainer *tr, uint32_t l, uint32_t r, uint32_t z) {
    uint32_t *slot = r == z ? &tr->with_left[l] : &tr->with_right[r];
    if (*slot == NONE) {
        if ((*slot = new_pair(tr, l, r)) == NONE) return NONE;
    }
    return *slot;
}

// Takes room for n positions from the arena and returns its offset there.
// The arena never runs out: it starts with the n - 1 byte pairs, and each
// merge of one occurrence, which removes a token, adds at most two.
static size_t arena_take(trainer *tr, size_t n) {
    tr->arena_len += n;
    return tr->arena_len - n;
}

static int holds(const trainer *tr, uint32_t p, uint32_t q) { return tr->seq[q].pair == p; }

// The leftmost position that still holds pair p (which must have count > 0).
static uint32_t first_position(const trainer *tr, uint32_t p) {
    pair_stats *ps = &tr->pairs[p];
    const uint32_t *pos = tr->arena + ps->pos;
    while (!holds(tr, p, pos[ps->head])) ps->head++;
    return pos[ps->head];
}

// ---- the heap: higher count first, then leftmost first occurrence ----

static int better(heap_entry a, heap_entry b) {
    return a.count > b.count || (a.count == b.count && a.first < b.first);
}

static int heap_push(trainer *tr, heap_entry e) {
    if (!grow((void **)&tr->heap, &tr->heap_cap, sizeof *tr->heap, tr->heap_len + 1)) return 0;
    uint32_t i = tr->heap_len++;
    while (i > 0 && better(e, tr->heap[(i - 1) / 2])) {
        tr->heap[i] = tr->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    tr->heap[i] = e;
    return 1;
}

static heap_entry heap_pop(trainer *tr) {
    heap_entry top = tr->heap[0], last = tr->heap[--tr->heap_len];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= tr->heap_len) break;
        if (c + 1 < tr->heap_len && better(tr->heap[c + 1], tr->heap[c])) c++;
        if (!better(tr->heap[c], last)) break;
        tr->heap[i] = tr->heap[c];
        i = c;
    }
    if (tr->heap_len > 0) tr->heap[i] = last;
    return top;
}

// Pops current candidates, best first, into top[] until it holds want of them
// or the heap is empty. Stale entries are re-keyed on the way. Returns how
// many were found, or -1 when out of memory.
// (Kept out of line, here and in merge_pair: a browser compiles a
// WebAssembly function quickly first and well later, and only calls made
// after that use the good code; one function the size of the whole
// training loop would never get it.)
NOINLINE static int best_candidates(trainer *tr, heap_entry *top, int want) {
    int found = 0;
    while (found < want && tr->heap_len > 0) {
        heap_entry e = heap_pop(tr);
        uint32_t count = tr->count[e.pair];
        if (count == 0) continue;  // merged away entirely: drop it
        heap_entry now = {count, first_position(tr, e.pair), e.pair};
        if (now.count != e.count || now.first != e.first) {
            if (!heap_push(tr, now)) return -1;
            continue;
        }
        top[found++] = e;
    }
    return found;
}

// Replaces every occurrence of pair w, left to right, by token z, and offers
// the pairs this made to the heap.
NOINLINE static int merge_pair(trainer *tr, uint32_t w, uint32_t z, size_t *n_tokens) {
    node *seq = tr->seq;
    const uint32_t *pos = tr->arena + tr->pairs[w].pos;  // the arena never moves
    uint32_t len = tr->pairs[w].len;  // no merge can add occurrences of w
    uint32_t made_from = tr->n_pairs;  // the pairs made here are new ones
    size_t n_staged = 0;
    size_t occurrences = tr->count[w], need = 4 * occurrences;  // two pairs made at each
    if (need > tr->cap_staged) {
        free(tr->staged);
        tr->cap_staged = 0;
        if (occurrences > SIZE_MAX / 16 || !(tr->staged = malloc(sizeof *tr->staged * need)))
            return 0;
        tr->cap_staged = need;
    }
    uint32_t *staged = tr->staged;
    // At each occurrence q, the pair's right token starts to_s bytes on, and
    // the token after the pair to_y bytes on.
    const uint32_t *tlen = tr->len;
    uint32_t to_s = tlen[tr->pairs[w].left], to_y = tlen[z], n = tr->n;
    for (uint32_t k = tr->pairs[w].head; k < len; k++) {
        if (k + 8 < len) {  // the nodes around a merge a few merges ahead
            uint32_t ahead = pos[k + 8];
            __builtin_prefetch(&seq[ahead > 0 ? ahead - 1 : 0]);
            __builtin_prefetch(&seq[ahead + to_y < n ? ahead + to_y : ahead]);
        }
        uint32_t q = pos[k];
        if (!holds(tr, w, q)) continue;
        // x, q, s, y: the token before the pair, its two tokens, the one after
        uint32_t x = q > 0 ? q - tlen[seq[q - 1].last] : NONE, s = q + to_s, y = q + to_y;
        tr->count[w]--;
        if (x != NONE) tr->count[seq[x].pair]--;
        if (y < n) tr->count[seq[s].pair]--;
        seq[q].tok = (uint16_t)z;
        seq[q].pair = NONE;
        seq[s].pair = NONE;
        seq[y - 1].last = (uint16_t)z;
        // Stage the pairs made at x and at q, in ascending order of position.
        uint32_t p;
        if (x != NONE) {
            if ((p = made_pair(tr, seq[x].tok, z, z)) == NONE) return 0;
            tr->count[p]++;
            tr->pairs[p].len++;
            seq[x].pair = p;
            staged[n_staged++] = p - made_from;
            staged[n_staged++] = x;
        }
        if (y < n) {
            if ((p = made_pair(tr, z, seq[y].tok, z)) == NONE) return 0;
            tr->count[p]++;
            tr->pairs[p].len++;
            seq[q].pair = p;
            staged[n_staged++] = p - made_from;
            staged[n_staged++] = q;
        }
        --*n_tokens;
    }
    // Deal the staged positions out to their pairs' lists, which keeps each
    // list ascending.
    uint32_t n_made = tr->n_pairs - made_from;
    if (!grow((void **)&tr->at, &tr->cap_at, sizeof *tr->at, n_made)) return 0;
    for (uint32_t i = 0; i < n_made; i++)
        tr->at[i] = tr->pairs[made_from + i].pos = arena_take(tr, tr->pairs[made_from + i].len);
    for (size_t k = 0; k < n_staged; k += 2) tr->arena[tr->at[staged[k]]++] = staged[k + 1];
    for (uint32_t p = made_from; p < tr->n_pairs; p++) {
        const pair_stats *ps = &tr->pairs[p];
        if (ps->right == z) tr->with_left[ps->left] = NONE;
        else tr->with_right[ps->right] = NONE;
        if (tr->count[p] > 0 &&
            !heap_push(tr, (heap_entry){tr->count[p], first_position(tr, p), p}))
            return 0;
    }
    return 1;
}

// The start counts the byte pairs and lays out their positions in pieces of
// the text side by side, a thread each: a piece counts into a table of its
// own, and its positions of a pair go after those of the pieces before it,
// so that each list is ascending, and the same, whatever the number of
// pieces. A piece is at least PIECE_BYTES, so that its table of 256 KB pays.
enum { PIECE_BYTES = 256 << 10, MAX_PIECES = 64 };

// The pieces of a text of n bytes on `threads` threads (0: all).
static int train_pieces(size_t n, int threads) {
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#endif
    int pieces = threads < 1 ? 1 : threads > MAX_PIECES ? MAX_PIECES : threads;
    size_t most = n / PIECE_BYTES > 0 ? n / PIECE_BYTES : 1;
    return (size_t)pieces > most ? (int)most : pieces;
}

// Builds the nodes, the byte pairs and the heap for the text, in
// train_pieces pieces, whose number goes to *used.
static int start(trainer *tr, const uint8_t *text, size_t n, int vocab, int threads, int *used) {
    int pieces = train_pieces(n, threads);
    size_t cut[MAX_PIECES + 1];  // piece k holds the pairs at positions cut[k] .. cut[k + 1]
    for (int k = 0; k < pieces; k++) cut[k] = (n - 1) / (size_t)pieces * (size_t)k;
    cut[pieces] = n - 1;
    // at[k << 16 | a << 8 | b]: piece k's count of the byte pair (a, b), then
    // where its next position goes in the arena
    uint32_t *at = calloc((size_t)pieces << 16, sizeof *at);
    uint32_t *byte_pair = malloc(sizeof *byte_pair << 16);  // (a << 8 | b) -> index
    tr->n = (uint32_t)n;
    tr->seq = gg_big_alloc(sizeof *tr->seq * n);
    tr->with_left = malloc(sizeof *tr->with_left * (size_t)vocab);
    tr->with_right = malloc(sizeof *tr->with_right * (size_t)vocab);
    tr->len = malloc(sizeof *tr->len * (size_t)vocab);
    int ok = at && byte_pair && tr->seq && tr->with_left && tr->with_right && tr->len &&
             n <= SIZE_MAX / 3 / sizeof *tr->arena &&
             (tr->arena = gg_big_alloc(sizeof *tr->arena * 3 * n));
    if (!ok) goto out;
    memset(tr->with_left, 0xff, sizeof *tr->with_left * (size_t)vocab);
    memset(tr->with_right, 0xff, sizeof *tr->with_right * (size_t)vocab);
    for (int i = 0; i < GG_BPE_BYTES; i++) tr->len[i] = 1;
    // Count first, so that every position list is allocated once, exactly.
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(pieces) if (pieces > 1)
#endif
    for (int k = 0; k < pieces; k++) {
        uint32_t *c = at + ((size_t)k << 16);
        for (size_t i = cut[k]; i < cut[k + 1]; i++) c[text[i] << 8 | text[i + 1]]++;
    }
    for (uint32_t key = 0; key < 1u << 16; key++) {
        uint32_t total = 0;
        for (int k = 0; k < pieces; k++) total += at[(size_t)k << 16 | key];
        if (total == 0) continue;
        uint32_t p = byte_pair[key] = new_pair(tr, key >> 8, key & 0xff);
        if (p == NONE) {
            ok = 0;
            goto out;
        }
        size_t pos = tr->pairs[p].pos = arena_take(tr, total);  // under n: fits 32 bits
        tr->pairs[p].len = tr->count[p] = total;  // every position holds its pair yet
        for (int k = 0; k < pieces; k++) {
            uint32_t *c = &at[(size_t)k << 16 | key], in_piece = *c;
            *c = (uint32_t)pos;
            pos += in_piece;
        }
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(pieces) if (pieces > 1)
#endif
    for (int k = 0; k < pieces; k++) {
        uint32_t *c = at + ((size_t)k << 16);
        for (size_t i = cut[k]; i < cut[k + 1]; i++) {
            uint32_t key = text[i] << 8 | text[i + 1];
            tr->seq[i] = (node){byte_pair[key], text[i], text[i]};
            tr->arena[c[key]++] = (uint32_t)i;
        }
    }
    tr->seq[n - 1] = (node){NONE, text[n - 1], text[n - 1]};
    if (used) *used = pieces;
    for (uint32_t p = 0; ok && p < tr->n_pairs; p++)
        ok = heap_push(tr, (heap_entry){tr->count[p], tr->arena[tr->pairs[p].pos], p});
out:
    free(at);
    free(byte_pair);
    return ok;
}

static void trainer_free(trainer *tr) {
    gg_big_free(tr->arena);
    free(tr->staged);
    free(tr->pairs);
    free(tr->count);
    free(tr->heap);
    free(tr->with_left);
    free(tr->with_right);
    free(tr->at);
    free(tr->len);
    gg_big_free(tr->seq);
}

int gg_bpe_train(gg_tokenizer *t, const uint8_t *text, size_t n,
                 const gg_bpe_train_opts *opts, size_t *n_tokens, gg_error *err) {
    memset(t, 0, sizeof *t);
    int vocab = opts->vocab_size;
    if (vocab < GG_BPE_BYTES || vocab > GG_BPE_MAX_VOCAB)
        return gg_fail(err, GG_ERR_ARG, "vocabulary size %d is out of range: it must be %d..%d",
                       vocab, GG_BPE_BYTES, GG_BPE_MAX_VOCAB);
    if (n == 0) return gg_fail(err, GG_ERR_ARG, "the corpus is empty: there is nothing to learn from");
    if (n >= NONE)
        return gg_fail(err, GG_ERR_ARG, "a corpus of %zu bytes is too large (the limit is 4 GiB)", n);

    int want = vocab - GG_BPE_BYTES, done = 0, rc = GG_OK;
    size_t tokens = n, token_bytes = GG_BPE_BYTES;
    trainer tr = {0};
    gg_pair *merges = malloc(sizeof *merges * (want ? want : 1));
    uint32_t *counts = malloc(sizeof *counts * (want ? want : 1));
    if (!merges || !counts || !start(&tr, text, n, vocab, opts->threads, opts->pieces)) goto nomem;

    for (; done < want; done++) {
        heap_entry top[GG_BPE_TOP];
        int n_top = best_candidates(&tr, top, opts->trace ? GG_BPE_TOP : 1);
        if (n_top < 0) goto nomem;
        if (n_top == 0) break;  // the corpus is a single token now
        const pair_stats *w = &tr.pairs[top[0].pair];
        uint32_t z = GG_BPE_BYTES + (uint32_t)done;
        size_t bytes = (size_t)tr.len[w->left] + tr.len[w->right];
        if (token_bytes + bytes > GG_BPE_MAX_TOKEN_BYTES) break;
        token_bytes += bytes;
        tr.len[z] = (uint32_t)bytes;
        merges[done] = (gg_pair){w->left, w->right};
        counts[done] = tr.count[top[0].pair];
        if (opts->trace) {
            gg_bpe_step *st = &opts->trace[done];
            memset(st, 0, sizeof *st);
            st->id = z;
            st->n_top = (uint32_t)n_top;
            for (int k = 0; k < n_top; k++) {
                const pair_stats *p = &tr.pairs[top[k].pair];
                st->top[k] = (gg_bpe_candidate){p->left, p->right, tr.count[top[k].pair]};
            }
        }
        // The runners-up are unchanged so far; give them back before merging.
        for (int k = 1; k < n_top; k++)
            if (!heap_push(&tr, top[k])) goto nomem;
        if (!merge_pair(&tr, top[0].pair, z, &tokens)) goto nomem;
        if (opts->progress) opts->progress(opts->progress_user, done + 1, want);
    }
    rc = gg_tokenizer_init(t, merges, counts, done, NULL, err);
    if (rc == GG_OK && n_tokens) *n_tokens = tokens;
    goto out;
nomem:
    rc = gg_fail(err, GG_ERR_NOMEM, "out of memory training on %zu bytes", n);
out:
    trainer_free(&tr);
    free(merges);
    free(counts);
    return rc;
}
