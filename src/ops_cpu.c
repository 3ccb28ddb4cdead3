// The optimised CPU kernels: the reference kernels' arithmetic, blocked for
// registers and cache and spread over threads with OpenMP (when the build
// has it). Every output element is owned by one thread and accumulated in a
// fixed order, so results never depend on the number of threads. Where a
// kernel keeps the reference's order (matmul forward and input gradient,
// attention, layer norm), it matches it bit for bit; the weight gradient,
// summed block by block for the cache's sake, matches it to rounding.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "ops_rows.h"

// Loops run in parallel when their work (roughly, multiply-adds) is worth
// waking the threads for: a single position in generation is not.
#ifdef _OPENMP
#include <omp.h>
#define PRAGMA(x) _Pragma(#x)
#define PARALLEL_FOR(work) PRAGMA(omp parallel for schedule(static) if (go_parallel(work)))
#define PARALLEL_FOR2(work) \
    PRAGMA(omp parallel for collapse(2) schedule(static) if (go_parallel(work)))
#else
#define PARALLEL_FOR(work)
#define PARALLEL_FOR2(work)
#endif

// Whether a loop's work is worth waking the threads for. The kernels that
// generation calls for a single position skip OpenMP altogether below it:
// even a region that runs on one thread costs more than their work.
static int worth_threads(size_t work) { return work >= 262144; }

// Loops that have run on more than one thread: a test that claims the
// thread count changes nothing checks that threads ran at all.
static long threaded_loops;
long gg_threaded_loops(void) { return threaded_loops; }

#ifdef _OPENMP
// The condition of every parallel loop, read by the thread that opens it.
static int go_parallel(size_t work) {
    int yes = worth_threads(work) && omp_get_max_threads() > 1;
    threaded_loops += yes;
    return yes;
}
#endif

int gg_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int gg_set_threads(int n) {
#ifdef _OPENMP
    omp_set_num_threads(n > 0 ? n : omp_get_num_procs());
    return omp_get_max_threads();
#else
    (void)n;
    return 1;
#endif
}

// A browser's WebAssembly has 16 vector registers of 4 floats, and its
// compiler keeps some for itself, so its tile is narrower: 4 x 8 is 8
// accumulators, 2 registers for a row of w and 1 for a broadcast input, and
// trains fastest of the shapes from 2 x 8 to 8 x 8. The order of every sum,
// and so every result, is the same whatever the tile.
#ifdef __wasm__
enum { TILE_N = 4, TILE_O = 8 };  // a tile: rows by columns of the output
#else
enum { TILE_N = 4, TILE_O = 64 };  // a tile: rows by columns of the output
#endif

static void encoder_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                            int N, int T, int C) {
    PARALLEL_FOR((size_t)N * C)
    for (int n = 0; n < N; n++) {
        const float *te = wte + (size_t)tokens[n] * C, *pe = wpe + (size_t)(n % T) * C;
        for (int i = 0; i < C; i++) out[(size_t)n * C + i] = te[i] + pe[i];
    }
}

// Each thread owns a band of columns and walks the rows in order.
static void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                             int N, int T, int C) {
    PARALLEL_FOR((size_t)N * C)
    for (int i = 0; i < C; i++)
        for (int n = 0; n < N; n++) {
            float d = dout[(size_t)n * C + i];
            dwte[(size_t)tokens[n] * C + i] += d;
            if (dwpe) dwpe[(size_t)(n % T) * C + i] += d;
        }
}

static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                              const float *w, const float *b, int N, int C) {
    if (!worth_threads((size_t)N * C * 4)) {
        for (int n = 0; n < N; n++)
            layernorm_row(out + (size_t)n * C, &mean[n], &rstd[n], inp + (size_t)n * C, w, b, C);
        return;
    }
    PARALLEL_FOR((size_t)N * C * 4)
    for (int n = 0; n < N; n++)
        layernorm_row(out + (size_t)n * C, &mean[n], &rstd[n], inp + (size_t)n * C, w, b, C);
}

static void layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                               const float *inp, const float *w, const float *mean,
                               const float *rstd, int N, int C) {
    PARALLEL_FOR((size_t)N * C * 4)
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * C, *x = inp + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (int i = 0; i < C; i++) {
            float norm = (x[i] - mean[n]) * rstd[n];
            float dnorm = w[i] * d[i];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean /= (float)C;
        dnorm_norm_mean /= (float)C;
        for (int i = 0; i < C; i++) {
            float norm = (x[i] - mean[n]) * rstd[n];
            dx[i] += (w[i] * d[i] - dnorm_mean - norm * dnorm_norm_mean) * rstd[n];
        }
    }
    PARALLEL_FOR((size_t)N * C * 4)
    for (int i = 0; i < C; i++)
        for (int n = 0; n < N; n++) {
            float d = dout[(size_t)n * C + i];
            db[i] += d;
            dw[i] += (inp[(size_t)n * C + i] - mean[n]) * rstd[n] * d;
        }
}

// out[n0.., o0..] for a tile of up to TILE_N rows and TILE_O columns:
// acc = bias (or 0), then acc += inp[n][i] * w[i][o] for i ascending, as in
// the reference; then out = acc, or out += acc when accumulating. Full
// tiles take the fixed-size path that vectorises.
static void matmul_tile(float *out, const float *inp, const float *w, const float *bias,
                        int C, int OC, int n0, int rows, int o0, int cols, int accumulate) {
    float acc[TILE_N][TILE_O];
    if (rows == TILE_N && cols == TILE_O) {
        for (int r = 0; r < TILE_N; r++)
            for (int j = 0; j < TILE_O; j++) acc[r][j] = bias ? bias[o0 + j] : 0.0f;
        for (int i = 0; i < C; i++) {
            const float *wr = w + (size_t)i * OC + o0;
            for (int r = 0; r < TILE_N; r++) {
                float a = inp[(size_t)(n0 + r) * C + i];
                for (int j = 0; j < TILE_O; j++) acc[r][j] += a * wr[j];
            }
        }
    } else {
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++) acc[r][j] = bias ? bias[o0 + j] : 0.0f;
        for (int i = 0; i < C; i++) {
            const float *wr = w + (size_t)i * OC + o0;
            for (int r = 0; r < rows; r++) {
                float a = inp[(size_t)(n0 + r) * C + i];
                for (int j = 0; j < cols; j++) acc[r][j] += a * wr[j];
            }
        }
    }
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)(n0 + r) * OC + o0;
        if (accumulate)
            for (int j = 0; j < cols; j++) o[j] += acc[r][j];
        else if (cols == TILE_O)  // a fixed size, copied inline rather than by a call
            memcpy(o, acc[r], sizeof acc[r]);
        else
            memcpy(o, acc[r], sizeof(float) * (size_t)cols);
    }
}

// out (N,OC) = (or +=) inp (N,C) @ w (C,OC) + bias, tile by tile.
static void matmul_tiles(float *out, const float *inp, const float *w, const float *bias, int N,
                         int C, int OC, int accumulate) {
    if (N < TILE_N && !accumulate) {
        // A row or two, as in generation: a band of TILE_O outputs at a time
        // stays in registers while w streams past. Each sum still runs over
        // i in order.
        for (int n = 0; n < N; n++)
            for (int o0 = 0; o0 < OC; o0 += TILE_O) {
                const float *x = inp + (size_t)n * C;
                float *o = out + (size_t)n * OC + o0;
                if (OC - o0 >= TILE_O) {
                    float acc[TILE_O];
                    for (int j = 0; j < TILE_O; j++) acc[j] = bias ? bias[o0 + j] : 0.0f;
                    for (int i = 0; i < C; i++) {
                        const float *wr = w + (size_t)i * OC + o0;
                        for (int j = 0; j < TILE_O; j++) acc[j] += x[i] * wr[j];
                    }
                    memcpy(o, acc, sizeof acc);
                } else {
                    matmul_tile(out, inp, w, bias, C, OC, n, 1, o0, OC - o0, 0);
                }
            }
        return;
    }
    int tiles_n = (N + TILE_N - 1) / TILE_N, tiles_o = (OC + TILE_O - 1) / TILE_O;
    PARALLEL_FOR2((size_t)N * C * OC)
    for (int tn = 0; tn < tiles_n; tn++)
        for (int to = 0; to < tiles_o; to++) {
            int n0 = tn * TILE_N, o0 = to * TILE_O;
            matmul_tile(out, inp, w, bias, C, OC, n0, N - n0 < TILE_N ? N - n0 : TILE_N, o0,
                        OC - o0 < TILE_O ? OC - o0 : TILE_O, accumulate);
        }
}

// A growing scratch buffer per thread, for transposed weights. NULL when
// memory is short; the callers then take a slower path that needs none.
static float *scratch(size_t n) {
    static _Thread_local float *buf;
    static _Thread_local size_t cap;
    if (n > cap) {
        float *b = realloc(buf, sizeof *b * n);
        if (!b) return NULL;
        buf = b;
        cap = n;
    }
    return buf;
}

static void matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                           int N, int C, int OC) {
    matmul_tiles(out, inp, w, bias, N, C, OC, 0);
}

enum { BLOCK_N = 128 };  // rows of dout kept in cache while dw is accumulated

static void transpose(float *out, const float *inp, int R, int C);

static void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                            const float *inp, const float *w, int N, int C, int OC) {
    // dinp (N,C) += dout (N,OC) @ w^T: a forward product with the weight
    // transposed, so each sum runs over o in order, as in the reference.
    float *wt = scratch((size_t)C * OC);
    if (wt) {
        transpose(wt, w, C, OC);
        matmul_tiles(dinp, dout, wt, NULL, N, OC, C, 1);
    } else {
        PARALLEL_FOR((size_t)N * C * OC)
        for (int n = 0; n < N; n++)
            for (int i = 0; i < C; i++) {
                float acc = 0.0f;
                for (int o = 0; o < OC; o++) acc += dout[(size_t)n * OC + o] * w[(size_t)i * OC + o];
                dinp[(size_t)n * C + i] += acc;
            }
    }
    // dw (C,OC) += inp^T @ dout, BLOCK_N rows at a time so that the block of
    // dout stays in cache across all of dw; each thread owns tiles of dw.
    int tiles_c = (C + TILE_N - 1) / TILE_N, tiles_o = (OC + TILE_O - 1) / TILE_O;
    for (int nb = 0; nb < N; nb += BLOCK_N) {
        int n_end = N - nb < BLOCK_N ? N : nb + BLOCK_N;
        PARALLEL_FOR2((size_t)(n_end - nb) * C * OC)
        for (int tc = 0; tc < tiles_c; tc++)
            for (int to = 0; to < tiles_o; to++) {
                int i0 = tc * TILE_N, o0 = to * TILE_O;
                int rows = C - i0 < TILE_N ? C - i0 : TILE_N, cols = OC - o0 < TILE_O ? OC - o0 : TILE_O;
                float acc[TILE_N][TILE_O] = {{0}};
                if (rows == TILE_N && cols == TILE_O) {  // fixed bounds: acc stays in registers
                    for (int n = nb; n < n_end; n++) {
                        const float *d = dout + (size_t)n * OC + o0;
                        for (int r = 0; r < TILE_N; r++) {
                            float a = inp[(size_t)n * C + i0 + r];
                            for (int j = 0; j < TILE_O; j++) acc[r][j] += a * d[j];
                        }
                    }
                } else {
                    for (int n = nb; n < n_end; n++) {
                        const float *d = dout + (size_t)n * OC + o0;
                        for (int r = 0; r < rows; r++) {
                            float a = inp[(size_t)n * C + i0 + r];
                            for (int j = 0; j < cols; j++) acc[r][j] += a * d[j];
                        }
                    }
                }
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < cols; j++) dw[(size_t)(i0 + r) * OC + o0 + j] += acc[r][j];
            }
    }
    if (dbias) {
        PARALLEL_FOR((size_t)N * C * OC)
        for (int to = 0; to < tiles_o; to++) {
            int o0 = to * TILE_O, cols = OC - o0 < TILE_O ? OC - o0 : TILE_O;
            float acc[TILE_O] = {0};
            for (int n = 0; n < N; n++)
                for (int j = 0; j < cols; j++) acc[j] += dout[(size_t)n * OC + o0 + j];
            for (int j = 0; j < cols; j++) dbias[o0 + j] += acc[j];
        }
    }
}

static void transpose(float *out, const float *inp, int R, int C) {
    PARALLEL_FOR((size_t)R * C)
    for (int c = 0; c < C; c++)
        for (int r = 0; r < R; r++) out[(size_t)c * R + r] = inp[(size_t)r * C + c];
}

static void transpose_backward(float *dinp, const float *dout, int R, int C) {
    PARALLEL_FOR((size_t)R * C)
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) dinp[(size_t)r * C + c] += dout[(size_t)c * R + r];
}

// The body of attention_forward, inlined for each head size it is called
// with: a constant hs lets the loops over a head unroll into whole vectors.
GG_ALWAYS_INLINE void
attention_forward_hs(float *out, float *scores, float *att, const float *qkv, int B, int T, int C,
                     int NH, int hs) {
    float scale = 1.0f / sqrtf((float)hs);
    PARALLEL_FOR2((size_t)B * T * T * C)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                const float *base = qkv + (size_t)b * T * 3 * C;
                size_t row = (((size_t)b * NH + h) * T + t) * T;
                attention_row(out + ((size_t)b * T + t) * C + h * hs, scores + row, att + row,
                              base + (size_t)t * 3 * C + h * hs, base + C + h * hs,
                              base + 2 * C + h * hs, 3 * C, t, T, hs, scale);
            }
}

static void attention_forward(float *out, float *scores, float *att, const float *qkv,
                              int B, int T, int C, int NH) {
    switch (C / NH) {
    case 8: attention_forward_hs(out, scores, att, qkv, B, T, C, NH, 8); break;
    case 16: attention_forward_hs(out, scores, att, qkv, B, T, C, NH, 16); break;
    default: attention_forward_hs(out, scores, att, qkv, B, T, C, NH, C / NH); break;
    }
}

static void attention_scores(float *scores, const float *qkv, int B, int T, int C, int NH) {
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    PARALLEL_FOR2((size_t)B * T * T * C)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const float *base = qkv + (size_t)b * T * 3 * C;
                score_row(scores + (((size_t)b * NH + h) * T + t) * T, base + (size_t)t * 3 * C + h * hs,
                          base + C + h * hs, 3 * C, T, hs, scale);
            }
}

// A (batch, head) owns its slice of dqkv; queries run in order within it.
// Inlined for each head size, as the forward pass is.
GG_ALWAYS_INLINE void
attention_backward_hs(float *dqkv, const float *dout, const float *qkv, const float *att, int B,
                      int T, int C, int NH, int hs) {
    float scale = 1.0f / sqrtf((float)hs);
    PARALLEL_FOR2((size_t)B * T * T * C * 2)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            float datt[GG_MAX_CTX];
            const float *base = qkv + (size_t)b * T * 3 * C;
            float *dbase = dqkv + (size_t)b * T * 3 * C;
            for (int t = 0; t < T; t++) {
                size_t row = (((size_t)b * NH + h) * T + t) * T;
                attention_row_backward(dbase + (size_t)t * 3 * C + h * hs, dbase + C + h * hs,
                                       dbase + 2 * C + h * hs, datt,
                                       dout + ((size_t)b * T + t) * C + h * hs,
                                       base + (size_t)t * 3 * C + h * hs, base + C + h * hs,
                                       base + 2 * C + h * hs, att + row, 3 * C, t, hs, scale);
            }
        }
}

static void attention_backward(float *dqkv, const float *dout, const float *qkv,
                               const float *att, int B, int T, int C, int NH) {
    switch (C / NH) {
    case 8: attention_backward_hs(dqkv, dout, qkv, att, B, T, C, NH, 8); break;
    case 16: attention_backward_hs(dqkv, dout, qkv, att, B, T, C, NH, 16); break;
    default: attention_backward_hs(dqkv, dout, qkv, att, B, T, C, NH, C / NH); break;
    }
}

static void gelu_forward(float *out, const float *inp, int N) {
    if (!worth_threads((size_t)N * 16)) {
        for (int i = 0; i < N; i++) out[i] = gelu(inp[i]);
        return;
    }
    PARALLEL_FOR((size_t)N * 16)
    for (int i = 0; i < N; i++) out[i] = gelu(inp[i]);
}

static void gelu_backward(float *dinp, const float *inp, const float *dout, int N) {
    PARALLEL_FOR((size_t)N * 16)
    for (int i = 0; i < N; i++) dinp[i] += gelu_grad(inp[i]) * dout[i];
}

static void residual_forward(float *out, const float *a, const float *b, int N) {
    if (!worth_threads((size_t)N)) {
        for (int i = 0; i < N; i++) out[i] = a[i] + b[i];
        return;
    }
    PARALLEL_FOR((size_t)N)
    for (int i = 0; i < N; i++) out[i] = a[i] + b[i];
}

static void residual_backward(float *da, float *db, const float *dout, int N) {
    PARALLEL_FOR((size_t)N)
    for (int i = 0; i < N; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

static void softmax_forward(float *probs, const float *logits, int N, int V) {
    PARALLEL_FOR((size_t)N * V * 8)
    for (int n = 0; n < N; n++) softmax_row(probs + (size_t)n * V, logits + (size_t)n * V, V);
}

static void crossentropy_forward(float *losses, const float *probs, const int *targets,
                                 int N, int V) {
    for (int n = 0; n < N; n++) losses[n] = -logf(probs[(size_t)n * V + targets[n]]);
}

static void crossentropy_softmax_backward(float *dlogits, const float *probs, const int *targets,
                                          float dloss, int N, int V) {
    PARALLEL_FOR((size_t)N * V)
    for (int n = 0; n < N; n++)
        for (int i = 0; i < V; i++) {
            float p = probs[(size_t)n * V + i];
            dlogits[(size_t)n * V + i] += (p - (i == targets[n] ? 1.0f : 0.0f)) * dloss;
        }
}

static void adamw_update(float *p, const float *g, float *m, float *v, size_t n, float decay,
                         float beta1, float beta2, float eps, float step_size, float bc2_sqrt) {
    PARALLEL_FOR(n * 8)
    for (size_t i = 0; i < n; i++)
        adamw_one(&p[i], g[i], &m[i], &v[i], decay, beta1, beta2, eps, step_size, bc2_sqrt);
}

const gg_ops gg_ops_cpu = {
    .name = "cpu",
    .encoder_forward = encoder_forward,
    .encoder_backward = encoder_backward,
    .layernorm_forward = layernorm_forward,
    .layernorm_backward = layernorm_backward,
    .matmul_forward = matmul_forward,
    .matmul_backward = matmul_backward,
    .transpose = transpose,
    .transpose_backward = transpose_backward,
    .attention_forward = attention_forward,
    .attention_scores = attention_scores,
    .attention_backward = attention_backward,
    .attention_decode = attention_decode_heads,
    .gelu_forward = gelu_forward,
    .gelu_backward = gelu_backward,
    .residual_forward = residual_forward,
    .residual_backward = residual_backward,
    .softmax_forward = softmax_forward,
    .crossentropy_forward = crossentropy_forward,
    .crossentropy_softmax_backward = crossentropy_softmax_backward,
    .adamw_update = adamw_update,
};
