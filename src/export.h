// Export to the Hugging Face GPT-2 layout: model.safetensors and config.json,
// so that a glassgpt model loads in the tools people already use.
#ifndef GLASSGPT_EXPORT_H
#define GLASSGPT_EXPORT_H

#include "error.h"
#include "model.h"
#include "tokenizer.h"

// Writes DIR/model.safetensors and DIR/config.json (DIR must exist).
// Tensor names follow GPT-2: wte.weight, wpe.weight, h.0.ln_1.weight,
// h.0.attn.c_attn.weight (stored [d, 3d], as GPT-2's Conv1D does),
// h.0.attn.c_proj.weight, h.0.mlp.c_fc.weight, h.0.mlp.c_proj.weight,
// ln_f.weight... A sinusoidal model writes its fixed table as wpe.weight.
int gg_export_hf(const gg_model *m, const char *dir, gg_error *err);

// Writes the tokenizer as Hugging Face files into DIR: tokenizer.json
// (byte-level BPE with no pre-tokenizer split, so that it encodes exactly as
// gg_bpe_encode does), the GPT-2 style vocab.json and merges.txt, and
// tokenizer_config.json (ctx: the model's context, for model_max_length).
// Token strings use GPT-2's byte-to-character table. Refused when two tokens
// have the same bytes (a merge list can make them; no trainer of ours does):
// those files key tokens by their text, and could not tell them apart.
int gg_export_hf_tokenizer(const gg_tokenizer *tok, int ctx, const char *dir, gg_error *err);

#endif
