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

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "detmath.h"
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
// and so every result, is the same whatever the tile. ROW_VECS: the band of
// sums a single row keeps in registers, in vectors of LANES (below).
#ifdef __wasm__
enum { TILE_N = 4, TILE_O = 8, ROW_VECS = 2 };
#else
enum { TILE_N = 4, TILE_O = 64, ROW_VECS = 8 };
#endif

// Growing scratch buffers per thread, for transposed weights and blocks:
// slot 0 for the kernels, slot 1 for the products they call (a weight
// transposed in slot 0 is multiplied by blocks transposed in slot 1).
// NULL when memory is short; the callers then take a slower path that needs
// none.
static float *scratch_slot(int slot, size_t n) {
    static _Thread_local float *buf[2];
    static _Thread_local size_t cap[2];
    if (n > cap[slot]) {
        float *b = realloc(buf[slot], sizeof *b * n);
        if (!b) return NULL;
        buf[slot] = b;
        cap[slot] = n;
    }
    return buf[slot];
}
static float *scratch(size_t n) { return scratch_slot(0, n); }

// LANES floats in registers: GCC's and clang's vector extension, whose
// arithmetic is the scalar arithmetic lane by lane (WebAssembly's 128-bit
// vectors take four registers for one; 4 or 8 lanes there trained no faster
// in Node). vf_get and vf_put move the first n floats and leave the rest zero
// (or untouched). (They take pointers: a vector passed by value has an ABI
// that depends on the build's flags.)
enum { LANES = 16 };
typedef float vf __attribute__((vector_size(LANES * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(LANES * sizeof(int32_t))));
// a in the lanes of mask (a comparison's all-ones lanes), b in the others
#define SELECT(mask, a, b) ((vf)(((vi)(a) & (mask)) | ((vi)(b) & ~(mask))))
#ifdef __AVX512F__
// A part of a vector through memory (a zeroed vector, then n floats over it)
// stalls: the whole vector is read back before the narrow store can be
// forwarded. A masked load or store moves only the first n floats.
GG_ALWAYS_INLINE __mmask16 first_lanes(int n) { return (__mmask16)((1u << n) - 1); }
#endif
GG_ALWAYS_INLINE void vf_get(vf *v, const float *p, int n) {
#ifdef __AVX512F__
    if (n < LANES) {
        *v = (vf)_mm512_maskz_loadu_ps(first_lanes(n), p);
        return;
    }
#endif
    *v = (vf){0};
    memcpy(v, p, sizeof(float) * (size_t)n);
}
GG_ALWAYS_INLINE void vf_put(float *p, const vf *v, int n) {
#ifdef __AVX512F__
    if (n < LANES) {
        _mm512_mask_storeu_ps(p, first_lanes(n), (__m512)*v);
        return;
    }
#endif
    memcpy(p, v, sizeof(float) * (size_t)n);
}

// v[0 .. LANES) transposed in registers: four rounds that each zip vector k
// with vector k + 8. A round moves an element's (row, column), 4 bits each,
// one bit to the left as one 8-bit index, so four make (column, row).
#define ZIP_LO(a, b) \
    __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define ZIP_HI(a, b) \
    __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
_Static_assert(LANES == 16, "the zips below transpose 16 lanes");
GG_ALWAYS_INLINE void transpose_lanes(vf v[LANES]) {
    for (int round = 0; round < 4; round++) {
        vf t[LANES];
        for (int k = 0; k < LANES / 2; k++) {
            t[2 * k] = ZIP_LO(v[k], v[k + LANES / 2]);
            t[2 * k + 1] = ZIP_HI(v[k], v[k + LANES / 2]);
        }
        memcpy(v, t, sizeof t);
    }
}

// In WebAssembly a transposition in registers is its 64 shuffles on four
// 128-bit vectors each: it trained no faster in Node, and its copies, one
// where each transposition is inlined, made the browser's engine 27 KB
// larger. The browser's build moves the floats one by one.
#ifdef __wasm__
enum { TRANSPOSE_IN_REGISTERS = 0 };
#else
enum { TRANSPOSE_IN_REGISTERS = 1 };
#endif

// vf v[LANES] = rows x[0 .. nr - 1] (stride apart; the lanes of the rest
// zero), the first n floats of each, transposed: v[i] holds element i of
// every row, a row in each lane (v[n ..] zero); lanes_from_rows takes all
// LANES rows; and back, the first n floats of each row.
GG_ALWAYS_INLINE void lanes_from_first_rows(vf v[LANES], const float *x, size_t stride, int nr,
                                            int n) {
    for (int r = 0; r < LANES; r++) {
        if (r < nr) vf_get(&v[r], x + r * stride, n);
        else v[r] = (vf){0};
    }
    transpose_lanes(v);
}
GG_ALWAYS_INLINE void lanes_from_rows(vf v[LANES], const float *x, size_t stride, int n) {
    lanes_from_first_rows(v, x, stride, LANES, n);
}
GG_ALWAYS_INLINE void lanes_to_rows(float *x, size_t stride, vf v[LANES], int n) {
    transpose_lanes(v);
    for (int r = 0; r < LANES; r++) vf_put(x + r * stride, &v[r], n);
}

// dst[j * dst_stride + r] = src[r * src_stride + j] for r, j < LANES
GG_ALWAYS_INLINE void transpose_block(float *dst, size_t dst_stride, const float *src,
                                      size_t src_stride) {
    vf v[LANES];
    lanes_from_rows(v, src, src_stride, LANES);
    for (int j = 0; j < LANES; j++) vf_put(dst + j * dst_stride, &v[j], LANES);
}

// xt (C, LANES) = rows x[0 .. LANES-1] (C apart) transposed, so that the
// rows' sums along C run side by side, a row in each lane: LANES columns
// at a time in registers, then one by one.
static void rows_to_lanes(float *xt, const float *x, int C) {
    int i = 0;
    if (TRANSPOSE_IN_REGISTERS)
        for (; i + LANES <= C; i += LANES)
            transpose_block(xt + (size_t)i * LANES, LANES, x + i, (size_t)C);
    for (; i < C; i++)
        for (int r = 0; r < LANES; r++) xt[(size_t)i * LANES + r] = x[(size_t)r * C + i];
}

static void encoder_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                            int N, int T, int C) {
    PARALLEL_FOR((size_t)N * C)
    for (int n = 0; n < N; n++) {
        const float *te = wte + (size_t)tokens[n] * C, *pe = wpe + (size_t)(n % T) * C;
        for (int i = 0; i < C; i++) out[(size_t)n * C + i] = te[i] + pe[i];
    }
}

// Each thread owns a band of columns and walks the rows in order. On one
// thread, the rows go by whole, each added at once: every element still
// sums its rows in order, and dout is read once, not once a column.
static void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                             int N, int T, int C) {
    if (gg_threads() < 2 || !worth_threads((size_t)N * C)) {
        for (int n = 0; n < N; n++) {
            const float *d = dout + (size_t)n * C;
            float *te = dwte + (size_t)tokens[n] * C;
            for (int i = 0; i < C; i++) te[i] += d[i];
            if (!dwpe) continue;
            float *pe = dwpe + (size_t)(n % T) * C;
            for (int i = 0; i < C; i++) pe[i] += d[i];
        }
        return;
    }
    PARALLEL_FOR((size_t)N * C)
    for (int i = 0; i < C; i++)
        for (int n = 0; n < N; n++) {
            float d = dout[(size_t)n * C + i];
            dwte[(size_t)tokens[n] * C + i] += d;
            if (dwpe) dwpe[(size_t)(n % T) * C + i] += d;
        }
}

// Layer norm of LANES rows from n0, their mean and variance summed side by
// side in lanes (row_moments' sums, each in its row's order), then
// layernorm_row's arithmetic row by row. xt is scratch of C x LANES.
static void layernorm_block(float *out, float *mean, float *rstd, const float *inp,
                            const float *w, const float *b, int n0, int C, float *xt) {
    rows_to_lanes(xt, inp + (size_t)n0 * C, C);
    vf m = {0}, v = {0}, x;
    for (int i = 0; i < C; i++) {
        vf_get(&x, xt + (size_t)i * LANES, LANES);
        m += x;
    }
    m /= (float)C;
    for (int i = 0; i < C; i++) {
        vf_get(&x, xt + (size_t)i * LANES, LANES);
        v += (x - m) * (x - m);
    }
    v /= (float)C;
    for (int r = 0; r < LANES; r++) {
        float mr = m[r], rs = 1.0f / sqrtf(v[r] + 1e-5f);
        const float *xr = inp + (size_t)(n0 + r) * C;
        float *o = out + (size_t)(n0 + r) * C;
        for (int i = 0; i < C; i++) o[i] = (xr[i] - mr) * rs * w[i] + b[i];
        mean[n0 + r] = mr;
        rstd[n0 + r] = rs;
    }
}

// A layer norm's work per element, counted as a matmul's multiply-adds are
// for worth_threads: its transpositions and two passes cost about as much as
// 32 of them, so that a batch of (a)'s 1024 rows of 8 is worth the threads.
enum { LAYERNORM_WORK = 32 };

static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                              const float *w, const float *b, int N, int C) {
    if (N < LANES) {  // a position or a few, as in generation: no block, no threads
        for (int n = 0; n < N; n++)
            layernorm_row(out + (size_t)n * C, &mean[n], &rstd[n], inp + (size_t)n * C, w, b, C);
        return;
    }
    int blocks = N / LANES;
    PARALLEL_FOR((size_t)N * C * LAYERNORM_WORK)
    for (int k = 0; k < blocks + N % LANES; k++) {
        float *xt = k < blocks ? scratch((size_t)C * LANES) : NULL;
        if (xt) {
            layernorm_block(out, mean, rstd, inp, w, b, k * LANES, C, xt);
        } else if (k < blocks) {  // no scratch: the block's rows one by one
            for (int n = k * LANES; n < (k + 1) * LANES; n++)
                layernorm_row(out + (size_t)n * C, &mean[n], &rstd[n], inp + (size_t)n * C, w, b, C);
        } else {  // the rows past the last whole block
            int n = blocks * LANES + (k - blocks);
            layernorm_row(out + (size_t)n * C, &mean[n], &rstd[n], inp + (size_t)n * C, w, b, C);
        }
    }
}

static void layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                               const float *inp, const float *w, const float *mean,
                               const float *rstd, int N, int C) {
    // dx, in blocks of LANES rows whose two sums along C run side by side in
    // lanes (with no scratch, or past the last whole block, a row at a time)
    int blocks = N / LANES;
    PARALLEL_FOR((size_t)N * C * LAYERNORM_WORK)
    for (int k = 0; k < blocks + N % LANES; k++) {
        int n0 = k < blocks ? k * LANES : blocks * LANES + (k - blocks);
        int rows = k < blocks ? LANES : 1;
        float *xt = k < blocks ? scratch((size_t)2 * C * LANES) : NULL;
        float dnorm_mean[LANES], dnorm_norm_mean[LANES];
        if (xt) {
            float *dt = xt + (size_t)C * LANES;
            rows_to_lanes(xt, inp + (size_t)n0 * C, C);
            rows_to_lanes(dt, dout + (size_t)n0 * C, C);
            vf mn, rs, x, d, s1 = {0}, s2 = {0};
            vf_get(&mn, mean + n0, LANES);
            vf_get(&rs, rstd + n0, LANES);
            for (int i = 0; i < C; i++) {
                vf_get(&x, xt + (size_t)i * LANES, LANES);
                vf_get(&d, dt + (size_t)i * LANES, LANES);
                vf norm = (x - mn) * rs, dnorm = w[i] * d;
                s1 += dnorm;
                s2 += dnorm * norm;
            }
            s1 /= (float)C;
            s2 /= (float)C;
            vf_put(dnorm_mean, &s1, LANES);
            vf_put(dnorm_norm_mean, &s2, LANES);
        } else {
            for (int r = 0, n = n0; r < rows; r++, n++)
                layernorm_backward_means(&dnorm_mean[r], &dnorm_norm_mean[r], dout + (size_t)n * C,
                                         inp + (size_t)n * C, w, mean[n], rstd[n], C);
        }
        for (int r = 0; r < rows; r++) {
            int n = n0 + r;
            const float *d = dout + (size_t)n * C, *x = inp + (size_t)n * C;
            float *dx = dinp + (size_t)n * C;
            for (int i = 0; i < C; i++) {
                float norm = (x[i] - mean[n]) * rstd[n];
                dx[i] += (w[i] * d[i] - dnorm_mean[r] - norm * dnorm_norm_mean[r]) * rstd[n];
            }
        }
    }
    // dw and db: each thread owns bands of BAND columns and walks the rows in
    // order, the columns of a band in vector lanes
    enum { BAND = 16 };
    int bands = (C + BAND - 1) / BAND;
    PARALLEL_FOR((size_t)N * C * 4)
    for (int band = 0; band < bands; band++) {
        int i0 = band * BAND, w = C - i0 < BAND ? C - i0 : BAND;
        float sw[BAND], sb[BAND];
        memcpy(sw, dw + i0, sizeof(float) * (size_t)w);
        memcpy(sb, db + i0, sizeof(float) * (size_t)w);
        for (int n = 0; n < N; n++) {
            const float *d = dout + (size_t)n * C + i0, *x = inp + (size_t)n * C + i0;
            float mn = mean[n], rs = rstd[n];
            if (w == BAND)  // a constant bound: the lanes fill a vector
                for (int j = 0; j < BAND; j++) {
                    sb[j] += d[j];
                    sw[j] += (x[j] - mn) * rs * d[j];
                }
            else
                for (int j = 0; j < w; j++) {
                    sb[j] += d[j];
                    sw[j] += (x[j] - mn) * rs * d[j];
                }
        }
        memcpy(dw + i0, sw, sizeof(float) * (size_t)w);
        memcpy(db + i0, sb, sizeof(float) * (size_t)w);
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

// o[o0 .. o0 + nv LANES) of one row = x @ w + bias, nv a constant (inlined)
// of at most ROW_VECS: its sums in nv vector registers while w streams past. The
// band's rows of w are a row of w apart, too far for the hardware's
// prefetcher to follow, so each is asked for AHEAD_ROWS rows ahead (a token
// of `base` reads its weights from L3; 1.05x to 1.09x).
enum { AHEAD_ROWS = 8 };
GG_ALWAYS_INLINE void matmul_row_band(float *o, const float *x, const float *w, const float *bias,
                                      int C, int OC, int o0, int nv) {
    vf acc[ROW_VECS], wv;
    for (int k = 0; k < nv; k++) {
        if (bias) vf_get(&acc[k], bias + o0 + k * LANES, LANES);
        else acc[k] = (vf){0};
    }
    for (int i = 0; i < C; i++) {
        const float *wr = w + (size_t)i * OC + o0;
        float xi = x[i];
        if (i + AHEAD_ROWS < C)
            for (int k = 0; k < nv; k++) __builtin_prefetch(wr + (size_t)AHEAD_ROWS * OC + k * LANES);
        for (int k = 0; k < nv; k++) {
            vf_get(&wv, wr + k * LANES, LANES);
            acc[k] += xi * wv;
        }
    }
    for (int k = 0; k < nv; k++) vf_put(o + o0 + k * LANES, &acc[k], LANES);
}

// Vectors v0 .. v1 of one row's outputs, in bands of ROW_VECS vectors, then
// of 4, 2 and 1.
static void matmul_row_vecs(float *o, const float *x, const float *w, const float *bias, int C,
                            int OC, int v0, int v1) {
    int v = v0;
    for (; v + ROW_VECS <= v1; v += ROW_VECS)
        matmul_row_band(o, x, w, bias, C, OC, v * LANES, ROW_VECS);
    if (ROW_VECS > 4 && v + 4 <= v1) {
        matmul_row_band(o, x, w, bias, C, OC, v * LANES, 4);
        v += 4;
    }
    if (ROW_VECS > 2 && v + 2 <= v1) {
        matmul_row_band(o, x, w, bias, C, OC, v * LANES, 2);
        v += 2;
    }
    for (; v < v1; v++) matmul_row_band(o, x, w, bias, C, OC, v * LANES, 1);
}

// acc[j], j < nj, holds column o0 + j of LANES rows from n0, a row in each
// lane: into out's rows (or added to them), moved back by a transposition
// in registers where there is one, else a float at a time. (A float at a
// time, (a)'s narrow products took 1.3x to 1.6x as long forward: 8 x 24
// over 1024 rows, 13.5 against 9 us on two threads.)
GG_ALWAYS_INLINE void lanes_out(float *out, int OC, int n0, int o0, const vf *acc, int nj,
                                int accumulate) {
    if (TRANSPOSE_IN_REGISTERS) {
        // the rows added to are all read before any is written: rows
        // narrower than a vector lie within a vector's reach of each other,
        // and a read that overlaps a pending narrow write waits for it
        vf v[LANES], cur[LANES];
        float *o = out + (size_t)n0 * OC + o0;
        if (accumulate)
            for (int r = 0; r < LANES; r++) vf_get(&cur[r], o + (size_t)r * OC, nj);
        for (int j = 0; j < LANES; j++) v[j] = j < nj ? acc[j] : (vf){0};
        transpose_lanes(v);
        for (int r = 0; r < LANES; r++) {
            if (accumulate) v[r] = cur[r] + v[r];
            vf_put(o + (size_t)r * OC, &v[r], nj);
        }
        return;
    }
    for (int j = 0; j < nj; j++)
        for (int r = 0; r < LANES; r++) {
            float *o = out + (size_t)(n0 + r) * OC + o0 + j;
            *o = accumulate ? *o + acc[j][r] : acc[j][r];
        }
}

// A product with few outputs per row (OC under TILE_O), for LANES rows from
// n0, their inputs transposed into xt (C x LANES) so that the rows run in
// vector lanes: acc[j] holds column o0 + j of every row, and each takes
// its sum over i in order, as in the reference. nj, the columns at once, is
// a constant (inlined) of at most LANE_COLS.
enum { LANE_COLS = 8 };
GG_ALWAYS_INLINE void matmul_lanes(float *out, const float *xt, const float *w, const float *bias,
                                   int C, int OC, int n0, int o0, int nj, int accumulate) {
    vf acc[LANE_COLS], x;
    for (int j = 0; j < nj; j++) acc[j] = (vf){0} + (bias ? bias[o0 + j] : 0.0f);
    for (int i = 0; i < C; i++) {
        vf_get(&x, xt + (size_t)i * LANES, LANES);
        const float *wr = w + (size_t)i * OC + o0;
        for (int j = 0; j < nj; j++) acc[j] += x * wr[j];
    }
    lanes_out(out, OC, n0, o0, acc, nj, accumulate);
}

// acc[j] += x[i] * w[i0 + i][j] for i < ni and j < nj: inputs i0 .. of
// LANES rows, a row in each lane of x[i].
GG_ALWAYS_INLINE void lanes_madd(vf *acc, const vf *x, const float *w, int OC, int i0, int ni,
                                 int nj) {
    for (int i = 0; i < ni; i++) {
        const float *wr = w + (size_t)(i0 + i) * OC;
        for (int j = 0; j < nj; j++) acc[j] += x[i] * wr[j];
    }
}

// matmul_lanes for at most LANE_COLS columns, all of them in one pass, so
// that the rows move into lanes in registers, LANES of their C inputs at a
// time, and never through scratch: the head's gradient, 1024 rows of 768
// going to 8 columns in (a), spent as long storing and loading its rows'
// transposition as multiplying. nj a constant (inlined).
GG_ALWAYS_INLINE void matmul_lanes_direct(float *out, const float *inp, const float *w,
                                          const float *bias, int C, int OC, int n0, int nj,
                                          int accumulate) {
    vf acc[LANE_COLS], x[LANES];
    for (int j = 0; j < nj; j++) acc[j] = (vf){0} + (bias ? bias[j] : 0.0f);
    int i0 = 0;
    for (; i0 + LANES <= C; i0 += LANES) {  // whole blocks: x stays in registers
        lanes_from_rows(x, inp + (size_t)n0 * C + i0, (size_t)C, LANES);
        lanes_madd(acc, x, w, OC, i0, LANES, nj);
    }
    if (i0 < C) {
        lanes_from_rows(x, inp + (size_t)n0 * C + i0, (size_t)C, C - i0);
        lanes_madd(acc, x, w, OC, i0, C - i0, nj);
    }
    lanes_out(out, OC, n0, 0, acc, nj, accumulate);
}

// A product's work for worth_threads: its multiply-adds, and four times
// as many for a narrow one (under TILE_O columns), whose rows move into
// lanes and whose sums fill few registers: those run at a tenth to a third
// of the peak (train --profile). (a)'s products of 8 x 24 and 8 x 8 then
// take both cores (its step 1.05x and 1.07x, the medians of two sets of
// ten pairs).
#ifdef _OPENMP
static size_t product_work(int N, int C, int OC) {
    return (size_t)N * C * OC * (OC < TILE_O ? 4 : 1);
}
#endif

// out (N,OC) = (or +=) inp (N,C) @ w (C,OC) + bias, tile by tile.
static void matmul_tiles(float *out, const float *inp, const float *w, const float *bias, int N,
                         int C, int OC, int accumulate) {
    if (N < TILE_N && !accumulate) {
        // A row or two, as in generation: a band of outputs at a time stays
        // in registers while w streams past, ROW_VECS vectors wide where it
        // fits, so that enough sums are in flight to keep the adders busy.
        // Each sum still runs over i in order.
        // For a weight larger than about 128 KiB, each thread takes an equal
        // share of the columns: then the cost is reading w, and each core
        // reads the same share every time, which its own cache keeps from
        // one token to the next where the shares fit.
        int vecs = OC / LANES, o_tail = vecs * LANES;
        int parts = worth_threads((size_t)C * OC * 8) ? gg_threads() : 1;
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C;
            float *o = out + (size_t)n * OC;
            if (parts == 1) {  // no OpenMP: even a region on one thread costs more
                matmul_row_vecs(o, x, w, bias, C, OC, 0, vecs);
            } else {
                PARALLEL_FOR((size_t)C * OC * 8)
                for (int p = 0; p < parts; p++)
                    matmul_row_vecs(o, x, w, bias, C, OC, vecs * p / parts, vecs * (p + 1) / parts);
            }
            if (o_tail < OC) matmul_tile(out, inp, w, bias, C, OC, n, 1, o_tail, OC - o_tail, 0);
        }
        return;
    }
    if (OC < TILE_O && N >= LANES) {
        // Few columns: a tile of TILE_N rows would hold too few sums to keep
        // the adders busy, so LANES rows run side by side instead.
        int blocks = N / LANES;
        PARALLEL_FOR(product_work(N, C, OC))
        for (int k = 0; k < blocks + (N % LANES ? 1 : 0); k++) {
            int n0 = k * LANES;
            if (TRANSPOSE_IN_REGISTERS && OC <= LANE_COLS && k < blocks) {
#define DIRECT(nj) matmul_lanes_direct(out, inp, w, bias, C, OC, n0, nj, accumulate)
                switch (OC) {
                case 8: DIRECT(8); break;
                default: DIRECT(OC); break;
                }
#undef DIRECT
                continue;
            }
            float *xt = k < blocks ? scratch_slot(1, (size_t)C * LANES) : NULL;
            if (!xt) {  // the rows past the last block, or no scratch: tiles
                for (int t = n0; t < (k < blocks ? n0 + LANES : N); t += TILE_N)
                    matmul_tile(out, inp, w, bias, C, OC, t, N - t < TILE_N ? N - t : TILE_N, 0,
                                OC, accumulate);
                continue;
            }
            rows_to_lanes(xt, inp + (size_t)n0 * C, C);
            int o0 = 0;
            for (; o0 + LANE_COLS <= OC; o0 += LANE_COLS)
                matmul_lanes(out, xt, w, bias, C, OC, n0, o0, LANE_COLS, accumulate);
            if (o0 < OC) matmul_lanes(out, xt, w, bias, C, OC, n0, o0, OC - o0, accumulate);
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

static void matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                           int N, int C, int OC) {
    matmul_tiles(out, inp, w, bias, N, C, OC, 0);
}

static void transpose(float *out, const float *inp, int R, int C);

// dw's tile of rows x cols from (i0, o0) += inp^T @ dout over the rows nb ..
// n_end - 1, in order. Inlined where rows and cols are constants.
GG_ALWAYS_INLINE void dw_tile(float *dw, const float *dout, const float *inp, int C, int OC,
                              int nb, int n_end, int i0, int o0, int rows, int cols) {
    float acc[TILE_N][TILE_O] = {{0}};
    for (int n = nb; n < n_end; n++) {
        const float *d = dout + (size_t)n * OC + o0;
        for (int r = 0; r < rows; r++) {
            float a = inp[(size_t)n * C + i0 + r];
            for (int j = 0; j < cols; j++) acc[r][j] += a * d[j];
        }
    }
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) dw[(size_t)(i0 + r) * OC + o0 + j] += acc[r][j];
}

// dw_tile for the tile at (i0, o0), cut short at dw's edges, with fixed
// bounds where it can, which keep acc in registers: a whole tile, or a
// narrow one (a model of width 8 to 56) in bands of 32, 16 and 8 columns.
static void dw_tile_any(float *dw, const float *dout, const float *inp, int C, int OC, int nb,
                        int n_end, int i0, int o0) {
    int rows = C - i0 < TILE_N ? C - i0 : TILE_N, cols = OC - o0 < TILE_O ? OC - o0 : TILE_O;
    if (rows < TILE_N) {
        dw_tile(dw, dout, inp, C, OC, nb, n_end, i0, o0, rows, cols);
        return;
    }
    if (cols == TILE_O) {
        dw_tile(dw, dout, inp, C, OC, nb, n_end, i0, o0, TILE_N, TILE_O);
        return;
    }
    int j = 0;
    if (TILE_O > 32 && j + 32 <= cols) {
        dw_tile(dw, dout, inp, C, OC, nb, n_end, i0, o0 + j, TILE_N, 32);
        j += 32;
    }
    if (TILE_O > 16 && j + 16 <= cols) {
        dw_tile(dw, dout, inp, C, OC, nb, n_end, i0, o0 + j, TILE_N, 16);
        j += 16;
    }
    if (TILE_O > 8 && j + 8 <= cols) {
        dw_tile(dw, dout, inp, C, OC, nb, n_end, i0, o0 + j, TILE_N, 8);
        j += 8;
    }
    if (j < cols) dw_tile(dw, dout, inp, C, OC, nb, n_end, i0, o0 + j, TILE_N, cols - j);
}

// dw (C,OC) += inp^T @ dout, each thread owning tiles of dw. One parallel
// region for every block of GG_DW_ROWS rows: a static schedule gives each
// thread the same tiles in each, so no thread waits for the others between
// blocks. The tiles go to the threads in runs along the wider of inp and
// dout, so that each thread reads only its share of that one.
static void dw_by_tiles(float *dw, const float *dout, const float *inp, int N, int C, int OC) {
    int tiles_c = (C + TILE_N - 1) / TILE_N, tiles_o = (OC + TILE_O - 1) / TILE_O;
    int tiles = tiles_c * tiles_o, by_columns = OC >= C;
#ifdef _OPENMP
#pragma omp parallel if (go_parallel(product_work(N, C, OC)))
#endif
    for (int nb = 0; nb < N; nb += GG_DW_ROWS) {
        int n_end = N - nb < GG_DW_ROWS ? N : nb + GG_DW_ROWS;
#ifdef _OPENMP
#pragma omp for schedule(static) nowait
#endif
        for (int tile = 0; tile < tiles; tile++) {
            int tc = by_columns ? tile % tiles_c : tile / tiles_o;
            int to = by_columns ? tile / tiles_c : tile % tiles_o;
            dw_tile_any(dw, dout, inp, C, OC, nb, n_end, tc * TILE_N, to * TILE_O);
        }
    }
}

// dw (C,OC) += inp^T @ dout for a narrow input (C <= 32, as the head's 8
// against 768) on more than one thread, where that pays: each thread takes
// whole blocks of GG_DW_ROWS rows, the rows whose gradient it wrote and
// still holds in its cache, rather than a share of every row; each block's
// sums go to scratch (C / GG_DW_ROWS of dout's size: a quarter at most, the
// head's a sixteenth), and are then added to dw block after block, in
// order, as the reference adds them. ((b)'s head, C of 64, ran 4% faster
// so, but with sums half dout's size: not worth 1.5 MB of scratch.) Returns
// whether it did; dw_by_tiles does it otherwise.
static int dw_by_row_blocks(float *dw, const float *dout, const float *inp, int N, int C, int OC) {
#ifdef _OPENMP
    int blocks = (N + GG_DW_ROWS - 1) / GG_DW_ROWS, tiles_o = (OC + TILE_O - 1) / TILE_O;
    int tiles = (C + TILE_N - 1) / TILE_N * tiles_o;
    float *sums = NULL;
    if (C > 32 || blocks < 2 || !go_parallel(product_work(N, C, OC)) ||
        !(sums = scratch_slot(1, (size_t)blocks * C * OC)))
        return 0;
#pragma omp parallel
    {
#pragma omp for schedule(static)
        for (int b = 0; b < blocks; b++) {
            float *sb = sums + (size_t)b * C * OC;
            int nb = b * GG_DW_ROWS, n_end = N - nb < GG_DW_ROWS ? N : nb + GG_DW_ROWS;
            floats_zero(sb, (size_t)C * OC);
            for (int tile = 0; tile < tiles; tile++)
                dw_tile_any(sb, dout, inp, C, OC, nb, n_end, tile / tiles_o * TILE_N,
                            tile % tiles_o * TILE_O);
        }
#pragma omp for schedule(static)
        for (int i = 0; i < C; i++)
            for (int b = 0; b < blocks; b++)
                for (int o = 0; o < OC; o++)
                    dw[(size_t)i * OC + o] += sums[((size_t)b * C + i) * OC + o];
    }
    return 1;
#else
    (void)dw, (void)dout, (void)inp, (void)N, (void)C, (void)OC;
    return 0;
#endif
}

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
    // dw (C,OC) += inp^T @ dout, GG_DW_ROWS rows at a time so that the block
    // of dout stays in cache across all of dw
    if (!dw_by_row_blocks(dw, dout, inp, N, C, OC)) dw_by_tiles(dw, dout, inp, N, C, OC);
    int tiles_o = (OC + TILE_O - 1) / TILE_O;
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

// ---- attention, one (batch, head) at a time ----
//
// attention_row's arithmetic, reorganised for the vector units. In the
// reference each score is a chain of hs dependent additions, and a core
// waits on every one. Here a block of ROWS queries is taken together:
// their scores are a small matrix product against K transposed into
// scratch, LANES keys at a time in registers, each score still summing its
// hs products in order; and wherever a row sums along its keys (softmax's
// denominator, att @ V, the gradients), the ROWS rows run side by side, so
// that their chains overlap. Every number is the reference's, bit for bit.
enum { ROWS = 8 };    // queries taken together
static int padded(int n) { return (n + LANES - 1) / LANES * LANES; }

// Scratch of a (batch, head) for one thread: K or V transposed (hs x Tp),
// then ROWS rows of Tp, where Tp = padded(T), or up to 3 T vectors of LANES.
static float *head_scratch(int T, int hs) { return scratch((size_t)(hs + 3 * LANES) * padded(T)); }

// The head dimensions in chunks of registers: a head of up to 16 at once,
// a larger one 16 or 8 at a time. Other head sizes take the reference's rows.
static int head_chunk(int hs) { return hs <= LANES ? hs : hs % 16 == 0 ? 16 : hs % 8 == 0 ? 8 : 0; }

// xT (hs, Tp) = the head's slice of x (T rows, stride apart), then zeros:
// blocks of LANES positions and dimensions in registers where the head's
// size allows, the rest one by one.
GG_ALWAYS_INLINE void head_transpose(float *xT, const float *x, int stride, int T, int hs) {
    int Tp = padded(T), t = 0;
    if (TRANSPOSE_IN_REGISTERS && hs % LANES == 0)
        for (; t + LANES <= T; t += LANES)
            for (int i = 0; i < hs; i += LANES)
                transpose_block(xT + (size_t)i * Tp + t, (size_t)Tp, x + (size_t)t * stride + i,
                                (size_t)stride);
    for (; t < T; t++)
        for (int i = 0; i < hs; i++) xT[(size_t)i * Tp + t] = x[(size_t)t * stride + i];
    for (int i = 0; i < hs; i++)
        for (int t = T; t < Tp; t++) xT[(size_t)i * Tp + t] = 0.0f;
}

// out[r][t2] (rows Tp apart) = sum over i in order, from zero, of
// a[r][i] * xT[i][t2], for r < nr and t2 < np, a multiple of LANES: each row
// of a (a_stride apart) against the first np columns of a head transposed.
GG_ALWAYS_INLINE void block_dots(float *out, const float *a, int a_stride, const float *xT, int Tp,
                                 int nr, int np, int hs) {
    for (int k0 = 0; k0 < np; k0 += LANES) {
        vf acc[ROWS] = {{0}};
        for (int i = 0; i < hs; i++) {
            vf x;
            vf_get(&x, xT + (size_t)i * Tp + k0, LANES);
            for (int r = 0; r < nr; r++) acc[r] += a[(size_t)r * a_stride + i] * x;
        }
        for (int r = 0; r < nr; r++) vf_put(out + (size_t)r * Tp + k0, &acc[r], LANES);
    }
}

// o[r][j] = sum over keys t2 <= t0 + r, in order from zero, of
// w[r][t2] * x[t2][i0 + j], for j < ch: the rows of w (T apart) times a
// chunk of the head's columns of x (stride apart), the rows side by side.
GG_ALWAYS_INLINE void rows_times_keys(vf o[ROWS], const float *w, int T, const float *x,
                                      int stride, int t0, int nr, int i0, int ch) {
    vf xt;
    for (int t2 = 0; t2 <= t0; t2++) {
        vf_get(&xt, x + (size_t)t2 * stride + i0, ch);
        for (int r = 0; r < nr; r++) o[r] += w[(size_t)r * T + t2] * xt;
    }
    for (int r = 1; r < nr; r++)
        for (int t2 = t0 + 1; t2 <= t0 + r; t2++) {
            vf_get(&xt, x + (size_t)t2 * stride + i0, ch);
            o[r] += w[(size_t)r * T + t2] * xt;
        }
}

// Rows t0 .. t0 + nr - 1 of one head: query t sees keys 0..t. q, k, v
// advance by stride floats a position and out by out_stride; scores and att
// rows are T long (scores may be NULL). kT holds the head's K transposed;
// rows is scratch of ROWS rows of padded(T).
GG_ALWAYS_INLINE void attention_rows(float *out, int out_stride, float *scores, float *att,
                                     const float *q, const float *kT, float *rows, const float *v,
                                     int stride, int t0, int nr, int T, int hs, int ch,
                                     float scale) {
    int Tp = padded(T);
    block_dots(rows, q + (size_t)t0 * stride, stride, kT, Tp, nr, padded(t0 + nr), hs);
    for (int r = 0; r < nr; r++) {
        int t = t0 + r, n = t + 1, np = padded(n);
        float *row = rows + (size_t)r * Tp, *a = att + (size_t)t * T;
        for (int t2 = 0; t2 < np; t2++) row[t2] *= scale;
        if (scores) memcpy(scores + (size_t)t * T, row, sizeof *row * (size_t)n);
        for (int t2 = n; t2 < np; t2++) row[t2] = -INFINITY;  // the padding: never the greatest
        float maxval = max_of(row, np);
        for (int t2 = 0; t2 < np; t2++) row[t2] = gg_expf_neg(row[t2] - maxval);
        memcpy(a, row, sizeof *a * (size_t)n);
        for (int t2 = n; t2 < T; t2++) a[t2] = 0.0f;
    }
    // the denominators, each along its keys in order, the rows side by side
    float sum[ROWS] = {0};
    const float *a0 = att + (size_t)t0 * T;
    for (int t2 = 0; t2 <= t0; t2++)
        for (int r = 0; r < nr; r++) sum[r] += a0[(size_t)r * T + t2];
    for (int r = 1; r < nr; r++)
        for (int t2 = t0 + 1; t2 <= t0 + r; t2++) sum[r] += a0[(size_t)r * T + t2];
    for (int r = 0; r < nr; r++) {
        float inv = 1.0f / sum[r], *a = att + (size_t)(t0 + r) * T;
        for (int t2 = 0; t2 <= t0 + r; t2++) a[t2] *= inv;
    }
    // out = att @ v
    for (int i0 = 0; i0 < hs; i0 += ch) {
        vf o[ROWS] = {{0}};
        rows_times_keys(o, a0, T, v, stride, t0, nr, i0, ch);
        for (int r = 0; r < nr; r++) vf_put(out + (size_t)(t0 + r) * out_stride + i0, &o[r], ch);
    }
}

// The lanes of a vector, 0 .. LANES - 1. With queries t0 + lane in lanes,
// those that see key t2 are the lanes lane_index >= t2 - t0; with keys
// k0 + lane, those that query t sees are lane_index <= t - k0.
static const vi lane_index = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// Queries t0 .. t0 + LANES - 1 of a head of at most LANES dimensions, a
// query in each vector lane: attention_row's arithmetic, lane by lane, one
// key at a time. (A short head's row leaves most of a vector empty; and its
// softmax is short chains and scalar steps that the lanes now take at once.)
// The keys run to t0 + LANES - 1 for every lane; a lane's keys past its own
// query are left out of its maximum, and their weights and terms are zeros
// (from a mask, so that even an inf there is not counted), which leave its
// sums as they were: a sum from +0 never holds -0. st is scratch of
// t0 + LANES vectors: the scores, then the exponentials.
GG_ALWAYS_INLINE void attention_lanes(float *out, int out_stride, float *att, const float *q,
                                      const float *k, const float *v, int stride, int t0, int T,
                                      int hs, float scale, float *st) {
    vf qt[LANES], most, sum = {0}, x;
    for (int r = 0; r < LANES; r++) most[r] = -INFINITY;
    lanes_from_rows(qt, q + (size_t)t0 * stride, (size_t)stride, hs);
    int nk = t0 + LANES;
    for (int t2 = 0; t2 < nk; t2++) {  // the scores, and each lane's maximum
        const float *kt = k + (size_t)t2 * stride;
        x = (vf){0};
        for (int i = 0; i < hs; i++) x += qt[i] * kt[i];
        x *= scale;
        vf_put(st + (size_t)t2 * LANES, &x, LANES);
        most = SELECT((x > most) & (lane_index >= t2 - t0), x, most);
    }
    for (int t2 = 0; t2 < nk; t2++) {  // the exponentials, and their sums
        vf_get(&x, st + (size_t)t2 * LANES, LANES);
        for (int r = 0; r < LANES; r++) x[r] = gg_expf_neg(x[r] - most[r]);
        x = (vf)((vi)x & (lane_index >= t2 - t0));
        vf_put(st + (size_t)t2 * LANES, &x, LANES);
        sum += x;
    }
    // att = the exponentials / sum, moved back to rows by a transposition,
    // LANES keys at a time; out = att @ v
    vf inv = 1.0f / sum, acc[LANES];
    for (int i = 0; i < LANES; i++) acc[i] = (vf){0};
    for (int j0 = 0; j0 < nk; j0 += LANES) {
        vf a[LANES];
        for (int j = 0; j < LANES; j++) {
            vf_get(&a[j], st + (size_t)(j0 + j) * LANES, LANES);
            a[j] *= inv;
            const float *vt = v + (size_t)(j0 + j) * stride;
            vi seen = lane_index >= j0 + j - t0;
            for (int i = 0; i < hs; i++) acc[i] += (vf)((vi)(a[j] * vt[i]) & seen);
        }
        lanes_to_rows(att + (size_t)t0 * T + j0, (size_t)T, a, LANES);
    }
    for (int r = 0; r < LANES; r++)
        for (int t2 = nk; t2 < T; t2++) att[(size_t)(t0 + r) * T + t2] = 0.0f;
    lanes_to_rows(out + (size_t)t0 * out_stride, (size_t)out_stride, acc, hs);
}

// One (batch, head) of attention_forward, inlined for each head size it is
// called with: a constant hs lets the loops over a head unroll into whole
// vectors.
GG_ALWAYS_INLINE void attention_forward_head(float *out, float *scores, float *att,
                                             const float *qkv, int T, int C, int NH, int b, int h,
                                             int hs) {
    float scale = 1.0f / sqrtf((float)hs);
    int ch = head_chunk(hs);
    const float *base = qkv + (size_t)b * T * 3 * C;
    const float *q = base + h * hs, *k = base + C + h * hs, *v = base + 2 * C + h * hs;
    size_t head = ((size_t)b * NH + h) * T * T;
    float *o = out + (size_t)b * T * C + h * hs, *kT = ch ? head_scratch(T, hs) : NULL;
    float *s = scores ? scores + head : NULL;
    if (!kT) {  // the reference's rows need no scratch
        float row_scores[GG_MAX_CTX];
        for (int t = 0; t < T; t++)
            attention_row(o + (size_t)t * C, s ? s + (size_t)t * T : row_scores,
                          att + head + (size_t)t * T, q + (size_t)t * 3 * C, k, v, 3 * C, t, T, hs,
                          scale);
        return;
    }
    float *rows = kT + (size_t)hs * padded(T);
    int t0 = 0;
    if (TRANSPOSE_IN_REGISTERS && !s && hs <= LANES)  // (scores, for showing, go by rows)
        for (; t0 + LANES <= T; t0 += LANES)
            attention_lanes(o, C, att + head, q, k, v, 3 * C, t0, T, hs, scale, rows);
    if (t0 < T) head_transpose(kT, k, 3 * C, T, hs);
    for (; t0 + ROWS <= T; t0 += ROWS)  // ROWS a constant: the rows unroll
        attention_rows(o, C, s, att + head, q, kT, rows, v, 3 * C, t0, ROWS, T, hs, ch, scale);
    if (t0 < T)
        attention_rows(o, C, s, att + head, q, kT, rows, v, 3 * C, t0, T - t0, T, hs, ch, scale);
}

// The head sizes that get code of their own, as literals inside the
// parallel loops: OpenMP moves a loop's body into a function of its own
// before anything is inlined, and a head size known only outside it would
// reach it as a variable (every chunk of a head then a call to memcpy).
// Each size adds about 20 KB of WebAssembly to each attention kernel, so
// the browser's build, whose files have a budget, keeps only size 8
// (`small`'s heads, which the page trains): without code of its own for
// 16, `base` trained as fast in Node (2.6k to 3.2k tokens/s both ways), and
// `tiny`'s 4 take the general code there too. It generates with the
// general code alone (FOR_DECODE_HEAD_SIZE): each size's own decode blocks
// would cost about 10 KB more, and a token there waits on copying the
// model's state out, not on this.
#ifdef __wasm__
#define FOR_HEAD_SIZE(hs, call)                   \
    switch (hs) {                                 \
    case 8: call(8); break;                       \
    default: call(hs); break;                     \
    }
#define FOR_DECODE_HEAD_SIZE(hs, call) call(hs);
#else
#define FOR_HEAD_SIZE(hs, call)                   \
    switch (hs) {                                 \
    case 4: call(4); break;                       \
    case 8: call(8); break;                       \
    case 16: call(16); break;                     \
    default: call(hs); break;                     \
    }
#define FOR_DECODE_HEAD_SIZE(hs, call) FOR_HEAD_SIZE(hs, call)
#endif

static void attention_forward(float *out, float *scores, float *att, const float *qkv,
                              int B, int T, int C, int NH) {
    int hs = C / NH;
    PARALLEL_FOR2((size_t)B * T * T * C)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
#define HEAD(n) attention_forward_head(out, scores, att, qkv, T, C, NH, b, h, n)
            FOR_HEAD_SIZE(hs, HEAD)
#undef HEAD
        }
}

// row[t2] = q . k[t2] * scale for the keys t2 < len (C apart), and zeros to
// the end of their last vector: LANES keys at a time, their rows moved into
// lanes in registers LANES dimensions at a time, so that each key's dot
// product runs over the dimensions in order in a lane of its own. (Before,
// the head's keys were transposed into scratch for every token and read
// back: `base`'s attention_decode took 1.5x as long on one thread.)
GG_ALWAYS_INLINE void decode_scores(float *row, const float *q, const float *k, int C, int len,
                                    int hs, float scale) {
    for (int k0 = 0; k0 < len; k0 += LANES) {
        int nk = len - k0 < LANES ? len - k0 : LANES;
        vf acc = {0}, kv[LANES];
        for (int i0 = 0; i0 < hs; i0 += LANES) {
            int ni = hs - i0 < LANES ? hs - i0 : LANES;
            lanes_from_first_rows(kv, k + (size_t)k0 * C + i0, (size_t)C, nk, ni);
            for (int i = 0; i < ni; i++) acc += q[i0 + i] * kv[i];
        }
        acc *= scale;
        vf_put(row + k0, &acc, LANES);
    }
}

// One query against a cache: attention_row's arithmetic for t = len - 1,
// for heads h0 .. h0 + nh - 1 (nh at most ROWS). Each head's keys are
// transposed (in registers, else into scratch) so that its scores run
// across keys in lanes, and the sums along the keys (the softmax's
// denominators, att @ V) run for the heads side by side, so that their
// chains of len additions overlap. (In generation, a score's chain of hs
// additions, and then these, would otherwise be most of a token's time.)
GG_ALWAYS_INLINE void attention_decode_block(float *out, float *scores, float *att, const float *q,
                                             const float *k, const float *v, int len, int C,
                                             int hs, int ch, int h0, int nh) {
    // scratch: the heads' rows of scores, then K transposed where it goes
    // through memory
    int lp = padded(len), kt_floats = TRANSPOSE_IN_REGISTERS ? 0 : hs * lp;
    float scale = 1.0f / sqrtf((float)hs), *rows = scratch((size_t)nh * lp + kt_floats);
    if (!rows) {  // no scratch: each head as the reference computes it
        for (int h = h0; h < h0 + nh; h++)
            attention_row(out + h * hs, scores + (size_t)h * len, att + (size_t)h * len, q + h * hs,
                          k + h * hs, v + h * hs, C, len - 1, len, hs, scale);
        return;
    }
    float *kT = rows + (size_t)nh * lp;
    for (int j = 0; j < nh; j++) {
        int h = h0 + j;
        float *row = rows + (size_t)j * lp;
        if (TRANSPOSE_IN_REGISTERS) {
            decode_scores(row, q + h * hs, k + h * hs, C, len, hs, scale);
        } else {
            head_transpose(kT, k + h * hs, C, len, hs);
            block_dots(row, q + h * hs, 0, kT, lp, 1, lp, hs);
            for (int t2 = 0; t2 < lp; t2++) row[t2] *= scale;
        }
        memcpy(scores + (size_t)h * len, row, sizeof *row * (size_t)len);
        for (int t2 = len; t2 < lp; t2++) row[t2] = -INFINITY;  // the padding: never the greatest
        float maxval = max_of(row, lp);
        for (int t2 = 0; t2 < lp; t2++) row[t2] = gg_expf_neg(row[t2] - maxval);
    }
    float sum[ROWS] = {0};
    for (int t2 = 0; t2 < len; t2++)
        for (int j = 0; j < nh; j++) sum[j] += rows[(size_t)j * lp + t2];
    for (int j = 0; j < nh; j++) {
        float inv = 1.0f / sum[j], *a = att + (size_t)(h0 + j) * len;
        for (int t2 = 0; t2 < len; t2++) a[t2] = rows[(size_t)j * lp + t2] * inv;
    }
    const float *a0 = att + (size_t)h0 * len;
    for (int i0 = 0; i0 < hs; i0 += ch) {
        vf o[ROWS] = {{0}}, x;
        for (int t2 = 0; t2 < len; t2++)
            for (int j = 0; j < nh; j++) {
                vf_get(&x, v + (size_t)t2 * C + (h0 + j) * hs + i0, ch);
                o[j] += a0[(size_t)j * len + t2] * x;
            }
        for (int j = 0; j < nh; j++) vf_put(out + (h0 + j) * hs + i0, &o[j], ch);
    }
}

// Every head, in blocks of up to ROWS. Once the cache is long enough (from
// about 32 positions of `base`), each thread takes an equal share of the
// heads, with scratch of its own. Below that, OpenMP is not even entered.
static void attention_decode(float *out, float *scores, float *att, const float *q,
                             const float *k, const float *v, int len, int C, int NH) {
    int hs = C / NH;
    if (!head_chunk(hs)) {  // a head size the blocks do not take
        attention_decode_heads(out, scores, att, q, k, v, len, C, NH);
        return;
    }
#define BLOCK(n)                                                                               \
    for (int h = h_start; h < h_end; h += ROWS)                                                \
        attention_decode_block(out, scores, att, q, k, v, len, C, n, head_chunk(n), h,        \
                               h_end - h < ROWS ? h_end - h : ROWS)
#ifdef _OPENMP
    size_t work = (size_t)len * C * 64;
    int parts = gg_threads() < NH ? gg_threads() : NH;
    if (parts > 1 && worth_threads(work)) {
        PARALLEL_FOR(work)
        for (int p = 0; p < parts; p++) {
            int h_start = NH * p / parts, h_end = NH * (p + 1) / parts;
            FOR_DECODE_HEAD_SIZE(hs, BLOCK)
        }
        return;
    }
#endif
    int h_start = 0, h_end = NH;
    FOR_DECODE_HEAD_SIZE(hs, BLOCK)
#undef BLOCK
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

// Backward of rows t0 .. t0 + nr - 1 of one head (attention_row_backward's
// arithmetic): datt = dout . v, from V transposed (vT); dscore = att * (datt
// - sum(att * datt)) * scale; dq, the rows side by side; then dk and dv,
// which every query adds to: at each key, the rows in order, as the
// reference adds them query after query. ds is scratch of ROWS rows of
// padded(T) floats.
GG_ALWAYS_INLINE void attention_rows_backward(float *dq, float *dk, float *dv, float *ds,
                                              const float *dout, int dout_stride, const float *q,
                                              const float *k, const float *vT, const float *att,
                                              int stride, int t0, int nr, int T, int hs, int ch,
                                              float scale) {
    int Tp = padded(T);
    block_dots(ds, dout + (size_t)t0 * dout_stride, dout_stride, vT, Tp, nr, padded(t0 + nr), hs);
    const float *a0 = att + (size_t)t0 * T;
    float dot_sum[ROWS] = {0};
    for (int t2 = 0; t2 <= t0; t2++)
        for (int r = 0; r < nr; r++) dot_sum[r] += a0[(size_t)r * T + t2] * ds[(size_t)r * Tp + t2];
    for (int r = 1; r < nr; r++)
        for (int t2 = t0 + 1; t2 <= t0 + r; t2++)
            dot_sum[r] += a0[(size_t)r * T + t2] * ds[(size_t)r * Tp + t2];
    for (int r = 0; r < nr; r++) {
        const float *a = a0 + (size_t)r * T;
        float *d = ds + (size_t)r * Tp;
        for (int t2 = 0; t2 <= t0 + r; t2++) d[t2] = a[t2] * (d[t2] - dot_sum[r]) * scale;
    }
    for (int i0 = 0; i0 < hs; i0 += ch) {
        // dq: each row's sum along its keys, onto what dq held
        vf g[ROWS];
        for (int r = 0; r < nr; r++) vf_get(&g[r], dq + (size_t)(t0 + r) * stride + i0, ch);
        rows_times_keys(g, ds, Tp, k, stride, t0, nr, i0, ch);
        for (int r = 0; r < nr; r++) vf_put(dq + (size_t)(t0 + r) * stride + i0, &g[r], ch);
        // dk and dv: at each key, the rows that see it, in order
        vf qr[ROWS], dr[ROWS];
        for (int r = 0; r < nr; r++) {
            vf_get(&qr[r], q + (size_t)(t0 + r) * stride + i0, ch);
            vf_get(&dr[r], dout + (size_t)(t0 + r) * dout_stride + i0, ch);
        }
        for (int t2 = 0; t2 < t0 + nr; t2++) {
            float *dkt = dk + (size_t)t2 * stride + i0, *dvt = dv + (size_t)t2 * stride + i0;
            vf kk, vv;
            vf_get(&kk, dkt, ch);
            vf_get(&vv, dvt, ch);
            for (int r = t2 <= t0 ? 0 : t2 - t0; r < nr; r++) {
                vv += a0[(size_t)r * T + t2] * dr[r];
                kk += ds[(size_t)r * Tp + t2] * qr[r];
            }
            vf_put(dkt, &kk, ch);
            vf_put(dvt, &vv, ch);
        }
    }
}

// acc = acc + x in the lanes of mask, and as it was in the others
#define ADD_WHERE(acc, x, mask) ((acc) = SELECT(mask, (acc) + (x), acc))

// Backward of the queries t0 .. t0 + LANES - 1 of a head of at most LANES
// dimensions, as attention_lanes runs them forward: attention_row_backward's
// arithmetic, lane by lane. The queries in lanes: datt = dout . v and
// dot_sum, then dscore and dq, key by key. Then the keys in lanes, LANES
// at a time: dv and dk, which every query adds to, take these queries'
// terms in order. A lane's terms for keys past its query are left out by a
// mask (dq, dk and dv hold what earlier work added, so not even a zero is
// added). sc is scratch of 3 (t0 + LANES) vectors.
GG_ALWAYS_INLINE void attention_lanes_backward(float *dq, float *dk, float *dv, const float *dout,
                                               int dout_stride, const float *q, const float *k,
                                               const float *v, const float *att, int stride,
                                               int t0, int T, int hs, float scale, float *sc) {
    int nk = t0 + LANES;
    float *da = sc, *ac = sc + (size_t)nk * LANES, *ds = ac + (size_t)nk * LANES;
    vf d[LANES], g[LANES], x, a, dot_sum = {0};
    lanes_from_rows(d, dout + (size_t)t0 * dout_stride, (size_t)dout_stride, hs);
    for (int j0 = 0; j0 < nk; j0 += LANES) {  // datt, att's columns, dot_sum
        vf col[LANES];
        lanes_from_rows(col, att + (size_t)t0 * T + j0, (size_t)T, LANES);
        for (int j = 0; j < LANES; j++) {
            const float *vt = v + (size_t)(j0 + j) * stride;
            x = (vf){0};
            for (int i = 0; i < hs; i++) x += d[i] * vt[i];
            vf_put(da + (size_t)(j0 + j) * LANES, &x, LANES);
            vf_put(ac + (size_t)(j0 + j) * LANES, &col[j], LANES);
            vi seen = lane_index >= j0 + j - t0;
            ADD_WHERE(dot_sum, col[j] * x, seen);
        }
    }
    lanes_from_rows(g, dq + (size_t)t0 * stride, (size_t)stride, hs);
    for (int j0 = 0; j0 < nk; j0 += LANES) {  // dscore, and dq along the keys
        vf s[LANES];
        for (int j = 0; j < LANES; j++) {
            int t2 = j0 + j;
            vf_get(&a, ac + (size_t)t2 * LANES, LANES);
            vf_get(&x, da + (size_t)t2 * LANES, LANES);
            s[j] = a * (x - dot_sum) * scale;
            const float *kt = k + (size_t)t2 * stride;
            vi seen = lane_index >= t2 - t0;
            for (int i = 0; i < hs; i++) ADD_WHERE(g[i], s[j] * kt[i], seen);
        }
        lanes_to_rows(ds + j0, (size_t)nk, s, LANES);  // dscore by query, for dk
    }
    lanes_to_rows(dq + (size_t)t0 * stride, (size_t)stride, g, hs);
    // dv += att^T dout and dk += dscore^T q: keys k0 + lane, the queries in order
    for (int k0 = 0; k0 < nk; k0 += LANES)
        for (int pass = 0; pass < 2; pass++) {
            float *dst = pass ? dk : dv;
            const float *w = pass ? ds + k0 : att + (size_t)t0 * T + k0;
            const float *src = pass ? q : dout;
            int w_stride = pass ? nk : T, src_stride = pass ? stride : dout_stride;
            lanes_from_rows(g, dst + (size_t)k0 * stride, (size_t)stride, hs);
            for (int r = 0; r < LANES; r++) {
                const float *sr = src + (size_t)(t0 + r) * src_stride;
                vi seen = lane_index <= t0 + r - k0;
                vf_get(&a, w + (size_t)r * w_stride, LANES);
                for (int i = 0; i < hs; i++) ADD_WHERE(g[i], a * sr[i], seen);
            }
            lanes_to_rows(dst + (size_t)k0 * stride, (size_t)stride, g, hs);
        }
}

// A (batch, head) owns its slice of dqkv; queries run in order within it.
// Inlined for each head size, as the forward pass is.
GG_ALWAYS_INLINE void attention_backward_head(float *dqkv, const float *dout, const float *qkv,
                                              const float *att, int T, int C, int NH, int b, int h,
                                              int hs) {
    float scale = 1.0f / sqrtf((float)hs);
    int ch = head_chunk(hs);
    const float *base = qkv + (size_t)b * T * 3 * C;
    const float *q = base + h * hs, *k = base + C + h * hs, *v = base + 2 * C + h * hs;
    float *dbase = dqkv + (size_t)b * T * 3 * C;
    float *dq = dbase + h * hs, *dk = dbase + C + h * hs, *dv = dbase + 2 * C + h * hs;
    const float *d = dout + (size_t)b * T * C + h * hs;
    const float *a = att + ((size_t)b * NH + h) * T * T;
    float *vT = ch ? head_scratch(T, hs) : NULL;
    if (!vT) {  // the reference's rows need no scratch
        float datt[GG_MAX_CTX];
        for (int t = 0; t < T; t++)
            attention_row_backward(dq + (size_t)t * 3 * C, dk, dv, datt, d + (size_t)t * C,
                                   q + (size_t)t * 3 * C, k, v, a + (size_t)t * T, 3 * C, t, hs,
                                   scale);
        return;
    }
    float *ds = vT + (size_t)hs * padded(T);
    int t0 = 0;
    if (TRANSPOSE_IN_REGISTERS && hs <= LANES / 2)  // (larger heads spill registers: slower)
        for (; t0 + LANES <= T; t0 += LANES)
            attention_lanes_backward(dq, dk, dv, d, C, q, k, v, a, 3 * C, t0, T, hs, scale, ds);
    if (t0 < T) head_transpose(vT, v, 3 * C, T, hs);
    for (; t0 + ROWS <= T; t0 += ROWS)  // ROWS a constant: the rows unroll
        attention_rows_backward(dq, dk, dv, ds, d, C, q, k, vT, a, 3 * C, t0, ROWS, T, hs, ch,
                                scale);
    if (t0 < T)
        attention_rows_backward(dq, dk, dv, ds, d, C, q, k, vT, a, 3 * C, t0, T - t0, T, hs, ch,
                                scale);
}

static void attention_backward(float *dqkv, const float *dout, const float *qkv,
                               const float *att, int B, int T, int C, int NH) {
    int hs = C / NH;
    PARALLEL_FOR2((size_t)B * T * T * C * 2)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
#define HEAD(n) attention_backward_head(dqkv, dout, qkv, att, T, C, NH, b, h, n)
            FOR_HEAD_SIZE(hs, HEAD)
#undef HEAD
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

// max_of (ops_rows.h) in vectors: a greater x replaces a lane's maximum,
// which keeps it when x is NaN, as there. (max_of's array of lanes compiles
// to scalars, but a row of attention is too short for this to pay.)
static float row_max(const float *x, int n) {
    vf m, v;
    for (int j = 0; j < LANES; j++) m[j] = -INFINITY;
    int i = 0;
    for (; i + LANES <= n; i += LANES) {
        vf_get(&v, x + i, LANES);
        m = SELECT(v > m, v, m);
    }
    float most = -INFINITY;
    for (int j = 0; j < LANES; j++) most = m[j] > most ? m[j] : most;
    for (; i < n; i++) most = x[i] > most ? x[i] : most;
    return most;
}

// LANES rows of softmax (V apart) at once: each row's exponentials along
// the row, then the rows moved into lanes, 16 columns at a time, by a
// transposition in registers, so that their sums run side by side, a row in
// each lane, each still adding its row's terms in order.
static void softmax_lanes(float *p, const float *x, int V) {
    for (int r = 0; r < LANES; r++) {
        const float *xr = x + (size_t)r * V;
        float maxval = row_max(xr, V), *pr = p + (size_t)r * V;
        for (int i = 0; i < V; i++) pr[i] = gg_expf_neg(xr[i] - maxval);
    }
    vf sum = {0}, col[LANES];
    int i = 0;
    for (; i + LANES <= V; i += LANES) {
        lanes_from_rows(col, p + i, (size_t)V, LANES);
        for (int j = 0; j < LANES; j++) sum += col[j];
    }
    for (; i < V; i++) {
        vf c;
        for (int r = 0; r < LANES; r++) c[r] = p[(size_t)r * V + i];
        sum += c;
    }
    vf inv = 1.0f / sum;
    for (int r = 0; r < LANES; r++) {
        float *pr = p + (size_t)r * V;
        for (int k = 0; k < V; k++) pr[k] *= inv[r];
    }
}

// softmax_row's arithmetic, a block of rows at a time: each row's
// denominator is a chain of V additions in order, and the rows' chains run
// side by side instead of one after another: LANES rows where the
// transposition is in registers, ROWS (in scalars) elsewhere.
static void softmax_forward(float *probs, const float *logits, int N, int V) {
    int rows = TRANSPOSE_IN_REGISTERS ? LANES : ROWS, blocks = (N + rows - 1) / rows;
    PARALLEL_FOR((size_t)N * V * 8)
    for (int k = 0; k < blocks; k++) {
        int n0 = k * rows, nr = N - n0 < rows ? N - n0 : rows;
        float *p = probs + (size_t)n0 * V;
        if (nr < rows) {
            for (int r = 0; r < nr; r++) softmax_row(p + (size_t)r * V, logits + (size_t)(n0 + r) * V, V);
            continue;
        }
        if (TRANSPOSE_IN_REGISTERS) {
            softmax_lanes(p, logits + (size_t)n0 * V, V);
            continue;
        }
        for (int r = 0; r < ROWS; r++) {
            const float *x = logits + (size_t)(n0 + r) * V;
            float maxval = max_of(x, V), *pr = p + (size_t)r * V;
            for (int i = 0; i < V; i++) pr[i] = gg_expf_neg(x[i] - maxval);
        }
        float sum[ROWS] = {0};
        for (int i = 0; i < V; i++)
            for (int r = 0; r < ROWS; r++) sum[r] += p[(size_t)r * V + i];
        for (int r = 0; r < ROWS; r++) {
            float inv = 1.0f / sum[r], *pr = p + (size_t)r * V;
            for (int i = 0; i < V; i++) pr[i] *= inv;
        }
    }
}

static void crossentropy_forward(float *losses, const float *probs, const int *targets,
                                 int N, int V) {
    PARALLEL_FOR((size_t)N * 256)  // a logarithm in double takes about 256 multiply-adds' time
    for (int n = 0; n < N; n++) losses[n] = (float)-gg_log(probs[(size_t)n * V + targets[n]]);
}

static void crossentropy_softmax_backward(float *dlogits, const float *probs, const int *targets,
                                          float dloss, int N, int V) {
    PARALLEL_FOR((size_t)N * V)
    for (int n = 0; n < N; n++)
        for (int i = 0; i < V; i++) {
            float p = probs[(size_t)n * V + i];
            dlogits[(size_t)n * V + i] = (p - (i == targets[n] ? 1.0f : 0.0f)) * dloss;
        }
}

// Blocks of the tensor, each dropped in one piece on some thread.
static void dropout(float *x, size_t n, uint64_t first, float p, uint64_t seed) {
    enum { SPAN = 4096 };
    long spans = (long)((n + SPAN - 1) / SPAN);
    PARALLEL_FOR(n * 16)
    for (long s = 0; s < spans; s++) {
        size_t i0 = (size_t)s * SPAN;
        dropout_span(x + i0, n - i0 < SPAN ? n - i0 : SPAN, first + i0, p, seed);
    }
}

static void adamw_update(float *p, const float *g, float *m, float *v, size_t n, float decay,
                         float beta1, float beta2, float eps, float step_size, float bc2_sqrt) {
    PARALLEL_FOR(n * 8)
    for (size_t i = 0; i < n; i++)
        adamw_one(&p[i], g[i], &m[i], &v[i], decay, beta1, beta2, eps, step_size, bc2_sqrt);
}

// the arithmetic around the kernels, as every table does it (ops_rows.h);
// a large buffer (a batch's gradient of the logits is megabytes) is zeroed
// in spans on every thread
static void zero(float *x, size_t n) {
    enum { SPAN = 1 << 16 };
    if (!worth_threads(n / 2)) {
        floats_zero(x, n);
        return;
    }
    size_t spans = (n + SPAN - 1) / SPAN;
    PARALLEL_FOR(n / 2)
    for (size_t k = 0; k < spans; k++) floats_zero(x + k * SPAN, n - k * SPAN < SPAN ? n - k * SPAN : SPAN);
}
static void copy(float *dst, const float *src, size_t n) { floats_copy(dst, src, n); }
static void mean(float *out, const float *x, size_t n) { floats_mean(out, x, n); }
static void norm(float *out, const float *x, size_t n) { floats_norm(out, x, n); }
static void clip(float *x, size_t n, const float *nrm, float max_norm) { floats_clip(x, n, nrm, max_norm); }

const gg_ops gg_ops_cpu = {
    .name = "cpu",
    GG_OPS_KERNELS(GG_OPS_ENTRY)
};
