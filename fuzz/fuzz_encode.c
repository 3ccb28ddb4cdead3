// libFuzzer: encoding, on several tokenizers, against the naive reference
// (a transcription of minbpe's encode), and decode(encode(x)) == x. The
// first byte picks the tokenizer; the rest is the text.
#include <stdlib.h>
#include <string.h>

#include "../src/rng.h"
#include "../src/tokenizer.h"
#include "../tests/ref_bpe.h"

enum { N_TOK = 4 };
static gg_tokenizer toks[N_TOK];

// A text of words drawn from a small, seeded vocabulary, with spaces,
// newlines, UTF-8 and the odd raw byte: something BPE learns deep merges
// from.
static uint8_t *make_corpus(size_t n, uint64_t seed) {
    static const char *words[] = {"the", "thee", "thou", "king", "kingdom", "love", "lover",
                                  "é", "日本", "🙂", "aaaa", "\n", "  ", "\xff"};
    gg_rng rng = gg_rng_seed(seed);
    uint8_t *text = malloc(n);
    for (size_t i = 0; i < n;) {
        const char *w = words[gg_rng_below(&rng, sizeof words / sizeof *words)];
        for (size_t k = 0; w[k] && i < n; k++) text[i++] = (uint8_t)w[k];
        if (i < n) text[i++] = ' ';
    }
    return text;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    static const struct {
        size_t bytes;
        int vocab;
    } spec[N_TOK] = {{1, 256}, {4000, 300}, {60000, 1024}, {400000, 8192}};
    for (int i = 0; i < N_TOK; i++) {
        uint8_t *text = make_corpus(spec[i].bytes, (uint64_t)i + 1);
        gg_bpe_train_opts o = {.vocab_size = spec[i].vocab};
        if (gg_bpe_train(&toks[i], text, spec[i].bytes, &o, NULL, NULL) != GG_OK) abort();
        free(text);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const gg_tokenizer *t = &toks[data[0] % N_TOK];
    const uint8_t *text = data + 1;
    size_t n = size - 1;
    uint32_t *ids = malloc(sizeof *ids * (n ? n : 1)), *ref = malloc(sizeof *ref * (n ? n : 1));
    size_t n_ids;
    gg_error err;
    if (gg_bpe_encode(t, text, n, ids, &n_ids, &err) != GG_OK) abort();
    long n_ref = ref_bpe_encode(t->merges, t->n_merges, text, n, ref);
    if (n_ref < 0 || (size_t)n_ref != n_ids || memcmp(ids, ref, sizeof *ids * n_ids) != 0) abort();
    size_t n_bytes;
    if (gg_bpe_decoded_size(t, ids, n_ids, &n_bytes, &err) != GG_OK || n_bytes != n) abort();
    uint8_t *back = malloc(n ? n : 1);
    if (gg_bpe_decode(t, ids, n_ids, back, &err) != GG_OK || memcmp(back, text, n) != 0) abort();
    free(back);
    free(ids);
    free(ref);
    return 0;
}
