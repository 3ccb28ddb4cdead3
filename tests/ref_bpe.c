#include "ref_bpe.h"

#include <stdlib.h>
#include <string.h>

// ids = merge(ids, pair, idx): replace pair by idx, left to right, no overlap.
static size_t merge(uint32_t *ids, size_t n, gg_pair pair, uint32_t idx) {
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        if (i + 1 < n && ids[i] == pair.left && ids[i + 1] == pair.right) {
            ids[out++] = idx;
            i += 2;
        } else {
            ids[out++] = ids[i++];
        }
    }
    return out;
}

int ref_bpe_train(const uint8_t *text, size_t n, int vocab, gg_pair *merges, uint32_t *counts,
                  gg_bpe_step *trace, size_t *n_tokens) {
    size_t V = (size_t)vocab;
    uint32_t *ids = malloc(sizeof *ids * (n ? n : 1));
    uint32_t *slot = calloc(V * V, sizeof *slot);   // pair -> 1 + index in `order`
    gg_bpe_candidate *order = malloc(sizeof *order * (n ? n : 1));  // stats, first-seen order
    if (!ids || !slot || !order) {
        free(ids);
        free(slot);
        free(order);
        return -1;
    }
    for (size_t i = 0; i < n; i++) ids[i] = text[i];
    int done = 0;
    for (; done < vocab - 256 && n >= 2; done++) {
        // stats = get_stats(ids): a dict, so iteration is in first-seen order
        size_t n_pairs = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            size_t key = ids[i] * V + ids[i + 1];
            if (!slot[key]) {
                order[n_pairs] = (gg_bpe_candidate){ids[i], ids[i + 1], 0};
                slot[key] = (uint32_t)++n_pairs;
            }
            order[slot[key] - 1].count++;
        }
        // pair = max(stats, key=stats.get): the first maximum wins; also keep
        // the best GG_BPE_TOP in the same order for the trace
        gg_bpe_candidate top[GG_BPE_TOP];
        int n_top = 0;
        for (size_t k = 0; k < n_pairs; k++) {
            int at = n_top;
            while (at > 0 && order[k].count > top[at - 1].count) at--;
            if (at >= GG_BPE_TOP) continue;
            int last = n_top < GG_BPE_TOP ? n_top : GG_BPE_TOP - 1;
            memmove(&top[at + 1], &top[at], sizeof *top * (size_t)(last - at));
            top[at] = order[k];
            if (n_top < GG_BPE_TOP) n_top++;
        }
        merges[done] = (gg_pair){top[0].left, top[0].right};
        counts[done] = top[0].count;
        if (trace) {
            memset(&trace[done], 0, sizeof trace[done]);
            trace[done].id = 256 + (uint32_t)done;
            trace[done].n_top = (uint32_t)n_top;
            memcpy(trace[done].top, top, sizeof *top * (size_t)n_top);
        }
        n = merge(ids, n, merges[done], 256 + (uint32_t)done);
        for (size_t k = 0; k < n_pairs; k++) slot[order[k].left * V + order[k].right] = 0;
    }
    if (n_tokens) *n_tokens = n;
    free(ids);
    free(slot);
    free(order);
    return done;
}

// The merges dict for encoding: (left, right, rank), sorted by pair. A
// sorted array rather than a V x V table, so that it serves any vocabulary.
typedef struct {
    uint32_t left, right;
    int32_t rank;
} ref_rank;

static int by_pair(const void *a, const void *b) {
    const ref_rank *x = a, *y = b;
    if (x->left != y->left) return x->left < y->left ? -1 : 1;
    return (x->right > y->right) - (x->right < y->right);
}

long ref_bpe_encode(const gg_pair *merges, int n_merges, const uint8_t *text, size_t n,
                    uint32_t *ids) {
    ref_rank *dict = malloc(sizeof *dict * (n_merges ? (size_t)n_merges : 1));
    if (!dict) return -1;
    for (int r = 0; r < n_merges; r++) dict[r] = (ref_rank){merges[r].left, merges[r].right, r};
    qsort(dict, (size_t)n_merges, sizeof *dict, by_pair);
    for (size_t i = 0; i < n; i++) ids[i] = text[i];
    while (n >= 2) {
        // pair = min(stats, key=lambda p: merges.get(p, inf))
        int32_t best = -1;
        for (size_t i = 0; i + 1 < n; i++) {
            ref_rank key = {ids[i], ids[i + 1], 0};
            const ref_rank *hit = bsearch(&key, dict, (size_t)n_merges, sizeof *dict, by_pair);
            if (hit && (best < 0 || hit->rank < best)) best = hit->rank;
        }
        if (best < 0) break;  // nothing else can be merged
        n = merge(ids, n, merges[best], 256 + (uint32_t)best);
    }
    free(dict);
    return (long)n;
}
