// The WebAssembly face of the engine: a thin set of exported functions over
// the same library the command line uses. No arithmetic happens here.
//
// Objects are handed to JavaScript as pointers into the module's memory;
// their tensors and tables are read there in place, as typed-array views.
// A function that fails returns 0 (or -1) and leaves its message at
// gg_last_error().
#include <stdlib.h>
#include <string.h>

#include "../src/checkpoint.h"
#include "../src/generate.h"
#include "../src/model.h"
#include "../src/tokenizer.h"

#define EXPORT(name) __attribute__((export_name(#name))) name

static gg_error last_error;

const char *EXPORT(gg_last_error)(void) { return last_error.msg; }

void *EXPORT(gg_alloc)(size_t n) { return malloc(n ? n : 1); }
void EXPORT(gg_free)(void *p) { free(p); }

// ---- tokenizers ----

typedef struct {
    gg_tokenizer tok;
    gg_bpe_step *trace;  // NULL unless trained here
    size_t n_tokens;     // the training text's length in tokens after training
} wasm_tokenizer;

wasm_tokenizer *EXPORT(gg_bpe_train_text)(const uint8_t *text, size_t n, int vocab) {
    wasm_tokenizer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->trace = calloc(vocab > GG_BPE_BYTES ? (size_t)(vocab - GG_BPE_BYTES) : 1, sizeof *w->trace);
    gg_bpe_train_opts opts = {.vocab_size = vocab, .trace = w->trace};
    if (!w->trace || gg_bpe_train(&w->tok, text, n, &opts, &w->n_tokens, &last_error)) {
        if (!w->trace) gg_fail(&last_error, GG_ERR_NOMEM, "out of memory");
        free(w->trace);
        free(w);
        return NULL;
    }
    return w;
}

wasm_tokenizer *EXPORT(gg_bpe_parse)(const char *text, size_t n) {
    wasm_tokenizer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (gg_tokenizer_parse(&w->tok, text, n, "tokenizer", &last_error)) {
        free(w);
        return NULL;
    }
    return w;
}

void EXPORT(gg_bpe_free)(wasm_tokenizer *w) {
    if (!w) return;
    gg_tokenizer_free(&w->tok);
    free(w->trace);
    free(w);
}

int EXPORT(gg_bpe_n_merges)(const wasm_tokenizer *w) { return w->tok.n_merges; }
const gg_pair *EXPORT(gg_bpe_merges)(const wasm_tokenizer *w) { return w->tok.merges; }
const uint32_t *EXPORT(gg_bpe_counts)(const wasm_tokenizer *w) { return w->tok.counts; }
// token t's bytes are token_bytes[token_start[t] .. token_start[t + 1])
const uint32_t *EXPORT(gg_bpe_token_start)(const wasm_tokenizer *w) { return w->tok.tok_start; }
const uint8_t *EXPORT(gg_bpe_token_bytes)(const wasm_tokenizer *w) { return w->tok.tok_bytes; }
// 2 + 3 * GG_BPE_TOP words a step; NULL for a tokenizer that was not trained here
const gg_bpe_step *EXPORT(gg_bpe_trace)(const wasm_tokenizer *w) { return w->trace; }
size_t EXPORT(gg_bpe_trained_tokens)(const wasm_tokenizer *w) { return w->n_tokens; }

// ids needs room for n ids; returns the number written, or -1
long EXPORT(gg_bpe_encode_text)(const wasm_tokenizer *w, const uint8_t *text, size_t n,
                                uint32_t *ids) {
    size_t n_ids;
    if (gg_bpe_encode(&w->tok, text, n, ids, &n_ids, &last_error)) return -1;
    return (long)n_ids;
}

long EXPORT(gg_bpe_steps)(const wasm_tokenizer *w, const uint8_t *text, size_t n, int32_t *out,
                          size_t cap) {
    long used = gg_bpe_encode_steps(&w->tok, text, n, out, cap);
    if (used < 0) gg_fail(&last_error, GG_ERR_ARG, "the text is too long to trace");
    return used;
}

// ---- models ----

typedef struct {
    gg_model model;
    wasm_tokenizer tok;
} wasm_model;

wasm_model *EXPORT(gg_model_load)(const uint8_t *data, size_t n) {
    wasm_model *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (gg_checkpoint_parse(data, n, "checkpoint", &w->model, &w->tok.tok, NULL, NULL,
                            &last_error)) {
        free(w);
        return NULL;
    }
    return w;
}

void EXPORT(gg_model_free_all)(wasm_model *w) {
    if (!w) return;
    gg_model_free(&w->model);
    gg_tokenizer_free(&w->tok.tok);
    free(w);
}

// the configuration as 7 ints: vocab, d_model, n_layer, n_head, ctx, d_ff, pos_kind
const gg_config *EXPORT(gg_model_config)(const wasm_model *w) { return &w->model.cfg; }
wasm_tokenizer *EXPORT(gg_model_tokenizer)(wasm_model *w) { return &w->tok; }

// Runs the model on T tokens; returns a pointer to the probabilities (T, V)
// or NULL.
const float *EXPORT(gg_model_run)(wasm_model *w, const int *tokens, int T) {
    if (gg_model_forward(&w->model, tokens, NULL, 1, T, &last_error)) return NULL;
    return w->model.acts.probs;
}
