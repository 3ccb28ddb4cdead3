// Recording kernel calls as arena offsets, and replaying them (record.h).
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The kernels, numbered in the table's order.
#define KERNEL_ID(kernel) K_##kernel,
enum kernel_id { GG_OPS_KERNELS(KERNEL_ID) N_KERNELS };
#undef KERNEL_ID

#define KERNEL_NAME(kernel) #kernel,
static const char *const kernel_names[] = {GG_OPS_KERNELS(KERNEL_NAME)};
#undef KERNEL_NAME

// Each kernel's arguments, as record.h describes; the notes below must
// agree, and a call noted otherwise spoils its recording.
static const char *const signatures[] = {
    [K_encoder_forward] = "encoder_forward out:R tokens:R wte:R wpe:R N:I T:I C:I",
    [K_encoder_backward] = "encoder_backward dwte:R dwpe:R dout:R tokens:R N:I T:I C:I",
    [K_layernorm_forward] = "layernorm_forward out:R mean:R rstd:R inp:R w:R b:R N:I C:I",
    [K_layernorm_backward] =
        "layernorm_backward dinp:R dw:R db:R dout:R inp:R w:R mean:R rstd:R N:I C:I",
    [K_matmul_forward] = "matmul_forward out:R inp:R w:R bias:R N:I C:I OC:I",
    [K_matmul_backward] = "matmul_backward dinp:R dw:R dbias:R dout:R inp:R w:R N:I C:I OC:I",
    [K_transpose] = "transpose out:R inp:R R:I C:I",
    [K_transpose_backward] = "transpose_backward dinp:R dout:R R:I C:I",
    [K_attention_forward] = "attention_forward out:R scores:R att:R qkv:R B:I T:I C:I NH:I",
    [K_attention_scores] = "attention_scores scores:R qkv:R B:I T:I C:I NH:I",
    [K_attention_backward] = "attention_backward dqkv:R dout:R qkv:R att:R B:I T:I C:I NH:I",
    [K_attention_decode] = "attention_decode out:R scores:R att:R q:R k:R v:R len:I C:I NH:I",
    [K_gelu_forward] = "gelu_forward out:R inp:R N:I",
    [K_gelu_backward] = "gelu_backward dinp:R inp:R dout:R N:I",
    [K_residual_forward] = "residual_forward out:R a:R b:R N:I",
    [K_residual_backward] = "residual_backward da:R db:R dout:R N:I",
    [K_softmax_forward] = "softmax_forward probs:R logits:R N:I V:I",
    [K_crossentropy_forward] = "crossentropy_forward losses:R probs:R targets:R N:I V:I",
    [K_crossentropy_softmax_backward] =
        "crossentropy_softmax_backward dlogits:R probs:R targets:R dloss:F N:I V:I",
    [K_dropout] = "dropout x:R n:Z first:U p:F seed:U",
    [K_adamw_update] = ("adamw_update p:R g:R m:R v:R n:Z decay:F beta1:F beta2:F eps:F "
                        "step_size:F bc2_sqrt:F"),
    [K_zero] = "zero x:R n:Z",
    [K_copy] = "copy dst:R src:R n:Z",
    [K_mean] = "mean out:R x:R n:Z",
    [K_norm] = "norm out:R x:R n:Z",
    [K_clip] = "clip x:R n:Z norm:R max_norm:F",
};
_Static_assert(sizeof signatures / sizeof *signatures == N_KERNELS, "a kernel has no signature");

const char *gg_kernel_signature(int k) { return k >= 0 && k < N_KERNELS ? signatures[k] : NULL; }

// The kinds of kernel k's arguments, in order ("RRRRIII"), into kinds.
static void signature_kinds(int k, char kinds[GG_RECORD_MAX_ARGS + 1]) {
    int n = 0;
    for (const char *c = signatures[k]; *c && n < GG_RECORD_MAX_ARGS; c++)
        if (*c == ':') kinds[n++] = c[1];
    kinds[n] = '\0';
}

static gg_recording *rec;  // the recording in progress
static int noting;         // the kernel whose call is being noted
static char why[160];      // the recording's failure, when it has one

int gg_record_arena(gg_recording *r, const char *name, const void *base, size_t bytes,
                    gg_error *err) {
    if (r->n_arenas == GG_RECORD_MAX_ARENAS)
        return gg_fail(err, GG_ERR_ARG, "more than %d arenas to record", GG_RECORD_MAX_ARENAS);
    r->arenas[r->n_arenas] = (gg_arena){name, (void *)base, bytes};
    return r->n_arenas++;
}

int gg_record_arenas(gg_recording *r, const gg_arena *arenas, int n, gg_error *err) {
    for (int i = 0; i < n; i++) {
        int rc = gg_record_arena(r, arenas[i].name, arenas[i].base, arenas[i].bytes, err);
        if (rc < 0) return rc;
    }
    return GG_OK;
}

// Where p lies: an arena and an offset (arena -1 for NULL). A pointer in no
// arena spoils the recording, which says so.
static gg_record_ref ref(const void *p) {
    if (!p) return (gg_record_ref){-1, 0};
    const char *c = p;
    for (int i = 0; i < rec->n_arenas; i++) {
        const char *base = rec->arenas[i].base;
        if (c >= base && c < base + rec->arenas[i].bytes) return (gg_record_ref){i, (size_t)(c - base)};
    }
    if (!rec->failure) {
        snprintf(why, sizeof why, "call %zu, %s, was given a buffer in none of the arenas",
                 rec->n_calls - 1, kernel_names[noting]);
        rec->failure = why;
    }
    return (gg_record_ref){-1, 0};
}

// A new call of kernel k: its argument slots, or NULL (out of memory, which
// spoils the recording).
static gg_record_arg *call(int k) {
    if (rec->n_calls == rec->cap) {
        size_t cap = rec->cap ? 2 * rec->cap : 256;
        gg_record_call *more = realloc(rec->calls, sizeof *more * cap);
        if (!more) {
            rec->failure = "out of memory for the recording";
            return NULL;
        }
        rec->calls = more;
        rec->cap = cap;
    }
    gg_record_call *c = &rec->calls[rec->n_calls++];
    memset(c, 0, sizeof *c);
    c->kernel = noting = k;
    return c->args;
}

// Each kernel: note the call, then make it (unless there is no inner
// table: a recording only). R() a buffer, I() an int, Z() a
// size, F() a float, U() a 64-bit number, in argument order.
// The kinds noted must be the kernel's signature.
#define NOTE(kernel, ...)                                           \
    do {                                                            \
        gg_record_arg *a_ = call(K_##kernel);                       \
        int n_ = 0;                                                 \
        char k_[GG_RECORD_MAX_ARGS + 1] = {0};                      \
        if (a_) {                                                   \
            __VA_ARGS__                                             \
            check_kinds(K_##kernel, k_);                            \
        }                                                           \
    } while (0)
#define R(x) k_[n_] = 'R', a_[n_++].ref = ref(x);
#define I(x) k_[n_] = 'I', a_[n_++].i = (x);
#define Z(x) k_[n_] = 'Z', a_[n_++].z = (x);
#define F(x) k_[n_] = 'F', a_[n_++].f = (x);
#define U(x) k_[n_] = 'U', a_[n_++].u = (x);

static void check_kinds(int k, const char *noted) {
    char kinds[GG_RECORD_MAX_ARGS + 1];
    signature_kinds(k, kinds);
    if (strcmp(kinds, noted) != 0 && !rec->failure) {
        snprintf(why, sizeof why, "%s was noted as %s, but its signature is %s", kernel_names[k],
                 noted, kinds);
        rec->failure = why;
    }
}

static void encoder_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                            int N, int T, int C) {
    NOTE(encoder_forward, R(out) R(tokens) R(wte) R(wpe) I(N) I(T) I(C));
    if (rec->inner) rec->inner->encoder_forward(out, tokens, wte, wpe, N, T, C);
}
static void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                             int N, int T, int C) {
    NOTE(encoder_backward, R(dwte) R(dwpe) R(dout) R(tokens) I(N) I(T) I(C));
    if (rec->inner) rec->inner->encoder_backward(dwte, dwpe, dout, tokens, N, T, C);
}
static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                              const float *w, const float *b, int N, int C) {
    NOTE(layernorm_forward, R(out) R(mean) R(rstd) R(inp) R(w) R(b) I(N) I(C));
    if (rec->inner) rec->inner->layernorm_forward(out, mean, rstd, inp, w, b, N, C);
}
static void layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                               const float *inp, const float *w, const float *mean,
                               const float *rstd, int N, int C) {
    NOTE(layernorm_backward, R(dinp) R(dw) R(db) R(dout) R(inp) R(w) R(mean) R(rstd) I(N) I(C));
    if (rec->inner)
        rec->inner->layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
}
static void matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                           int N, int C, int OC) {
    NOTE(matmul_forward, R(out) R(inp) R(w) R(bias) I(N) I(C) I(OC));
    if (rec->inner) rec->inner->matmul_forward(out, inp, w, bias, N, C, OC);
}
static void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                            const float *inp, const float *w, int N, int C, int OC) {
    NOTE(matmul_backward, R(dinp) R(dw) R(dbias) R(dout) R(inp) R(w) I(N) I(C) I(OC));
    if (rec->inner) rec->inner->matmul_backward(dinp, dw, dbias, dout, inp, w, N, C, OC);
}
static void transpose(float *out, const float *inp, int R_, int C) {
    NOTE(transpose, R(out) R(inp) I(R_) I(C));
    if (rec->inner) rec->inner->transpose(out, inp, R_, C);
}
static void transpose_backward(float *dinp, const float *dout, int R_, int C) {
    NOTE(transpose_backward, R(dinp) R(dout) I(R_) I(C));
    if (rec->inner) rec->inner->transpose_backward(dinp, dout, R_, C);
}
static void attention_forward(float *out, float *scores, float *att, const float *qkv, int B,
                              int T, int C, int NH) {
    NOTE(attention_forward, R(out) R(scores) R(att) R(qkv) I(B) I(T) I(C) I(NH));
    if (rec->inner) rec->inner->attention_forward(out, scores, att, qkv, B, T, C, NH);
}
static void attention_scores(float *scores, const float *qkv, int B, int T, int C, int NH) {
    NOTE(attention_scores, R(scores) R(qkv) I(B) I(T) I(C) I(NH));
    if (rec->inner) rec->inner->attention_scores(scores, qkv, B, T, C, NH);
}
static void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                               int B, int T, int C, int NH) {
    NOTE(attention_backward, R(dqkv) R(dout) R(qkv) R(att) I(B) I(T) I(C) I(NH));
    if (rec->inner) rec->inner->attention_backward(dqkv, dout, qkv, att, B, T, C, NH);
}
static void attention_decode(float *out, float *scores, float *att, const float *q,
                             const float *k, const float *v, int len, int C, int NH) {
    NOTE(attention_decode, R(out) R(scores) R(att) R(q) R(k) R(v) I(len) I(C) I(NH));
    if (rec->inner) rec->inner->attention_decode(out, scores, att, q, k, v, len, C, NH);
}
static void gelu_forward(float *out, const float *inp, int N) {
    NOTE(gelu_forward, R(out) R(inp) I(N));
    if (rec->inner) rec->inner->gelu_forward(out, inp, N);
}
static void gelu_backward(float *dinp, const float *inp, const float *dout, int N) {
    NOTE(gelu_backward, R(dinp) R(inp) R(dout) I(N));
    if (rec->inner) rec->inner->gelu_backward(dinp, inp, dout, N);
}
static void residual_forward(float *out, const float *a, const float *b, int N) {
    NOTE(residual_forward, R(out) R(a) R(b) I(N));
    if (rec->inner) rec->inner->residual_forward(out, a, b, N);
}
static void residual_backward(float *da, float *db, const float *dout, int N) {
    NOTE(residual_backward, R(da) R(db) R(dout) I(N));
    if (rec->inner) rec->inner->residual_backward(da, db, dout, N);
}
static void softmax_forward(float *probs, const float *logits, int N, int V) {
    NOTE(softmax_forward, R(probs) R(logits) I(N) I(V));
    if (rec->inner) rec->inner->softmax_forward(probs, logits, N, V);
}
static void crossentropy_forward(float *losses, const float *probs, const int *targets, int N,
                                 int V) {
    NOTE(crossentropy_forward, R(losses) R(probs) R(targets) I(N) I(V));
    if (rec->inner) rec->inner->crossentropy_forward(losses, probs, targets, N, V);
}
static void crossentropy_softmax_backward(float *dlogits, const float *probs, const int *targets,
                                          float dloss, int N, int V) {
    NOTE(crossentropy_softmax_backward, R(dlogits) R(probs) R(targets) F(dloss) I(N) I(V));
    if (rec->inner)
        rec->inner->crossentropy_softmax_backward(dlogits, probs, targets, dloss, N, V);
}
static void dropout(float *x, size_t n, uint64_t first, float p, uint64_t seed) {
    NOTE(dropout, R(x) Z(n) U(first) F(p) U(seed));
    if (rec->inner) rec->inner->dropout(x, n, first, p, seed);
}
static void adamw_update(float *p, const float *g, float *m, float *v, size_t n, float decay,
                         float beta1, float beta2, float eps, float step_size, float bc2_sqrt) {
    NOTE(adamw_update, R(p) R(g) R(m) R(v) Z(n) F(decay) F(beta1) F(beta2) F(eps) F(step_size)
                           F(bc2_sqrt));
    if (rec->inner)
        rec->inner->adamw_update(p, g, m, v, n, decay, beta1, beta2, eps, step_size, bc2_sqrt);
}
static void zero(float *x, size_t n) {
    NOTE(zero, R(x) Z(n));
    if (rec->inner) rec->inner->zero(x, n);
}
static void copy(float *dst, const float *src, size_t n) {
    NOTE(copy, R(dst) R(src) Z(n));
    if (rec->inner) rec->inner->copy(dst, src, n);
}
static void mean(float *out, const float *x, size_t n) {
    NOTE(mean, R(out) R(x) Z(n));
    if (rec->inner) rec->inner->mean(out, x, n);
}
static void norm(float *out, const float *x, size_t n) {
    NOTE(norm, R(out) R(x) Z(n));
    if (rec->inner) rec->inner->norm(out, x, n);
}
static void clip(float *x, size_t n, const float *nrm, float max_norm) {
    NOTE(clip, R(x) Z(n) R(nrm) F(max_norm));
    if (rec->inner) rec->inner->clip(x, n, nrm, max_norm);
}
#undef R
#undef I
#undef Z
#undef F
#undef U

static const gg_ops record_ops = {
    .name = "record",
    GG_OPS_KERNELS(GG_OPS_ENTRY)
};

const gg_ops *gg_record_wrap(gg_recording *r, const gg_ops *inner) {
    if (inner == &record_ops) inner = rec->inner;  // one level only
    r->inner = inner;
    rec = r;
    return &record_ops;
}

// ---- replay ----

// Makes call c, number k of its recording, on ops.
static int replay_call(const gg_record_call *c, size_t k, const gg_ops *ops, void *const bases[],
                       gg_error *err) {
    const gg_record_arg *a = c->args;
    // argument j as a buffer in the arenas given, or as a number
#define R(j) (a[j].ref.arena < 0 ? NULL : (void *)((char *)bases[a[j].ref.arena] + a[j].ref.offset))
#define I(j) a[j].i
#define Z(j) a[j].z
#define F(j) a[j].f
#define U(j) a[j].u
    if (c->kernel < 0 || c->kernel >= N_KERNELS)
        return gg_fail(err, GG_ERR_FORMAT, "call %zu: no kernel %d", k, c->kernel);
    // every kernel has its case: -Wswitch names any left out
    switch ((enum kernel_id)c->kernel) {
    case K_encoder_forward: ops->encoder_forward(R(0), R(1), R(2), R(3), I(4), I(5), I(6)); break;
    case K_encoder_backward: ops->encoder_backward(R(0), R(1), R(2), R(3), I(4), I(5), I(6)); break;
    case K_layernorm_forward:
        ops->layernorm_forward(R(0), R(1), R(2), R(3), R(4), R(5), I(6), I(7));
        break;
    case K_layernorm_backward:
        ops->layernorm_backward(R(0), R(1), R(2), R(3), R(4), R(5), R(6), R(7), I(8), I(9));
        break;
    case K_matmul_forward: ops->matmul_forward(R(0), R(1), R(2), R(3), I(4), I(5), I(6)); break;
    case K_matmul_backward:
        ops->matmul_backward(R(0), R(1), R(2), R(3), R(4), R(5), I(6), I(7), I(8));
        break;
    case K_transpose: ops->transpose(R(0), R(1), I(2), I(3)); break;
    case K_transpose_backward: ops->transpose_backward(R(0), R(1), I(2), I(3)); break;
    case K_attention_forward:
        ops->attention_forward(R(0), R(1), R(2), R(3), I(4), I(5), I(6), I(7));
        break;
    case K_attention_scores: ops->attention_scores(R(0), R(1), I(2), I(3), I(4), I(5)); break;
    case K_attention_backward:
        ops->attention_backward(R(0), R(1), R(2), R(3), I(4), I(5), I(6), I(7));
        break;
    case K_attention_decode:
        ops->attention_decode(R(0), R(1), R(2), R(3), R(4), R(5), I(6), I(7), I(8));
        break;
    case K_gelu_forward: ops->gelu_forward(R(0), R(1), I(2)); break;
    case K_gelu_backward: ops->gelu_backward(R(0), R(1), R(2), I(3)); break;
    case K_residual_forward: ops->residual_forward(R(0), R(1), R(2), I(3)); break;
    case K_residual_backward: ops->residual_backward(R(0), R(1), R(2), I(3)); break;
    case K_softmax_forward: ops->softmax_forward(R(0), R(1), I(2), I(3)); break;
    case K_crossentropy_forward: ops->crossentropy_forward(R(0), R(1), R(2), I(3), I(4)); break;
    case K_crossentropy_softmax_backward:
        ops->crossentropy_softmax_backward(R(0), R(1), R(2), F(3), I(4), I(5));
        break;
    case K_dropout: ops->dropout(R(0), Z(1), U(2), F(3), U(4)); break;
    case K_adamw_update:
        ops->adamw_update(R(0), R(1), R(2), R(3), Z(4), F(5), F(6), F(7), F(8), F(9), F(10));
        break;
    case K_zero: ops->zero(R(0), Z(1)); break;
    case K_copy: ops->copy(R(0), R(1), Z(2)); break;
    case K_mean: ops->mean(R(0), R(1), Z(2)); break;
    case K_norm: ops->norm(R(0), R(1), Z(2)); break;
    case K_clip: ops->clip(R(0), Z(1), R(2), F(3)); break;
    case N_KERNELS: break;
    }
#undef R
#undef I
#undef Z
#undef F
#undef U
    return GG_OK;
}

int gg_replay(const gg_recording *r, const gg_ops *ops, void *const bases[], gg_error *err) {
    if (r->failure) return gg_fail(err, GG_ERR_ARG, "the recording cannot be replayed: %s", r->failure);
    for (size_t k = 0; k < r->n_calls; k++) {
        int rc = replay_call(&r->calls[k], k, ops, bases, err);
        if (rc) return rc;
    }
    return GG_OK;
}

// ---- as words ----

int gg_record_words(const gg_recording *r, uint32_t *out, gg_error *err) {
    if (r->failure) return gg_fail(err, GG_ERR_ARG, "the recording cannot be written: %s", r->failure);
    for (size_t k = 0; k < r->n_calls && out; k++) {
        const gg_record_call *c = &r->calls[k];
        uint32_t *w = out + k * GG_RECORD_CALL_WORDS;
        char kinds[GG_RECORD_MAX_ARGS + 1];
        signature_kinds(c->kernel, kinds);
        memset(w, 0, sizeof *w * GG_RECORD_CALL_WORDS);
        w[0] = (uint32_t)c->kernel;
        for (int j = 0; kinds[j]; j++) {
            const gg_record_arg *a = &c->args[j];
            uint32_t *lo = &w[2 + 2 * j], *hi = lo + 1;
            switch (kinds[j]) {
            case 'R':
                if (a->ref.offset % 4 || a->ref.offset / 4 > UINT32_MAX)
                    return gg_fail(err, GG_ERR_ARG, "call %zu, %s: argument %d is not a whole float "
                                   "into its arena", k, kernel_names[c->kernel], j);
                *lo = a->ref.arena < 0 ? UINT32_MAX : (uint32_t)a->ref.arena;
                *hi = (uint32_t)(a->ref.offset / 4);
                break;
            case 'I': *lo = (uint32_t)a->i; break;
            case 'F': memcpy(lo, &a->f, sizeof *lo); break;
            case 'Z': *lo = (uint32_t)a->z, *hi = (uint32_t)((uint64_t)a->z >> 32); break;
            case 'U': *lo = (uint32_t)a->u, *hi = (uint32_t)(a->u >> 32); break;
            }
        }
    }
    return GG_OK;
}

// Call k of words, read back into c: every buffer must name an arena and
// start inside it.
static int call_of_words(gg_record_call *c, const uint32_t *words, size_t k, const size_t bytes[],
                         int n_arenas, gg_error *err) {
    const uint32_t *w = words + k * GG_RECORD_CALL_WORDS;
    if (w[0] >= N_KERNELS) return gg_fail(err, GG_ERR_FORMAT, "call %zu: no kernel %u", k, w[0]);
    char kinds[GG_RECORD_MAX_ARGS + 1];
    signature_kinds((int)w[0], kinds);
    memset(c, 0, sizeof *c);
    c->kernel = (int)w[0];
    for (int j = 0; kinds[j]; j++) {
        uint32_t lo = w[2 + 2 * j], hi = w[3 + 2 * j];
        gg_record_arg *a = &c->args[j];
        switch (kinds[j]) {
        case 'R':
            if (lo == UINT32_MAX) {
                a->ref = (gg_record_ref){-1, 0};
                break;
            }
            if (lo >= (uint32_t)n_arenas || (size_t)hi * 4 >= bytes[lo])
                return gg_fail(err, GG_ERR_FORMAT, "call %zu, %s: argument %d is outside the arenas",
                               k, kernel_names[c->kernel], j);
            a->ref = (gg_record_ref){(int)lo, (size_t)hi * 4};
            break;
        case 'I': a->i = (int)lo; break;
        case 'F': memcpy(&a->f, &lo, sizeof lo); break;
        case 'Z': a->z = (size_t)((uint64_t)hi << 32 | lo); break;
        case 'U': a->u = (uint64_t)hi << 32 | lo; break;
        }
    }
    return GG_OK;
}

int gg_replay_words(const uint32_t *words, size_t n_calls, const gg_ops *ops, void *const bases[],
                    const size_t bytes[], int n_arenas, gg_error *err) {
    gg_record_call c;
    for (size_t k = 0; k < n_calls; k++) {
        int rc = call_of_words(&c, words, k, bytes, n_arenas, err);
        if (rc) return rc;
    }
    for (size_t k = 0; k < n_calls; k++) {
        call_of_words(&c, words, k, bytes, n_arenas, NULL);
        int rc = replay_call(&c, k, ops, bases, err);
        if (rc) return rc;
    }
    return GG_OK;
}

void gg_recording_free(gg_recording *r) {
    free(r->calls);
    memset(r, 0, sizeof *r);
}
