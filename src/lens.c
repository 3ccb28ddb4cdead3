// The logit lens and the embedding map (lens.h).
#include "lens.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int gg_logit_lens(const gg_model *m, const float *x, int N, float *probs, gg_error *err) {
    const gg_config *c = &m->cfg;
    int C = c->d_model, V = c->vocab;
    if (N < 1) return gg_fail(err, GG_ERR_ARG, "the logit lens needs at least one row, not %d", N);
    float *ln = malloc(sizeof *ln * (size_t)N * C), *stats = malloc(sizeof *stats * 2 * (size_t)N);
    float *wte_t = malloc(sizeof *wte_t * (size_t)C * V), *logits = malloc(sizeof *logits * (size_t)N * V);
    int rc = GG_OK;
    if (!ln || !stats || !wte_t || !logits) {
        rc = gg_fail(err, GG_ERR_NOMEM, "out of memory for the logit lens of %d rows", N);
    } else {
        const gg_ops *ops = m->ops;
        ops->layernorm_forward(ln, stats, stats + N, x, m->params.lnfw, m->params.lnfb, N, C);
        ops->transpose(wte_t, m->params.wte, V, C);
        ops->matmul_forward(logits, ln, wte_t, NULL, N, C, V);
        ops->softmax_forward(probs, logits, N, V);
    }
    free(ln);
    free(stats);
    free(wte_t);
    free(logits);
    return rc;
}

// The eigenvalues (on the diagonal) and eigenvectors (the columns of vec) of
// the symmetric d x d matrix a, by cyclic Jacobi rotations: plain, exact to
// rounding, and the same on every machine.
static void jacobi(double *a, double *vec, int d) {
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) vec[i * d + j] = i == j;
    for (int sweep = 0; sweep < 64; sweep++) {
        double off = 0.0, all = 0.0;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                all += a[i * d + j] * a[i * d + j];
                if (i != j) off += a[i * d + j] * a[i * d + j];
            }
        if (off <= 1e-30 * all || off == 0.0) return;
        for (int p = 0; p < d - 1; p++)
            for (int q = p + 1; q < d; q++) {
                double apq = a[p * d + q];
                if (apq == 0.0) continue;
                double theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double cs = 1.0 / sqrt(t * t + 1.0), sn = t * cs;
                for (int k = 0; k < d; k++) {  // a = J^T a J, columns then rows
                    double akp = a[k * d + p], akq = a[k * d + q];
                    a[k * d + p] = cs * akp - sn * akq;
                    a[k * d + q] = sn * akp + cs * akq;
                }
                for (int k = 0; k < d; k++) {
                    double apk = a[p * d + k], aqk = a[q * d + k];
                    a[p * d + k] = cs * apk - sn * aqk;
                    a[q * d + k] = sn * apk + cs * aqk;
                }
                for (int k = 0; k < d; k++) {
                    double vkp = vec[k * d + p], vkq = vec[k * d + q];
                    vec[k * d + p] = cs * vkp - sn * vkq;
                    vec[k * d + q] = sn * vkp + cs * vkq;
                }
            }
    }
}

int gg_pca2(const float *X, int n, int d, float *coords, float *axes, double variance[3],
            gg_error *err) {
    if (n < 2 || d < 2)
        return gg_fail(err, GG_ERR_ARG, "a map needs at least 2 points in 2 dimensions, not %d in %d",
                       n, d);
    double *mean = calloc((size_t)d, sizeof *mean), *cov = calloc((size_t)d * d, sizeof *cov);
    double *vec = malloc(sizeof *vec * (size_t)d * d);
    if (!mean || !cov || !vec) {
        free(mean);
        free(cov);
        free(vec);
        return gg_fail(err, GG_ERR_NOMEM, "out of memory for a map of %d points", n);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mean[j] += X[(size_t)i * d + j];
    for (int j = 0; j < d; j++) mean[j] /= n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            double xj = X[(size_t)i * d + j] - mean[j];
            for (int k = 0; k <= j; k++) cov[j * d + k] += xj * (X[(size_t)i * d + k] - mean[k]);
        }
    double total = 0.0;
    for (int j = 0; j < d; j++) {
        for (int k = 0; k <= j; k++) cov[k * d + j] = cov[j * d + k] /= n - 1;
        total += cov[j * d + j];
    }
    jacobi(cov, vec, d);
    int first = -1, second = -1;  // the two largest eigenvalues, the lower index first on a tie
    for (int j = 0; j < d; j++) {
        double e = cov[j * d + j];
        if (first < 0 || e > cov[first * d + first]) {
            second = first;
            first = j;
        } else if (second < 0 || e > cov[second * d + second]) {
            second = j;
        }
    }
    int pick[2] = {first, second};
    for (int a = 0; a < 2; a++) {
        int big = 0;
        for (int j = 1; j < d; j++)
            if (fabs(vec[j * d + pick[a]]) > fabs(vec[big * d + pick[a]])) big = j;
        double sign = vec[big * d + pick[a]] < 0 ? -1.0 : 1.0;
        for (int j = 0; j < d; j++) axes[a * d + j] = (float)(sign * vec[j * d + pick[a]]);
        variance[a] = cov[pick[a] * d + pick[a]];
        for (int i = 0; i < n; i++) {
            double s = 0.0;
            for (int j = 0; j < d; j++) s += (X[(size_t)i * d + j] - mean[j]) * sign * vec[j * d + pick[a]];
            coords[(size_t)i * 2 + a] = (float)s;
        }
    }
    variance[2] = total;
    free(mean);
    free(cov);
    free(vec);
    return GG_OK;
}
