// Tokenizer benchmarks: the incremental trainer against the naive reference
// measured in the same run, a large vocabulary, and encoding speed on text,
// on hostile inputs, and on a large file on every core. Every figure is the
// median of several runs.
//
// usage: build/bench_bpe CORPUS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "../src/fileio.h"
#include "../src/ops.h"
#include "../src/tokenizer.h"
#include "../tests/ref_bpe.h"

static double time_train(const uint8_t *text, size_t n, int vocab, int runs, gg_tokenizer *keep) {
    double t[16];
    for (int r = 0; r < runs; r++) {
        gg_tokenizer tok;
        gg_bpe_train_opts opts = {.vocab_size = vocab};
        double t0 = now();
        if (gg_bpe_train(&tok, text, n, &opts, NULL, NULL) != GG_OK) exit(1);
        t[r] = now() - t0;
        if (keep && r == 0) *keep = tok;
        else gg_tokenizer_free(&tok);
    }
    return median(t, runs);
}

// threads 1: gg_bpe_encode; otherwise gg_bpe_encode_parallel on that many
// (0: every core). The ids of the last run land in ids, when given.
static double time_encode(const gg_tokenizer *tok, const uint8_t *text, size_t n, int runs,
                          int threads, uint32_t *ids, size_t *n_ids) {
    uint32_t *out = ids ? ids : malloc(sizeof *out * n);
    double t[16];
    size_t got = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        int rc = threads == 1 ? gg_bpe_encode(tok, text, n, out, &got, NULL)
                              : gg_bpe_encode_parallel(tok, text, n, out, &got, threads, NULL);
        if (rc != GG_OK) exit(1);
        t[r] = now() - t0;
    }
    if (n_ids) *n_ids = got;
    if (!ids) free(out);
    return median(t, runs);
}

static const char *verdict(int ok) { return ok ? "met" : "MISSED"; }

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: bench_bpe CORPUS\n");
        return 2;
    }
    uint8_t *text;
    size_t n;
    gg_error err;
    if (gg_read_file(argv[1], &text, &n, &err)) {
        fprintf(stderr, "bench_bpe: %s\n", err.msg);
        return 1;
    }
    printf("corpus: %s, %zu bytes\n\n", argv[1], n);

    // ---- training ----
    // The naive and the fast trainer take turns, so that a slow phase of the
    // machine (this VM has some of several seconds) falls on both.
    double naive[3], fast[3];
    static gg_pair merges[512];
    static uint32_t counts[512];
    gg_tokenizer tok;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        ref_bpe_train(text, n, 768, merges, counts, NULL, NULL);
        naive[r] = now() - t0;
        fast[r] = time_train(text, n, 768, 5, r == 0 ? &tok : NULL);
    }
    double t_naive = median(naive, 3), t_fast = median(fast, 3);
    double t_big = time_train(text, n, 4096, 5, NULL);
    printf("training (median)                         seconds   goal\n");
    printf("  naive reference, 512 merges (recount)   %8.4f\n", t_naive);
    printf("  glassgpt, 512 merges                    %8.4f   >= 20x naive: %.1fx, %s; "
           "<= 20 ms: %s\n", t_fast, t_naive / t_fast, verdict(t_naive / t_fast >= 20),
           verdict(t_fast <= 0.020));
    printf("  glassgpt, 3840 merges (vocab 4096)      %8.4f   < 0.3 s: %s\n\n", t_big,
           verdict(t_big < 0.3));

    // ---- encoding ----
    size_t hn = 1 << 20;
    uint8_t *same = malloc(hn), *rnd = malloc(hn);
    memset(same, 'a', hn);
    uint64_t s = 42;
    for (size_t i = 0; i < hn; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        rnd[i] = (uint8_t)s;
    }
    gg_tokenizer deep;  // learned on runs of 'a': merges that apply everywhere
    gg_bpe_train_opts opts = {.vocab_size = 768};
    gg_bpe_train(&deep, same, 1 << 16, &opts, NULL, NULL);

    double e_text = time_encode(&tok, text, n, 9, 1, NULL, NULL);
    double mbs = (double)n / e_text / 1e6, per_byte = e_text / (double)n;
    printf("encoding, one thread (median)             MB/s      per byte vs text\n");
    printf("  tinyshakespeare, vocab 768              %8.1f   (goal >= 100 MB/s: %s)\n", mbs,
           verdict(mbs >= 100));
    struct {
        const char *name;
        const gg_tokenizer *tok;
        const uint8_t *data;
    } hostile[] = {
        {"1 MiB of 'a', Shakespeare vocab       ", &tok, same},
        {"1 MiB of 'a', vocab learned on 'a's   ", &deep, same},
        {"1 MiB of random bytes                 ", &tok, rnd},
    };
    int within = 1;
    for (int i = 0; i < 3; i++) {
        double e = time_encode(hostile[i].tok, hostile[i].data, hn, 9, 1, NULL, NULL);
        double ratio = e / (double)hn / per_byte;
        within = within && ratio <= 3;
        printf("  %s  %8.1f   %.2fx\n", hostile[i].name, (double)hn / e / 1e6, ratio);
    }
    printf("  hostile inputs within 3x of text per byte: %s\n\n", verdict(within));

    // A large file: the corpus 16 times over, on one thread and on every
    // core, which must give the same ids. Each copy starts at a different
    // place in the corpus: the encoder cuts its input in halves (and the
    // threads cut it in pieces) that it encodes in step, and identical
    // copies would have them meet the same segments at the same time, which
    // flatters it.
    enum { COPIES = 16 };
    size_t big_n = n * COPIES, n1, n2;
    uint8_t *big = malloc(big_n);
    uint32_t *ids1 = malloc(sizeof *ids1 * big_n), *ids2 = malloc(sizeof *ids2 * big_n);
    if (!big || !ids1 || !ids2) {
        fprintf(stderr, "bench_bpe: out of memory for %zu bytes\n", big_n);
        return 1;
    }
    for (int c = 0; c < COPIES; c++) {
        size_t from = (size_t)c * (n / COPIES + 1009) % n;
        memcpy(big + (size_t)c * n, text + from, n - from);
        memcpy(big + (size_t)c * n + n - from, text, from);
    }
    double one = time_encode(&tok, big, big_n, 3, 1, ids1, &n1);
    double all = time_encode(&tok, big, big_n, 3, 0, ids2, &n2);
    int same_ids = n1 == n2 && memcmp(ids1, ids2, sizeof *ids1 * n1) == 0;
    printf("encoding a large file (%zu MB, median)    MB/s\n", big_n / 1000000);
    printf("  one thread                              %8.1f\n", (double)big_n / one / 1e6);
    printf("  every core (%d)                          %8.1f   (%.2fx; goal >= 180 MB/s: %s); "
           "the same ids: %s\n", gg_threads(), (double)big_n / all / 1e6, one / all,
           verdict((double)big_n / all / 1e6 >= 180), same_ids ? "yes" : "NO");
    printf("GG_BENCH encode_mbs=%.1f encode_all_cores_mbs=%.1f train_512_s=%.4f\n", mbs,
           (double)big_n / all / 1e6, t_fast);
    free(big);
    free(ids1);
    free(ids2);
    gg_tokenizer_free(&tok);
    gg_tokenizer_free(&deep);
    free(same);
    free(rnd);
    free(text);
    return 0;
}
