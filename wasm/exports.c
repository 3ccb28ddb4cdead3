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
#include "../src/sampler.h"
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

// The logits (T, V) of the last gg_model_run.
const float *EXPORT(gg_model_logits)(const wasm_model *w) { return w->model.acts.logits; }

// Greedy generation with the KV cache: feeds the n_prompt tokens, then
// writes n tokens to out. Returns n, or -1.
int EXPORT(gg_model_generate_greedy)(wasm_model *w, const int *prompt, int n_prompt, int n,
                                     int *out) {
    gg_generator g;
    gg_sampler s;
    if (gg_generator_init(&g, &w->model, 1, &last_error)) return -1;
    if (gg_sampler_init(&s, w->model.cfg.vocab, 0.0f, 0, 1.0f, 1, &last_error)) {
        gg_generator_free(&g);
        return -1;
    }
    int rc = GG_OK;
    for (int i = 0; !rc && i < n_prompt; i++) rc = gg_generator_push(&g, prompt[i], &last_error);
    for (int i = 0; !rc && i < n; i++) {
        out[i] = gg_sample(&s, g.logits);
        if (i + 1 < n) rc = gg_generator_push(&g, out[i], &last_error);
    }
    gg_sampler_free(&s);
    gg_generator_free(&g);
    return rc ? -1 : n;
}

// The model as a glassgpt checkpoint, in a fresh buffer (gg_free it); its
// size goes to *len. NULL on failure.
uint8_t *EXPORT(gg_model_serialize)(const wasm_model *w, size_t *len) {
    uint8_t *buf;
    if (gg_checkpoint_serialize(&w->model, &w->tok.tok, 0, NULL, &buf, len, &last_error)) return NULL;
    return buf;
}
