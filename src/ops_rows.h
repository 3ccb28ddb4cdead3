// Row kernels shared by both op tables, so that the reference and the
// optimised kernels, and a row computed alone or in a batch, agree exactly
// wherever the optimisation does not reorder the arithmetic.
#ifndef GLASSGPT_OPS_ROWS_H
#define GLASSGPT_OPS_ROWS_H

#include <math.h>

// One query row of one head: score[t2] = q . k[t2] * scale for every key
// t2 < n_keys (the scores before the causal mask), then att = softmax over
// the keys 0..t that the query may see (zero beyond), and out = att @ v.
// k and v advance by stride floats per position.
static inline void attention_row(float *out, float *score, float *att, const float *q,
                                 const float *k, const float *v, int stride, int t, int n_keys,
                                 int hs, float scale) {
    float maxval = -INFINITY;
    for (int t2 = 0; t2 < n_keys; t2++) {
        const float *kt = k + (size_t)t2 * stride;
        float dot = 0.0f;
        for (int i = 0; i < hs; i++) dot += q[i] * kt[i];
        score[t2] = dot * scale;
        if (t2 <= t && score[t2] > maxval) maxval = score[t2];
    }
    float sum = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        att[t2] = expf(score[t2] - maxval);
        sum += att[t2];
    }
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
static inline void attention_row_backward(float *dq, float *dk, float *dv, float *datt,
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

static inline float gelu(float x) {
    const float s = 0.7978845608028654f;  // sqrt(2 / pi)
    return 0.5f * x * (1.0f + tanhf(s * (x + 0.044715f * x * x * x)));
}

static inline float gelu_grad(float x) {
    const float s = 0.7978845608028654f;
    float u = s * (x + 0.044715f * x * x * x);
    float th = tanhf(u);
    float sech2 = 1.0f - th * th;
    return 0.5f * (1.0f + th) + 0.5f * x * sech2 * s * (1.0f + 3.0f * 0.044715f * x * x);
}

// One row of layer norm: out = (x - mean) * rstd * w + b.
static inline void layernorm_row(float *out, float *mean_out, float *rstd_out, const float *x,
                                 const float *w, const float *b, int C) {
    float m = 0.0f;
    for (int i = 0; i < C; i++) m += x[i];
    m /= (float)C;
    float var = 0.0f;
    for (int i = 0; i < C; i++) var += (x[i] - m) * (x[i] - m);
    var /= (float)C;
    float rstd = 1.0f / sqrtf(var + 1e-5f);
    for (int i = 0; i < C; i++) out[i] = (x[i] - m) * rstd * w[i] + b[i];
    if (mean_out) *mean_out = m;
    if (rstd_out) *rstd_out = rstd;
}

// One row of softmax, max-subtracted for stability.
static inline void softmax_row(float *probs, const float *logits, int V) {
    float maxval = -INFINITY;
    for (int i = 0; i < V; i++)
        if (logits[i] > maxval) maxval = logits[i];
    float sum = 0.0f;
    for (int i = 0; i < V; i++) {
        probs[i] = expf(logits[i] - maxval);
        sum += probs[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < V; i++) probs[i] *= inv;
}

#endif
