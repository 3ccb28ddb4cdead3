// Tests of the engine: every kernel against the reference and against
// finite differences, the whole model's gradients, the KV cache against the
// full forward pass, thread-count independence, bit-exact resume, the
// checkpoint format and its malformed cases, and the sampler.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/checkpoint.h"
#include "../src/detmath.h"
#include "../src/generate.h"
#include "../src/lens.h"
#include "../src/model.h"
#include "../src/ops.h"
#include "../src/ops_rows.h"
#include "../src/optim.h"
#include "../src/profile.h"
#include "../src/record.h"
#include "../src/sampler.h"
#include "../src/train.h"
#include "check.h"

#include <unistd.h>

static gg_rng rng;

static float *randn(size_t n, float scale) {
    float *x = malloc(sizeof *x * (n ? n : 1));
    for (size_t i = 0; i < n; i++) x[i] = scale * gg_rng_normal(&rng);
    return x;
}

static float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static float *copy(const float *x, size_t n) {
    float *y = malloc(sizeof *y * (n ? n : 1));
    memcpy(y, x, sizeof *y * n);
    return y;
}

// max over i of |a - b| / (atol + rtol |b|): <= 1 means close
static double worst(const float *a, const float *b, size_t n, double atol, double rtol) {
    double w = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (atol + rtol * fabs((double)b[i]));
        if (!(e <= w)) w = e;  // NaN counts as worst
    }
    return w;
}

static gg_config tiny_config(int pos_kind) {
    return (gg_config){.vocab = 23, .d_model = 8, .n_layer = 2, .n_head = 2, .ctx = 6,
                       .d_ff = 12, .pos_kind = pos_kind};
}

// A model of cfg with weights drawn from seed; a failure to build it is
// recorded as a failed check.
static void new_model(gg_model *m, const gg_config *cfg, uint64_t seed) {
    gg_error err;
    int rc = gg_model_init(m, cfg, &err);
    CHECK(rc == GG_OK, "building the model: %s", err.msg);
    if (rc == GG_OK) gg_model_init_weights(m, seed);
}

static void random_tokens(int *t, int n, int V) {
    for (int i = 0; i < n; i++) t[i] = (int)gg_rng_below(&rng, (uint32_t)V);
}

// ---- configuration ----

static void test_presets_and_config_errors(void) {
    gg_config c;
    gg_error err;
    CHECK(gg_config_preset(&c, "tiny", &err) == GG_OK, "tiny");
    CHECK(c.vocab == 768 && c.d_model == 8 && c.n_layer == 2 && c.n_head == 2 && c.ctx == 8 &&
          c.d_ff == 32, "tiny is V 768, d 8, 2 layers, 2 heads, ctx 8, FFN 32");
    CHECK(gg_config_preset(&c, "small", &err) == GG_OK && c.d_model == 64 && c.n_head == 8 &&
          c.ctx == 64, "small");
    CHECK(gg_config_preset(&c, "base", &err) == GG_OK && c.d_model == 128 && c.n_layer == 4,
          "base");
    size_t n = gg_param_count(&c);
    CHECK(n > 850000 && n < 950000, "base has %zu parameters, about 0.9M", n);
    CHECK(gg_config_preset(&c, "huge", &err) == GG_ERR_ARG && strstr(err.msg, "huge"), "%s", err.msg);
    gg_config_preset(&c, "small", &err);
    c.n_head = 7;
    CHECK(gg_config_check(&c, &err) == GG_ERR_ARG && strstr(err.msg, "7 heads do not divide"),
          "%s", err.msg);
    c.n_head = 8;
    c.d_model = 0;
    CHECK(gg_config_check(&c, &err) == GG_ERR_ARG && strstr(err.msg, "width"), "%s", err.msg);
    c.d_model = 64;
    c.n_layer = -1;
    CHECK(gg_config_check(&c, &err) == GG_ERR_ARG && strstr(err.msg, "layers"), "%s", err.msg);
}

static void test_sinusoidal_table(void) {
    float pe[4 * 6];
    gg_sinusoidal_table(pe, 4, 6);
    CHECK(fabsf(pe[0]) < 1e-7f && fabsf(pe[1] - 1.0f) < 1e-7f, "position 0 is sin 0, cos 0");
    CHECK(fabsf(pe[6 + 0] - 0.841471f) < 1e-6f, "position 1, dim 0 = sin(1) = %f", pe[6]);
    CHECK(fabsf(pe[6 + 1] - 0.540302f) < 1e-6f, "position 1, dim 1 = cos(1) = %f", pe[7]);
    float want = (float)sin(3.0 / pow(10000.0, 4.0 / 6.0));
    CHECK(fabsf(pe[3 * 6 + 4] - want) < 1e-6f, "position 3, dim 4 = %f, want %f", pe[22], want);
}

// ---- kernels: optimised against reference ----

static void test_cpu_kernels_match_reference(void) {
    const gg_ops *r = &gg_ops_ref, *o = &gg_ops_cpu;
    int N = 11, C = 13, OC = 70, B = 2, T = 5, NH = 3, Cq = 9, V = 37;
    // matmul forward and backward, with tiles that do not divide the sizes
    float *inp = randn((size_t)N * C, 1), *w = randn((size_t)C * OC, 1), *bias = randn(OC, 1);
    float *o1 = zeros((size_t)N * OC), *o2 = zeros((size_t)N * OC);
    r->matmul_forward(o1, inp, w, bias, N, C, OC);
    o->matmul_forward(o2, inp, w, bias, N, C, OC);
    CHECK(memcmp(o1, o2, sizeof *o1 * N * OC) == 0, "matmul_forward differs from the reference");
    // a row or two, as generation runs them: bands of outputs, wide and
    // narrow, and a tail; with a weight large enough, on two threads
    // (300 columns: bands of 8, 8 and 2 vectors and a tail; 460 on two
    // threads: 8, 4 and 2 on each)
    for (int rows = 1; rows <= 3; rows++) {
        int wide = rows < 3 ? 300 : 460, c = rows < 3 ? C : 160;
        float *x2 = randn((size_t)2 * c, 1), *w2 = randn((size_t)c * wide, 1), *b2 = randn(wide, 1);
        float *r1 = zeros((size_t)2 * wide), *r2 = zeros((size_t)2 * wide);
        long before = gg_threaded_loops();
        r->matmul_forward(r1, x2, w2, b2, rows < 3 ? rows : 1, c, wide);
        o->matmul_forward(r2, x2, w2, b2, rows < 3 ? rows : 1, c, wide);
        CHECK(memcmp(r1, r2, sizeof *r1 * 2 * wide) == 0, "matmul_forward of %d row(s), C %d", rows, c);
#ifdef _OPENMP
        CHECK(rows < 3 || gg_threads() < 2 || gg_threaded_loops() > before,
              "a row against a %d x %d weight ran on one thread", c, wide);
#endif
        (void)before;
        free(x2), free(w2), free(b2), free(r1), free(r2);
    }
    float *dout = randn((size_t)N * OC, 1);
    float *di1 = zeros((size_t)N * C), *di2 = zeros((size_t)N * C), *dw1 = zeros((size_t)C * OC);
    float *dw2 = zeros((size_t)C * OC), *db1 = zeros(OC), *db2 = zeros(OC);
    r->matmul_backward(di1, dw1, db1, dout, inp, w, N, C, OC);
    o->matmul_backward(di2, dw2, db2, dout, inp, w, N, C, OC);
    CHECK(memcmp(di1, di2, sizeof *di1 * N * C) == 0, "matmul dinp");
    CHECK(memcmp(dw1, dw2, sizeof *dw1 * C * OC) == 0, "matmul dw");
    CHECK(memcmp(db1, db2, sizeof *db1 * OC) == 0, "matmul dbias");
    // few columns (under a tile's 64), as in narrow models: the rows run in
    // lanes, 16 at a time, then a tail of rows, on two threads (745 x 45 x 5
    // is past their threshold); forward with a bias, and dinp (whose product
    // has C columns) added onto what it held. Up to 8 columns, the rows go
    // into lanes in registers, 16 inputs at a time and then the rest (45 is
    // 2 x 16 + 13). dw's narrow tile takes bands of 8 (5 and 8 columns), of
    // 16 and a rest (21), and of 32, 16, 8 and a rest (61).
    for (int k = 0; k < 4; k++) {
        int narrow = (const int[]){5, 8, 21, 61}[k];
        int NR = 745, CR = 45;
        long before = gg_threaded_loops();
        float *x4 = randn((size_t)NR * CR, 1), *w4 = randn((size_t)CR * narrow, 1), *b4 = randn(narrow, 1);
        float *f1 = zeros((size_t)NR * narrow), *f2 = zeros((size_t)NR * narrow);
        r->matmul_forward(f1, x4, w4, b4, NR, CR, narrow);
        o->matmul_forward(f2, x4, w4, b4, NR, CR, narrow);
        CHECK(memcmp(f1, f2, sizeof *f1 * NR * narrow) == 0, "matmul_forward of %d rows into %d columns",
              NR, narrow);
#ifdef _OPENMP
        CHECK(gg_threads() < 2 || gg_threaded_loops() > before, "%d rows into %d columns ran on one thread",
              NR, narrow);
#endif
        (void)before;
        float *d4 = randn((size_t)NR * narrow, 1), *g1 = randn((size_t)NR * CR, 1);
        float *g2 = copy(g1, (size_t)NR * CR), *w1 = zeros((size_t)CR * narrow), *w2 = zeros((size_t)CR * narrow);
        r->matmul_backward(g1, w1, NULL, d4, x4, w4, NR, CR, narrow);
        o->matmul_backward(g2, w2, NULL, d4, x4, w4, NR, CR, narrow);
        CHECK(memcmp(g1, g2, sizeof *g1 * NR * CR) == 0 && memcmp(w1, w2, sizeof *w1 * CR * narrow) == 0,
              "matmul_backward of %d rows from %d columns", NR, narrow);
        // and dinp of a product into 8 columns: a narrow product itself
        float *d5 = randn((size_t)NR * CR, 1), *g3 = randn((size_t)NR * 8, 1), *g4 = copy(g3, (size_t)NR * 8);
        float *w5 = randn((size_t)8 * CR, 1), *w6 = zeros((size_t)8 * CR), *w7 = zeros((size_t)8 * CR);
        float *x5 = randn((size_t)NR * 8, 1);
        r->matmul_backward(g3, w6, NULL, d5, x5, w5, NR, 8, CR);
        o->matmul_backward(g4, w7, NULL, d5, x5, w5, NR, 8, CR);
        CHECK(memcmp(g3, g4, sizeof *g3 * NR * 8) == 0 && memcmp(w6, w7, sizeof *w6 * 8 * CR) == 0,
              "matmul_backward of %d rows of 8 into %d columns", NR, CR);
        free(x4), free(w4), free(b4), free(f1), free(f2), free(d4), free(g1), free(g2), free(w1), free(w2);
        free(d5), free(g3), free(g4), free(w5), free(w6), free(w7), free(x5);
    }
    {  // dw over more rows than a block: the blocks' sums added in the same order
        int NB = 2 * GG_DW_ROWS + 37;
        float *x3 = randn((size_t)NB * C, 1), *d3 = randn((size_t)NB * OC, 1);
        float *g1 = zeros((size_t)NB * C), *g2 = zeros((size_t)NB * C);
        float *w1 = zeros((size_t)C * OC), *w2 = zeros((size_t)C * OC), *w3 = zeros((size_t)C * OC);
        r->matmul_backward(g1, w1, NULL, d3, x3, w, NB, C, OC);
        o->matmul_backward(g2, w2, NULL, d3, x3, w, NB, C, OC);
        for (int i = 0; i < C; i++)  // the same sums, in one block: other bits
            for (int j = 0; j < OC; j++)
                for (int n = 0; n < NB; n++) w3[i * OC + j] += x3[n * C + i] * d3[n * OC + j];
        CHECK(memcmp(w1, w2, sizeof *w1 * C * OC) == 0 && memcmp(g1, g2, sizeof *g1 * NB * C) == 0,
              "matmul_backward of %d rows", NB);
        CHECK(memcmp(w1, w3, sizeof *w1 * C * OC) != 0 && worst(w1, w3, (size_t)C * OC, 1e-4, 1e-4) <= 1,
              "the blocks change the bits of dw, not its value");
        free(x3), free(d3), free(g1), free(g2), free(w1), free(w2), free(w3);
    }
    // dw on two threads, each way it is split: a narrow input (C <= 32), where
    // each thread takes whole blocks of rows, the last one short, into
    // scratch, whose sums are added to what dw held in the reference's order
    // (C of 22 leaves a tile of 2 rows, and 150 columns tiles of 64 and a
    // rest); and tiles in runs along dout's columns (OC >= C) and along inp's
    // (a projection down, C > OC), each with more than one tile across
    const int dw_shapes[4][3] = {
        {3 * GG_DW_ROWS + 37, 8, 150}, {3 * GG_DW_ROWS + 37, 22, 150}, {300, 130, 150}, {300, 150, 130}};
    for (int k = 0; k < 4; k++) {
        int NB = dw_shapes[k][0], CB = dw_shapes[k][1], OB = dw_shapes[k][2];
        long before = gg_threaded_loops();
        float *x3 = randn((size_t)NB * CB, 1), *d3 = randn((size_t)NB * OB, 1);
        float *w3 = randn((size_t)CB * OB, 1), *g1 = randn((size_t)NB * CB, 1);
        float *g2 = copy(g1, (size_t)NB * CB), *w1 = randn((size_t)CB * OB, 1);
        float *w2 = copy(w1, (size_t)CB * OB);
        r->matmul_backward(g1, w1, NULL, d3, x3, w3, NB, CB, OB);
        o->matmul_backward(g2, w2, NULL, d3, x3, w3, NB, CB, OB);
        CHECK(memcmp(w1, w2, sizeof *w1 * CB * OB) == 0 &&
                  memcmp(g1, g2, sizeof *g1 * NB * CB) == 0,
              "matmul_backward of %d rows, %d x %d", NB, CB, OB);
#ifdef _OPENMP
        CHECK(gg_threads() < 2 || gg_threaded_loops() > before, "dw of %d x %d ran on one thread",
              CB, OB);
#endif
        (void)before;
        free(x3), free(d3), free(w3), free(g1), free(g2), free(w1), free(w2);
    }
    // attention
    float *qkv = randn((size_t)B * T * 3 * Cq, 1), *a1 = zeros((size_t)B * T * Cq);
    float *a2 = zeros((size_t)B * T * Cq), *s1 = zeros((size_t)B * NH * T * T);
    float *s2 = zeros((size_t)B * NH * T * T), *p1 = zeros((size_t)B * NH * T * T);
    float *p2 = zeros((size_t)B * NH * T * T);
    r->attention_forward(a1, s1, p1, qkv, B, T, Cq, NH);
    o->attention_forward(a2, s2, p2, qkv, B, T, Cq, NH);
    CHECK(memcmp(a1, a2, sizeof *a1 * B * T * Cq) == 0 &&
          memcmp(p1, p2, sizeof *p1 * B * NH * T * T) == 0 &&
          memcmp(s1, s2, sizeof *s1 * B * NH * T * T) == 0, "attention_forward");
    float *da = randn((size_t)B * T * Cq, 1), *dq1 = zeros((size_t)B * T * 3 * Cq);
    float *dq2 = zeros((size_t)B * T * 3 * Cq);
    r->attention_backward(dq1, da, qkv, p1, B, T, Cq, NH);
    o->attention_backward(dq2, da, qkv, p1, B, T, Cq, NH);
    CHECK(memcmp(dq1, dq2, sizeof *dq1 * B * T * 3 * Cq) == 0, "attention_backward");
    // layer norm
    float *lw = randn(C, 1), *lb = randn(C, 1), *l1 = zeros((size_t)N * C), *l2 = zeros((size_t)N * C);
    float m1[11], m2[11], rs1[11], rs2[11];
    r->layernorm_forward(l1, m1, rs1, inp, lw, lb, N, C);
    o->layernorm_forward(l2, m2, rs2, inp, lw, lb, N, C);
    CHECK(memcmp(l1, l2, sizeof *l1 * N * C) == 0, "layernorm_forward");
    float *dl = randn((size_t)N * C, 1), *dx1 = zeros((size_t)N * C), *dx2 = zeros((size_t)N * C);
    float *dlw1 = zeros(C), *dlw2 = zeros(C), *dlb1 = zeros(C), *dlb2 = zeros(C);
    r->layernorm_backward(dx1, dlw1, dlb1, dl, inp, lw, m1, rs1, N, C);
    o->layernorm_backward(dx2, dlw2, dlb2, dl, inp, lw, m1, rs1, N, C);
    CHECK(memcmp(dx1, dx2, sizeof *dx1 * N * C) == 0 && memcmp(dlw1, dlw2, sizeof *dlw1 * C) == 0 &&
          memcmp(dlb1, dlb2, sizeof *dlb1 * C) == 0, "layernorm_backward");
    // softmax and cross-entropy, transpose, encoder
    float *logits = randn((size_t)N * V, 2), *pr1 = zeros((size_t)N * V), *pr2 = zeros((size_t)N * V);
    r->softmax_forward(pr1, logits, N, V);
    o->softmax_forward(pr2, logits, N, V);
    CHECK(memcmp(pr1, pr2, sizeof *pr1 * N * V) == 0, "softmax");
    // Blocks of 16 rows summed side by side, a ragged block after them, and
    // rows whose length 16 does not divide; the last shape on two threads.
    const int sm_shapes[][2] = {{16, 16}, {17, 15}, {37, 53}, {48, 768}};
    for (int k = 0; k < 4; k++) {
        int SN = sm_shapes[k][0], SV = sm_shapes[k][1];
        long before = gg_threaded_loops();
        float *sl = randn((size_t)SN * SV, 8), *sp1 = zeros((size_t)SN * SV);
        float *sp2 = zeros((size_t)SN * SV);
        r->softmax_forward(sp1, sl, SN, SV);
        o->softmax_forward(sp2, sl, SN, SV);
        CHECK(memcmp(sp1, sp2, sizeof *sp1 * SN * SV) == 0, "softmax of %d rows of %d", SN, SV);
#ifdef _OPENMP
        CHECK(k < 3 || gg_threads() < 2 || gg_threaded_loops() > before,
              "softmax of %d x %d ran on one thread", SN, SV);
#endif
        (void)before;
        free(sl), free(sp1), free(sp2);
    }
    float *t1 = zeros((size_t)C * OC), *t2 = zeros((size_t)C * OC);
    r->transpose(t1, w, C, OC);
    o->transpose(t2, w, C, OC);
    CHECK(memcmp(t1, t2, sizeof *t1 * C * OC) == 0, "transpose");
    int tokens[11];
    random_tokens(tokens, N, V);
    float *wte = randn((size_t)V * C, 1), *wpe = randn((size_t)N * C, 1);
    float *e1 = zeros((size_t)N * C), *e2 = zeros((size_t)N * C);
    r->encoder_forward(e1, tokens, wte, wpe, N, 4, C);
    o->encoder_forward(e2, tokens, wte, wpe, N, 4, C);
    CHECK(memcmp(e1, e2, sizeof *e1 * N * C) == 0, "encoder_forward");
    float *g1 = zeros((size_t)V * C), *g2 = zeros((size_t)V * C), *gp1 = zeros((size_t)N * C);
    float *gp2 = zeros((size_t)N * C);
    r->encoder_backward(g1, gp1, dl, tokens, N, 4, C);
    o->encoder_backward(g2, gp2, dl, tokens, N, 4, C);
    CHECK(memcmp(g1, g2, sizeof *g1 * V * C) == 0 && memcmp(gp1, gp2, sizeof *gp1 * N * C) == 0,
          "encoder_backward");
    // on two threads, each with a band of columns (2100 x 128 is past their
    // threshold; the batch above, on one, goes row by row), with a learned
    // position table and without; 37 ids, so that each row of dwte sums many.
    // Its draws come from a stream of its own, so that the checks after it
    // draw what they drew before it.
    gg_rng outer = rng;
    rng = gg_rng_seed(128);
    for (int learned = 0; learned <= 1; learned++) {
        int NE = 2100, CE = 128, TE = 70, VE = 37, *ids = malloc(sizeof *ids * NE);
        random_tokens(ids, NE, VE);
        float *de = randn((size_t)NE * CE, 1), *h1 = randn((size_t)VE * CE, 1);
        float *h2 = copy(h1, (size_t)VE * CE), *hp1 = randn((size_t)TE * CE, 1);
        float *hp2 = copy(hp1, (size_t)TE * CE);
        long before = gg_threaded_loops();
        r->encoder_backward(h1, learned ? hp1 : NULL, de, ids, NE, TE, CE);
        o->encoder_backward(h2, learned ? hp2 : NULL, de, ids, NE, TE, CE);
        CHECK(memcmp(h1, h2, sizeof *h1 * VE * CE) == 0 && memcmp(hp1, hp2, sizeof *hp1 * TE * CE) == 0,
              "encoder_backward of %d rows of %d, %s positions", NE, CE, learned ? "learned" : "fixed");
#ifdef _OPENMP
        CHECK(gg_threads() < 2 || gg_threaded_loops() > before, "encoder_backward ran on one thread");
#endif
        (void)before;
        free(ids), free(de), free(h1), free(h2), free(hp1), free(hp2);
    }
    rng = outer;
    // AdamW
    float *pa = randn(1000, 1), *pb = copy(pa, 1000), *gr = randn(1000, 1);
    float *ma = randn(1000, 0.1f), *mb = copy(ma, 1000), *va = zeros(1000), *vb = zeros(1000);
    r->adamw_update(pa, gr, ma, va, 1000, 0.999f, 0.9f, 0.95f, 1e-8f, 1e-3f, 0.3f);
    o->adamw_update(pb, gr, mb, vb, 1000, 0.999f, 0.9f, 0.95f, 1e-8f, 1e-3f, 0.3f);
    CHECK(memcmp(pa, pb, 4000) == 0 && memcmp(ma, mb, 4000) == 0 && memcmp(va, vb, 4000) == 0,
          "adamw_update");
    free(pa), free(pb), free(gr), free(ma), free(mb), free(va), free(vb);
    float *all[] = {inp, w, bias, o1, o2, dout, di1, di2, dw1, dw2, db1, db2, qkv, a1, a2, s1, s2,
                    p1, p2, da, dq1, dq2, lw, lb, l1, l2, dl, dx1, dx2, dlw1, dlw2, dlb1, dlb2,
                    logits, pr1, pr2, t1, t2, wte, wpe, e1, e2, g1, g2, gp1, gp2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
}

// ---- kernels: backward against finite differences ----
//
// Each check builds a scalar L = sum(out * r) for a random r, so that dout = r,
// and compares the analytic gradient of one input with central differences.

typedef struct {
    const gg_ops *ops;
    float *r;  // the random projection of the output
} probe;

static double dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

// Central difference of f with respect to x[i]; f recomputes the loss.
#define NUMERIC_GRAD(x, i, f, out)                           \
    do {                                                     \
        float saved = (x)[i], h = 1e-2f;                     \
        (x)[i] = saved + h;                                  \
        double up = (f);                                     \
        (x)[i] = saved - h;                                  \
        double down = (f);                                   \
        (x)[i] = saved;                                      \
        (out) = (up - down) / (2.0 * h);                     \
    } while (0)

static int grad_close(double analytic, double numeric) {
    return fabs(analytic - numeric) <= 2e-3 + 2e-2 * fabs(numeric);
}

static double ln_loss(const gg_ops *ops, float *out, float *mean, float *rstd, const float *inp,
                      const float *w, const float *b, const float *r, int N, int C) {
    ops->layernorm_forward(out, mean, rstd, inp, w, b, N, C);
    return dot(out, r, (size_t)N * C);
}

// The optimised attention, which takes the queries in blocks (or a short
// head's in vector lanes), with head sizes in registers, padding and tails,
// against the reference, bit for bit; also without the scores, as training
// runs it. The outputs start as noise, so that each must be written whole.
static void test_attention_matches_reference(void) {
    // a stream of its own, so that its shapes can change without changing
    // what the cases after it draw (the gradient checks' points)
    gg_rng outer = rng;
    rng = gg_rng_seed(336);
    const struct {
        int B, T, C, NH;
    } shapes[] = {
        {2, 5, 9, 3},   // hs 3: a head in one chunk
        {2, 9, 40, 2},  // hs 20: the reference's rows
        {2, 37, 32, 2}, // hs 16, a block cut short, keys past a multiple of 16
        {1, 21, 24, 3}, // hs 8
        {1, 19, 48, 1}, // hs 48: three chunks of 16
        {1, 40, 40, 1}, // hs 40: five chunks of 8
        {3, 64, 64, 4}, // blocks that divide T
        {1, 1, 16, 1},  // one position
        {1, 90, 128, 8}, // base's heads: a long cache shares them out among threads
        {1, 20, 48, 12}, // hs 4: more heads than a decode step takes at once
        {2, 64, 8, 2},  // hs 4, T 64: the shape of the benchmark (a)
        {1, 48, 20, 2}, // hs 10: lanes for a head size of no code of its own
        {2, 35, 12, 2}, // hs 6: backward in lanes too, two blocks and a tail
    };
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        int B = shapes[k].B, T = shapes[k].T, C = shapes[k].C, NH = shapes[k].NH;
        size_t nq = (size_t)B * T * 3 * C, no = (size_t)B * T * C, na = (size_t)B * NH * T * T;
        float *qkv = randn(nq, 1), *dout = randn(no, 1), *o[3], *s[3], *a[3], *dq[3];
        for (int i = 0; i < 3; i++) {
            o[i] = randn(no, 1), s[i] = zeros(na), a[i] = randn(na, 1), dq[i] = randn(nq, 1);
            if (i) memcpy(dq[i], dq[0], sizeof(float) * nq);  // gradients add to what is there
        }
        gg_ops_ref.attention_forward(o[0], s[0], a[0], qkv, B, T, C, NH);
        gg_ops_cpu.attention_forward(o[1], s[1], a[1], qkv, B, T, C, NH);
        gg_ops_cpu.attention_forward(o[2], NULL, a[2], qkv, B, T, C, NH);
        CHECK(memcmp(o[0], o[1], sizeof(float) * no) == 0 && memcmp(a[0], a[1], sizeof(float) * na) == 0 &&
              memcmp(s[0], s[1], sizeof(float) * na) == 0, "attention_forward, shape %zu", k);
        CHECK(memcmp(o[0], o[2], sizeof(float) * no) == 0 && memcmp(a[0], a[2], sizeof(float) * na) == 0,
              "attention_forward without scores, shape %zu", k);
        gg_ops_ref.attention_forward(o[2], NULL, a[2], qkv, B, T, C, NH);
        CHECK(memcmp(o[0], o[2], sizeof(float) * no) == 0, "the reference without scores, shape %zu", k);
        // one query against a cache, as generation runs it: the last row of
        // each length, of the first sequence
        float *kc = zeros((size_t)T * C), *vc = zeros((size_t)T * C), *od[2], *sd[2], *ad[2];
        for (int t = 0; t < T; t++) {
            memcpy(kc + (size_t)t * C, qkv + (size_t)t * 3 * C + C, sizeof(float) * C);
            memcpy(vc + (size_t)t * C, qkv + (size_t)t * 3 * C + 2 * C, sizeof(float) * C);
        }
        for (int i = 0; i < 2; i++) od[i] = zeros(C), sd[i] = zeros((size_t)NH * T), ad[i] = zeros((size_t)NH * T);
        long before = gg_threaded_loops();
        for (int len = 1; len <= T; len += len < 20 ? 1 : 7) {
            const float *qt = qkv + (size_t)(len - 1) * 3 * C;
            gg_ops_ref.attention_decode(od[0], sd[0], ad[0], qt, kc, vc, len, C, NH);
            gg_ops_cpu.attention_decode(od[1], sd[1], ad[1], qt, kc, vc, len, C, NH);
            CHECK(memcmp(od[0], od[1], sizeof(float) * C) == 0 &&
                  memcmp(sd[0], sd[1], sizeof(float) * NH * len) == 0 &&
                  memcmp(ad[0], ad[1], sizeof(float) * NH * len) == 0, "attention_decode, shape %zu, "
                  "length %d", k, len);
            CHECK(memcmp(od[1], o[0] + (size_t)(len - 1) * C, sizeof(float) * C) == 0,
                  "attention_decode differs from the row of attention_forward, shape %zu, length %d", k, len);
        }
#ifdef _OPENMP
        CHECK(C < 128 || gg_threads() < 2 || gg_threaded_loops() > before,
              "attention_decode of %d heads never ran on two threads", NH);
#endif
        (void)before;
        free(kc), free(vc);
        for (int i = 0; i < 2; i++) free(od[i]), free(sd[i]), free(ad[i]);
        gg_ops_ref.attention_backward(dq[0], dout, qkv, a[0], B, T, C, NH);
        gg_ops_cpu.attention_backward(dq[1], dout, qkv, a[0], B, T, C, NH);
        CHECK(memcmp(dq[0], dq[1], sizeof(float) * nq) == 0, "attention_backward, shape %zu", k);
        // an infinite value at the last position: only the last query sees
        // it, though its block computes with it for all; and one in the
        // gradient of a middle query, which only the keys it sees may take
        qkv[nq - 1] = INFINITY;
        dout[(size_t)T / 2 * C] = INFINITY;
        gg_ops_ref.attention_forward(o[0], NULL, a[0], qkv, B, T, C, NH);
        gg_ops_cpu.attention_forward(o[2], NULL, a[2], qkv, B, T, C, NH);
        CHECK(memcmp(o[0], o[2], sizeof(float) * no) == 0 && memcmp(a[0], a[2], sizeof(float) * na) == 0,
              "attention_forward with an infinite value, shape %zu", k);
        gg_ops_ref.attention_backward(dq[0], dout, qkv, a[0], B, T, C, NH);
        gg_ops_cpu.attention_backward(dq[1], dout, qkv, a[0], B, T, C, NH);
        CHECK(memcmp(dq[0], dq[1], sizeof(float) * nq) == 0,
              "attention_backward with an infinite value, shape %zu", k);
        free(qkv);
        free(dout);
        for (int i = 0; i < 3; i++) free(o[i]), free(s[i]), free(a[i]), free(dq[i]);
    }
    rng = outer;
}

// The elementary functions written out for the same bits everywhere agree
// with libm's to about 1e-15 across their ranges.
static void test_detmath_is_accurate(void) {
    double worst_log = 0, worst_exp = 0, worst_cos = 0, worst_pow = 0;
    for (int i = 0; i <= 2000; i++) {
        double x = pow(10.0, -300.0 + 0.3 * i) * (1.0 + 0.37 * (i % 7) / 7.0);
        double e = fabs(gg_log(x) - log(x)) / fmax(fabs(log(x)), 1.0);
        worst_log = fmax(worst_log, e);
        double y = -700.0 + 0.7 * i;
        worst_exp = fmax(worst_exp, fabs(gg_exp(y) - exp(y)) / exp(y));
        double u = -3.0 + 0.00377 * i;  // turns, negative and past 1 too
        worst_cos = fmax(worst_cos, fabs(gg_cos_turns(u) - cos(6.28318530717958647692 * u)));
        worst_cos = fmax(worst_cos, fabs(gg_sin_turns(u) - sin(6.28318530717958647692 * u)));
        double b = 0.5 + 0.5 * i / 2000.0;
        // repeated squaring: about one rounding per power, n of them
        worst_pow = fmax(worst_pow, fabs(gg_pow_int(b, i * 37) - pow(b, i * 37)) /
                                        fmax(pow(b, i * 37), 1e-300) / (i * 37 + 1));
    }
    CHECK(worst_log < 1e-15, "gg_log is off by %g", worst_log);
    CHECK(worst_exp < 1e-14, "gg_exp is off by %g", worst_exp);
    CHECK(worst_cos < 1e-14, "gg_cos_turns or gg_sin_turns is off by %g", worst_cos);
    CHECK(worst_pow < 4e-16, "gg_pow_int is off by %g per power", worst_pow);
    CHECK(gg_log(1.0) == 0.0 && gg_log(0.0) == -INFINITY && isnan(gg_log(-1.0)) && gg_exp(0.0) == 1.0 &&
          gg_cos_turns(0.0) == 1.0 && gg_pow_int(0.9, 0) == 1.0, "the exact cases");
}

// The kernels' float exponential, over its range of x <= 0: within 1.5e-7 of
// libm's wherever e^x is a normal float (1.5e-7: about an ulp), and exact at
// the ends. (expf_neg_error keeps the worst relative error so far.)
static void expf_neg_error(float x, double *worst, double *x_worst) {
    double e = exp((double)x), err = fabs(gg_expf_neg(x) - e) / e;
    if (err > *worst) *worst = err, *x_worst = x;
}
static void test_expf_neg_is_accurate(void) {
    double worst = 0, x_worst = 0;
    for (int i = 0; i <= 2000000; i++) expf_neg_error(-87.3f * (float)i / 2000000.0f, &worst, &x_worst);
    // x near 0, down to the least float
    for (int k = 1; k <= 149; k++)
        for (int j = 0; j < 64; j++) expf_neg_error(-ldexpf(1.0f + j / 64.0f, -k), &worst, &x_worst);
    CHECK(worst < 1.5e-7, "gg_expf_neg is off by %g at %g", worst, x_worst);
    float tiny = gg_expf_neg(-INFINITY);
    CHECK(gg_expf_neg(0.0f) == 1.0f && gg_expf_neg(-0.0f) == 1.0f && gg_expf_neg(3.0f) == 1.0f &&
              tiny > 0.0f && tiny == gg_expf_neg(-87.33654f) && tiny == gg_expf_neg(-1000.0f) &&
              isnan(gg_expf_neg(NAN)),
          "the ends: e^0 = 1, a positive x taken as 0, -inf as the least, NaN as NaN");
}

// Dropout: the same in both tables and in any split of a tensor; drops about
// p of the elements and scales the rest by exactly 1 / (1 - p); and the
// model, dropping, learns something else than not dropping.
static void test_dropout(void) {
    size_t n = 100003, k = 40000;
    float p = 0.1f, *x = randn(n, 1), *a = copy(x, n), *b = copy(x, n), *c = copy(x, n);
    gg_ops_ref.dropout(a, n, 5, p, 42);
    gg_ops_cpu.dropout(b, n, 5, p, 42);
    gg_ops_cpu.dropout(c, k, 5, p, 42);  // in two pieces, each knowing where it starts
    gg_ops_cpu.dropout(c + k, n - k, 5 + k, p, 42);
    CHECK(memcmp(a, b, sizeof(float) * n) == 0, "the cpu dropout differs from the reference");
    CHECK(memcmp(a, c, sizeof(float) * n) == 0, "dropout in two pieces differs from in one");
    size_t zeros = 0, wrong = 0;
    for (size_t i = 0; i < n; i++) {
        zeros += a[i] == 0.0f;
        wrong += a[i] != 0.0f && a[i] != x[i] * (1.0f / (1.0f - p));
    }
    CHECK(fabs((double)zeros / n - p) < 0.005, "%zu of %zu dropped, want about %g", zeros, n, (double)p);
    CHECK(wrong == 0, "%zu kept elements are not scaled by 1 / (1 - p)", wrong);
    memcpy(b, x, sizeof(float) * n);
    gg_ops_cpu.dropout(b, n, 5, p, 43);
    CHECK(memcmp(a, b, sizeof(float) * n) != 0, "another seed drops the same elements");
    memcpy(b, x, sizeof(float) * n);
    gg_ops_cpu.dropout(b, n, 5, 0.0f, 42);
    CHECK(memcmp(x, b, sizeof(float) * n) == 0, "dropout 0 changed something");
    free(x), free(a), free(b), free(c);

    gg_config cfg = tiny_config(GG_POS_LEARNED);
    int B = 2, T = 5, tx[10], ty[10];
    random_tokens(tx, B * T, cfg.vocab);
    random_tokens(ty, B * T, cfg.vocab);
    gg_model m;
    gg_error err;
    new_model(&m, &cfg, 3);
    gg_model_forward(&m, tx, ty, B, T, NULL);
    float plain = m.loss;
    m.dropout = (gg_dropout){0.5f, 1, 0};
    gg_model_forward(&m, tx, ty, B, T, NULL);
    float dropped = m.loss;
    m.dropout = (gg_dropout){1.0f, 1, 0};
    CHECK(gg_model_forward(&m, tx, ty, B, T, &err) == GG_ERR_ARG && strstr(err.msg, "dropout 1"),
          "dropout 1 was not refused");
    m.dropout.p = 0.0f;
    gg_model_forward(&m, tx, ty, B, T, NULL);
    CHECK(plain != dropped && m.loss == plain, "losses %g without dropout, %g with, %g after",
          (double)plain, (double)dropped, (double)m.loss);
    gg_model_free(&m);
}

// Layer norm's optimised kernels against the reference, bit for bit, at
// widths that fill vectors and ones that leave a tail, adding onto
// gradients already there.
static void test_layernorm_matches_reference(void) {
    const int shapes[][2] = {{11, 13}, {37, 40}, {300, 128}, {5, 1}};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        int N = shapes[k][0], C = shapes[k][1];
        size_t nc = (size_t)N * C;
        float *x = randn(nc, 1), *w = randn(C, 1), *b = randn(C, 1), *dout = randn(nc, 1);
        float *o[2], *mean[2], *rstd[2], *dx[2], *dw[2], *db[2];
        for (int i = 0; i < 2; i++) {
            o[i] = zeros(nc), mean[i] = zeros(N), rstd[i] = zeros(N);
            dx[i] = i ? copy(dx[0], nc) : randn(nc, 1);
            dw[i] = i ? copy(dw[0], C) : randn(C, 1);
            db[i] = i ? copy(db[0], C) : randn(C, 1);
        }
        const gg_ops *ops[2] = {&gg_ops_ref, &gg_ops_cpu};
        for (int i = 0; i < 2; i++) {
            ops[i]->layernorm_forward(o[i], mean[i], rstd[i], x, w, b, N, C);
            ops[i]->layernorm_backward(dx[i], dw[i], db[i], dout, x, w, mean[0], rstd[0], N, C);
        }
        CHECK(memcmp(o[0], o[1], sizeof(float) * nc) == 0 && memcmp(mean[0], mean[1], sizeof(float) * N) == 0 &&
              memcmp(rstd[0], rstd[1], sizeof(float) * N) == 0, "layernorm_forward, %d x %d", N, C);
        CHECK(memcmp(dx[0], dx[1], sizeof(float) * nc) == 0, "layernorm_backward dx, %d x %d", N, C);
        CHECK(memcmp(dw[0], dw[1], sizeof(float) * C) == 0 && memcmp(db[0], db[1], sizeof(float) * C) == 0,
              "layernorm_backward dw and db, %d x %d", N, C);
        free(x), free(w), free(b), free(dout);
        for (int i = 0; i < 2; i++) free(o[i]), free(mean[i]), free(rstd[i]), free(dx[i]), free(dw[i]), free(db[i]);
    }
}

static void test_kernel_gradients(void) {
    for (int which = 0; which < 2; which++) {
        const gg_ops *ops = which ? &gg_ops_cpu : &gg_ops_ref;
        int N = 4, C = 6, OC = 5, B = 2, T = 4, NH = 2, Cq = 6;
        // layer norm: inputs, weight, bias
        float *x = randn((size_t)N * C, 1), *w = randn(C, 1), *b = randn(C, 1);
        float *out = zeros((size_t)N * C), *r = randn((size_t)N * C, 1), mean[4], rstd[4];
        float *dx = zeros((size_t)N * C), *dw = zeros(C), *db = zeros(C);
        ln_loss(ops, out, mean, rstd, x, w, b, r, N, C);
        ops->layernorm_backward(dx, dw, db, r, x, w, mean, rstd, N, C);
        for (int i = 0; i < N * C; i++) {
            double num;
            NUMERIC_GRAD(x, i, ln_loss(ops, out, mean, rstd, x, w, b, r, N, C), num);
            CHECK(grad_close(dx[i], num), "%s layernorm dx[%d] %g vs %g", ops->name, i, dx[i], num);
        }
        for (int i = 0; i < C; i++) {
            double num;
            NUMERIC_GRAD(w, i, ln_loss(ops, out, mean, rstd, x, w, b, r, N, C), num);
            CHECK(grad_close(dw[i], num), "%s layernorm dw[%d]", ops->name, i);
            NUMERIC_GRAD(b, i, ln_loss(ops, out, mean, rstd, x, w, b, r, N, C), num);
            CHECK(grad_close(db[i], num), "%s layernorm db[%d]", ops->name, i);
        }
        // matmul
        float *mw = randn((size_t)C * OC, 1), *mb = randn(OC, 1), *mo = zeros((size_t)N * OC);
        float *mr = randn((size_t)N * OC, 1), *mdx = zeros((size_t)N * C);
        float *mdw = zeros((size_t)C * OC), *mdb = zeros(OC);
#define MM_LOSS (ops->matmul_forward(mo, x, mw, mb, N, C, OC), dot(mo, mr, (size_t)N * OC))
        ops->matmul_backward(mdx, mdw, mdb, mr, x, mw, N, C, OC);
        for (int i = 0; i < N * C; i++) {
            double num;
            NUMERIC_GRAD(x, i, MM_LOSS, num);
            CHECK(grad_close(mdx[i], num), "%s matmul dx[%d]", ops->name, i);
        }
        for (int i = 0; i < C * OC; i++) {
            double num;
            NUMERIC_GRAD(mw, i, MM_LOSS, num);
            CHECK(grad_close(mdw[i], num), "%s matmul dw[%d]", ops->name, i);
        }
        for (int i = 0; i < OC; i++) {
            double num;
            NUMERIC_GRAD(mb, i, MM_LOSS, num);
            CHECK(grad_close(mdb[i], num), "%s matmul db[%d]", ops->name, i);
        }
        // attention
        float *qkv = randn((size_t)B * T * 3 * Cq, 1), *ao = zeros((size_t)B * T * Cq);
        float *sc = zeros((size_t)B * NH * T * T), *att = zeros((size_t)B * NH * T * T);
        float *ar = randn((size_t)B * T * Cq, 1), *dqkv = zeros((size_t)B * T * 3 * Cq);
#define ATT_LOSS (ops->attention_forward(ao, sc, att, qkv, B, T, Cq, NH), dot(ao, ar, (size_t)B * T * Cq))
        (void)ATT_LOSS;
        ops->attention_backward(dqkv, ar, qkv, att, B, T, Cq, NH);
        for (int i = 0; i < B * T * 3 * Cq; i++) {
            double num;
            NUMERIC_GRAD(qkv, i, ATT_LOSS, num);
            CHECK(grad_close(dqkv[i], num), "%s attention dqkv[%d] %g vs %g", ops->name, i, dqkv[i], num);
        }
        // GELU
        float *go = zeros((size_t)N * C), *gd = zeros((size_t)N * C);
#define GELU_LOSS (ops->gelu_forward(go, x, N * C), dot(go, r, (size_t)N * C))
        ops->gelu_backward(gd, x, r, N * C);
        for (int i = 0; i < N * C; i++) {
            double num;
            NUMERIC_GRAD(x, i, GELU_LOSS, num);
            CHECK(grad_close(gd[i], num), "%s gelu dx[%d]", ops->name, i);
        }
        // softmax + cross-entropy: L = mean of -log p[target]
        int V = 7, targets[4] = {1, 6, 0, 3};
        float *lg = randn((size_t)N * V, 1), *pr = zeros((size_t)N * V), losses[4];
        // the loss's gradient is written, not added: it starts as noise
        float *dlg = randn((size_t)N * V, 1);
#define CE_LOSS (ops->softmax_forward(pr, lg, N, V), ops->crossentropy_forward(losses, pr, targets, N, V), \
                 (losses[0] + losses[1] + losses[2] + losses[3]) / 4.0)
        (void)CE_LOSS;
        ops->crossentropy_softmax_backward(dlg, pr, targets, 0.25f, N, V);
        for (int i = 0; i < N * V; i++) {
            double num;
            NUMERIC_GRAD(lg, i, CE_LOSS, num);
            CHECK(grad_close(dlg[i], num), "%s softmax+crossentropy dlogits[%d]", ops->name, i);
        }
        float *all[] = {x, w, b, out, r, dx, dw, db, mw, mb, mo, mr, mdx, mdw, mdb, qkv, ao, sc,
                        att, ar, dqkv, go, gd, lg, pr, dlg};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
    }
}

// ---- the whole model ----

static double model_loss(gg_model *m, const int *x, const int *y, int B, int T) {
    gg_model_forward(m, x, y, B, T, NULL);
    return m->loss;
}

static void check_model_gradients(int pos_kind, const gg_ops *ops, float dropout) {
    gg_config cfg = tiny_config(pos_kind);
    gg_model m;
    gg_error err;
    CHECK(gg_model_init(&m, &cfg, &err) == GG_OK, "%s", err.msg);
    m.ops = ops;
    m.dropout = (gg_dropout){dropout, 77, 3};  // every forward pass drops the same
    gg_model_init_weights(&m, 7);
    // larger weights than GPT-2's 0.02 so that every path carries signal
    for (size_t i = 0; i < m.n_params; i++) m.params_mem[i] += 0.3f * gg_rng_normal(&rng);
    if (pos_kind == GG_POS_SINUSOIDAL) gg_sinusoidal_table(m.params.wpe, cfg.ctx, cfg.d_model);
    int B = 2, T = 5, x[10], y[10];
    random_tokens(x, B * T, cfg.vocab);
    random_tokens(y, B * T, cfg.vocab);
    model_loss(&m, x, y, B, T);
    CHECK(gg_model_zero_grad(&m, &err) == GG_OK && gg_model_backward(&m, &err) == GG_OK, "%s", err.msg);
    float *grads = copy(m.grads_mem, m.n_params);
    gg_tensor_info info[GG_N_PARAM_TENSORS];
    gg_param_layout(&cfg, info);
    size_t off = 0;
    for (int k = 0; k < GG_N_PARAM_TENSORS; off += info[k].size, k++) {
        // up to 12 entries of each tensor, spread over it
        for (size_t j = 0; j < 12 && j < info[k].size; j++) {
            size_t i = off + (j * 7919) % info[k].size;
            double num;
            NUMERIC_GRAD(m.params_mem, i, model_loss(&m, x, y, B, T), num);
            if (k == GG_WPE && pos_kind == GG_POS_SINUSOIDAL) {
                CHECK(grads[i] == 0.0f, "a fixed position table gets no gradient");
                continue;
            }
            CHECK(grad_close(grads[i], num), "%s %s model, dropout %g, d%s[%zu]: analytic %g, "
                  "numeric %g", ops->name, pos_kind ? "sinusoidal" : "learned", (double)dropout,
                  info[k].name, i - off, grads[i], num);
        }
    }
    free(grads);
    gg_model_free(&m);
}

static void test_model_gradients(void) {
    check_model_gradients(GG_POS_LEARNED, &gg_ops_ref, 0.0f);
    check_model_gradients(GG_POS_LEARNED, &gg_ops_cpu, 0.0f);
    check_model_gradients(GG_POS_LEARNED, &gg_ops_ref, 0.3f);
    check_model_gradients(GG_POS_LEARNED, &gg_ops_cpu, 0.3f);
    check_model_gradients(GG_POS_SINUSOIDAL, &gg_ops_cpu, 0.0f);
}

static void test_initial_loss_is_near_ln_v(void) {
    gg_config cfg;
    gg_config_preset(&cfg, "tiny", NULL);
    gg_model m;
    new_model(&m, &cfg, 1);
    int x[4 * 8], y[4 * 8];
    random_tokens(x, 32, cfg.vocab);
    random_tokens(y, 32, cfg.vocab);
    gg_model_forward(&m, x, y, 4, 8, NULL);
    CHECK(fabs(m.loss - log(768.0)) < 0.05, "initial loss %f, ln(768) = %f", m.loss, log(768.0));
    gg_model_free(&m);
}

#define NAME(name, ...) #name,
static const char *const block_names[] = {GG_OBSERVED_BLOCK(NAME)};
#undef NAME
enum { N_BLOCK = sizeof block_names / sizeof *block_names, N_OBSERVED = N_BLOCK + 4 };
static const char *observed_names[N_OBSERVED] = {"encoded"};
static int observed[N_OBSERVED];

static void count_observation(void *user, const char *name, int layer, const float *data,
                              const int *shape, int ndim) {
    (void)user, (void)layer, (void)data, (void)shape, (void)ndim;
    for (int i = 0; i < N_OBSERVED; i++)
        if (strcmp(name, observed_names[i]) == 0) observed[i]++;
}

static void test_observer_sees_every_intermediate(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    gg_model m;
    new_model(&m, &cfg, 3);
    m.observe = count_observation;
    int x[6];
    random_tokens(x, 6, cfg.vocab);
    memset(observed, 0, sizeof observed);
    for (int i = 0; i < N_BLOCK; i++) observed_names[1 + i] = block_names[i];
    observed_names[N_BLOCK + 1] = "lnf";
    observed_names[N_BLOCK + 2] = "logits";
    observed_names[N_BLOCK + 3] = "probs";
    gg_model_forward(&m, x, NULL, 1, 6, NULL);
    for (int i = 0; i < N_OBSERVED; i++) {
        int per_layer = i >= 1 && i <= N_BLOCK;
        CHECK(observed[i] == (per_layer ? cfg.n_layer : 1), "%s observed %d times",
              observed_names[i], observed[i]);
    }
    // the scores hold the pre-mask values above the diagonal too
    const float *s = m.acts.scores, *q = m.acts.qkv, *k = m.acts.qkv + cfg.d_model;
    int hs = cfg.d_model / cfg.n_head;
    double want = 0.0;
    for (int i = 0; i < hs; i++) want += (double)q[i] * k[5 * 3 * cfg.d_model + i];  // query 0, key 5
    want /= sqrt((double)hs);
    CHECK(fabs(s[5] - want) < 1e-5, "score of query 0, key 5 is %f, want %f", s[5], want);
    CHECK(m.acts.att[5] == 0.0f, "after the mask, query 0 gives key 5 no weight");
    gg_model_free(&m);
}

// ---- the logit lens and the embedding map ----

static void test_logit_lens(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    gg_model m;
    new_model(&m, &cfg, 5);
    enum { T = 6 };
    int x[T];
    random_tokens(x, T, cfg.vocab);
    for (int j = 0; j < cfg.d_model; j++) {  // every layer norm's own weights, not the initial 1 and 0
        for (int l = 0; l < cfg.n_layer; l++) {
            m.params.ln1w[l * cfg.d_model + j] = 0.5f + gg_rng_float(&rng);
            m.params.ln1b[l * cfg.d_model + j] = gg_rng_float(&rng) - 0.5f;
        }
        m.params.lnfw[j] = 0.5f + gg_rng_float(&rng);
        m.params.lnfb[j] = gg_rng_float(&rng) - 0.5f;
    }
    CHECK(gg_model_forward(&m, x, NULL, 1, T, NULL) == GG_OK, "forward");
    int L = cfg.n_layer, C = cfg.d_model, V = cfg.vocab;
    float *probs = malloc(sizeof *probs * T * V);
    // the last block's output through the lens is the model's prediction, bit for bit
    CHECK(gg_logit_lens(&m, m.acts.res_ff + (size_t)(L - 1) * T * C, T, probs, NULL) == GG_OK, "lens");
    CHECK(memcmp(probs, m.acts.probs, sizeof *probs * T * V) == 0, "the last layer's lens is the model's probabilities");
    // an earlier layer's is a distribution of its own
    CHECK(gg_logit_lens(&m, m.acts.encoded, T, probs, NULL) == GG_OK, "lens of the embeddings");
    double sum = 0.0;
    for (int v = 0; v < V; v++) sum += probs[v];
    CHECK(fabs(sum - 1.0) < 1e-5, "the lens of a row sums to %f", sum);
    CHECK(memcmp(probs, m.acts.probs, sizeof *probs * V) != 0, "the embeddings' lens differs from the output");
    gg_error err;
    CHECK(gg_logit_lens(&m, m.acts.encoded, 0, probs, &err) == GG_ERR_ARG, "no rows is refused");
    free(probs);
    gg_model_free(&m);
}

static void test_pca_finds_the_spread(void) {
    // points spread along two known orthogonal directions in 5 dimensions,
    // 3 times wider along the first, plus a little noise, and an offset
    enum { n = 400, d = 5 };
    double u[d] = {0.6, 0.0, 0.8, 0.0, 0.0}, w[d] = {0.0, -0.8, 0.0, 0.6, 0.0};
    float *X = malloc(sizeof *X * n * d), coords[2 * n], axes[2 * d];
    double sum_a = 0.0, sum_aa = 0.0, sum_b = 0.0, sum_bb = 0.0;  // the spread drawn
    for (int i = 0; i < n; i++) {
        double a = 3.0 * (2.0 * gg_rng_float(&rng) - 1.0), b = 2.0 * gg_rng_float(&rng) - 1.0;
        sum_a += a, sum_aa += a * a, sum_b += b, sum_bb += b * b;
        for (int j = 0; j < d; j++)
            X[i * d + j] = (float)(a * u[j] + b * w[j] + 0.01 * (gg_rng_float(&rng) - 0.5) + j);
    }
    double var[3];
    CHECK(gg_pca2(X, n, d, coords, axes, var, NULL) == GG_OK, "pca");
    double dot_u = 0.0, dot_w = 0.0, norm = 0.0;
    for (int j = 0; j < d; j++) {
        dot_u += axes[j] * u[j];
        dot_w += axes[d + j] * w[j];
        norm += axes[j] * axes[j];
    }
    CHECK(fabs(fabs(dot_u) - 1.0) < 1e-3 && fabs(fabs(dot_w) - 1.0) < 1e-3,
          "the axes are the spread's directions (%f, %f)", dot_u, dot_w);
    CHECK(fabs(norm - 1.0) < 1e-6, "the axes are unit vectors (%f)", norm);
    CHECK(axes[2] > 0 && axes[d + 1] > 0 && axes[d + 3] < 0, "the largest entry of each axis is positive");
    // about 9 to 1, as drawn: the ratio of the sample's own variances
    double drawn = (sum_aa - sum_a * sum_a / n) / (sum_bb - sum_b * sum_b / n);
    CHECK(fabs(var[0] / var[1] - drawn) < 0.02 * drawn && drawn > 6.0 && drawn < 13.0,
          "variances %f and %f (%f to 1 as drawn)", var[0], var[1], drawn);
    CHECK(var[0] + var[1] <= var[2] && var[0] + var[1] > 0.999 * var[2], "the two hold nearly all of %f", var[2]);
    // a point's coordinates are its centred offset along each axis
    double mean[d] = {0};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mean[j] += X[i * d + j] / n;
    double c0 = 0.0;
    for (int j = 0; j < d; j++) c0 += (X[7 * d + j] - mean[j]) * axes[j];
    CHECK(fabs(c0 - coords[14]) < 1e-4, "point 7 at %f along the first axis, want %f", coords[14], c0);
    gg_error err;
    CHECK(gg_pca2(X, 1, d, coords, axes, var, &err) == GG_ERR_ARG, "one point is refused");
    free(X);
}

// ---- inference ----

static void test_kv_cache_matches_full_forward(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    cfg.ctx = 9;
    cfg.d_model = 32;  // 3C and F over 64: the matmuls' full tiles are used too
    cfg.n_head = 4;
    cfg.d_ff = 80;
    cfg.vocab = 70;
    gg_model m;
    new_model(&m, &cfg, 5);
    for (size_t i = 0; i < m.n_params; i++) m.params_mem[i] += 0.2f * gg_rng_normal(&rng);
    int x[9];
    random_tokens(x, 9, cfg.vocab);
    gg_model_forward(&m, x, NULL, 1, 9, NULL);
    gg_infer inf;
    gg_error err;
    CHECK(gg_infer_init(&inf, &m, &err) == GG_OK, "%s", err.msg);
    for (int pos = 0; pos < 9; pos++) {
        CHECK(gg_infer_forward(&inf, x[pos], pos, &err) == GG_OK, "%s", err.msg);
        const float *full = m.acts.logits + (size_t)pos * cfg.vocab;
        CHECK(memcmp(inf.logits, full, sizeof(float) * (size_t)cfg.vocab) == 0,
              "position %d: the cached logits differ from the full forward's (worst %g)", pos,
              worst(inf.logits, full, (size_t)cfg.vocab, 1e-30, 0));
    }
    // out of range: refused, with nothing written
    float before = inf.logits[0];
    int bad[][2] = {{-1, 0}, {cfg.vocab, 0}, {1 << 30, 0}, {0, -1}, {0, 9}, {0, 1 << 30}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(gg_infer_forward(&inf, bad[i][0], bad[i][1], &err) == GG_ERR_ARG,
              "token %d at position %d was accepted", bad[i][0], bad[i][1]);
    CHECK(strstr(err.msg, "position 1073741824 is outside the context of 9"), "%s", err.msg);
    CHECK(inf.logits[0] == before, "a refused call changed the logits");
    int shapes[][2] = {{0, 1}, {1, 0}, {-1, 4}, {1, 10}, {70000, 1}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        CHECK(gg_model_forward(&m, x, NULL, shapes[i][0], shapes[i][1], &err) == GG_ERR_ARG,
              "a batch of %d x %d was accepted", shapes[i][0], shapes[i][1]);
    gg_infer_free(&inf);
    gg_model_free(&m);
}

static void generate_greedy(gg_model *m, int use_cache, int n, int *out, long *positions) {
    gg_generator g;
    gg_sampler s;
    gg_generator_init(&g, m, use_cache, NULL);
    gg_sampler_init(&s, m->cfg.vocab, 0.0f, 0, 1.0f, 1, NULL);
    int tok = 3;
    for (int i = 0; i < n; i++) {
        gg_generator_push(&g, tok, NULL);
        out[i] = tok = gg_sample(&s, g.logits);
    }
    *positions = g.positions;
    gg_sampler_free(&s);
    gg_generator_free(&g);
}

static void test_cache_and_no_cache_generate_the_same_tokens(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    gg_model m;
    new_model(&m, &cfg, 11);
    for (size_t i = 0; i < m.n_params; i++) m.params_mem[i] += 0.3f * gg_rng_normal(&rng);
    int a[40], b[40];
    long pa, pb;
    generate_greedy(&m, 1, 40, a, &pa);  // 40 tokens through a context of 6: many slides
    generate_greedy(&m, 0, 40, b, &pb);
    CHECK(memcmp(a, b, sizeof a) == 0, "the KV cache changed the generated tokens");
    CHECK(pa < pb, "the cache computed %ld positions, without it %ld", pa, pb);
    gg_model_free(&m);
}

// ---- training ----

static int *corpus_tokens(size_t n, int V) {
    int *t = malloc(sizeof *t * n);
    for (size_t i = 0; i < n; i++) t[i] = (int)((i * 7 + i / 3) % (size_t)V);  // learnable
    return t;
}

static void train_steps(gg_trainer *tr, int steps) {
    for (int i = 0; i < steps; i++) gg_train_step(tr, NULL);
}

// Sizes past the kernels' threshold for threads (a matmul of 256 rows of 64
// into 192 is 3 million multiply-adds), so that two threads really run: the
// test counts the loops that ran threaded, and fails if there were none.
// Heads of 8 take attention's lanes, forward and backward.
static void test_results_do_not_depend_on_threads(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    cfg.d_model = 64;
    cfg.n_head = 8;
    cfg.d_ff = 200;
    cfg.ctx = 32;
    int *tokens = corpus_tokens(6000, cfg.vocab);
    gg_optim_cfg opt = gg_optim_defaults();
    opt.total = 4;
    opt.warmup = 1;
    opt.dropout = 0.1f;  // its kernel threaded too
    float *params[2];
    long threaded[2];
    for (int run = 0; run < 2; run++) {
        gg_set_threads(run == 0 ? 1 : 2);
        gg_model m;
        gg_trainer tr;
        new_model(&m, &cfg, 9);
        gg_trainer_init(&tr, &m, tokens, 6000, 8, cfg.ctx, &opt, 4, NULL, NULL);
        long before = gg_threaded_loops();
        train_steps(&tr, 4);
        threaded[run] = gg_threaded_loops() - before;
        params[run] = copy(m.params_mem, m.n_params);
        gg_trainer_free(&tr);
        gg_model_free(&m);
    }
    gg_set_threads(0);
    CHECK(threaded[0] == 0, "%ld loops ran threaded with one thread", threaded[0]);
#ifdef _OPENMP
    CHECK(threaded[1] > 0, "no loop ran on two threads: the test proves nothing");
#else
    fprintf(stderr, "note: a build without OpenMP runs one thread; the threads test runs in "
            "the optimised build\n");
#endif
    CHECK(memcmp(params[0], params[1], sizeof(float) * gg_param_count(&cfg)) == 0,
          "1 and 2 threads trained different weights (%ld loops ran threaded)", threaded[1]);
    free(params[0]);
    free(params[1]);
    free(tokens);
}

// The profile's table passes every call on unchanged, and counts each
// kernel's calls and work by shape.
// The small kernels: the same bits in both tables, and what they promise.
static void test_small_kernels(void) {
    enum { n = 1001 };
    float x[n], a[n], b[n], out[2];
    for (int i = 0; i < n; i++) x[i] = 4.0f * gg_rng_float(&rng) - 2.0f;
    double sum = 0.0, squares = 0.0;
    for (int i = 0; i < n; i++) sum += x[i], squares += (double)x[i] * x[i];
    gg_ops_ref.mean(&out[0], x, n);
    gg_ops_cpu.mean(&out[1], x, n);
    CHECK(out[0] == out[1] && out[0] == (float)(sum / n), "mean %g and %g, want %g", out[0], out[1], sum / n);
    gg_ops_ref.norm(&out[0], x, n);
    gg_ops_cpu.norm(&out[1], x, n);
    CHECK(out[0] == out[1] && out[0] == (float)sqrt(squares), "norm %g and %g", out[0], out[1]);
    float limit = 0.5f * out[0];
    memcpy(a, x, sizeof x);
    memcpy(b, x, sizeof x);
    gg_ops_ref.clip(a, n, &out[0], limit);
    gg_ops_cpu.clip(b, n, &out[0], limit);
    float got;
    gg_ops_cpu.norm(&got, b, n);
    CHECK(memcmp(a, b, sizeof a) == 0 && fabsf(got - limit) < 1e-4f * limit, "clipped to norm %g, want %g", got, limit);
    memcpy(b, x, sizeof x);
    gg_ops_cpu.clip(b, n, &out[0], 2.0f * out[0]);
    CHECK(memcmp(b, x, sizeof x) == 0, "a norm under the limit is left alone");
    gg_ops_cpu.clip(b, n, &out[0], 0.0f);
    CHECK(memcmp(b, x, sizeof x) == 0, "a limit of 0 clips nothing");
    gg_ops_cpu.copy(b, x + 1, n - 1);
    CHECK(memcmp(b, x + 1, sizeof(float) * (n - 1)) == 0 && b[n - 1] == x[n - 1], "copy");
    gg_ops_cpu.zero(b, n - 1);
    CHECK(b[0] == 0.0f && b[n - 2] == 0.0f && b[n - 1] == x[n - 1], "zero");
}

// No arithmetic of a step happens outside the table: a table whose small
// kernels are spies sees the loss, the gradients' zeroing, norm and
// clipping, and the KV cache's writes go through it.
static long spied[5];
static void spy_zero(float *x, size_t n) { spied[0]++; gg_ops_cpu.zero(x, n); }
static void spy_copy(float *d, const float *s, size_t n) { spied[1]++; gg_ops_cpu.copy(d, s, n); }
static void spy_mean(float *out, const float *x, size_t n) { spied[2]++; (void)x, (void)n; out[0] = 42.0f; }
static void spy_norm(float *out, const float *x, size_t n) { spied[3]++; gg_ops_cpu.norm(out, x, n); out[0] *= 2.0f; }
static void spy_clip(float *x, size_t n, const float *norm, float max) { spied[4]++; gg_ops_cpu.clip(x, n, norm, max); }

static void test_the_table_is_the_whole_arithmetic(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    gg_ops spy = gg_ops_cpu;
    spy.zero = spy_zero, spy.copy = spy_copy, spy.mean = spy_mean, spy.norm = spy_norm, spy.clip = spy_clip;
    gg_model m;
    new_model(&m, &cfg, 9);
    m.ops = &spy;
    memset(spied, 0, sizeof spied);
    int x[6], y[6];
    random_tokens(x, 6, cfg.vocab);
    random_tokens(y, 6, cfg.vocab);
    gg_model_forward(&m, x, y, 1, 6, NULL);
    CHECK(m.loss == 42.0f && spied[2] == 1, "the loss is the table's mean (%g)", m.loss);
    gg_model_zero_grad(&m, NULL);
    long zeroed = spied[0];
    gg_model_backward(&m, NULL);
    CHECK(zeroed >= 1 && spied[0] > zeroed, "the gradients are zeroed by the table (%ld, then %ld)", zeroed, spied[0]);
    float norm = gg_clip_grads(&m, 1e-3f), plain;
    gg_ops_cpu.norm(&plain, m.grads_mem, m.n_params);
    CHECK(spied[3] == 1 && spied[4] == 1, "the norm and the clipping are the table's (%ld, %ld)", spied[3], spied[4]);
    CHECK(fabsf(plain - 0.5e-3f) < 1e-6f, "the gradients are clipped by the table's norm, %g (norm %g)", plain, norm);
    gg_generator g;
    CHECK(gg_generator_init(&g, &m, 1, NULL) == GG_OK, "generator");
    gg_generator_push(&g, x[0], NULL);
    gg_generator_push(&g, x[1], NULL);
    CHECK(spied[1] == 2 * 2 * cfg.n_layer, "the KV cache is written by the table: %ld copies", spied[1]);
    gg_generator_free(&g);
    gg_model_free(&m);
}

// A training step and a decode step, recorded as arena offsets and
// replayed on copies of the arenas (the way another backend runs them),
// give the same bits as running them.
static void *clone_bytes(const void *p, size_t bytes) {
    void *q = malloc(bytes);
    memcpy(q, p, bytes);
    return q;
}

static void test_record_and_replay(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    gg_model m;
    new_model(&m, &cfg, 11);
    m.dropout = (gg_dropout){.p = 0.1f, .seed = 5, .first_pos = 0};
    enum { B = 2, T = 6 };
    int x[B * T], y[B * T];
    random_tokens(x, B * T, cfg.vocab);
    random_tokens(y, B * T, cfg.vocab);
    gg_optim_cfg opt = gg_optim_defaults();
    // a first step makes every arena
    gg_model_forward(&m, x, y, B, T, NULL);
    gg_model_zero_grad(&m, NULL);
    gg_model_backward(&m, NULL);
    gg_clip_grads(&m, opt.grad_clip);
    gg_adamw_step(&m, &opt, 1e-3f, 1, NULL);

    size_t P = sizeof(float) * m.n_params;
    enum { N_ARENAS = GG_MODEL_ARENAS };
    gg_arena arenas[N_ARENAS];
    gg_model_arenas(&m, arenas);
    gg_recording rec = {0};
    void *before[N_ARENAS], *again[N_ARENAS];
    size_t sizes[N_ARENAS];
    for (int i = 0; i < N_ARENAS; i++) {
        CHECK(gg_record_arena(&rec, arenas[i].name, arenas[i].base, arenas[i].bytes, NULL) == i, "arena %d", i);
        before[i] = clone_bytes(arenas[i].base, arenas[i].bytes);
        again[i] = clone_bytes(arenas[i].base, arenas[i].bytes);
        sizes[i] = arenas[i].bytes;
    }
    // the second step, on a new batch, recorded as it runs
    random_tokens(x, B * T, cfg.vocab);
    random_tokens(y, B * T, cfg.vocab);
    m.dropout.seed = 6;
    const gg_ops *cpu = m.ops;
    m.ops = gg_record_wrap(&rec, cpu);
    gg_model_forward(&m, x, y, B, T, NULL);
    gg_model_zero_grad(&m, NULL);
    gg_model_backward(&m, NULL);
    gg_clip_grads(&m, opt.grad_clip);
    gg_adamw_step(&m, &opt, 1e-3f, 2, NULL);
    m.ops = cpu;
    CHECK(rec.failure == NULL && rec.n_calls > 50, "%zu calls recorded (%s)", rec.n_calls,
          rec.failure ? rec.failure : "no failure");
    // replayed on the reference kernels and copies of the arenas as they
    // were, with the batch uploaded
    memcpy(before[6], x, sizeof x);
    memcpy(before[7], y, sizeof y);
    CHECK(gg_replay(&rec, &gg_ops_ref, before, NULL) == GG_OK, "replay");
    CHECK(memcmp(before[0], m.params_mem, P) == 0 && memcmp(before[2], m.m_mem, P) == 0 &&
          memcmp(before[3], m.v_mem, P) == 0, "the replayed step's weights and moments are the step's");
    CHECK(*(float *)before[8] == m.loss && *(float *)before[9] == m.grad_norm,
          "the replayed loss %g and norm %g are the step's (%g, %g)", *(float *)before[8],
          *(float *)before[9], m.loss, m.grad_norm);

    // the same step as words, the way a backend in another language reads
    // it (web/gpu.js), and replayed from them
    uint32_t *words = malloc(sizeof *words * GG_RECORD_CALL_WORDS * rec.n_calls);
    CHECK(gg_record_words(&rec, words, NULL) == GG_OK, "the recording as words");
    memcpy(again[6], x, sizeof x);
    memcpy(again[7], y, sizeof y);
    CHECK(gg_replay_words(words, rec.n_calls, &gg_ops_ref, again, sizes, N_ARENAS, NULL) == GG_OK,
          "replay from words");
    CHECK(memcmp(again[0], m.params_mem, P) == 0 && memcmp(again[3], m.v_mem, P) == 0 &&
          *(float *)again[8] == m.loss, "the step replayed from words is the step");
#define ONE_MORE(kernel) +1
    enum { N_KERNELS = 0 GG_OPS_KERNELS(ONE_MORE) };
#undef ONE_MORE
    int kinds_seen[N_KERNELS] = {0}, n_kernels = 0;
    for (size_t k = 0; k < rec.n_calls; k++) kinds_seen[words[k * GG_RECORD_CALL_WORDS]] = 1;
    while (gg_kernel_signature(n_kernels)) n_kernels++;
    CHECK(n_kernels == N_KERNELS && gg_kernel_signature(-1) == NULL &&
          strncmp(gg_kernel_signature(0), "encoder_forward out:R tokens:R", 30) == 0,
          "every kernel has a signature, the first \"%s\"", gg_kernel_signature(0));
    int calls_of = 0;
    for (int k = 0; k < N_KERNELS; k++) calls_of += kinds_seen[k];
    CHECK(calls_of >= 20, "the step calls %d of the kernels", calls_of);
    gg_error werr;
    words[GG_RECORD_CALL_WORDS + 2] = N_ARENAS;  // the second call's first buffer in no arena
    CHECK(gg_replay_words(words, rec.n_calls, &gg_ops_ref, again, sizes, N_ARENAS, &werr) ==
              GG_ERR_FORMAT && strstr(werr.msg, "call 1,") && strstr(werr.msg, "outside the arenas"),
          "a call outside the arenas is refused: %s", werr.msg);
    words[0] = 99;
    CHECK(gg_replay_words(words, 1, &gg_ops_ref, again, sizes, N_ARENAS, &werr) == GG_ERR_FORMAT &&
              strstr(werr.msg, "no kernel 99"), "an unknown kernel is refused: %s", werr.msg);
    free(words);

    // a decode step: the cache of two positions, then the third, recorded
    gg_infer inf;
    CHECK(gg_infer_init(&inf, &m, NULL) == GG_OK, "infer");
    gg_infer_forward(&inf, x[0], 0, NULL);
    gg_infer_forward(&inf, x[1], 1, NULL);
    gg_recording dec = {0};
    gg_arena darenas[GG_INFER_ARENAS];
    gg_infer_arenas(&inf, darenas);
    gg_record_arenas(&dec, darenas, GG_INFER_ARENAS, NULL);
    void *dbefore[2] = {clone_bytes(darenas[0].base, darenas[0].bytes), clone_bytes(darenas[1].base, darenas[1].bytes)};
    m.ops = gg_record_wrap(&dec, cpu);
    gg_infer_forward(&inf, x[2], 2, NULL);
    m.ops = cpu;
    CHECK(dec.failure == NULL && gg_replay(&dec, &gg_ops_cpu, dbefore, NULL) == GG_OK, "decode replay");
    CHECK(memcmp(dbefore[1], inf.mem, sizeof(float) * inf.n_mem) == 0,
          "the replayed decode step's logits, cache and activations are the step's");
    free(dbefore[0]);
    free(dbefore[1]);
    gg_recording_free(&dec);
    gg_infer_free(&inf);

    // a buffer in no arena spoils a recording, and its replay says so
    gg_recording bad = {0};
    gg_record_arena(&bad, "params", m.params_mem, P, NULL);
    m.ops = gg_record_wrap(&bad, cpu);
    gg_clip_grads(&m, opt.grad_clip);
    m.ops = cpu;
    gg_error err;
    CHECK(gg_replay(&bad, &gg_ops_cpu, before, &err) == GG_ERR_ARG && strstr(err.msg, "none of the arenas"),
          "a recording with a stray buffer is refused: %s", err.msg);
    gg_recording_free(&bad);
    for (int i = 0; i < N_ARENAS; i++) {
        free(before[i]);
        free(again[i]);
    }
    gg_recording_free(&rec);
    gg_model_free(&m);
}

// A training step recorded without being computed (no inner table), as the
// page has the engine record steps for the GPU: replayed on copies of the
// arenas with each step's batch uploaded, three steps give the weights,
// moments and loss of three steps computed; the recording model's own
// weights do not move, and its step count and batches go on as if they had.
static void test_steps_recorded_without_computing(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    gg_model a, b;
    new_model(&a, &cfg, 21);
    new_model(&b, &cfg, 21);
    enum { N_TOKENS = 2000 };
    int *tokens = malloc(sizeof *tokens * N_TOKENS);
    random_tokens(tokens, N_TOKENS, cfg.vocab);
    gg_optim_cfg opt = gg_optim_defaults();
    opt.dropout = 0.1f;
    opt.total = 10;
    opt.warmup = 2;
    gg_trainer ta, tb;
    gg_trainer_init(&ta, &a, tokens, N_TOKENS, 3, cfg.ctx, &opt, 5, NULL, NULL);
    gg_trainer_init(&tb, &b, tokens, N_TOKENS, 3, cfg.ctx, &opt, 5, NULL, NULL);
    CHECK(gg_train_prepare(&tb, NULL) == GG_OK && b.acts_mem && b.grads_mem && b.dacts_mem && b.m_mem,
          "prepare allocates every arena of a step");
    size_t P = sizeof(float) * b.n_params, BT = sizeof(int) * (size_t)tb.B * tb.T;
    enum { N_ARENAS = GG_MODEL_ARENAS };
    gg_arena arenas[N_ARENAS];
    gg_model_arenas(&b, arenas);
    void *other[N_ARENAS];  // the other backend's memory
    for (int i = 0; i < N_ARENAS; i++) other[i] = clone_bytes(arenas[i].base, arenas[i].bytes);
    float *weights = clone_bytes(b.params_mem, P);
    const gg_ops *cpu = b.ops;
    int replayed = 1;
    for (int step = 0; step < 3; step++) {
        gg_recording rec = {0};
        gg_record_arenas(&rec, arenas, N_ARENAS, NULL);
        b.ops = gg_record_wrap(&rec, NULL);
        int rc = gg_train_step(&tb, NULL);
        b.ops = cpu;
        memcpy(other[6], b.tokens, BT);  // the upload
        memcpy(other[7], b.targets, BT);
        replayed &= rc == GG_OK && gg_replay(&rec, &gg_ops_cpu, other, NULL) == GG_OK;
        gg_recording_free(&rec);
        gg_train_step(&ta, NULL);
    }
    CHECK(replayed && tb.step == 3 && ta.step == 3, "three steps recorded and replayed");
    CHECK(memcmp(other[0], a.params_mem, P) == 0 && memcmp(other[2], a.m_mem, P) == 0 &&
          memcmp(other[3], a.v_mem, P) == 0 && *(float *)other[8] == a.loss,
          "the replayed steps are the computed steps (loss %g, %g)", *(float *)other[8], a.loss);
    CHECK(memcmp(weights, b.params_mem, P) == 0, "the recording model's weights did not move");
    for (int i = 0; i < N_ARENAS; i++) free(other[i]);
    free(weights);
    free(tokens);
    gg_trainer_free(&ta);
    gg_trainer_free(&tb);
    gg_model_free(&a);
    gg_model_free(&b);
}

static void test_profile_counts_kernels_and_changes_nothing(void) {
    gg_config cfg = {.vocab = 50, .d_model = 16, .n_layer = 3, .n_head = 2, .ctx = 12,
                     .d_ff = 40, .pos_kind = GG_POS_LEARNED};
    int B = 3, T = 12, N = B * T, C = 16, F = 40, L = 3;
    int x[36], y[36];
    random_tokens(x, N, cfg.vocab);
    random_tokens(y, N, cfg.vocab);
    float loss[2], *grads[2];
    for (int run = 0; run < 2; run++) {
        gg_model m;
        new_model(&m, &cfg, 5);
        if (run == 0) m.ops = gg_profile_wrap(m.ops);  // first: no buffer left by the other
        gg_model_forward(&m, x, y, B, T, NULL);
        gg_model_zero_grad(&m, NULL);
        gg_model_backward(&m, NULL);
        gg_profile_enable(0);
        loss[run] = m.loss;
        grads[run] = copy(m.grads_mem, m.n_params);
        gg_model_free(&m);
    }
    CHECK(loss[0] == loss[1] && memcmp(grads[0], grads[1], sizeof(float) * gg_param_count(&cfg)) == 0,
          "the profile changed a result");
    gg_profile_row rows[64];
    int n = gg_profile_rows(rows, 64), found = 0;
    for (int i = 0; i < n; i++) {
        CHECK(i == 0 || rows[i].seconds <= rows[i - 1].seconds, "the rows are the slowest first");
        if (strcmp(rows[i].kernel, "matmul_forward") == 0 && rows[i].rows == C && rows[i].cols == F) {
            found++;
            CHECK(rows[i].calls == L, "the feed-forward matmul ran %ld times, want %d", rows[i].calls, L);
            CHECK(rows[i].flops == 2.0 * N * C * F * L, "its flops %g, want %g", rows[i].flops,
                  2.0 * N * C * F * L);
        }
        if (strcmp(rows[i].kernel, "matmul_backward") == 0 && rows[i].rows == C && rows[i].cols == 50) {
            found++;  // the head: lnf @ wte^T, no bias
            CHECK(rows[i].calls == 1 && rows[i].flops == 4.0 * N * C * 50, "the head's backward: "
                  "%ld calls, %g flops", rows[i].calls, rows[i].flops);
        }
        if (strcmp(rows[i].kernel, "attention_forward") == 0) {
            found++;
            CHECK(rows[i].calls == L && rows[i].flops == 4.0 * C * B * T * (T + 1) / 2 * L,
                  "attention: %ld calls, %g flops", rows[i].calls, rows[i].flops);
        }
    }
    CHECK(found == 3, "%d of the 3 rows looked for were in the profile", found);
    double fused = gg_peak_gflops(1, 0.02), apart = gg_peak_gflops(0, 0.02);
    CHECK(fused > 0 && apart > 0 && isfinite(fused) && isfinite(apart), "peaks %g and %g", fused,
          apart);
    free(grads[0]);
    free(grads[1]);
}

static void test_training_lowers_the_loss(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    int *tokens = corpus_tokens(4000, cfg.vocab);
    gg_optim_cfg opt = gg_optim_defaults();
    opt.lr = 1e-2f;
    opt.total = 150;
    opt.warmup = 10;
    gg_model m;
    gg_trainer tr;
    new_model(&m, &cfg, 2);
    gg_trainer_init(&tr, &m, tokens, 4000, 8, cfg.ctx, &opt, 1, NULL, NULL);
    float before, after;
    gg_train_eval(&tr, 16, &before, NULL);
    train_steps(&tr, 150);
    gg_train_eval(&tr, 16, &after, NULL);
    CHECK(after < before - 1.0f, "validation loss went from %f to %f", before, after);
    gg_trainer_free(&tr);
    gg_model_free(&m);
    free(tokens);
}

// A step whose loss or gradients are not finite is refused, and leaves the
// weights alone; such weights are never saved.
static void test_divergence_is_refused(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    int *tokens = corpus_tokens(1000, cfg.vocab);
    gg_optim_cfg opt = gg_optim_defaults();
    gg_model m;
    gg_trainer tr;
    gg_error err;
    new_model(&m, &cfg, 2);
    gg_trainer_init(&tr, &m, tokens, 1000, 4, cfg.ctx, &opt, 1, NULL, NULL);
    CHECK(gg_train_step(&tr, &err) == GG_OK, "%s", err.msg);
    m.params.lnfw[0] = NAN;
    float *copy = malloc(sizeof(float) * m.n_params);
    memcpy(copy, m.params_mem, sizeof(float) * m.n_params);
    CHECK(gg_train_step(&tr, &err) == GG_ERR_ARG, "a NaN loss was trained on");
    CHECK(strstr(err.msg, "diverged"), "%s", err.msg);
    CHECK(tr.step == 1, "the step count moved to %d", tr.step);
    CHECK(memcmp(copy, m.params_mem, sizeof(float) * m.n_params) == 0, "the weights moved");
    uint8_t *buf = NULL;
    size_t len;
    gg_tokenizer tok;
    gg_tokenizer_init(&tok, NULL, NULL, 0, NULL, NULL);
    cfg.vocab = 256;
    gg_model m2;
    new_model(&m2, &cfg, 3);
    CHECK(gg_checkpoint_serialize(&m2, &tok, 0, NULL, &buf, &len, &err) == GG_OK, "%s", err.msg);
    free(buf);
    m2.params.wqkv[5] = INFINITY;
    CHECK(gg_checkpoint_serialize(&m2, &tok, 0, NULL, &buf, &len, &err) == GG_ERR_FORMAT,
          "a weight of inf was saved");
    CHECK(strstr(err.msg, "wqkv[5] is inf"), "%s", err.msg);
    gg_model_free(&m2);
    gg_tokenizer_free(&tok);
    free(copy);
    gg_trainer_free(&tr);
    gg_model_free(&m);
    free(tokens);
}

static void test_resume_is_bit_exact(void) {
    gg_config cfg = tiny_config(GG_POS_LEARNED);
    cfg.vocab = 257;  // a checkpoint carries a tokenizer: the bytes and one merge
    int *tokens = corpus_tokens(3000, cfg.vocab);
    gg_pair merges[1] = {{0, 1}};
    gg_tokenizer tok;
    gg_tokenizer_init(&tok, merges, NULL, 1, NULL, NULL);
    gg_optim_cfg opt = gg_optim_defaults();
    opt.total = 8;
    opt.warmup = 2;
    opt.dropout = 0.2f;  // its masks must follow the step, not the run
    // straight through
    gg_model a;
    gg_trainer ta;
    new_model(&a, &cfg, 6);
    gg_trainer_init(&ta, &a, tokens, 3000, 4, cfg.ctx, &opt, 8, NULL, NULL);
    train_steps(&ta, 8);
    // stopped after 3, saved, loaded, continued
    gg_model b, c;
    gg_trainer tb, tc;
    new_model(&b, &cfg, 6);
    gg_trainer_init(&tb, &b, tokens, 3000, 4, cfg.ctx, &opt, 8, NULL, NULL);
    train_steps(&tb, 3);
    gg_train_state st = {.step = (uint64_t)tb.step, .rng_state = tb.rng.state, .seed = 8,
                         .batch = 4, .seq = (uint32_t)cfg.ctx, .eval_every = 1, .opt = opt};
    uint8_t *buf;
    size_t len;
    gg_error err;
    CHECK(gg_checkpoint_serialize(&b, &tok, 1, &st, &buf, &len, &err) == GG_OK, "%s", err.msg);
    gg_tokenizer tok2;
    gg_train_state st2;
    int has_train;
    CHECK(gg_checkpoint_parse(buf, len, "mem", &c, &tok2, &st2, &has_train, &err) == GG_OK, "%s", err.msg);
    CHECK(has_train && st2.step == 3 && st2.rng_state == st.rng_state && st2.opt.dropout == 0.2f,
          "training state lost");
    gg_trainer_init(&tc, &c, tokens, 3000, (int)st2.batch, (int)st2.seq, &st2.opt, st2.seed, NULL, NULL);
    tc.step = (int)st2.step;
    tc.rng.state = st2.rng_state;
    train_steps(&tc, 5);
    CHECK(memcmp(a.params_mem, c.params_mem, sizeof(float) * a.n_params) == 0,
          "resumed weights differ from an uninterrupted run");
    CHECK(memcmp(a.m_mem, c.m_mem, sizeof(float) * a.n_params) == 0 &&
          memcmp(a.v_mem, c.v_mem, sizeof(float) * a.n_params) == 0, "moments differ");
    CHECK(ta.last_loss == tc.last_loss, "last losses %f and %f", ta.last_loss, tc.last_loss);
    free(buf);
    gg_trainer_free(&ta);
    gg_trainer_free(&tb);
    gg_trainer_free(&tc);
    gg_model_free(&a);
    gg_model_free(&b);
    gg_model_free(&c);
    gg_tokenizer_free(&tok);
    gg_tokenizer_free(&tok2);
    free(tokens);
}

static void test_lr_schedule(void) {
    gg_optim_cfg o = gg_optim_defaults();
    o.lr = 1.0f;
    o.warmup = 10;
    o.total = 110;
    CHECK(fabsf(gg_lr_at(&o, 0) - 0.1f) < 1e-6f, "warmup starts at lr / warmup");
    CHECK(fabsf(gg_lr_at(&o, 9) - 1.0f) < 1e-6f, "warmup ends at the peak");
    CHECK(fabsf(gg_lr_at(&o, 60) - 0.55f) < 1e-5f, "half way down the cosine: %f", gg_lr_at(&o, 60));
    CHECK(fabsf(gg_lr_at(&o, 110) - 0.1f) < 1e-6f, "the floor is a tenth");
}

// ---- the checkpoint ----

static void make_checkpoint(uint8_t **buf, size_t *len, gg_model *m, gg_tokenizer *tok) {
    gg_config cfg = tiny_config(GG_POS_SINUSOIDAL);
    cfg.vocab = 258;
    gg_pair merges[2] = {{'a', 'b'}, {256, 'c'}};
    gg_tokenizer_init(tok, merges, NULL, 2, NULL, NULL);
    new_model(m, &cfg, 4);
    gg_checkpoint_serialize(m, tok, 0, NULL, buf, len, NULL);
}

static void restamp_crc(uint8_t *buf, size_t len) {
    uint32_t crc = gg_crc32(buf, len - 4);
    for (int i = 0; i < 4; i++) buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static void test_checkpoint_round_trip(void) {
    uint8_t *buf;
    size_t len;
    gg_model m, back;
    gg_tokenizer tok, tok2;
    gg_error err;
    make_checkpoint(&buf, &len, &m, &tok);
    CHECK(gg_checkpoint_parse(buf, len, "mem", &back, &tok2, NULL, NULL, &err) == GG_OK, "%s", err.msg);
    CHECK(memcmp(&back.cfg, &m.cfg, sizeof m.cfg) == 0, "config changed");
    CHECK(memcmp(back.params_mem, m.params_mem, sizeof(float) * m.n_params) == 0, "params changed");
    CHECK(tok2.n_merges == 2 && tok2.merges[1].left == 256, "tokenizer changed");
    CHECK(memcmp(buf, "GLASSGPT", 8) == 0 && buf[8] == 1 && buf[9] == 0, "magic and version 1, little-endian");
    char path[] = "/tmp/glassgpt-ckpt-XXXXXX";
    close(mkstemp(path));
    CHECK(gg_checkpoint_save(path, &m, &tok, 0, NULL, &err) == GG_OK, "%s", err.msg);
    gg_model_free(&back);
    gg_tokenizer_free(&tok2);
    CHECK(gg_checkpoint_load(path, &back, &tok2, NULL, NULL, &err) == GG_OK, "%s", err.msg);
    unlink(path);
    gg_model_free(&back);
    gg_tokenizer_free(&tok2);
    gg_model_free(&m);
    gg_tokenizer_free(&tok);
    free(buf);
}

static void expect_rejected(const uint8_t *buf, size_t len, const char *message, const char *what) {
    gg_model m;
    gg_tokenizer tok;
    gg_error err = {{0}};
    int rc = gg_checkpoint_parse(buf, len, "ck", &m, &tok, NULL, NULL, &err);
    CHECK(rc == GG_ERR_FORMAT, "%s was accepted", what);
    CHECK(strstr(err.msg, message) != NULL, "%s: got '%s', expected '%s'", what, err.msg, message);
    if (rc == GG_OK) {
        gg_model_free(&m);
        gg_tokenizer_free(&tok);
    }
}

static void test_checkpoint_rejects_malformed(void) {
    uint8_t *buf;
    size_t len;
    gg_model m;
    gg_tokenizer tok;
    make_checkpoint(&buf, &len, &m, &tok);
    uint8_t *b = malloc(len + 8);
    expect_rejected(buf, 0, "not a glassgpt checkpoint", "an empty file");
    expect_rejected((const uint8_t *)"glassgpt-bpe 1\nvocab 256\n", 25, "not a glassgpt checkpoint", "a tokenizer file");
    expect_rejected(buf, 30, "truncated at byte 30", "a cut header");
    expect_rejected(buf, len - 100, "truncated at byte", "cut parameters");
    memcpy(b, buf, len);
    memset(b + len, 0, 8);
    expect_rejected(b, len + 8, "unexpected bytes", "trailing bytes");
    memcpy(b, buf, len);
    b[len / 2] ^= 0x40;
    expect_rejected(b, len, "corrupted", "a flipped bit");
    memcpy(b, buf, len);
    b[8] = 2;
    expect_rejected(b, len, "from a newer glassgpt", "a newer version");
    memcpy(b, buf, len);
    b[12 + 3 * 4] = 3;  // n_head 3 does not divide d 8
    restamp_crc(b, len);
    expect_rejected(b, len, "heads do not divide", "an impossible configuration");
    memcpy(b, buf, len);
    b[12] = 255;  // vocab 255 + 256: the tokenizer has 2 merges
    restamp_crc(b, len);
    expect_rejected(b, len, "merges", "a vocabulary that does not match the tokenizer");
    free(b);
    free(buf);
    gg_model_free(&m);
    gg_tokenizer_free(&tok);
}

// ---- the sampler ----

static void test_sampler(void) {
    float logits[5] = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f};
    gg_sampler s;
    gg_error err;
    CHECK(gg_sampler_init(&s, 5, 0.0f, 0, 1.0f, 1, &err) == GG_OK, "%s", err.msg);
    CHECK(gg_sample(&s, logits) == 1 && s.argmax == 1, "greedy takes the argmax");
    gg_sampler_free(&s);
    gg_sampler_init(&s, 5, 5.0f, 1, 1.0f, 1, &err);
    for (int i = 0; i < 20; i++) CHECK(gg_sample(&s, logits) == 1, "top-k 1 is greedy");
    gg_sampler_free(&s);
    gg_sampler_init(&s, 5, 1.0f, 2, 1.0f, 1, &err);
    for (int i = 0; i < 50; i++) {
        int t = gg_sample(&s, logits);
        CHECK(t == 1 || t == 3, "top-k 2 drew %d", t);
    }
    CHECK(fabsf(s.probs[1] + s.probs[3] - 1.0f) < 1e-6f && s.probs[0] == 0.0f, "renormalised");
    gg_sampler_free(&s);
    int a[30], b[30], counts[5] = {0};
    for (int run = 0; run < 2; run++) {
        gg_sampler_init(&s, 5, 1.0f, 0, 1.0f, 42, &err);
        for (int i = 0; i < 30; i++) (run ? b : a)[i] = gg_sample(&s, logits);
        gg_sampler_free(&s);
    }
    CHECK(memcmp(a, b, sizeof a) == 0, "the same seed draws the same tokens");
    gg_sampler_init(&s, 5, 1.0f, 0, 1.0f, 7, &err);
    for (int i = 0; i < 4000; i++) counts[gg_sample(&s, logits)]++;
    CHECK(counts[1] > counts[3] && counts[3] > counts[0] && counts[2] > 0, "draws follow the probabilities");
    gg_sampler_free(&s);
    CHECK(gg_sampler_init(&s, 5, -1.0f, 0, 1.0f, 1, &err) == GG_ERR_ARG, "negative temperature");
    CHECK(gg_sampler_init(&s, 5, 1.0f, 0, 0.0f, 1, &err) == GG_ERR_ARG, "top-p 0");
}

static void test_utf8_complete(void) {
    const uint8_t cat[] = {0xe7, 0x8c, 0xab};  // 猫
    CHECK(gg_utf8_complete(cat, 1) == 0 && gg_utf8_complete(cat, 2) == 0, "a partial character waits");
    CHECK(gg_utf8_complete(cat, 3) == 3, "a whole character goes");
    const uint8_t mixed[] = {'a', 0xf0, 0x9f, 0x90};
    CHECK(gg_utf8_complete(mixed, 4) == 1, "an emoji's first three bytes wait");
    const uint8_t stray[] = {'a', 0x80};
    CHECK(gg_utf8_complete(stray, 2) == 2, "a stray continuation byte is not held back");
}

int main(void) {
    rng = gg_rng_seed(12345);
    RUN(test_presets_and_config_errors);
    RUN(test_sinusoidal_table);
    RUN(test_cpu_kernels_match_reference);
    RUN(test_attention_matches_reference);
    RUN(test_detmath_is_accurate);
    RUN(test_expf_neg_is_accurate);
    RUN(test_dropout);
    RUN(test_layernorm_matches_reference);
    RUN(test_kernel_gradients);
    RUN(test_model_gradients);
    RUN(test_initial_loss_is_near_ln_v);
    RUN(test_observer_sees_every_intermediate);
    RUN(test_logit_lens);
    RUN(test_pca_finds_the_spread);
    RUN(test_kv_cache_matches_full_forward);
    RUN(test_cache_and_no_cache_generate_the_same_tokens);
    RUN(test_results_do_not_depend_on_threads);
    RUN(test_small_kernels);
    RUN(test_the_table_is_the_whole_arithmetic);
    RUN(test_record_and_replay);
    RUN(test_steps_recorded_without_computing);
    RUN(test_profile_counts_kernels_and_changes_nothing);
    RUN(test_training_lowers_the_loss);
    RUN(test_divergence_is_refused);
    RUN(test_resume_is_bit_exact);
    RUN(test_lr_schedule);
    RUN(test_checkpoint_round_trip);
    RUN(test_checkpoint_rejects_malformed);
    RUN(test_sampler);
    RUN(test_utf8_complete);
    return check_summary();
}
