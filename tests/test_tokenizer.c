// Tests of the BPE tokenizer: golden cases, the fast trainer and encoder
// against the naive reference on random and adversarial corpora, the file
// format, and every kind of bad input.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/export.h"
#include "../src/fileio.h"
#include "../src/tokenizer.h"
#include "check.h"
#include "ref_bpe.h"

// ---- helpers ----

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {  // xorshift64*
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static const uint8_t *S(const char *s) { return (const uint8_t *)s; }

static uint8_t *shakespeare(size_t *n) {
    const char *path = getenv("GLASSGPT_CORPUS");
    uint8_t *data = NULL;
    *n = 0;
    if (path && gg_read_file(path, &data, n, NULL) != GG_OK) {
        fprintf(stderr, "GLASSGPT_CORPUS=%s cannot be read\n", path);
        return NULL;
    }
    return data;
}

// Trains both implementations on text and checks that every merge, count,
// trace step and the final length agree. Returns the fast tokenizer.
static void compare_training(const uint8_t *text, size_t n, int vocab, const char *what,
                             gg_tokenizer *out) {
    int want = vocab - 256;
    gg_pair *rm = malloc(sizeof *rm * (size_t)want);
    uint32_t *rc = malloc(sizeof *rc * (size_t)want);
    gg_bpe_step *rt = malloc(sizeof *rt * (size_t)want), *ft = malloc(sizeof *ft * (size_t)want);
    size_t rn = 0, fn = 0;
    int r_merges = ref_bpe_train(text, n, vocab, rm, rc, rt, &rn);
    gg_tokenizer t;
    gg_error err;
    gg_bpe_train_opts opts = {.vocab_size = vocab, .trace = ft};
    int status = gg_bpe_train(&t, text, n, &opts, &fn, &err);
    CHECK(status == GG_OK, "%s: %s", what, err.msg);
    if (status == GG_OK) {
        CHECK(t.n_merges == r_merges, "%s: %d merges, reference %d", what, t.n_merges, r_merges);
        CHECK(fn == rn, "%s: %zu tokens, reference %zu", what, fn, rn);
        for (int i = 0; i < t.n_merges && i < r_merges; i++) {
            int same = t.merges[i].left == rm[i].left && t.merges[i].right == rm[i].right &&
                       t.counts[i] == rc[i] && ft[i].id == rt[i].id && ft[i].n_top == rt[i].n_top &&
                       memcmp(ft[i].top, rt[i].top, sizeof *ft[i].top * ft[i].n_top) == 0;
            CHECK(same, "%s: merge %d is (%u,%u)x%u, reference (%u,%u)x%u (or traces differ)",
                  what, i, t.merges[i].left, t.merges[i].right, t.counts[i], rm[i].left,
                  rm[i].right, rc[i]);
            if (!same) break;
        }
        if (out) *out = t;
        else gg_tokenizer_free(&t);
    }
    free(rm);
    free(rc);
    free(rt);
    free(ft);
}

// Encodes text with both implementations and checks they agree and that
// decoding gives the text back.
static void compare_encoding(const gg_tokenizer *t, const uint8_t *text, size_t n,
                             const char *what) {
    // a holds exactly n ids, so the sanitizers catch an encoder writing past
    uint32_t *a = malloc(sizeof *a * (n ? n : 1)), *b = malloc(sizeof *b * (n + 1));
    uint8_t *back = malloc(n + 1);
    size_t na = 0, nback = 0;
    gg_error err;
    int rc = gg_bpe_encode(t, text, n, a, &na, &err);
    CHECK(rc == GG_OK, "%s: %s", what, err.msg);
    long nb = ref_bpe_encode(t->merges, t->n_merges, text, n, b);
    CHECK((long)na == nb, "%s: %zu ids, reference %ld", what, na, nb);
    CHECK(nb < 0 || (long)na != nb || memcmp(a, b, sizeof *a * na) == 0, "%s: ids differ", what);
    rc = gg_bpe_decoded_size(t, a, na, &nback, &err);
    CHECK(rc == GG_OK && nback == n, "%s: decodes to %zu bytes, not %zu", what, nback, n);
    if (rc == GG_OK && nback == n) {
        gg_bpe_decode(t, a, na, back, &err);
        CHECK(memcmp(back, text, n) == 0, "%s: the round trip changed the bytes", what);
    }
    free(a);
    free(b);
    free(back);
}

// Fills buf with one of the adversarial or random corpus shapes.
static void make_corpus(uint8_t *buf, size_t n, int kind) {
    uint8_t a = (uint8_t)rnd(), b = (uint8_t)rnd();
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: buf[i] = a; break;                                  // one byte repeated
        case 1: buf[i] = i % 2 ? a : b; break;                      // two alternating
        case 2: buf[i] = (uint8_t)("ab"[rnd() % 2]); break;         // random, 2 letters
        case 3: buf[i] = (uint8_t)("abc"[rnd() % 3]); break;        // random, 3 letters
        case 4: buf[i] = (uint8_t)rnd(); break;                     // random bytes
        case 5: buf[i] = rnd() % 8 ? a : (uint8_t)rnd(); break;     // long runs, broken
        case 6: buf[i] = (uint8_t)("aab"[i % 3]); break;            // a periodic pattern
        default: buf[i] = (uint8_t)("the cat sat on a mat "[rnd() % 21]); break;
        }
    }
}

// ---- golden cases ----

static void test_golden_minbpe(void) {
    const char *text = "aaabdaaabac";
    gg_tokenizer t;
    gg_error err;
    gg_bpe_train_opts opts = {.vocab_size = 259};
    size_t n_tokens;
    CHECK(gg_bpe_train(&t, S(text), strlen(text), &opts, &n_tokens, &err) == GG_OK, "%s", err.msg);
    CHECK(t.n_merges == 3, "%d merges", t.n_merges);
    const gg_pair want[3] = {{97, 97}, {256, 97}, {257, 98}};
    CHECK(memcmp(t.merges, want, sizeof want) == 0, "merges (%u,%u) (%u,%u) (%u,%u)",
          t.merges[0].left, t.merges[0].right, t.merges[1].left, t.merges[1].right,
          t.merges[2].left, t.merges[2].right);
    CHECK(t.counts[0] == 4, "(a,a) counted %u times; overlaps count, so 4", t.counts[0]);
    uint32_t ids[11];
    size_t n;
    CHECK(gg_bpe_encode(&t, S(text), strlen(text), ids, &n, &err) == GG_OK, "%s", err.msg);
    const uint32_t want_ids[5] = {258, 100, 258, 97, 99};
    CHECK(n == 5 && memcmp(ids, want_ids, sizeof want_ids) == 0, "encoded to %zu ids", n);
    CHECK(n_tokens == 5, "training ended at %zu tokens", n_tokens);
    gg_tokenizer_free(&t);
}

static void test_ties_go_to_leftmost_first_occurrence(void) {
    // (c,d) and (a,b) both occur twice; (c,d) occurs first.
    gg_tokenizer t;
    gg_bpe_train_opts opts = {.vocab_size = 257};
    CHECK(gg_bpe_train(&t, S("cdxabycdzab"), 11, &opts, NULL, NULL) == GG_OK, "train");
    CHECK(t.merges[0].left == 'c' && t.merges[0].right == 'd', "merged (%u,%u)",
          t.merges[0].left, t.merges[0].right);
    gg_tokenizer_free(&t);
    // "aaaabab" -> X X b a b after (a,a): every pair now occurs once, so the
    // leftmost in the current sequence, (X,X), wins, though (a,b) and (b,a)
    // were seen earlier in the original text.
    opts.vocab_size = 258;
    CHECK(gg_bpe_train(&t, S("aaaabab"), 7, &opts, NULL, NULL) == GG_OK, "train");
    CHECK(t.merges[0].left == 'a' && t.merges[0].right == 'a', "first merge (%u,%u)",
          t.merges[0].left, t.merges[0].right);
    CHECK(t.merges[1].left == 256 && t.merges[1].right == 256, "second merge (%u,%u)",
          t.merges[1].left, t.merges[1].right);
    gg_tokenizer_free(&t);
}

static void test_overlapping_runs_merge_left_to_right(void) {
    gg_tokenizer t;
    gg_bpe_train_opts opts = {.vocab_size = 257};
    size_t n_tokens;
    CHECK(gg_bpe_train(&t, S("aaaaa"), 5, &opts, &n_tokens, NULL) == GG_OK, "train");
    CHECK(t.counts[0] == 4, "(a,a) occurs 4 times overlapping, counted %u", t.counts[0]);
    CHECK(n_tokens == 3, "aaaaa -> XXa is 3 tokens, got %zu", n_tokens);
    uint32_t ids[5];
    size_t n;
    gg_bpe_encode(&t, S("aaaaa"), 5, ids, &n, NULL);
    CHECK(n == 3 && ids[0] == 256 && ids[1] == 256 && ids[2] == 'a', "encoded %zu ids", n);
    gg_tokenizer_free(&t);
}

// ---- the fast implementations against the reference ----

static void test_training_matches_reference(void) {
    static uint8_t buf[3000];
    char what[64];
    for (int round = 0; round < 160; round++) {
        int kind = round % 8;
        size_t n = 1 + rnd() % (round < 80 ? 300 : sizeof buf);
        make_corpus(buf, n, kind);
        snprintf(what, sizeof what, "corpus %d (kind %d, %zu bytes)", round, kind, n);
        gg_tokenizer t;
        compare_training(buf, n, 256 + 1 + (int)(rnd() % 120), what, &t);
        if (check_case_failed) break;
        // Encode the training text and other texts of every shape with it.
        compare_encoding(&t, buf, n, what);
        for (int k = 0; k < 8; k++) {
            static uint8_t other[2000];
            size_t m = rnd() % sizeof other;
            make_corpus(other, m, k);
            compare_encoding(&t, other, m, what);
        }
        gg_tokenizer_free(&t);
        if (check_case_failed) break;
    }
}

static void test_encoding_the_training_text_replays_training(void) {
    static uint8_t buf[5000];
    for (int kind = 0; kind < 8; kind++) {
        make_corpus(buf, sizeof buf, kind);
        gg_tokenizer t;
        gg_bpe_train_opts opts = {.vocab_size = 400};
        size_t n_tokens, n_ids;
        CHECK(gg_bpe_train(&t, buf, sizeof buf, &opts, &n_tokens, NULL) == GG_OK, "train");
        static uint32_t ids[5000];
        gg_bpe_encode(&t, buf, sizeof buf, ids, &n_ids, NULL);
        CHECK(n_ids == n_tokens, "kind %d: encoding gives %zu ids, training ended at %zu",
              kind, n_ids, n_tokens);
        gg_tokenizer_free(&t);
    }
}

static void test_hostile_inputs_encode_exactly(void) {
    // A megabyte of one byte, with a tokenizer that learned deep merges of it.
    size_t n = 1 << 20;
    uint8_t *buf = malloc(n);
    memset(buf, 'a', n);
    gg_tokenizer t;
    gg_bpe_train_opts opts = {.vocab_size = 256 + 40};
    CHECK(gg_bpe_train(&t, buf, 4096 + 37, &opts, NULL, NULL) == GG_OK, "train");
    compare_encoding(&t, buf, n, "1 MiB of 'a'");
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)rnd();
    compare_encoding(&t, buf, n, "1 MiB of random bytes");
    gg_tokenizer_free(&t);
    free(buf);
}

// Segments of every length up to past the short encoder's 64 bytes, each
// cut off by a byte that no token holds: the lengths around its vectors of
// 16 keys (and a last token at byte 63) must encode like the reference.
static void test_segments_of_every_length_encode_exactly(void) {
    static uint8_t corpus[5000], text[80 * 72];
    make_corpus(corpus, sizeof corpus, 3);  // random over "abc": every pair joins
    gg_tokenizer t;
    gg_bpe_train_opts opts = {.vocab_size = 400};
    CHECK(gg_bpe_train(&t, corpus, sizeof corpus, &opts, NULL, NULL) == GG_OK, "train");
    for (int round = 0; round < 4; round++) {
        size_t n = 0, end_of[73];  // where the segment of len bytes ends
        for (size_t len = 1; len <= 72; len++) {
            for (size_t i = 0; i < len; i++) text[n++] = (uint8_t)("abc"[rnd() % 3]);
            end_of[len] = n;
            text[n++] = '|';
        }
        compare_encoding(&t, text, n, "segments of 1 to 72 bytes");
        char what[64];
        for (size_t last = 1; last <= 72; last++) {  // the text ending in each
            snprintf(what, sizeof what, "segments of 1 to %zu bytes, ending in the last", last);
            compare_encoding(&t, text, end_of[last], what);
        }
    }
    gg_tokenizer_free(&t);
}

// Merges that no trainer would make, in any order the file format allows,
// up to the largest vocabulary: the encoder must still equal the reference.
// Padding merges of high bytes (>= 128) come first, so that the real ones,
// over "abc", get the last ranks and ids (up to 65535). wide makes so many
// different left and right parts that the ranks sit in the hash rather
// than the table.
static void check_arbitrary_merges(int wide) {
    enum { PAD = 65000, REAL = GG_BPE_MAX_VOCAB - GG_BPE_BYTES - PAD };
    static gg_pair merges[PAD + REAL];
    for (uint32_t i = 0; i < PAD; i++) {
        uint32_t j = i - 16384;  // for the merges of tokens, past the pairs of bytes
        merges[i] = i < 16384 ? (gg_pair){128 + i / 128, 128 + i % 128}
                  : wide      ? (gg_pair){256 + j / 64, 256 + j % 1024}
                              : (gg_pair){256 + j / 128, 128 + j % 128};
    }
    uint32_t pool[3 + REAL] = {'a', 'b', 'c'}, n_pool = 3;
    static uint32_t length[GG_BPE_MAX_VOCAB];  // of the real tokens, in bytes
    length['a'] = length['b'] = length['c'] = 1;
    for (uint32_t k = 0; k < REAL; k++) {
        gg_pair p;
        int fresh;
        do {  // half the time a recent token, so that chains grow deep
            p.left = pool[rnd() % 2 ? n_pool - 1 - rnd() % (n_pool < 4 ? n_pool : 4) : rnd() % n_pool];
            p.right = pool[rnd() % 2 ? n_pool - 1 - rnd() % (n_pool < 4 ? n_pool : 4) : rnd() % n_pool];
            // but no longer than the text: doubling chains would pass the
            // bound on the tokens' bytes
            fresh = length[p.left] + length[p.right] <= 1024;
            for (uint32_t q = 0; fresh && q < k; q++)
                if (merges[PAD + q].left == p.left && merges[PAD + q].right == p.right) fresh = 0;
        } while (!fresh);
        merges[PAD + k] = p;
        length[GG_BPE_BYTES + PAD + k] = length[p.left] + length[p.right];
        pool[n_pool++] = GG_BPE_BYTES + PAD + k;
    }
    gg_tokenizer t;
    gg_error err;
    int ok = gg_tokenizer_init(&t, merges, NULL, PAD + REAL, NULL, &err) == GG_OK;
    CHECK(ok, "%s", err.msg);
    if (!ok) return;
    CHECK(wide ? !t.rank_table : t.rank_table != NULL, "the ranks are in the %s",
          t.rank_table ? "table" : "hash");
    static uint8_t text[700];
    char what[64];
    for (int round = 0; round < 40; round++) {
        // Segments of every length: from a seam in every 2 bytes to none at all.
        uint32_t seam_every = (const uint32_t[]){2, 8, 40, 1u << 30}[round % 4];
        size_t n = 1 + rnd() % sizeof text;
        for (size_t i = 0; i < n; i++)
            text[i] = rnd() % seam_every == 0 ? ' '
                    : rnd() % 16 == 0     ? (uint8_t)(128 + rnd() % 128)
                                          : (uint8_t)("abc"[rnd() % 3]);
        snprintf(what, sizeof what, "%s merges, text %d (%zu bytes)", wide ? "wide" : "narrow",
                 round, n);
        compare_encoding(&t, text, n, what);
        if (check_case_failed) break;
    }
    gg_tokenizer_free(&t);
}

static void test_arbitrary_merges_encode_exactly(void) {
    check_arbitrary_merges(0);
    check_arbitrary_merges(1);
}

static void test_round_trips_of_any_bytes(void) {
    size_t n;
    uint8_t *text = shakespeare(&n);
    const char *train = text ? (const char *)text : "the cat sat on the mat. the cat sat.";
    gg_tokenizer t;
    gg_bpe_train_opts opts = {.vocab_size = 512};
    CHECK(gg_bpe_train(&t, S(train), text ? n : strlen(train), &opts, NULL, NULL) == GG_OK, "train");
    const char *samples[] = {
        "",
        "To be, or not to be",
        "\xe7\x8c\xab\xe3\x81\x8c\xe5\xba\xa7\xe3\x81\xa3\xe3\x81\x9f",   // CJK and kana
        "\xf0\x9f\x90\x88 \xf0\x9f\x98\x80\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88",  // emoji
        "\xff\xfe\xc0\x80\xed\xa0\x80 invalid UTF-8 \x80\x80",
        "\x00\x01\x02 NUL and control \x7f",
    };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        size_t len = i == 5 ? 21 : strlen(samples[i]);  // 5 starts with a NUL
        compare_encoding(&t, S(samples[i]), len, samples[i]);
    }
    uint8_t all[512];
    for (int i = 0; i < 512; i++) all[i] = (uint8_t)(i * 7);
    compare_encoding(&t, all, sizeof all, "every byte value");
    gg_tokenizer_free(&t);
    free(text);
}

// ---- tinyshakespeare ----

static void test_shakespeare_goldens(void) {
    size_t n;
    uint8_t *text = shakespeare(&n);
    if (!text) {
        CHECK(getenv("GLASSGPT_CORPUS") == NULL, "the corpus is missing");
        fprintf(stderr, "note: GLASSGPT_CORPUS is not set; Shakespeare goldens not run\n");
        return;
    }
    CHECK(n == 1115394, "tinyshakespeare is %zu bytes, expected 1115394", n);
    gg_tokenizer t;
    compare_training(text, n, 768, "tinyshakespeare, 512 merges", &t);
    if (check_case_failed) {
        free(text);
        return;
    }
    const char *first[5] = {"e ", "th", "t ", "s ", "d "};
    for (int i = 0; i < 5; i++) {
        size_t len;
        const uint8_t *b = gg_token_bytes(&t, 256 + (uint32_t)i, &len);
        CHECK(len == 2 && memcmp(b, first[i], 2) == 0, "merge %d is '%.*s', expected '%s'", i,
              (int)len, b, first[i]);
    }
    uint32_t ids[32];
    size_t n_ids;
    const char *line = "To be, or not to be";
    gg_bpe_encode(&t, S(line), strlen(line), ids, &n_ids, NULL);
    CHECK(n_ids > 0 && ids[0] == 418, "'To ' encodes as %u, expected 418", n_ids ? ids[0] : 0);
    size_t len;
    const uint8_t *b = gg_token_bytes(&t, 418, &len);
    CHECK(len == 3 && memcmp(b, "To ", 3) == 0, "token 418 is '%.*s'", (int)len, b);
    compare_encoding(&t, text + 500000, 30000, "30 kB of Shakespeare");
    // The whole corpus round-trips.
    uint32_t *all = malloc(sizeof *all * n);
    uint8_t *back = malloc(n);
    gg_bpe_encode(&t, text, n, all, &n_ids, NULL);
    CHECK(gg_bpe_decode(&t, all, n_ids, back, NULL) == GG_OK && memcmp(back, text, n) == 0,
          "tinyshakespeare does not round-trip");
    free(all);
    free(back);
    gg_tokenizer_free(&t);
    // A larger vocabulary on a slice, against the reference.
    compare_training(text + 100000, 60000, 2048, "60 kB of Shakespeare, 1792 merges", NULL);
    free(text);
}

// ---- the trace ----

static void test_trace_is_ranked(void) {
    static uint8_t buf[4000];
    make_corpus(buf, sizeof buf, 7);
    gg_bpe_step trace[100];
    gg_tokenizer t;
    gg_bpe_train_opts opts = {.vocab_size = 356, .trace = trace};
    CHECK(gg_bpe_train(&t, buf, sizeof buf, &opts, NULL, NULL) == GG_OK, "train");
    for (int i = 0; i < t.n_merges; i++) {
        CHECK(trace[i].id == 256 + (uint32_t)i, "step %d has id %u", i, trace[i].id);
        CHECK(trace[i].n_top >= 1 && trace[i].n_top <= GG_BPE_TOP, "step %d has %u", i,
              trace[i].n_top);
        CHECK(trace[i].top[0].left == t.merges[i].left && trace[i].top[0].right ==
              t.merges[i].right && trace[i].top[0].count == t.counts[i], "step %d top[0]", i);
        for (uint32_t k = 1; k < trace[i].n_top; k++)
            CHECK(trace[i].top[k].count <= trace[i].top[k - 1].count, "step %d unsorted", i);
    }
    gg_tokenizer_free(&t);
}

// ---- bad input to the library ----

static void test_training_rejects_bad_arguments(void) {
    gg_tokenizer t;
    gg_error err;
    gg_bpe_train_opts opts = {.vocab_size = 255};
    CHECK(gg_bpe_train(&t, S("abc"), 3, &opts, NULL, &err) == GG_ERR_ARG, "vocab 255");
    CHECK(strstr(err.msg, "255") != NULL, "message: %s", err.msg);
    opts.vocab_size = 65537;
    CHECK(gg_bpe_train(&t, S("abc"), 3, &opts, NULL, &err) == GG_ERR_ARG, "vocab 65537");
    opts.vocab_size = 768;
    CHECK(gg_bpe_train(&t, S(""), 0, &opts, NULL, &err) == GG_ERR_ARG, "empty corpus");
    CHECK(strstr(err.msg, "empty") != NULL, "message: %s", err.msg);
}

static void test_small_corpus_stops_early(void) {
    gg_tokenizer t;
    size_t n_tokens;
    gg_bpe_train_opts opts = {.vocab_size = 768};
    CHECK(gg_bpe_train(&t, S("hello"), 5, &opts, &n_tokens, NULL) == GG_OK, "train");
    CHECK(t.n_merges == 4 && n_tokens == 1, "%d merges, %zu tokens", t.n_merges, n_tokens);
    gg_tokenizer_free(&t);
    CHECK(gg_bpe_train(&t, S("x"), 1, &opts, &n_tokens, NULL) == GG_OK, "train");
    CHECK(t.n_merges == 0 && n_tokens == 1, "%d merges from one byte", t.n_merges);
    gg_tokenizer_free(&t);
    opts.vocab_size = 256;
    CHECK(gg_bpe_train(&t, S("abab"), 4, &opts, &n_tokens, NULL) == GG_OK, "train");
    CHECK(t.n_merges == 0 && n_tokens == 4, "vocab 256 learns nothing");
    gg_tokenizer_free(&t);
}

static void test_init_checks_merges(void) {
    gg_tokenizer t;
    gg_error err;
    int bad = -1;
    gg_pair undefined[2] = {{97, 98}, {256, 257}};
    CHECK(gg_tokenizer_init(&t, undefined, NULL, 2, &bad, &err) == GG_ERR_FORMAT, "undefined");
    CHECK(bad == 1 && strstr(err.msg, "257") != NULL, "bad %d: %s", bad, err.msg);
    gg_pair dup[3] = {{97, 98}, {99, 100}, {97, 98}};
    CHECK(gg_tokenizer_init(&t, dup, NULL, 3, &bad, &err) == GG_ERR_FORMAT, "duplicate");
    CHECK(bad == 2 && strstr(err.msg, "repeats merge 1") != NULL, "bad %d: %s", bad, err.msg);
}

static void test_decode_rejects_ids_out_of_range(void) {
    gg_tokenizer t;
    gg_pair m[1] = {{97, 98}};
    gg_tokenizer_init(&t, m, NULL, 1, NULL, NULL);
    uint32_t ids[3] = {97, 256, 257};
    size_t n;
    gg_error err;
    CHECK(gg_bpe_decoded_size(&t, ids, 2, &n, &err) == GG_OK && n == 3, "ab + a = 3 bytes");
    CHECK(gg_bpe_decoded_size(&t, ids, 3, &n, &err) == GG_ERR_ARG, "257 is out of range");
    CHECK(strstr(err.msg, "id 257 (token 3)") != NULL, "message: %s", err.msg);
    uint8_t out[8];
    CHECK(gg_bpe_decode(&t, ids, 3, out, &err) == GG_ERR_ARG, "decode checks too");
    gg_tokenizer_free(&t);
}

// ---- the file format ----

static void test_file_round_trip(void) {
    static uint8_t buf[3000];
    make_corpus(buf, sizeof buf, 4);
    gg_tokenizer t, u;
    gg_error err;
    gg_bpe_train_opts opts = {.vocab_size = 400};
    gg_bpe_train(&t, buf, sizeof buf, &opts, NULL, NULL);
    char *text;
    size_t len;
    CHECK(gg_tokenizer_format(&t, &text, &len, &err) == GG_OK, "%s", err.msg);
    CHECK(strncmp(text, "glassgpt-bpe 1\nvocab 400\n", 25) == 0, "header: %.30s", text);
    CHECK(gg_tokenizer_parse(&u, text, len, "mem", &err) == GG_OK, "%s", err.msg);
    CHECK(u.n_merges == t.n_merges &&
          memcmp(u.merges, t.merges, sizeof *t.merges * (size_t)t.n_merges) == 0 &&
          memcmp(u.counts, t.counts, sizeof *t.counts * (size_t)t.n_merges) == 0,
          "merges or counts changed");
    CHECK(u.tok_start[gg_tokenizer_vocab(&u)] == t.tok_start[gg_tokenizer_vocab(&t)] &&
          memcmp(u.tok_bytes, t.tok_bytes, t.tok_start[gg_tokenizer_vocab(&t)]) == 0,
          "token bytes changed");
    gg_tokenizer_free(&u);

    char path[] = "/tmp/glassgpt-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK(gg_tokenizer_save(&t, path, &err) == GG_OK, "%s", err.msg);
    CHECK(gg_tokenizer_load(&u, path, &err) == GG_OK, "%s", err.msg);
    CHECK(u.n_merges == t.n_merges, "loaded %d merges", u.n_merges);
    gg_tokenizer_free(&u);
    unlink(path);
    CHECK(gg_tokenizer_load(&u, path, &err) == GG_ERR_IO, "a missing file is an I/O error");
    CHECK(strstr(err.msg, path) != NULL, "message names the file: %s", err.msg);
    free(text);
    gg_tokenizer_free(&t);
}

static void test_file_accepts_comments_blank_lines_crlf_and_no_counts(void) {
    const char *text = "glassgpt-bpe 1\r\nvocab 258\r\n# a comment\r\n\r\n97 98\r\n256 99 7 # abc\r\n";
    gg_tokenizer t;
    gg_error err;
    CHECK(gg_tokenizer_parse(&t, text, strlen(text), "t", &err) == GG_OK, "%s", err.msg);
    CHECK(t.n_merges == 2 && t.counts[0] == 0 && t.counts[1] == 7, "parsed %d", t.n_merges);
    gg_tokenizer_free(&t);
}

static void test_file_rejects_malformed(void) {
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {"", "t: the file is empty"},
        {"hello\nvocab 256\n", "t:1: not a glassgpt tokenizer"},
        {"glassgpt-bpe 2\nvocab 256\n", "t:1: unknown format version 2"},
        {"glassgpt-bpe 0\nvocab 256\n", "t:1: unknown format version 0"},
        {"glassgpt-bpe 1\n", "t:2: truncated"},
        {"glassgpt-bpe 1\nvocab\n", "t:2: expected 'vocab N'"},
        {"glassgpt-bpe 1\nvocab 70000\n", "t:2: vocabulary size 70000 is over the maximum"},
        {"glassgpt-bpe 1\nvocab 65537\n", "over the maximum of 65536"},
        {"glassgpt-bpe 1\nvocab 100\n", "t:2: vocabulary size 100 is below 256"},
        {"glassgpt-bpe 1\nvocab 258\n97 98\n", "t:3: truncated: 'vocab 258' promises 2 merges"},
        {"glassgpt-bpe 1\nvocab 258\n97 98\n99 1", "t:4: truncated: the last line does not end"},
        {"glassgpt-bpe 1\nvocab 257\n97 98\n99 100\n", "t:4: more merges than 'vocab 257'"},
        {"glassgpt-bpe 1\nvocab 258\n97 98\n256 300\n", "t:4: merge 2 (256, 300) uses id 300, which is not defined yet"},
        {"glassgpt-bpe 1\nvocab 257\n256 97\n", "t:3: merge 1 (256, 97) uses id 256"},
        {"glassgpt-bpe 1\nvocab 259\n97 98\n\n99 98\n97 98\n", "t:6: merge 3 (97, 98) repeats merge 1"},
        {"glassgpt-bpe 1\nvocab 257\n97 x\n", "t:3: expected 'left right [count]'"},
        {"glassgpt-bpe 1\nvocab 257\n97 98 5 6\n", "t:3: expected 'left right [count]'"},
        {"glassgpt-bpe 1\nvocab 257\n-1 98\n", "t:3: expected"},
        {"glassgpt-bpe 1\nvocab 257\n97 98 99999999999\n", "t:3: expected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gg_tokenizer t;
        gg_error err = {{0}};
        int rc = gg_tokenizer_parse(&t, cases[i].text, strlen(cases[i].text), "t", &err);
        CHECK(rc == GG_ERR_FORMAT, "case %zu was accepted (rc %d)", i, rc);
        CHECK(strstr(err.msg, cases[i].expect) != NULL, "case %zu: got '%s', expected '%s'", i,
              err.msg, cases[i].expect);
        if (rc == GG_OK) gg_tokenizer_free(&t);
    }
}

// Merge lists whose tokens grow long: each is refused before the memory for
// their bytes is asked for, the right-leaning chain past the bound included;
// a list just under the bound is built.
static void test_token_bytes_are_bounded(void) {
    enum { N = GG_BPE_MAX_VOCAB - GG_BPE_BYTES };
    gg_pair *m = malloc(sizeof *m * N);
    gg_tokenizer t;
    gg_error err;
    // doubling: 'a' joined to itself, then every token to itself
    m[0] = (gg_pair){'a', 'a'};
    for (uint32_t i = 1; i < 40; i++) m[i] = (gg_pair){255 + i, 255 + i};
    CHECK(gg_tokenizer_init(&t, m, NULL, 40, NULL, &err) == GG_ERR_FORMAT, "a doubling chain was built");
    CHECK(strstr(err.msg, "more than the limit of 8 MiB"), "%s", err.msg);
    // right-leaning: a token and one more byte, 65,280 times (2 GB of bytes)
    m[0] = (gg_pair){'a', 'b'};
    for (uint32_t i = 1; i < N; i++) m[i] = (gg_pair){255 + i, 'b'};
    CHECK(gg_tokenizer_init(&t, m, NULL, N, NULL, &err) == GG_ERR_FORMAT, "a long chain was built");
    // the longest chain under the bound: sum of 2..k+1 bytes plus the 256 bytes
    int k = 0;
    for (size_t total = GG_BPE_BYTES; total + (size_t)k + 2 <= GG_BPE_MAX_TOKEN_BYTES; k++)
        total += (size_t)k + 2;
    CHECK(gg_tokenizer_init(&t, m, NULL, k, NULL, &err) == GG_OK, "%d merges under the bound: %s",
          k, err.msg);
    if (k) gg_tokenizer_free(&t);
    CHECK(gg_tokenizer_init(&t, m, NULL, k + 1, NULL, &err) == GG_ERR_FORMAT,
          "one merge past the bound was built");
    free(m);
}

// Training counts the byte pairs in pieces of the text, one per thread (cut
// whether or not the build has threads; each at least 256 KB): any number
// of pieces gives the merges, counts, trace and length of one. The text
// mixes random bytes, words and a run of one byte across a cut.
static void test_training_in_pieces_equals_one(void) {
    size_t n = 2 << 20;  // room for up to 8 pieces
    uint8_t *text = malloc(n);
    make_corpus(text, n / 4, 4);
    make_corpus(text + n / 4, n / 4, 7);
    make_corpus(text + n / 2, n / 4, 0);
    make_corpus(text + 3 * n / 4, n / 4, 5);
    enum { VOCAB = 700, WANT = VOCAB - 256 };
    static gg_bpe_step trace[2][WANT];
    gg_tokenizer one;
    size_t n_one;
    gg_bpe_train_opts opts = {.vocab_size = VOCAB, .trace = trace[0], .threads = 1};
    CHECK(gg_bpe_train(&one, text, n, &opts, &n_one, NULL) == GG_OK, "train on one thread");
    const int threads[] = {2, 3, 5, 8, 64};
    for (int k = 0; k < 5 && !check_case_failed; k++) {
        gg_tokenizer t;
        size_t n_tokens;
        int pieces = 0;
        opts = (gg_bpe_train_opts){.vocab_size = VOCAB, .trace = trace[1], .threads = threads[k],
                                   .pieces = &pieces};
        CHECK(gg_bpe_train(&t, text, n, &opts, &n_tokens, NULL) == GG_OK, "train");
        CHECK(pieces == (threads[k] < 8 ? threads[k] : 8), "%d threads cut 2 MiB in %d pieces",
              threads[k], pieces);
        CHECK(t.n_merges == one.n_merges && n_tokens == n_one, "%d threads: %d merges, %zu tokens",
              threads[k], t.n_merges, n_tokens);
        int same = t.n_merges == one.n_merges &&
                   memcmp(t.merges, one.merges, sizeof *t.merges * (size_t)t.n_merges) == 0 &&
                   memcmp(t.counts, one.counts, sizeof *t.counts * (size_t)t.n_merges) == 0 &&
                   memcmp(trace[0], trace[1], sizeof trace[0]) == 0;
        CHECK(same, "%d threads: the merges, counts or trace differ from one thread's", threads[k]);
        gg_tokenizer_free(&t);
    }
    gg_tokenizer_free(&one);
    free(text);
}

// Encoding in pieces cut at seams, on any number of threads (or pieces, in
// a build without threads), gives the ids of one call: on text, on one
// repeated byte (few seams), and on random bytes (seams everywhere).
static void test_parallel_encode_equals_one_call(void) {
    size_t n;
    uint8_t *text = shakespeare(&n);
    if (!text) return;
    gg_tokenizer t;
    gg_bpe_train_opts opts = {.vocab_size = 1024};
    CHECK(gg_bpe_train(&t, text, n, &opts, NULL, NULL) == GG_OK, "train");
    size_t m = 1 << 20;
    uint8_t *runs = malloc(m), *noise = malloc(m);
    for (size_t i = 0; i < m; i++) runs[i] = i % 100000 < 99990 ? 'e' : ' ', noise[i] = (uint8_t)rnd();
    const struct {
        const uint8_t *text;
        size_t n;
        const char *what;
    } inputs[] = {{text, n, "tinyshakespeare"}, {runs, m, "runs of one byte"}, {noise, m, "noise"}};
    uint32_t *one = malloc(sizeof *one * n), *many = malloc(sizeof *many * n);
    for (size_t i = 0; i < 3; i++)
        for (int threads = 1; threads <= 9; threads += 4) {
            size_t n1, n2;
            gg_error err;
            CHECK(gg_bpe_encode(&t, inputs[i].text, inputs[i].n, one, &n1, &err) == GG_OK, "%s", err.msg);
            CHECK(gg_bpe_encode_parallel(&t, inputs[i].text, inputs[i].n, many, &n2, threads, &err) ==
                      GG_OK, "%s", err.msg);
            CHECK(n1 == n2 && memcmp(one, many, sizeof *one * n1) == 0,
                  "%s on %d threads: %zu ids against %zu", inputs[i].what, threads, n2, n1);
        }
    free(one), free(many), free(runs), free(noise), free(text);
    gg_tokenizer_free(&t);
}

// Two tokens with the same bytes ("abc" made as ab + c and as a + bc)
// cannot both be keys of tokenizer.json: the export says so and writes none.
static void test_hf_export_refuses_twin_tokens(void) {
    const gg_pair twins[] = {{'a', 'b'}, {256, 'c'}, {'b', 'c'}, {'a', 258}};
    gg_tokenizer t;
    gg_error err;
    CHECK(gg_tokenizer_init(&t, twins, NULL, 4, NULL, &err) == GG_OK, "%s", err.msg);
    CHECK(gg_export_hf_tokenizer(&t, 8, "build", &err) == GG_ERR_ARG, "twin tokens were exported");
    CHECK(strstr(err.msg, "tokens 257 and 259 have the same bytes"), "%s", err.msg);
    gg_tokenizer_free(&t);
}

static void test_encode_steps_replay_the_encoder(void) {
    size_t n;
    uint8_t *text = shakespeare(&n);
    const char *train = text ? (const char *)text : "the cat sat on the mat. the cat sat.";
    gg_tokenizer t;
    gg_bpe_train_opts opts = {.vocab_size = 768};
    gg_bpe_train(&t, S(train), text ? n : strlen(train), &opts, NULL, NULL);
    const char *words[] = {"To ", "To be, or not to be", "aaaaaaa", "", "\xe7\x8c\xab"};
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t len = strlen(words[w]), n_ids;
        int32_t steps[4096];
        uint32_t ids[64];
        long used = gg_bpe_encode_steps(&t, S(words[w]), len, steps, 4096);
        CHECK(used > 0, "'%s': no steps", words[w]);
        gg_bpe_encode(&t, S(words[w]), len, ids, &n_ids, NULL);
        // walk to the last state
        long at = 0, last = 0;
        int rounds = 0;
        while (at < used) {
            last = at;
            at += 2 + steps[at + 1];
            rounds++;
        }
        CHECK(steps[0] == -1 && steps[1] == (int32_t)len, "'%s': the first state is the bytes", words[w]);
        CHECK(steps[last + 1] == (int32_t)n_ids &&
              memcmp(steps + last + 2, ids, sizeof *ids * n_ids) == 0,
              "'%s': the last state is not the encoding", words[w]);
        if (w == 0 && text)  // "To " becomes "To" then "To "
            CHECK(rounds == 3 && steps[last] >= 0 && steps[last + 2] == 418, "'To ' took %d rounds", rounds);
    }
    CHECK(gg_bpe_encode_steps(&t, S("abc"), 3, (int32_t[4]){0}, 4) == -1, "too small a buffer");
    gg_tokenizer_free(&t);
    free(text);
}

static void test_escape_bytes(void) {
    char out[128];
    const uint8_t in[] = "a b\n\t\\\x01\xff\xe2\x82\xac\xe2\x82";
    gg_escape_bytes(in, sizeof in - 1, out);
    CHECK(strcmp(out, "a\xe2\x90\xa3" "b\\n\\t\\\\\\x01\\xff\xe2\x82\xac\\xe2\\x82") == 0, "got %s", out);
}

int main(void) {
    RUN(test_golden_minbpe);
    RUN(test_ties_go_to_leftmost_first_occurrence);
    RUN(test_overlapping_runs_merge_left_to_right);
    RUN(test_training_matches_reference);
    RUN(test_encoding_the_training_text_replays_training);
    RUN(test_hostile_inputs_encode_exactly);
    RUN(test_arbitrary_merges_encode_exactly);
    RUN(test_segments_of_every_length_encode_exactly);
    RUN(test_round_trips_of_any_bytes);
    RUN(test_shakespeare_goldens);
    RUN(test_trace_is_ranked);
    RUN(test_training_rejects_bad_arguments);
    RUN(test_small_corpus_stops_early);
    RUN(test_init_checks_merges);
    RUN(test_decode_rejects_ids_out_of_range);
    RUN(test_file_round_trip);
    RUN(test_file_accepts_comments_blank_lines_crlf_and_no_counts);
    RUN(test_file_rejects_malformed);
    RUN(test_escape_bytes);
    RUN(test_encode_steps_replay_the_encoder);
    RUN(test_token_bytes_are_bounded);
    RUN(test_hf_export_refuses_twin_tokens);
    RUN(test_training_in_pieces_equals_one);
    RUN(test_parallel_encode_equals_one_call);
    return check_summary();
}
