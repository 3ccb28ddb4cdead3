// libFuzzer: the incremental BPE trainer against the naive one, which
// recounts every pair in every round: the same merges, counts and trace.
// The first byte sets how many merges to learn (up to 64); the rest is the
// corpus.
#include <stdlib.h>
#include <string.h>

#include "../src/tokenizer.h"
#include "../tests/ref_bpe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    int vocab = GG_BPE_BYTES + 1 + data[0] % 64;
    const uint8_t *text = data + 1;
    size_t n = size - 1;
    int want = vocab - GG_BPE_BYTES;
    gg_bpe_step *trace = calloc((size_t)want, sizeof *trace),
                *ref_trace = calloc((size_t)want, sizeof *ref_trace);
    gg_pair *merges = malloc(sizeof *merges * (size_t)want);
    uint32_t *counts = malloc(sizeof *counts * (size_t)want);
    gg_tokenizer t;
    gg_bpe_train_opts o = {.vocab_size = vocab, .trace = trace};
    size_t n_tokens, ref_tokens;
    gg_error err;
    if (gg_bpe_train(&t, text, n, &o, &n_tokens, &err) != GG_OK) abort();
    int got = ref_bpe_train(text, n, vocab, merges, counts, ref_trace, &ref_tokens);
    if (got != t.n_merges || ref_tokens != n_tokens) abort();
    for (int i = 0; i < got; i++)
        if (merges[i].left != t.merges[i].left || merges[i].right != t.merges[i].right ||
            counts[i] != t.counts[i] || trace[i].id != ref_trace[i].id ||
            trace[i].n_top != ref_trace[i].n_top ||
            memcmp(trace[i].top, ref_trace[i].top, sizeof *trace[i].top * trace[i].n_top) != 0)
            abort();
    gg_tokenizer_free(&t);
    free(trace);
    free(ref_trace);
    free(merges);
    free(counts);
    return 0;
}
