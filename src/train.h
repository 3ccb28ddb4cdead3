// Training: next-token prediction on a tokenized corpus. The last 10% of the
// tokens is held out for validation. Every step draws B random windows of
// T + 1 tokens from the training part with a seeded generator, whose state
// is saved with a checkpoint, so that a resumed run continues exactly.
#ifndef GLASSGPT_TRAIN_H
#define GLASSGPT_TRAIN_H

#include "model.h"
#include "optim.h"
#include "rng.h"
#include "tokenizer.h"
#include "tokens.h"

// The command line's training defaults, which the page's training chapter
// uses too (through the wasm exports): one place for each.
#define GG_TRAIN_BATCH 16          // sequences per step
#define GG_TRAIN_STEPS 2000        // steps of a run
#define GG_TRAIN_SEED 1
#define GG_TRAIN_EVAL_EVERY 100    // steps between validations
#define GG_TRAIN_EVAL_WINDOWS 64   // held-out windows per validation
// The warmup of a run of `steps` steps: a twentieth of them.
#define GG_TRAIN_WARMUP(steps) ((steps) / 20)

// A number as text, for help texts that state a default: GG_STR(GG_TRAIN_STEPS).
#define GG_STR(x) GG_STR_(x)
#define GG_STR_(x) #x

typedef struct {
    gg_model *model;
    gg_token_seq train;  // the training tokens
    gg_token_seq val;    // the held-out tokens
    size_t n_train, n_val;
    gg_token_piece own[2];  // train and val when they are one array, split
    double val_bytes_per_token;  // for bits per byte; 0 if unknown
    gg_optim_cfg opt;
    int B, T;
    int step;          // optimizer steps done so far
    uint64_t seed;
    gg_rng rng;        // draws the training windows
    int *x, *y;        // (B,T) the current batch and its targets
    float last_loss, last_norm;
    // Data parallelism: every process draws the whole batch (so that their
    // generators stay in step) and computes rows row0 .. row0 + rows - 1 of
    // it (0 and B alone); after backward, reduce (when set) turns its mean
    // gradients and loss into the means over the whole batch, in place.
    int row0, rows;
    int (*reduce)(void *user, float *grads, size_t n, float *loss, gg_error *err);
    void *reduce_user;
} gg_trainer;

// Splits tokens (which the trainer only borrows) 90/10 and prepares batches
// of B windows of T tokens (the trainer then points into itself: it must not
// be moved or copied). tok, when not NULL, measures bytes per token of the
// validation part (its first million tokens at most) for bits per byte.
int gg_trainer_init(gg_trainer *tr, gg_model *m, const int *tokens, size_t n_tokens, int B, int T,
                    const gg_optim_cfg *opt, uint64_t seed, const gg_tokenizer *tok,
                    gg_error *err);
// The same with the two parts given apart (shards, say), borrowed as well:
// the same windows as gg_trainer_init draws from the same tokens.
int gg_trainer_init_split(gg_trainer *tr, gg_model *m, const gg_token_seq *train,
                          const gg_token_seq *val, int B, int T, const gg_optim_cfg *opt,
                          uint64_t seed, const gg_tokenizer *tok, gg_error *err);
void gg_trainer_free(gg_trainer *tr);

// One optimizer step: draw a batch, forward, backward, clip, AdamW.
int gg_train_step(gg_trainer *tr, gg_error *err);
// Allocates every arena a step touches (gg_model_alloc, and the optimizer's
// moments), as the first step would: for a recording of steps (record.h).
int gg_train_prepare(gg_trainer *tr, gg_error *err);

// The mean loss on up to max_windows fixed windows spread over the
// validation part (the same windows every time).
int gg_train_eval(gg_trainer *tr, int max_windows, float *loss, gg_error *err);

// bits per byte for a loss in nats per token on the validation part
double gg_bits_per_byte(const gg_trainer *tr, double loss);

// The mean next-token loss of a whole token sequence, scored in consecutive
// non-overlapping windows of the context length; *n_scored receives the
// number of tokens predicted (n - 1).
int gg_eval_tokens(gg_model *m, const int *tokens, size_t n, double *loss, size_t *n_scored,
                   gg_error *err);

#endif
