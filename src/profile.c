#include "profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// ---- the rows: one per kernel and (for matmul) shape ----

enum { MAX_ROWS = 64 };
static const gg_ops *inner;
static int enabled;
static gg_profile_row rows[MAX_ROWS];
static int n_rows;

static void record(const char *kernel, int r, int c, double seconds, double flops, double bytes) {
    if (!enabled) return;
    int i = 0;
    while (i < n_rows && !(rows[i].kernel == kernel && rows[i].rows == r && rows[i].cols == c)) i++;
    if (i == n_rows) {
        if (n_rows == MAX_ROWS) i = MAX_ROWS - 1;  // more shapes than rows: the last one collects them
        else rows[n_rows++] = (gg_profile_row){.kernel = kernel, .rows = r, .cols = c};
    }
    rows[i].calls++;
    rows[i].seconds += seconds;
    rows[i].flops += flops;
    rows[i].bytes += bytes;
}

// Calls inner's kernel and records its time with the work it did: flops,
// and bytes as 4 x the floats it reads and writes.
#define TIMED(kernel, r, c, flops, floats, args)                             \
    do {                                                                     \
        double t0_ = enabled ? now() : 0.0;                                  \
        inner->kernel args;                                                  \
        if (enabled) record(#kernel, r, c, now() - t0_, flops, 4.0 * (floats)); \
    } while (0)

// Sizes as doubles, so that no product overflows.
#define D(x) ((double)(x))

static void encoder_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                            int N, int T, int C) {
    TIMED(encoder_forward, 0, 0, D(N) * C, D(N) + 3 * D(N) * C,
          (out, tokens, wte, wpe, N, T, C));
}

static void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                             int N, int T, int C) {
    TIMED(encoder_backward, 0, 0, D(dwpe ? 2 : 1) * N * C, D(N) + D(dwpe ? 5 : 3) * N * C,
          (dwte, dwpe, dout, tokens, N, T, C));
}

static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                              const float *w, const float *b, int N, int C) {
    TIMED(layernorm_forward, 0, 0, 8 * D(N) * C, 2 * D(N) * C + 2 * D(C) + 2 * D(N),
          (out, mean, rstd, inp, w, b, N, C));
}

static void layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                               const float *inp, const float *w, const float *mean,
                               const float *rstd, int N, int C) {
    TIMED(layernorm_backward, 0, 0, 19 * D(N) * C, 4 * D(N) * C + 5 * D(C) + 2 * D(N),
          (dinp, dw, db, dout, inp, w, mean, rstd, N, C));
}

static void matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                           int N, int C, int OC) {
    TIMED(matmul_forward, C, OC, 2 * D(N) * C * OC,
          D(N) * C + D(C) * OC + D(N) * OC + (bias ? OC : 0), (out, inp, w, bias, N, C, OC));
}

static void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                            const float *inp, const float *w, int N, int C, int OC) {
    TIMED(matmul_backward, C, OC, 4 * D(N) * C * OC + (dbias ? D(N) * OC : 0),
          D(N) * OC + 3 * D(N) * C + 3 * D(C) * OC + (dbias ? 2 * D(OC) : 0),
          (dinp, dw, dbias, dout, inp, w, N, C, OC));
}

static void transpose(float *out, const float *inp, int R, int C) {
    TIMED(transpose, 0, 0, 0.0, 2 * D(R) * C, (out, inp, R, C));
}

static void transpose_backward(float *dinp, const float *dout, int R, int C) {
    TIMED(transpose_backward, 0, 0, D(R) * C, 3 * D(R) * C, (dinp, dout, R, C));
}

// Attention's work over the causal triangle: T (T + 1) / 2 pairs per head;
// per pair a dot product of hs and a weighted add of hs.
static double pairs(int B, int T, int NH) { return D(B) * NH * T * (T + 1) / 2; }

static void attention_forward(float *out, float *scores, float *att, const float *qkv, int B,
                              int T, int C, int NH) {
    TIMED(attention_forward, 0, 0, pairs(B, T, NH) * 4 * (C / NH),
          4 * D(B) * T * C + 2 * pairs(B, T, NH), (out, scores, att, qkv, B, T, C, NH));
}

static void attention_scores(float *scores, const float *qkv, int B, int T, int C, int NH) {
    TIMED(attention_scores, 0, 0, 2 * D(B) * T * T * C, 2 * D(B) * T * C + D(B) * NH * T * T,
          (scores, qkv, B, T, C, NH));
}

static void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                               int B, int T, int C, int NH) {
    TIMED(attention_backward, 0, 0, pairs(B, T, NH) * 8 * (C / NH),
          10 * D(B) * T * C + pairs(B, T, NH), (dqkv, dout, qkv, att, B, T, C, NH));
}

static void attention_decode(float *out, float *scores, float *att, const float *q,
                             const float *k, const float *v, int len, int C, int NH) {
    TIMED(attention_decode, 0, 0, 4 * D(len) * C, 2 * D(len) * C + 2 * D(C) + 2 * D(NH) * len,
          (out, scores, att, q, k, v, len, C, NH));
}

static void gelu_forward(float *out, const float *inp, int N) {
    TIMED(gelu_forward, 0, 0, 16 * D(N), 2 * D(N), (out, inp, N));
}

static void gelu_backward(float *dinp, const float *inp, const float *dout, int N) {
    TIMED(gelu_backward, 0, 0, 24 * D(N), 4 * D(N), (dinp, inp, dout, N));
}

static void residual_forward(float *out, const float *a, const float *b, int N) {
    TIMED(residual_forward, 0, 0, D(N), 3 * D(N), (out, a, b, N));
}

static void residual_backward(float *da, float *db, const float *dout, int N) {
    TIMED(residual_backward, 0, 0, 2 * D(N), 5 * D(N), (da, db, dout, N));
}

static void softmax_forward(float *probs, const float *logits, int N, int V) {
    TIMED(softmax_forward, 0, 0, 19 * D(N) * V, 2 * D(N) * V, (probs, logits, N, V));
}

static void crossentropy_forward(float *losses, const float *probs, const int *targets, int N,
                                 int V) {
    TIMED(crossentropy_forward, 0, 0, D(N), 3 * D(N), (losses, probs, targets, N, V));
}

static void crossentropy_softmax_backward(float *dlogits, const float *probs, const int *targets,
                                          float dloss, int N, int V) {
    TIMED(crossentropy_softmax_backward, 0, 0, 2 * D(N) * V, 2 * D(N) * V + D(N),
          (dlogits, probs, targets, dloss, N, V));
}

static void dropout(float *x, size_t n, uint64_t first, float p, uint64_t seed) {
    TIMED(dropout, 0, 0, D(n), 2 * D(n), (x, n, first, p, seed));
}

static void adamw_update(float *p, const float *g, float *m, float *v, size_t n, float decay,
                         float beta1, float beta2, float eps, float step_size, float bc2_sqrt) {
    TIMED(adamw_update, 0, 0, 14 * D(n), 7 * D(n),
          (p, g, m, v, n, decay, beta1, beta2, eps, step_size, bc2_sqrt));
}

static void zero(float *x, size_t n) { TIMED(zero, 0, 0, 0, D(n), (x, n)); }
static void copy(float *dst, const float *src, size_t n) { TIMED(copy, 0, 0, 0, 2 * D(n), (dst, src, n)); }
static void mean(float *out, const float *x, size_t n) { TIMED(mean, 0, 0, D(n), D(n) + 1, (out, x, n)); }
static void norm(float *out, const float *x, size_t n) { TIMED(norm, 0, 0, 2 * D(n), D(n) + 1, (out, x, n)); }
static void clip(float *x, size_t n, const float *nrm, float max_norm) {
    TIMED(clip, 0, 0, D(n), 2 * D(n) + 1, (x, n, nrm, max_norm));
}

static const gg_ops profile_ops = {
    .name = "profile",
    GG_OPS_KERNELS(GG_OPS_ENTRY)
};

const gg_ops *gg_profile_wrap(const gg_ops *ops) {
    if (ops == &profile_ops) ops = inner;  // wrapping the profile again: one level only
    inner = ops;
    enabled = 1;
    n_rows = 0;
    return &profile_ops;
}

void gg_profile_enable(int on) { enabled = on; }

static int slower_first(const void *a, const void *b) {
    double x = ((const gg_profile_row *)a)->seconds, y = ((const gg_profile_row *)b)->seconds;
    return (x < y) - (x > y);
}

int gg_profile_rows(gg_profile_row *out, int max) {
    int n = n_rows < max ? n_rows : max;
    gg_profile_row sorted[MAX_ROWS];
    memcpy(sorted, rows, sizeof *rows * (size_t)n_rows);
    qsort(sorted, (size_t)n_rows, sizeof *sorted, slower_first);
    memcpy(out, sorted, sizeof *out * (size_t)n);
    return n;
}

// ---- the peak ----

// CHAINS independent chains of W-wide vectors, enough to hide the latency
// of a multiply and an add in flight on every unit. (GCC's loop interchange
// would fold them into one chain, so it is off.)
enum { PEAK_W = 16, PEAK_CHAINS = 16 };

#if defined(__GNUC__) && !defined(__clang__)
#define NO_INTERCHANGE __attribute__((optimize("no-loop-interchange")))
#else
#define NO_INTERCHANGE
#endif

NO_INTERCHANGE static float peak_loop(int fused, long iters, const float *a, const float *b) {
    float acc[PEAK_CHAINS][PEAK_W];
    for (int c = 0; c < PEAK_CHAINS; c++)
        for (int i = 0; i < PEAK_W; i++) acc[c][i] = (float)c;
    if (fused)
        for (long k = 0; k < iters; k++)
            for (int c = 0; c < PEAK_CHAINS; c++)
                for (int i = 0; i < PEAK_W; i++) acc[c][i] = fmaf(acc[c][i], a[i], b[i]);
    else
        for (long k = 0; k < iters; k++)
            for (int c = 0; c < PEAK_CHAINS; c++)
                for (int i = 0; i < PEAK_W; i++) acc[c][i] = acc[c][i] * a[i] + b[i];
    float sum = 0.0f;
    for (int c = 0; c < PEAK_CHAINS; c++)
        for (int i = 0; i < PEAK_W; i++) sum += acc[c][i];
    return sum;
}

double gg_peak_gflops(int fused, double seconds) {
    float a[PEAK_W], b[PEAK_W];
    for (int i = 0; i < PEAK_W; i++) a[i] = 0.9999999f, b[i] = 1e-7f;
    volatile float sink;
    long iters = 1000;
    double best = 0.0, t_end = now() + seconds;
    do {  // the best of repeated runs, each long enough to time
        double t0 = now();
        sink = peak_loop(fused, iters, a, b);
        double t = now() - t0;
        if (t < 0.01) {
            iters *= 4;
            continue;
        }
        double rate = 2.0 * PEAK_W * PEAK_CHAINS * (double)iters / t / 1e9;
        if (rate > best) best = rate;
    } while (now() < t_end || best == 0.0);
    (void)sink;
    return best;
}

// ---- the report ----

void gg_profile_report(FILE *out, int steps, double seconds, int threads) {
    double fused = gg_peak_gflops(1, 0.2) * threads, apart = gg_peak_gflops(0, 0.2) * threads;
    gg_profile_row r[MAX_ROWS];
    int n = gg_profile_rows(r, MAX_ROWS);
    double kernels = 0.0, flops = 0.0;
    for (int i = 0; i < n; i++) kernels += r[i].seconds, flops += r[i].flops;
    if (steps < 1) steps = 1;
    fprintf(out, "profile: %d steps in %.2f s on %d thread%s; the peak of %d core%s: %.0f GFLOP/s "
            "with fused multiply-adds, %.0f with multiply and add apart (as glassgpt computes)\n",
            steps, seconds, threads, threads == 1 ? "" : "s", threads, threads == 1 ? "" : "s",
            fused, apart);
    fprintf(out, "%-30s %-9s %7s %9s %6s %8s %6s %7s\n", "kernel", "weight", "calls", "ms/step",
            "share", "GFLOP/s", "peak", "GB/s");
    for (int i = 0; i < n; i++) {
        char shape[32] = "";
        if (r[i].rows) snprintf(shape, sizeof shape, "%dx%d", r[i].rows, r[i].cols);
        double s = r[i].seconds > 0 ? r[i].seconds : 1e-12;
        fprintf(out, "%-30s %-9s %7ld %9.3f %5.1f%% %8.1f %5.1f%% %7.1f\n", r[i].kernel, shape,
                r[i].calls, 1e3 * r[i].seconds / steps, 100.0 * r[i].seconds / seconds,
                r[i].flops / s / 1e9, 100.0 * r[i].flops / s / 1e9 / apart, r[i].bytes / s / 1e9);
    }
    double rest = seconds - kernels;
    fprintf(out, "%-30s %-9s %7s %9.3f %5.1f%%\n", "outside the kernels", "", "",
            1e3 * rest / steps, 100.0 * rest / seconds);
    fprintf(out, "%-30s %-9s %7s %9.3f %5.1f%% %8.1f %5.1f%%\n", "the whole step", "", "",
            1e3 * seconds / steps, 100.0, flops / seconds / 1e9,
            100.0 * flops / seconds / 1e9 / apart);
    fprintf(out, "(outside the kernels: drawing the batch, zeroing buffers, the loss's mean and the "
            "gradient norm and clipping; peak: the share of the multiply-and-add peak)\n");
}
