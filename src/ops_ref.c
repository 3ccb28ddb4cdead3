// The reference kernels: plain loops that read like the equations. They are
// the definition the optimised kernels (ops_cpu.c) are tested against.
#include <math.h>

#include "detmath.h"
#include "ops.h"
#include "ops_rows.h"

// tokens (N) -> out (N,C) = wte[token] + wpe[row % T]
static void encoder_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                            int N, int T, int C) {
    for (int n = 0; n < N; n++) {
        const float *te = wte + (size_t)tokens[n] * C, *pe = wpe + (size_t)(n % T) * C;
        for (int i = 0; i < C; i++) out[(size_t)n * C + i] = te[i] + pe[i];
    }
}

static void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                             int N, int T, int C) {
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * C;
        float *dte = dwte + (size_t)tokens[n] * C;
        for (int i = 0; i < C; i++) dte[i] += d[i];
        if (dwpe) {
            float *dpe = dwpe + (size_t)(n % T) * C;
            for (int i = 0; i < C; i++) dpe[i] += d[i];
        }
    }
}

// inp (N,C) -> out (N,C), mean (N), rstd (N)
static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                              const float *w, const float *b, int N, int C) {
    for (int n = 0; n < N; n++)
        layernorm_row(out + (size_t)n * C, &mean[n], &rstd[n], inp + (size_t)n * C, w, b, C);
}

static void layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                               const float *inp, const float *w, const float *mean,
                               const float *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * C, *x = inp + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        // dnorm = dout * w; dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))
        float dnorm_mean, dnorm_norm_mean;
        layernorm_backward_means(&dnorm_mean, &dnorm_norm_mean, d, x, w, mean[n], rstd[n], C);
        for (int i = 0; i < C; i++) {
            float norm = (x[i] - mean[n]) * rstd[n];
            float dnorm = w[i] * d[i];
            db[i] += d[i];
            dw[i] += norm * d[i];
            dx[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * rstd[n];
        }
    }
}

// inp (N,C) @ w (C,OC) + bias (OC) -> out (N,OC)
static void matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                           int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            float acc = bias ? bias[o] : 0.0f;
            for (int i = 0; i < C; i++) acc += inp[(size_t)n * C + i] * w[(size_t)i * OC + o];
            out[(size_t)n * OC + o] = acc;
        }
}

static void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                            const float *inp, const float *w, int N, int C, int OC) {
    for (int n = 0; n < N; n++)  // dinp = dout @ w^T
        for (int i = 0; i < C; i++) {
            float acc = 0.0f;
            for (int o = 0; o < OC; o++) acc += dout[(size_t)n * OC + o] * w[(size_t)i * OC + o];
            dinp[(size_t)n * C + i] += acc;
        }
    for (int n0 = 0; n0 < N; n0 += GG_DW_ROWS)  // dw = inp^T @ dout, in blocks of rows
        for (int i = 0; i < C; i++)
            for (int o = 0; o < OC; o++) {
                float acc = 0.0f;
                for (int n = n0; n < N && n < n0 + GG_DW_ROWS; n++)
                    acc += inp[(size_t)n * C + i] * dout[(size_t)n * OC + o];
                dw[(size_t)i * OC + o] += acc;
            }
    if (dbias)
        for (int o = 0; o < OC; o++) {
            float acc = 0.0f;
            for (int n = 0; n < N; n++) acc += dout[(size_t)n * OC + o];
            dbias[o] += acc;
        }
}

// inp (R,C) -> out (C,R)
static void transpose(float *out, const float *inp, int R, int C) {
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) out[(size_t)c * R + r] = inp[(size_t)r * C + c];
}

// dinp (R,C) += dout (C,R)^T
static void transpose_backward(float *dinp, const float *dout, int R, int C) {
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) dinp[(size_t)r * C + c] += dout[(size_t)c * R + r];
}

// qkv (B,T,3C) -> out (B,T,C), scores (unless NULL) and att (B,NH,T,T)
static void attention_forward(float *out, float *scores, float *att, const float *qkv,
                              int B, int T, int C, int NH) {
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs), row_scores[GG_MAX_CTX];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                const float *base = qkv + (size_t)b * T * 3 * C;
                size_t row = (((size_t)b * NH + h) * T + t) * T;
                attention_row(out + ((size_t)b * T + t) * C + h * hs,
                              scores ? scores + row : row_scores, att + row,
                              base + (size_t)t * 3 * C + h * hs, base + C + h * hs,
                              base + 2 * C + h * hs, 3 * C, t, T, hs, scale);
            }
}

static void attention_scores(float *scores, const float *qkv, int B, int T, int C, int NH) {
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const float *base = qkv + (size_t)b * T * 3 * C;
                score_row(scores + (((size_t)b * NH + h) * T + t) * T, base + (size_t)t * 3 * C + h * hs,
                          base + C + h * hs, 3 * C, T, hs, scale);
            }
}

static void attention_backward(float *dqkv, const float *dout, const float *qkv,
                               const float *att, int B, int T, int C, int NH) {
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    float datt[GG_MAX_CTX];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                const float *base = qkv + (size_t)b * T * 3 * C;
                float *dbase = dqkv + (size_t)b * T * 3 * C;
                size_t row = (((size_t)b * NH + h) * T + t) * T;
                attention_row_backward(dbase + (size_t)t * 3 * C + h * hs, dbase + C + h * hs,
                                       dbase + 2 * C + h * hs, datt,
                                       dout + ((size_t)b * T + t) * C + h * hs,
                                       base + (size_t)t * 3 * C + h * hs, base + C + h * hs,
                                       base + 2 * C + h * hs, att + row, 3 * C, t, hs, scale);
            }
}


static void gelu_forward(float *out, const float *inp, int N) {
    for (int i = 0; i < N; i++) out[i] = gelu(inp[i]);
}

static void gelu_backward(float *dinp, const float *inp, const float *dout, int N) {
    for (int i = 0; i < N; i++) dinp[i] += gelu_grad(inp[i]) * dout[i];
}

static void residual_forward(float *out, const float *a, const float *b, int N) {
    for (int i = 0; i < N; i++) out[i] = a[i] + b[i];
}

static void residual_backward(float *da, float *db, const float *dout, int N) {
    for (int i = 0; i < N; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

static void softmax_forward(float *probs, const float *logits, int N, int V) {
    for (int n = 0; n < N; n++) softmax_row(probs + (size_t)n * V, logits + (size_t)n * V, V);
}

static void crossentropy_forward(float *losses, const float *probs, const int *targets,
                                 int N, int V) {
    for (int n = 0; n < N; n++) losses[n] = (float)-gg_log(probs[(size_t)n * V + targets[n]]);
}

static void crossentropy_softmax_backward(float *dlogits, const float *probs, const int *targets,
                                          float dloss, int N, int V) {
    for (int n = 0; n < N; n++)
        for (int i = 0; i < V; i++) {
            float p = probs[(size_t)n * V + i];
            dlogits[(size_t)n * V + i] = (p - (i == targets[n] ? 1.0f : 0.0f)) * dloss;
        }
}

static void adamw_update(float *p, const float *g, float *m, float *v, size_t n, float decay,
                         float beta1, float beta2, float eps, float step_size, float bc2_sqrt) {
    for (size_t i = 0; i < n; i++)
        adamw_one(&p[i], g[i], &m[i], &v[i], decay, beta1, beta2, eps, step_size, bc2_sqrt);
}

static void attention_decode(float *out, float *scores, float *att, const float *q,
                             const float *k, const float *v, int len, int C, int NH) {
    attention_decode_heads(out, scores, att, q, k, v, len, C, NH);
}

static void dropout(float *x, size_t n, uint64_t first, float p, uint64_t seed) {
    dropout_span(x, n, first, p, seed);
}

// the arithmetic around the kernels, as every table does it (ops_rows.h)
static void zero(float *x, size_t n) { floats_zero(x, n); }
static void copy(float *dst, const float *src, size_t n) { floats_copy(dst, src, n); }
static void mean(float *out, const float *x, size_t n) { floats_mean(out, x, n); }
static void norm(float *out, const float *x, size_t n) { floats_norm(out, x, n); }
static void clip(float *x, size_t n, const float *nrm, float max_norm) { floats_clip(x, n, nrm, max_norm); }

// The list names every entry of gg_ops: a kernel added to one and not the
// other fails here.
#define GG_COUNT_KERNEL(kernel) +1
_Static_assert(sizeof(gg_ops) == sizeof(const char *) + (0 GG_OPS_KERNELS(GG_COUNT_KERNEL)) *
                                     sizeof(void (*)(void)),
               "GG_OPS_KERNELS does not list every kernel of gg_ops");

const gg_ops gg_ops_ref = {
    .name = "reference",
    GG_OPS_KERNELS(GG_OPS_ENTRY)
};
