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
#include "../src/lens.h"
#include "../src/model.h"
#include "../src/record.h"
#include "../src/ops_rows.h"
#include "../src/sampler.h"
#include "../src/tokenizer.h"
#include "../src/train.h"

#define EXPORT(name) __attribute__((export_name(#name))) name

gg_error last_error;  // the tests' build has exports of its own (test_exports.c)

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
// The size of one step of the trace, in 32-bit words.
int EXPORT(gg_bpe_step_words)(void) { return (int)(sizeof(gg_bpe_step) / sizeof(uint32_t)); }
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

// What the observer saw in the last observed forward pass: every named
// intermediate, by name and layer, with its shape.
enum { MAX_SEEN = 16 * 64 };
typedef struct {
    const char *name;
    int layer, ndim, shape[4];
    const float *data;
} seen_tensor;

// A step recorded for another backend (web/gpu.js), as words (record.h).
typedef struct {
    gg_recording rec;
    uint32_t *words;
} recording;

static void recording_free(recording *r) {
    gg_recording_free(&r->rec);
    free(r->words);
    r->words = NULL;
}

// Records what step(arg) computes on model m, over n arenas, without
// computing it; returns the calls as words (kept in r until the next
// recording), their number in *n_calls. NULL on failure.
static const uint32_t *record_step(recording *r, gg_model *m, const gg_arena *arenas, int n,
                                   int (*step)(void *arg), void *arg, size_t *n_calls) {
    gg_recording_free(&r->rec);
    if (gg_record_arenas(&r->rec, arenas, n, &last_error)) return NULL;
    const gg_ops *ops = m->ops;
    m->ops = gg_record_wrap(&r->rec, NULL);
    int rc = step(arg);
    m->ops = ops;
    if (rc) return NULL;
    uint32_t *words = realloc(r->words, sizeof *words * GG_RECORD_CALL_WORDS * (r->rec.n_calls + 1));
    if (!words) {
        gg_fail(&last_error, GG_ERR_NOMEM, "out of memory for a recording");
        return NULL;
    }
    r->words = words;
    if (gg_record_words(&r->rec, words, &last_error)) return NULL;
    *n_calls = r->rec.n_calls;
    return words;
}

typedef struct {
    gg_model model;
    wasm_tokenizer tok;
    seen_tensor seen[MAX_SEEN];
    int n_seen;
    // training, once gg_train_begin has been called
    gg_trainer trainer;
    int *tokens;
    int training;
    float *lens;  // the last gg_model_lens
    recording rec;  // the last step recorded for another backend (gg_train_record)
    gg_arena arenas[GG_MODEL_ARENAS];  // the arenas of its training (gg_train_arenas)
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
    if (w->training) gg_trainer_free(&w->trainer);
    free(w->tokens);
    free(w->lens);
    recording_free(&w->rec);
    gg_model_free(&w->model);
    gg_tokenizer_free(&w->tok.tok);
    free(w);
}

// the configuration as 7 ints: vocab, d_model, n_layer, n_head, ctx, d_ff, pos_kind
const gg_config *EXPORT(gg_model_config)(const wasm_model *w) { return &w->model.cfg; }

// The command line's training defaults: batch, steps, seed, steps between
// validations, and held-out windows per validation.
const int *EXPORT(gg_train_defaults)(void) {
    static const int defaults[] = {GG_TRAIN_BATCH, GG_TRAIN_STEPS, GG_TRAIN_SEED,
                                   GG_TRAIN_EVAL_EVERY, GG_TRAIN_EVAL_WINDOWS};
    return defaults;
}

// The configuration of preset `name` (as gg_model_config gives one), or NULL.
const gg_config *EXPORT(gg_preset)(const char *name) {
    static gg_config cfg;
    return gg_config_preset(&cfg, name, &last_error) ? NULL : &cfg;
}

// The command line's default learning rate for a model d_model wide.
float EXPORT(gg_lr_default)(int d_model) { return gg_default_lr(d_model); }
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

// ---- a new model, training ----

// A fresh model with the configuration cfg (7 ints, as gg_model_config),
// its weights initialised from seed, and a copy of tokenizer tok.
wasm_model *EXPORT(gg_model_create)(const wasm_tokenizer *tok, const gg_config *cfg, uint32_t seed) {
    wasm_model *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    const gg_tokenizer *t = &tok->tok;
    if (cfg->vocab != gg_tokenizer_vocab(t)) {
        gg_fail(&last_error, GG_ERR_ARG, "the model's vocabulary (%d) is not the tokenizer's (%d)",
                cfg->vocab, gg_tokenizer_vocab(t));
        free(w);
        return NULL;
    }
    if (gg_tokenizer_init(&w->tok.tok, t->merges, t->counts, t->n_merges, NULL, &last_error)) {
        free(w);
        return NULL;
    }
    if (gg_model_init(&w->model, cfg, &last_error)) {
        gg_tokenizer_free(&w->tok.tok);
        free(w);
        return NULL;
    }
    gg_model_init_weights(&w->model, seed);
    return w;
}

// Prepares training on text: tokenizes it, splits it 90/10, and sets up
// AdamW with warmup and cosine decay over steps, and dropout (0: none).
int EXPORT(gg_train_begin)(wasm_model *w, const uint8_t *text, size_t n, int batch, float lr,
                           int steps, uint32_t seed, float dropout) {
    if (!(dropout >= 0.0f && dropout < 1.0f))
        return gg_fail(&last_error, GG_ERR_ARG, "dropout %g is outside [0, 1)", (double)dropout);
    if (w->training) gg_trainer_free(&w->trainer);
    free(w->tokens);
    w->training = 0;
    w->tokens = malloc(sizeof *w->tokens * (n ? n : 1));
    size_t n_ids;
    if (!w->tokens) return gg_fail(&last_error, GG_ERR_NOMEM, "out of memory");
    if (gg_bpe_encode(&w->tok.tok, text, n, (uint32_t *)w->tokens, &n_ids, &last_error)) return -1;
    gg_optim_cfg opt = gg_optim_defaults();
    opt.lr = lr;
    opt.total = steps;
    opt.warmup = GG_TRAIN_WARMUP(steps);
    opt.dropout = dropout;
    if (gg_trainer_init(&w->trainer, &w->model, w->tokens, n_ids, batch, w->model.cfg.ctx, &opt,
                        seed, &w->tok.tok, &last_error))
        return -1;
    w->training = 1;
    return 0;
}

// Runs k optimizer steps, writing each step's training loss to losses.
// Returns the number of steps done so far, or -1.
int EXPORT(gg_train_run)(wasm_model *w, int k, float *losses) {
    if (!w->training) return gg_fail(&last_error, GG_ERR_ARG, "training has not begun");
    for (int i = 0; i < k; i++) {
        if (gg_train_step(&w->trainer, &last_error)) return -1;
        losses[i] = w->trainer.last_loss;
    }
    return w->trainer.step;
}

// The validation loss on up to `windows` fixed held-out windows; -1 on error.
float EXPORT(gg_train_validate)(wasm_model *w, int windows) {
    float loss;
    if (!w->training || gg_train_eval(&w->trainer, windows, &loss, &last_error)) return -1.0f;
    return loss;
}

float EXPORT(gg_train_bits_per_byte)(const wasm_model *w, float loss) {
    return (float)gg_bits_per_byte(&w->trainer, loss);
}

// ---- training on another backend (web/gpu.js) ----
//
// The engine records each step without computing it: its kernel calls, as
// words (record.h), over the arenas below, which the other backend holds.
// The engine keeps the step count and the batch generator, and leaves each
// step's batch in the tokens and targets arenas, to be uploaded.

// The arenas of w's training (gg_model_arenas), allocated now if they were
// not, in the order the recorded calls number them; NULL on failure.
static const gg_arena *train_arenas(wasm_model *w) {
    if (!w->training) {
        gg_fail(&last_error, GG_ERR_ARG, "training has not begun");
        return NULL;
    }
    if (gg_train_prepare(&w->trainer, &last_error)) return NULL;
    gg_model_arenas(&w->model, w->arenas);
    return w->arenas;
}

// The arenas of w's training: GG_MODEL_ARENAS of {name, base, bytes}, their
// number in *n; NULL on failure.
const gg_arena *EXPORT(gg_train_arenas)(wasm_model *w, int *n) {
    *n = GG_MODEL_ARENAS;
    return train_arenas(w);
}

// Where w's training stands: out[0] the steps done, out[1] and out[2] the
// batch generator's state (low and high words). A GPU's state that is lost
// goes back to the last one brought home, and the trainer to this.
void EXPORT(gg_train_position)(const wasm_model *w, uint32_t out[3]) {
    out[0] = (uint32_t)w->trainer.step;
    out[1] = (uint32_t)w->trainer.rng.state;
    out[2] = (uint32_t)(w->trainer.rng.state >> 32);
}

void EXPORT(gg_train_set_position)(wasm_model *w, uint32_t step, uint32_t lo, uint32_t hi) {
    w->trainer.step = (int)step;
    w->trainer.rng.state = (uint64_t)hi << 32 | lo;
}

static int train_step(void *w) { return gg_train_step(&((wasm_model *)w)->trainer, &last_error); }

// Records w's next training step (batch, forward, backward, clip, AdamW)
// without computing it, and returns its calls as words (valid until the
// next call), their number in *n_calls; NULL on failure. The step counts
// as done: the other backend must make it.
const uint32_t *EXPORT(gg_train_record)(wasm_model *w, size_t *n_calls) {
    const gg_arena *arenas = train_arenas(w);
    if (!arenas) return NULL;
    return record_step(&w->rec, &w->model, arenas, GG_MODEL_ARENAS, train_step, w, n_calls);
}

// ---- tensors and intermediates, read in place ----

// Parameter tensor k (model.h's order); its name and shape go to *name and
// shape[3] (unused dimensions 0).
const float *EXPORT(gg_model_tensor)(const wasm_model *w, int k, const char **name, int *shape) {
    if (k < 0 || k >= GG_N_PARAM_TENSORS) return NULL;
    gg_tensor_info info[GG_N_PARAM_TENSORS];
    gg_param_layout(&w->model.cfg, info);
    size_t off = 0;
    for (int i = 0; i < k; i++) off += info[i].size;
    *name = info[k].name;
    for (int d = 0; d < 3; d++) shape[d] = d < info[k].ndim ? info[k].shape[d] : 0;
    return w->model.params_mem + off;
}

static void remember(void *user, const char *name, int layer, const float *data, const int *shape,
                     int ndim) {
    wasm_model *w = user;
    if (w->n_seen == MAX_SEEN) return;
    seen_tensor *t = &w->seen[w->n_seen++];
    *t = (seen_tensor){name, layer, ndim, {0, 0, 0, 0}, data};
    memcpy(t->shape, shape, sizeof *shape * (size_t)ndim);
}

// Runs the model on T tokens with the observer on: every intermediate,
// the scores before the mask included, can then be read with gg_model_seen_at.
int EXPORT(gg_model_observe)(wasm_model *w, const int *tokens, int T) {
    w->n_seen = 0;
    w->model.observe = remember;
    w->model.observe_user = w;
    int rc = gg_model_forward(&w->model, tokens, NULL, 1, T, &last_error);
    w->model.observe = NULL;
    return rc ? -1 : w->n_seen;
}

// The k-th intermediate the last observed pass saw (in the order it made
// them), its name to *name, its layer to *layer and its shape to shape[4];
// NULL past the last.
const float *EXPORT(gg_model_seen_at)(const wasm_model *w, int k, const char **name, int *layer,
                                      int *shape) {
    if (k < 0 || k >= w->n_seen) return NULL;
    *name = w->seen[k].name;
    *layer = w->seen[k].layer;
    memcpy(shape, w->seen[k].shape, sizeof w->seen[k].shape);
    return w->seen[k].data;
}

// The logit lens of the last observed pass: the head applied to the
// residual stream after the embedding and after every block, (L+1, T, V),
// or NULL. The last layer's rows are the model's own probabilities.
const float *EXPORT(gg_model_lens)(wasm_model *w) {
    const gg_config *c = &w->model.cfg;
    int T = w->model.T, C = c->d_model, L = c->n_layer;
    if (w->n_seen == 0 || w->model.B != 1) {
        gg_fail(&last_error, GG_ERR_ARG, "the logit lens needs an observed pass first");
        return NULL;
    }
    float *x = malloc(sizeof *x * (size_t)(L + 1) * T * C);
    float *probs = malloc(sizeof *probs * (size_t)(L + 1) * T * c->vocab);
    if (!x || !probs) {
        free(x);
        free(probs);
        gg_fail(&last_error, GG_ERR_NOMEM, "out of memory for the logit lens");
        return NULL;
    }
    memcpy(x, w->model.acts.encoded, sizeof *x * (size_t)T * C);
    memcpy(x + (size_t)T * C, w->model.acts.res_ff, sizeof *x * (size_t)L * T * C);
    int rc = gg_logit_lens(&w->model, x, (L + 1) * T, probs, &last_error);
    free(x);
    free(w->lens);
    w->lens = rc ? (free(probs), NULL) : probs;
    return w->lens;
}

// The map of the token embeddings: their first two principal components.
// coords (V,2), axes (2,C), variance[3]: along each axis, and in all.
int EXPORT(gg_model_pca)(const wasm_model *w, float *coords, float *axes, double *variance) {
    const gg_config *c = &w->model.cfg;
    return gg_pca2(w->model.params.wte, c->vocab, c->d_model, coords, axes, variance, &last_error);
}

// The fixed position table a sinusoidal model of ctx x d would use.
void EXPORT(gg_sinusoidal)(float *pe, int ctx, int d) { gg_sinusoidal_table(pe, ctx, d); }

// ---- generation, one token at a time, for showing ----

typedef struct {
    wasm_model *w;
    gg_generator gen;
    gg_sampler sampler;
    float *probs;  // (V) softmax of the latest logits, at temperature 1
    recording rec;  // the last push recorded for another backend (gg_gen_record)
    int token;      // the token it pushes
    gg_arena arenas[GG_INFER_ARENAS];  // the arenas of its pushes (gg_infer_arenas)
} wasm_generator;

wasm_generator *EXPORT(gg_gen_begin)(wasm_model *w, float temperature, int top_k, float top_p,
                                     uint32_t seed) {
    wasm_generator *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->w = w;
    g->probs = malloc(sizeof *g->probs * (size_t)w->model.cfg.vocab);
    if (!g->probs || gg_generator_init(&g->gen, &w->model, 1, &last_error)) {
        free(g->probs);
        free(g);
        return NULL;
    }
    if (gg_sampler_init(&g->sampler, w->model.cfg.vocab, temperature, top_k, top_p, seed, &last_error)) {
        gg_generator_free(&g->gen);
        free(g->probs);
        free(g);
        return NULL;
    }
    return g;
}

void EXPORT(gg_gen_end)(wasm_generator *g) {
    if (!g) return;
    gg_sampler_free(&g->sampler);
    gg_generator_free(&g->gen);
    recording_free(&g->rec);
    free(g->probs);
    free(g);
}

// New sampling settings for a generator, keeping its text and its cache.
int EXPORT(gg_gen_configure)(wasm_generator *g, float temperature, int top_k, float top_p,
                             uint32_t seed) {
    gg_sampler s;
    if (gg_sampler_init(&s, g->w->model.cfg.vocab, temperature, top_k, top_p, seed, &last_error))
        return -1;
    gg_sampler_free(&g->sampler);
    g->sampler = s;
    return 0;
}

// The next token's probabilities, from the logits of the latest push;
// returns the length of the text.
int EXPORT(gg_gen_pushed)(wasm_generator *g) {
    g->w->model.ops->softmax_forward(g->probs, g->gen.logits, 1, g->w->model.cfg.vocab);
    return g->gen.len;
}

// Feeds one token; the next token's logits and probabilities follow.
int EXPORT(gg_gen_push)(wasm_generator *g, int token) {
    if (gg_generator_push(&g->gen, token, &last_error)) return -1;
    return gg_gen_pushed(g);
}

// ---- generation on another backend (web/gpu.js) ----
//
// As with training (gg_train_record): each push is recorded without being
// computed, over two arenas, the weights and the inference path's buffers
// (the KV cache among them), which the other backend holds. It computes
// the logits; copied back into the inference arena, gg_gen_pushed and the
// sampler take them from there.

// The arenas of g's pushes: GG_INFER_ARENAS of {name, base, bytes}, the
// weights and the inference path, their number in *n.
const gg_arena *EXPORT(gg_gen_arenas)(wasm_generator *g, int *n) {
    gg_infer_arenas(&g->gen.inf, g->arenas);
    *n = GG_INFER_ARENAS;
    return g->arenas;
}

static int gen_push(void *g) {
    wasm_generator *gen = g;
    return gg_generator_push(&gen->gen, gen->token, &last_error);
}

// Records the push of token without computing it (the window slides as it
// would), and returns its calls as words (valid until the next call), their
// number in *n_calls; NULL on failure.
const uint32_t *EXPORT(gg_gen_record)(wasm_generator *g, int token, size_t *n_calls) {
    gg_infer_arenas(&g->gen.inf, g->arenas);
    g->token = token;
    return record_step(&g->rec, &g->w->model, g->arenas, GG_INFER_ARENAS, gen_push, g, n_calls);
}

// Where the logits are in the inference arena, in bytes.
size_t EXPORT(gg_gen_logits_offset)(const wasm_generator *g) {
    return (size_t)((const char *)g->gen.inf.logits - (const char *)g->gen.inf.mem);
}

// Draws the next token from the latest logits (it is not fed back: push it).
int EXPORT(gg_gen_sample)(wasm_generator *g) { return gg_sample(&g->sampler, g->gen.logits); }
int EXPORT(gg_gen_argmax)(const wasm_generator *g) { return g->sampler.argmax; }
const float *EXPORT(gg_gen_probs)(const wasm_generator *g) { return g->probs; }
const float *EXPORT(gg_gen_sampled_probs)(const wasm_generator *g) { return g->sampler.probs; }
int EXPORT(gg_gen_length)(const wasm_generator *g) { return g->gen.len; }
long EXPORT(gg_gen_work)(const wasm_generator *g, int without_cache) {
    return without_cache ? g->gen.positions_without_cache : g->gen.positions;
}

// A buffer of the inference path for the latest position (generate.h):
// "x", "qkv", "scores", "att", "ffh_gelu", "res_ff", "key_cache",
// "value_cache", "logits"; per layer where it has layers. Its shape goes to
// shape[2] (rows, columns).
const float *EXPORT(gg_gen_buffer)(const wasm_generator *g, const char *name, int layer, int *shape) {
    const gg_infer *inf = &g->gen.inf;
    const gg_config *c = &g->w->model.cfg;
    int C = c->d_model, NH = c->n_head, P = c->ctx, F = c->d_ff;
    if (layer < 0 || layer >= c->n_layer) layer = 0;
    struct {
        const char *name;
        const float *data;
        int rows, cols;
    } table[] = {
        {"x", inf->x, 1, C},
        {"qkv", inf->qkv + (size_t)layer * 3 * C, 1, 3 * C},
        {"scores", inf->scores + (size_t)layer * NH * P, NH, P},
        {"att", inf->att + (size_t)layer * NH * P, NH, P},
        {"ffh_gelu", inf->ffh_gelu + (size_t)layer * F, 1, F},
        {"res_ff", inf->res_ff + (size_t)layer * C, 1, C},
        {"key_cache", inf->key_cache + (size_t)layer * P * C, P, C},
        {"value_cache", inf->value_cache + (size_t)layer * P * C, P, C},
        {"logits", inf->logits, 1, c->vocab},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strcmp(table[i].name, name) == 0) {
            shape[0] = table[i].rows;
            shape[1] = table[i].cols;
            return table[i].data;
        }
    return NULL;
}

// ---- small computations for the figures, done by the engine ----

// out[i] = GELU(x[i]), to draw the curve.
void EXPORT(gg_gelu)(const float *x, float *out, int n) { gg_ops_cpu.gelu_forward(out, x, n); }

// out = {mean, variance} of a row, as layer norm computes them.
void EXPORT(gg_row_moments)(const float *x, int n, float *out) { row_moments(x, n, &out[0], &out[1]); }

// ---- the kernels' calls, as words (record.h) ----

// Kernel k's signature ("encoder_forward out:R tokens:R ..."), or NULL past
// the last: how another backend (web/gpu.js) reads the calls.
const char *EXPORT(gg_kernel)(int k) { return gg_kernel_signature(k); }

// The words of one call.
int EXPORT(gg_record_call_words)(void) { return GG_RECORD_CALL_WORDS; }

// The rows matmul_backward sums dw over at a time (ops.h).
int EXPORT(gg_dw_rows)(void) { return GG_DW_ROWS; }
