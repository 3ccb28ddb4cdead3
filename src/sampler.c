#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_rows.h"

#include "tokenizer.h"

int gg_sampler_init(gg_sampler *s, int vocab, float temperature, int top_k, float top_p,
                    uint64_t seed, gg_error *err) {
    memset(s, 0, sizeof *s);
    if (vocab < 1 || vocab > GG_BPE_MAX_VOCAB)
        return gg_fail(err, GG_ERR_ARG, "a vocabulary of %d tokens is out of range", vocab);
    if (!(temperature >= 0.0f) || !isfinite(temperature))
        return gg_fail(err, GG_ERR_ARG, "temperature %g must be 0 (greedy) or more", temperature);
    if (top_k < 0) return gg_fail(err, GG_ERR_ARG, "top-k %d must be 0 (off) or more", top_k);
    if (!(top_p > 0.0f && top_p <= 1.0f))
        return gg_fail(err, GG_ERR_ARG, "top-p %g must be in (0, 1]", top_p);
    s->vocab = vocab;
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->rng = gg_rng_seed(seed);
    s->probs = malloc(sizeof *s->probs * (size_t)vocab);
    s->ranked = malloc(sizeof *s->ranked * (size_t)vocab);
    if (!s->probs || !s->ranked) {
        gg_sampler_free(s);
        return gg_fail(err, GG_ERR_NOMEM, "out of memory for the sampler");
    }
    return GG_OK;
}

void gg_sampler_free(gg_sampler *s) {
    free(s->probs);
    free(s->ranked);
    s->probs = NULL;
    s->ranked = NULL;
}

static int by_prob_desc(const void *a, const void *b) {
    const struct gg_ranked *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);  // ties: the lower id first, so the order is total
}

int gg_sample(gg_sampler *s, const float *logits) {
    int V = s->vocab, best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best]) best = i;
    s->argmax = best;
    if (s->temperature == 0.0f) {
        for (int i = 0; i < V; i++) s->probs[i] = i == best ? 1.0f : 0.0f;
        return best;
    }
    float sum = 0.0f;
    for (int i = 0; i < V; i++) {
        s->probs[i] = gg_expf_neg((logits[i] - logits[best]) / s->temperature);
        sum += s->probs[i];
    }
    for (int i = 0; i < V; i++) s->probs[i] /= sum;
    if (s->top_k > 0 || s->top_p < 1.0f) {
        for (int i = 0; i < V; i++) s->ranked[i] = (struct gg_ranked){s->probs[i], i};
        qsort(s->ranked, (size_t)V, sizeof *s->ranked, by_prob_desc);
        int keep = s->top_k > 0 && s->top_k < V ? s->top_k : V;
        float cum = 0.0f;
        for (int k = 0; k < keep; k++) {
            cum += s->ranked[k].p;
            if (cum >= s->top_p) {
                keep = k + 1;
                break;
            }
        }
        float kept = 0.0f;
        for (int k = 0; k < V; k++) {
            if (k < keep) kept += s->ranked[k].p;
            else s->probs[s->ranked[k].id] = 0.0f;
        }
        for (int i = 0; i < V; i++) s->probs[i] /= kept;
    }
    float r = gg_rng_float(&s->rng), cdf = 0.0f;
    int last = best;
    for (int i = 0; i < V; i++) {
        if (s->probs[i] == 0.0f) continue;
        cdf += s->probs[i];
        last = i;
        if (r < cdf) return i;
    }
    return last;  // rounding left r above the total
}
