// The checkpoint: one self-contained file that holds a model, its tokenizer
// and, optionally, the optimizer and training state.
//
//   offset  field
//   0       magic "GLASSGPT"
//   8       u32 format version (1)
//   12      u32 vocab, d_model, n_layer, n_head, ctx, d_ff, pos_kind
//   40      u32 flags: 1 = optimizer state follows, 2 = training state follows
//   44      u32 number of merges M, then M x (u32 left, u32 right, u32 count)
//           f32 parameters, in the fixed tensor order of model.h
//           [flags & 1] f32 AdamW first moments, then second moments
//           [flags & 2] the training state (gg_train_state, field by field)
//   end-4   u32 CRC-32 of every byte before it
//
// Every number is little-endian, whatever the machine.
#ifndef GLASSGPT_CHECKPOINT_H
#define GLASSGPT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"
#include "optim.h"
#include "tokenizer.h"

enum { GG_CHECKPOINT_VERSION = 1 };
#define GG_CHECKPOINT_MAGIC "GLASSGPT"

typedef struct {
    uint64_t step;       // optimizer steps done
    uint64_t rng_state;  // the batch generator
    uint64_t seed;
    uint32_t batch, seq;  // B and T
    uint32_t eval_every;
    gg_optim_cfg opt;
    float train_loss, val_loss;  // the latest measured
} gg_train_state;

// Serialises into a fresh buffer (free() it). opt_state adds the AdamW
// moments (the model must have them); train may be NULL.
int gg_checkpoint_serialize(const gg_model *m, const gg_tokenizer *tok, int opt_state,
                            const gg_train_state *train, uint8_t **out, size_t *len,
                            gg_error *err);

// Parses a checkpoint held in memory into a fresh model (with moments when
// present), its tokenizer, and the training state (*has_train says whether
// there was one; train may be NULL). name is used in messages.
int gg_checkpoint_parse(const uint8_t *data, size_t len, const char *name, gg_model *m,
                        gg_tokenizer *tok, gg_train_state *train, int *has_train, gg_error *err);

int gg_checkpoint_save(const char *path, const gg_model *m, const gg_tokenizer *tok,
                       int opt_state, const gg_train_state *train, gg_error *err);
int gg_checkpoint_load(const char *path, gg_model *m, gg_tokenizer *tok, gg_train_state *train,
                       int *has_train, gg_error *err);

// Reads only the header of a checkpoint (its first bytes) into cfg, with the
// same checks as gg_checkpoint_parse makes of it: for listing models quickly.
int gg_checkpoint_header(const uint8_t *data, size_t len, const char *name, gg_config *cfg,
                         gg_error *err);

// Whether data starts like a checkpoint (to accept one where a tokenizer
// file is expected).
int gg_is_checkpoint(const uint8_t *data, size_t len);

uint32_t gg_crc32(const uint8_t *data, size_t len);

#endif
