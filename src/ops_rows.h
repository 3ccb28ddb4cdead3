// Row kernels shared by both op tables, so that the reference and the
// optimised kernels, and a row computed alone or in a batch, agree exactly
// wherever the optimisation does not reorder the arithmetic.
#ifndef GLASSGPT_OPS_ROWS_H
#define GLASSGPT_OPS_ROWS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rng.h"

// Inlined by force: the row kernels called with a constant head size unroll.
#define GG_ALWAYS_INLINE static inline __attribute__((always_inline))

// e^x for x <= 0, in float, after Cephes' expf: x = n ln2 + r with
// |r| <= ln2 / 2, a degree-6 polynomial for e^r, and 2^n put straight into
// the exponent bits. Relative error about 1e-7. Unlike libm's expf it
// vectorises, and it gives the same bits on every platform, the browser's
// WebAssembly and the GPU included. Every exponential the engine takes is of
// a number <= 0: a softmax's x - max, and GELU's -2|u|. That keeps 2^n a
// normal float (n >= -126) and saves the work of a positive range: 1.08x
// for the softmax over the vocabulary. A positive x is taken as 0.
static inline float gg_expf_neg(float x) {
    x = x < -87.33654f ? -87.33654f : x > 0.0f ? 0.0f : x;
    // n = round(x / ln2): adding 1.5 * 2^23 rounds to an integer, which then
    // sits in the low bits of the sum (floorf would do, but it keeps the
    // compiler from vectorising, and converting a float to an int is slow in
    // WebAssembly)
    union {
        float f;
        uint32_t u;
    } shifted = {.f = x * 1.44269504088896341f + 12582912.0f};
    float n = shifted.f - 12582912.0f;
    float r = x - n * 0.693359375f;  // ln2 in two parts, for an exact r
    r = r - n * -2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * (r * r) + r + 1.0f;
    // 2^n for n in [-126, 0]: the integer n sits in shifted's low bits
    // (its bits less 0x4b400000)
    union {
        uint32_t u;
        float f;
    } two_n = {.u = (shifted.u - 0x4b400000u + 127u) << 23};
    return y * two_n.f;
}

// score[t2] = q . k[t2] * scale for the keys t2 < n_keys of one query and
// head; k advances by stride floats per position.
GG_ALWAYS_INLINE void score_row(float *score, const float *q, const float *k, int stride,
                                int n_keys, int hs, float scale) {
    for (int t2 = 0; t2 < n_keys; t2++) {
        const float *kt = k + (size_t)t2 * stride;
        float dot = 0.0f;
        for (int i = 0; i < hs; i++) dot += q[i] * kt[i];
        score[t2] = dot * scale;
    }
}

// One query row t of one head: the scores of keys 0..t, att = their softmax
// (zero for the n_keys - t - 1 keys beyond), and out = att @ v.
GG_ALWAYS_INLINE void attention_row(float *out, float *score, float *att, const float *q,
                                    const float *k, const float *v, int stride, int t, int n_keys,
                                    int hs, float scale) {
    score_row(score, q, k, stride, t + 1, hs, scale);
    float maxval = -INFINITY;
    for (int t2 = 0; t2 <= t; t2++)
        if (score[t2] > maxval) maxval = score[t2];
    for (int t2 = 0; t2 <= t; t2++) att[t2] = gg_expf_neg(score[t2] - maxval);
    float sum = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) sum += att[t2];
    float inv = 1.0f / sum;
    for (int t2 = 0; t2 <= t; t2++) att[t2] *= inv;
    for (int t2 = t + 1; t2 < n_keys; t2++) att[t2] = 0.0f;
    for (int i = 0; i < hs; i++) out[i] = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        const float *vt = v + (size_t)t2 * stride;
        for (int i = 0; i < hs; i++) out[i] += att[t2] * vt[i];
    }
}

// Backward of attention_row for one head, given the forward's att row:
// datt = dout . v, dscore = att * (datt - sum(att * datt)) (the softmax
// Jacobian applied in O(t)), then dq, dk, dv. datt is scratch of t+1 floats.
GG_ALWAYS_INLINE void attention_row_backward(float *dq, float *dk, float *dv, float *datt,
                                             const float *dout, const float *q, const float *k,
                                             const float *v, const float *att, int stride, int t,
                                             int hs, float scale) {
    float dot_sum = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        const float *vt = v + (size_t)t2 * stride;
        float *dvt = dv + (size_t)t2 * stride;
        float d = 0.0f;
        for (int i = 0; i < hs; i++) {
            d += dout[i] * vt[i];
            dvt[i] += att[t2] * dout[i];
        }
        datt[t2] = d;
        dot_sum += att[t2] * d;
    }
    for (int t2 = 0; t2 <= t; t2++) {
        float dscore = att[t2] * (datt[t2] - dot_sum) * scale;
        const float *kt = k + (size_t)t2 * stride;
        float *dkt = dk + (size_t)t2 * stride;
        for (int i = 0; i < hs; i++) {
            dq[i] += dscore * kt[i];
            dkt[i] += dscore * q[i];
        }
    }
}

// tanh through one exponential, several times faster than libm's tanhf. Its
// absolute error is below 1e-7, and GELU only ever adds tanh to 1.
static inline float tanh_via_exp(float u) {
    float t = gg_expf_neg(-2.0f * fabsf(u));
    return copysignf((1.0f - t) / (1.0f + t), u);
}

// One query against a cache, for every head: the attention_decode kernel,
// the same in both tables.
static inline void attention_decode_heads(float *out, float *scores, float *att, const float *q,
                                          const float *k, const float *v, int len, int C, int NH) {
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    for (int h = 0; h < NH; h++)
        attention_row(out + h * hs, scores + (size_t)h * len, att + (size_t)h * len, q + h * hs,
                      k + h * hs, v + h * hs, C, len - 1, len, hs, scale);
}

// Whether dropout drops element `index` of a tensor: the top 32 bits of
// splitmix64's index-th number of seed fall below cut = p 2^32 with
// probability p.
static inline int gg_dropped(uint64_t seed, uint64_t index, uint32_t cut) {
    return (uint32_t)(gg_mix64(seed, index) >> 32) < cut;
}

// Dropout of x[0 .. n-1], elements first .. first + n - 1 of their tensor.
static inline void dropout_span(float *x, size_t n, uint64_t first, float p, uint64_t seed) {
    uint32_t cut = (uint32_t)((double)p * 4294967296.0);  // p < 1
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) x[i] = gg_dropped(seed, first + i, cut) ? 0.0f : x[i] * scale;
}

// AdamW on one parameter, as torch.optim.AdamW does it.
static inline void adamw_one(float *p, float g, float *m, float *v, float decay, float beta1,
                             float beta2, float eps, float step_size, float bc2_sqrt) {
    *p *= decay;
    *m += (g - *m) * (1.0f - beta1);
    *v = *v * beta2 + (1.0f - beta2) * g * g;
    *p -= step_size * *m / (sqrtf(*v) / bc2_sqrt + eps);
}

static inline float gelu(float x) {
    const float s = 0.7978845608028654f;  // sqrt(2 / pi)
    return 0.5f * x * (1.0f + tanh_via_exp(s * (x + 0.044715f * x * x * x)));
}

static inline float gelu_grad(float x) {
    const float s = 0.7978845608028654f;
    float u = s * (x + 0.044715f * x * x * x);
    float th = tanh_via_exp(u);
    float sech2 = 1.0f - th * th;
    return 0.5f * (1.0f + th) + 0.5f * x * sech2 * s * (1.0f + 3.0f * 0.044715f * x * x);
}

// The mean and (biased) variance of a row, as layer norm takes them.
static inline void row_moments(const float *x, int C, float *mean, float *var) {
    float m = 0.0f;
    for (int i = 0; i < C; i++) m += x[i];
    m /= (float)C;
    float v = 0.0f;
    for (int i = 0; i < C; i++) v += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = v / (float)C;
}

// One row of layer norm: out = (x - mean) * rstd * w + b.
static inline void layernorm_row(float *out, float *mean_out, float *rstd_out, const float *x,
                                 const float *w, const float *b, int C) {
    float m, var;
    row_moments(x, C, &m, &var);
    float rstd = 1.0f / sqrtf(var + 1e-5f);
    for (int i = 0; i < C; i++) out[i] = (x[i] - m) * rstd * w[i] + b[i];
    if (mean_out) *mean_out = m;
    if (rstd_out) *rstd_out = rstd;
}

// The two means of one row that layer norm's backward needs: of
// dnorm = w * dout, and of dnorm * norm, where norm = (x - mean) * rstd.
static inline void layernorm_backward_means(float *dnorm_mean, float *dnorm_norm_mean,
                                            const float *d, const float *x, const float *w,
                                            float mean, float rstd, int C) {
    float s1 = 0.0f, s2 = 0.0f;
    for (int i = 0; i < C; i++) {
        float norm = (x[i] - mean) * rstd;
        float dnorm = w[i] * d[i];
        s1 += dnorm;
        s2 += dnorm * norm;
    }
    *dnorm_mean = s1 / (float)C;
    *dnorm_norm_mean = s2 / (float)C;
}

// The greatest of x[0 .. n-1]: in 16 lanes, then across them and the tail.
// A maximum is the same in any order, and lanes make the loop vectorise.
static inline float max_of(const float *x, int n) {
    enum { W = 16 };
    float lane[W];
    for (int j = 0; j < W; j++) lane[j] = -INFINITY;
    int nw = n - n % W;
    for (int i = 0; i < nw; i += W)
        for (int j = 0; j < W; j++) lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
    float m = -INFINITY;
    for (int j = 0; j < W; j++) m = lane[j] > m ? lane[j] : m;
    for (int i = nw; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

// The reductions and element-wise steps around the kernels, the same in
// every table (ops.h: zero, copy, mean, norm, clip).
static inline void floats_zero(float *x, size_t n) { memset(x, 0, sizeof *x * n); }
static inline void floats_copy(float *dst, const float *src, size_t n) { memcpy(dst, src, sizeof *dst * n); }
static inline void floats_mean(float *out, const float *x, size_t n) {
    double sum = 0.0;  // in a fixed order: the mean does not depend on threads
    for (size_t i = 0; i < n; i++) sum += x[i];
    out[0] = (float)(sum / (double)n);
}
static inline void floats_norm(float *out, const float *x, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)x[i] * x[i];
    out[0] = (float)sqrt(sum);
}
static inline void floats_clip(float *x, size_t n, const float *norm, float max_norm) {
    float coef = max_norm / (norm[0] + 1e-6f);
    if (max_norm > 0.0f && coef < 1.0f)
        for (size_t i = 0; i < n; i++) x[i] *= coef;
}

// One row of softmax, max-subtracted for stability.
static inline void softmax_row(float *probs, const float *logits, int V) {
    float maxval = max_of(logits, V);
    // the exponentials first (a loop that vectorises), then their sum in order
    for (int i = 0; i < V; i++) probs[i] = gg_expf_neg(logits[i] - maxval);
    float sum = 0.0f;
    for (int i = 0; i < V; i++) sum += probs[i];
    float inv = 1.0f / sum;
    for (int i = 0; i < V; i++) probs[i] *= inv;
}

#endif
