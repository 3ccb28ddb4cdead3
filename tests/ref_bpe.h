// Deliberately naive reference implementations of BPE training and encoding,
// written as a line-by-line transcription of minbpe's BasicTokenizer: every
// round recounts every pair of the whole sequence. They are slow and obviously
// right; the fast library versions are checked against them.
#ifndef GLASSGPT_REF_BPE_H
#define GLASSGPT_REF_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "../src/tokenizer.h"

// Learns up to vocab - 256 merges (fewer if the text becomes one token).
// trace may be NULL. Returns the number of merges learned, or -1 when out of
// memory. The vocabulary should be small: the pair table is vocab x vocab.
int ref_bpe_train(const uint8_t *text, size_t n, int vocab, gg_pair *merges, uint32_t *counts,
                  gg_bpe_step *trace, size_t *n_tokens);

// Encodes like minbpe's encode. ids needs room for n ids. Returns the number
// of ids, or -1 when out of memory.
long ref_bpe_encode(const gg_pair *merges, int n_merges, const uint8_t *text, size_t n,
                    uint32_t *ids);

#endif
