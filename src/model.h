// The GPT: configuration, the four arenas (parameters, gradients, AdamW
// moments, activations) with named views into them, and the forward and
// backward passes of training.
//
//   tokens -> wte[token] + wpe[position]                       (encoder)
//   N x [ x += attn(ln1(x)); x += ffn(ln2(x)) ]                (blocks)
//   logits = ln_f(x) @ wte^T, probs = softmax(logits)          (head, tied)
//
// attn: qkv = ln1 @ W_qkv + b; head h uses columns h*hs .. (h+1)*hs-1 of
// each of Q, K and V; causal softmax(q k^T / sqrt(hs)) @ v; concat; @ W_out.
// ffn: gelu(ln2 @ W1 + b1) @ W2 + b2, with the tanh form of GELU.
//
// In training, dropout (when set) zeroes a random fraction p of the
// embeddings (wte + wpe) and of each attn and ffn output before it joins
// the residual stream, and scales the rest by 1 / (1 - p), as nanoGPT's
// residual and embedding dropout do. Inference never drops.
#ifndef GLASSGPT_MODEL_H
#define GLASSGPT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ops.h"

typedef enum { GG_POS_LEARNED = 0, GG_POS_SINUSOIDAL = 1 } gg_pos_kind;

typedef struct {
    int vocab;     // V
    int d_model;   // C
    int n_layer;   // L
    int n_head;    // NH; C must be a multiple of it
    int ctx;       // the longest context, T <= ctx
    int d_ff;      // the feed-forward width, usually 4 C
    int pos_kind;  // gg_pos_kind
} gg_config;

// Fills cfg with a preset ("tiny", "small", "base"); GG_ERR_ARG if unknown.
int gg_config_preset(gg_config *cfg, const char *name, gg_error *err);
// Checks every field, with a message that names the offending one.
int gg_config_check(const gg_config *cfg, gg_error *err);
extern const char *const gg_preset_names[];  // NULL-terminated

// ---- the parameter arena ----
// Every parameter tensor, in the arena's order, which is also a
// checkpoint's: X(name, NAME, ndim, shape..., decay), its shape in terms of
// V (vocabulary), P (context), C (width), L (layers) and F (feed-forward
// width), the layer dimension first where there is one; decay: a matrix,
// to which weight decay applies. The enum, gg_params and the layout below
// are all made from this one list.
#define GG_PARAM_TENSORS(X)                                                                \
    X(wte, WTE, 2, V, C, 0, 1)          /* the token embedding, also the output head */ \
    X(wpe, WPE, 2, P, C, 0, 1)          /* positions: learned, or the sinusoidal table */ \
    X(ln1w, LN1W, 2, L, C, 0, 0) X(ln1b, LN1B, 2, L, C, 0, 0)                             \
    X(wqkv, WQKV, 3, L, C, 3 * C, 1) X(bqkv, BQKV, 2, L, 3 * C, 0, 0)                     \
    X(wout, WOUT, 3, L, C, C, 1) X(bout, BOUT, 2, L, C, 0, 0)                             \
    X(ln2w, LN2W, 2, L, C, 0, 0) X(ln2b, LN2B, 2, L, C, 0, 0)                             \
    X(w1, W1, 3, L, C, F, 1) X(b1, B1, 2, L, F, 0, 0)                                     \
    X(w2, W2, 3, L, F, C, 1) X(b2, B2, 2, L, C, 0, 0)                                     \
    X(lnfw, LNFW, 1, C, 0, 0, 0) X(lnfb, LNFB, 1, C, 0, 0, 0)

#define GG_PARAM_ENUM(name, NAME, ...) GG_##NAME,
enum { GG_PARAM_TENSORS(GG_PARAM_ENUM) GG_N_PARAM_TENSORS };
#undef GG_PARAM_ENUM

// Named views of the arena, one per tensor.
#define GG_PARAM_FIELD(name, ...) float *name;
typedef struct {
    GG_PARAM_TENSORS(GG_PARAM_FIELD)
} gg_params;
#undef GG_PARAM_FIELD

typedef struct {
    const char *name;  // e.g. "wqkv"
    int ndim;
    int shape[3];      // per model, the layer dimension first where present
    size_t size;       // floats
    int decay;         // a matrix: weight decay applies
} gg_tensor_info;

// The name, shape and size of every parameter tensor, in arena order.
void gg_param_layout(const gg_config *cfg, gg_tensor_info info[GG_N_PARAM_TENSORS]);
size_t gg_param_count(const gg_config *cfg);
// The bytes that training a model of cfg on B x T batches takes: parameters,
// gradients, both AdamW moments, the activations and their gradients, and a
// checkpoint being saved. A double, so that no configuration can wrap it.
double gg_train_memory(const gg_config *cfg, int B, int T);
// Points the named views of p into the arena mem.
void gg_params_view(gg_params *p, const gg_config *cfg, float *mem);

// ---- activations for a batch of B sequences of T tokens ----
// Every activation, in the arena's order: X(name, floats), counted in B, T,
// BT (= B * T), C, L (layers), NH (heads), F (feed-forward width) and V
// (vocabulary). gg_acts and its layout are made from this list.
#define GG_ACTS(X)                                                                              \
    X(encoded, BT * C)          /* token + position embedding: the residual stream at 0 */   \
    X(ln1, L * BT * C)                                                                        \
    X(ln1_mean, L * BT) X(ln1_rstd, L * BT)                                                   \
    X(qkv, L * BT * 3 * C)                                                                    \
    X(scores, L * B * NH * T * T) /* with an observer only: q.k / sqrt(hs) of every pair,   \
                                     before the mask (training needs only att) */            \
    X(att, L * B * NH * T * T)  /* after the causal mask and softmax */                       \
    X(atty, L * BT * C)         /* the heads' outputs, concatenated */                        \
    X(attproj, L * BT * C)      /* @ W_out */                                                 \
    X(res_att, L * BT * C)      /* the residual stream after the attention sub-block */      \
    X(ln2, L * BT * C)                                                                        \
    X(ln2_mean, L * BT) X(ln2_rstd, L * BT)                                                   \
    X(ffh, L * BT * F)          /* the hidden layer before GELU */                            \
    X(ffh_gelu, L * BT * F)     /* after GELU */                                              \
    X(ffproj, L * BT * C)       /* @ W2 */                                                    \
    X(res_ff, L * BT * C)       /* the residual stream after the feed-forward sub-block */   \
    X(lnf, BT * C)                                                                            \
    X(lnf_mean, BT) X(lnf_rstd, BT)                                                           \
    X(wte_t, C * V)             /* the head's weight: wte transposed */                       \
    X(logits, BT * V) X(probs, BT * V) X(losses, BT)

#define GG_ACT_FIELD(name, size) float *name;
typedef struct {
    GG_ACTS(GG_ACT_FIELD)
} gg_acts;
#undef GG_ACT_FIELD

// What each block shows an observer, in order: X(name, d1, d2, d3), of
// shape (B, d1, d2) or (B, d1, d2, d3). Before the blocks it shows
// "encoded" (B, T, C); after them "lnf" (B, T, C), "logits" and "probs"
// (B, T, V).
#define GG_OBSERVED_BLOCK(X)                                                              \
    X(ln1, T, C, 0) X(qkv, T, 3 * C, 0) X(scores, NH, T, T) X(att, NH, T, T)              \
    X(atty, T, C, 0) X(attproj, T, C, 0) X(res_att, T, C, 0) X(ln2, T, C, 0)              \
    X(ffh, T, F, 0) X(ffh_gelu, T, F, 0) X(ffproj, T, C, 0) X(res_ff, T, C, 0)

// Called by a forward pass with every named intermediate, as it is made:
// name (e.g. "qkv"), layer (-1 outside the blocks), data and its shape.
typedef void (*gg_observer)(void *user, const char *name, int layer, const float *data,
                            const int *shape, int ndim);

// Dropout for a forward pass: probability p (0: none), seed, and the index
// of the batch's first position in the whole batch, when processes share
// one (sequence row0 of T positions: row0 * T).
typedef struct {
    float p;
    uint64_t seed;
    uint64_t first_pos;
} gg_dropout;

typedef struct {
    gg_config cfg;
    const gg_ops *ops;
    // arenas
    float *params_mem, *grads_mem, *m_mem, *v_mem, *acts_mem;
    float *dacts_mem;   // gradients of the activations, for backward
    size_t n_params, n_acts, n_dacts;
    gg_params params, grads, m, v;
    gg_acts acts;
    int B, T;           // the batch the activations were sized for
    int *tokens;        // (B,T) the last forward's input
    int *targets;       // (B,T) its targets, when it had them
    float loss;         // mean loss of the last forward with targets
    float grad_norm;    // the gradients' norm, as the last gg_clip_grads measured it
    int has_loss;
    gg_dropout dropout;       // for the next forward pass (the trainer sets it)
    gg_dropout dropout_used;  // what the last forward pass used, which backward follows
    gg_observer observe;
    void *observe_user;
} gg_model;

// Allocates the parameter arena (zeroed) and, for a sinusoidal model, fills
// the position table. Uses the cpu kernels; set m->ops to choose others.
int gg_model_init(gg_model *m, const gg_config *cfg, gg_error *err);
void gg_model_free(gg_model *m);
// GPT-2's initialisation: N(0, 0.02), residual projections scaled by
// 1/sqrt(2L), layer norms at (1, 0), biases 0; seeded.
void gg_model_init_weights(gg_model *m, uint64_t seed);
// The fixed table: pe[pos][2i] = sin(pos / 10000^(2i/C)), pe[pos][2i+1] = cos(same).
void gg_sinusoidal_table(float *pe, int ctx, int C);

// Runs the model on tokens (B,T); with targets (B,T) also the mean loss.
// Activations are (re)allocated for B and T on first use.
int gg_model_forward(gg_model *m, const int *tokens, const int *targets, int B, int T,
                     gg_error *err);
// Zeroes the gradients (allocating them on first use).
int gg_model_zero_grad(gg_model *m, gg_error *err);
// Accumulates into the gradients the gradient of the last forward's mean
// loss. Backward calls the kernels in exactly the reverse order of forward.
int gg_model_backward(gg_model *m, gg_error *err);
// Allocates now what a forward and backward pass of a B x T batch would on
// first use (the activations, the gradients, the activations' gradients),
// so that a recording of the step (record.h) can name them beforehand.
int gg_model_alloc(gg_model *m, int B, int T, gg_error *err);

// A buffer of the model's that kernels read and write: what a recording of
// a step (record.h) names its arguments by, and another backend holds.
typedef struct {
    const char *name;
    void *base;
    size_t bytes;
} gg_arena;

enum { GG_MODEL_ARENAS = 10 };
// The arenas a training step touches, in this order: params, grads, m, v,
// acts, dacts, tokens, targets, loss, grad_norm (allocated: gg_model_alloc
// and gg_optim_alloc, or gg_train_prepare).
void gg_model_arenas(gg_model *m, gg_arena out[GG_MODEL_ARENAS]);

#endif
