// The sampler: turns next-token logits into a token. Greedy at temperature
// 0; otherwise softmax(logits / temperature), optionally cut to the top k
// tokens and to the smallest set whose probability reaches top_p, then one
// draw from a seeded generator. It never overwrites the logits: the page
// shows both the raw and the tempered distribution.
#ifndef GLASSGPT_SAMPLER_H
#define GLASSGPT_SAMPLER_H

#include "error.h"
#include "rng.h"

typedef struct {
    int vocab;
    float temperature;  // 0: greedy
    int top_k;          // 0: all tokens
    float top_p;        // 1: all tokens
    gg_rng rng;
    float *probs;       // (V) the distribution of the last draw, after temperature and cuts
    struct gg_ranked {
        float p;
        int id;
    } *ranked;          // (V) scratch: tokens by probability
    int argmax;         // the most likely token of the last draw
} gg_sampler;

int gg_sampler_init(gg_sampler *s, int vocab, float temperature, int top_k, float top_p,
                    uint64_t seed, gg_error *err);
void gg_sampler_free(gg_sampler *s);
int gg_sample(gg_sampler *s, const float *logits);

#endif
