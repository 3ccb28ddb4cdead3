// The numeric kernels of the transformer, behind one narrow interface.
//
// The model code (model.c, generate.c) never does arithmetic on tensors
// itself: it calls these kernels through a gg_ops table. Two tables exist:
// gg_ops_ref, plain loops that read like the equations, and gg_ops_cpu,
// register-blocked and threaded. The tests hold them against each other.
// Another backend (WebGPU) fills in the same table.
//
// Conventions, after llm.c: outputs come first; backward kernels take the
// same arguments as their forward partner; gradients accumulate with +=,
// except the loss's, where the backward pass starts, which is written.
// Every output element is computed by one thread, in a fixed order, so the
// results do not depend on the number of threads, and a row computed alone
// equals the same row computed in a batch bit for bit.
#ifndef GLASSGPT_OPS_H
#define GLASSGPT_OPS_H

#include <stddef.h>
#include <stdint.h>

enum {
    GG_MAX_CTX = 4096,  // the longest context a kernel accepts
    GG_DW_ROWS = 128,   // matmul_backward sums dw over this many rows at a time
};

typedef struct gg_ops {
    const char *name;

    // tokens (N) -> out (N,C) = wte[token] + wpe[position]; position = row % T
    void (*encoder_forward)(float *out, const int *tokens, const float *wte, const float *wpe,
                            int N, int T, int C);
    // dwpe may be NULL (a fixed, sinusoidal position table)
    void (*encoder_backward)(float *dwte, float *dwpe, const float *dout, const int *tokens,
                             int N, int T, int C);

    // inp (N,C) -> out (N,C), mean (N), rstd (N); out = (inp - mean) * rstd * w + b
    void (*layernorm_forward)(float *out, float *mean, float *rstd, const float *inp,
                              const float *w, const float *b, int N, int C);
    void (*layernorm_backward)(float *dinp, float *dw, float *db, const float *dout,
                               const float *inp, const float *w, const float *mean,
                               const float *rstd, int N, int C);

    // inp (N,C) @ w (C,OC) + bias (OC) -> out (N,OC); bias may be NULL
    void (*matmul_forward)(float *out, const float *inp, const float *w, const float *bias,
                           int N, int C, int OC);
    // dinp += dout @ w^T; dw += inp^T @ dout, a block of GG_DW_ROWS rows at a
    // time (each block's sum added to dw in turn, so that the block of dout
    // stays in cache); dbias (may be NULL) += the sum of dout's rows
    void (*matmul_backward)(float *dinp, float *dw, float *dbias, const float *dout,
                            const float *inp, const float *w, int N, int C, int OC);

    // inp (R,C) -> out (C,R). The language-model head reads the token
    // embedding table (V,C) through its transpose (C,V), an ordinary weight.
    void (*transpose)(float *out, const float *inp, int R, int C);
    // out (R,C) += inp (C,R)^T: carries a gradient back through transpose
    void (*transpose_backward)(float *dinp, const float *dout, int R, int C);

    // qkv (B,T,3C) -> out (B,T,C), scores (B,NH,T,T), att (B,NH,T,T).
    // scores holds q.k / sqrt(C/NH) for the keys each query may see (the
    // rest is left as it was), unless it is NULL (training needs only att);
    // att holds the causal softmax, zero above the diagonal. Head h reads
    // columns h*hs .. (h+1)*hs-1 of Q, K and V.
    void (*attention_forward)(float *out, float *scores, float *att, const float *qkv,
                              int B, int T, int C, int NH);
    // The scores of every pair, above the diagonal too: what attention sees
    // before the causal mask. Only for showing; training never needs them.
    void (*attention_scores)(float *scores, const float *qkv, int B, int T, int C, int NH);
    void (*attention_backward)(float *dqkv, const float *dout, const float *qkv,
                               const float *att, int B, int T, int C, int NH);
    // One query against a cache: q (C), k and v (len,C) -> out (C),
    // scores (NH,len), att (NH,len). The row t = len - 1 of attention_forward,
    // computed the same way, for generation with a KV cache.
    void (*attention_decode)(float *out, float *scores, float *att, const float *q,
                             const float *k, const float *v, int len, int C, int NH);

    // GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    void (*gelu_forward)(float *out, const float *inp, int N);
    void (*gelu_backward)(float *dinp, const float *inp, const float *dout, int N);

    // out = a + b
    void (*residual_forward)(float *out, const float *a, const float *b, int N);
    void (*residual_backward)(float *da, float *db, const float *dout, int N);

    // logits (N,V) -> probs (N,V): softmax of each row
    void (*softmax_forward)(float *probs, const float *logits, int N, int V);
    // losses (N) = -log probs[target]; dlogits (N,V) = (probs - onehot) * dloss,
    // written, not added: the first gradient of the backward pass, a batch's
    // megabytes, needs no zeroing first
    void (*crossentropy_forward)(float *losses, const float *probs, const int *targets,
                                 int N, int V);
    void (*crossentropy_softmax_backward)(float *dlogits, const float *probs,
                                          const int *targets, float dloss, int N, int V);

    // Dropout, in place: x[i] = 0 with probability p, else x[i] / (1 - p).
    // Whether element i is dropped depends only on seed and its index in the
    // whole batch, first + i (gg_dropped in ops_rows.h): the same on every
    // thread, machine, and share of a batch split over processes. Backward is
    // the same call on the gradient.
    void (*dropout)(float *x, size_t n, uint64_t first, float p, uint64_t seed);

    // One AdamW update of n parameters, as torch.optim.AdamW does it
    // (adamw_one in ops_rows.h): p *= decay; m += (g - m)(1 - beta1);
    // v = beta2 v + (1 - beta2) g^2; p -= step_size * m / (sqrt(v) / bc2_sqrt + eps)
    void (*adamw_update)(float *p, const float *g, float *m, float *v, size_t n, float decay,
                         float beta1, float beta2, float eps, float step_size, float bc2_sqrt);

    // The small arithmetic around the kernels above, so that no part of a
    // step computes outside the table (a GPU backend keeps it all on the
    // GPU): zeroing a buffer, copying one (a row into the KV cache), the
    // mean of the losses, and the gradients' norm and clipping.
    void (*zero)(float *x, size_t n);
    void (*copy)(float *dst, const float *src, size_t n);
    // out[0] = the mean of x (n), summed in double in index order
    void (*mean)(float *out, const float *x, size_t n);
    // out[0] = the Euclidean norm of x (n), its squares summed in double in
    // index order
    void (*norm)(float *out, const float *x, size_t n);
    // x *= max_norm / (norm[0] + 1e-6) when that is under 1 and max_norm > 0:
    // the norm is read where the norm kernel left it, not passed back first
    void (*clip)(float *x, size_t n, const float *norm, float max_norm);
} gg_ops;

// Every kernel of the table, in order: a table is written
// { .name = "...", GG_OPS_KERNELS(GG_OPS_ENTRY) } with a static function of
// each name in scope, so that no table can leave one out.
#define GG_OPS_KERNELS(X)                                                                   \
    X(encoder_forward) X(encoder_backward) X(layernorm_forward) X(layernorm_backward)       \
    X(matmul_forward) X(matmul_backward) X(transpose) X(transpose_backward)                 \
    X(attention_forward) X(attention_scores) X(attention_backward) X(attention_decode)      \
    X(gelu_forward) X(gelu_backward) X(residual_forward) X(residual_backward)               \
    X(softmax_forward) X(crossentropy_forward) X(crossentropy_softmax_backward) X(dropout)  \
    X(adamw_update) X(zero) X(copy) X(mean) X(norm) X(clip)
#define GG_OPS_ENTRY(kernel) .kernel = kernel,

extern const gg_ops gg_ops_ref;  // plain loops: the definition
extern const gg_ops gg_ops_cpu;  // blocked and threaded: the default

// Sets the number of threads the cpu kernels use (0: all cores). Returns the
// number in effect; 1 when the build has no OpenMP.
int gg_set_threads(int n);
// The number of threads the cpu kernels use.
int gg_threads(void);
// How many of the cpu kernels' loops have run on more than one thread so far
// (always 0 in a build without OpenMP): for tests of thread independence.
long gg_threaded_loops(void);

#endif
