// Inference has its own path: gg_infer_forward(token, pos) computes one
// position, writing its keys and values straight into a per-layer cache of
// (ctx, C), and reads the earlier ones from it. The generator on top keeps
// the context window: when it is full, the oldest half is dropped and the
// cache is rebuilt for the rest. Without the cache (use_cache = 0), every
// step recomputes the whole window through the training forward pass
// instead; the kernels compute each row the same way, so both give the same
// logits and the same tokens.
#ifndef GLASSGPT_GENERATE_H
#define GLASSGPT_GENERATE_H

#include "model.h"

typedef struct {
    const gg_model *model;
    float *mem;
    float *key_cache, *value_cache;  // (L, ctx, C)
    // the activations of the latest position, for the page to show
    float *x;          // (C) the embedding: wte[token] + wpe[pos]
    float *ln1, *qkv;  // (L, C), (L, 3C)
    float *scores;     // (L, NH, ctx) over the cache; only the first pos + 1 are set
    float *att;        // (L, NH, ctx)
    float *atty, *attproj, *res_att, *ln2;  // (L, C)
    float *ffh, *ffh_gelu;                  // (L, F)
    float *ffproj, *res_ff;                 // (L, C)
    float *lnf;        // (C)
    float *logits;     // (V)
    float *wte_t;      // (C, V), made once: the weights do not change while generating
    float *stats;      // (2) scratch for layer norm: its mean and rstd
    size_t n_mem;      // the floats of mem, which holds all of the above
} gg_infer;

int gg_infer_init(gg_infer *inf, const gg_model *m, gg_error *err);
enum { GG_INFER_ARENAS = 2 };
// The arenas a decode step touches, in this order: the model's params, and
// inference.
void gg_infer_arenas(gg_infer *inf, gg_arena out[GG_INFER_ARENAS]);
void gg_infer_free(gg_infer *inf);
// Runs token (< vocab) at position pos (< ctx), given that positions
// 0 .. pos-1 are in the cache; leaves the next token's logits in
// inf->logits. GG_ERR_ARG, with nothing computed, for a token or a position
// out of range.
int gg_infer_forward(gg_infer *inf, int token, int pos, gg_error *err);

typedef struct {
    gg_model *model;
    int use_cache;
    gg_infer inf;
    int *window;        // (ctx) the tokens in the context
    int len;
    const float *logits;  // (V) the next token's logits, after the latest push
    long positions;     // positions computed so far: the work done
    long positions_without_cache;  // what recomputing every window would have cost
} gg_generator;

int gg_generator_init(gg_generator *g, gg_model *m, int use_cache, gg_error *err);
void gg_generator_free(gg_generator *g);
// Empties the context, to start a new text.
void gg_generator_reset(gg_generator *g);
// Appends a token to the context (sliding the window when it is full) and
// computes the logits of the next one.
int gg_generator_push(gg_generator *g, int token, gg_error *err);

#endif
