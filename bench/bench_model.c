// Engine benchmarks: training tokens/s for each preset, generation tokens/s
// with and without the KV cache, and the achieved GFLOP/s against the peak
// this machine reaches in a loop of fused multiply-adds. Medians of several
// runs.
//
// usage: build/bench_model [SECONDS_PER_MEASUREMENT [PRESET]]
// With a PRESET, only that preset is measured, and not the peak.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench.h"
#include "../src/generate.h"
#include "../src/model.h"
#include "../src/sampler.h"
#include "../src/train.h"

// The peak of one core: 12 independent chains of 16-wide FMAs, enough to
// hide their latency. (Loop interchange would fold them into one chain.)
__attribute__((optimize("no-loop-interchange")))
static double peak_gflops_one_core(void) {
    enum { W = 16, CHAINS = 12 };
    float acc[CHAINS][W], a[W], b[W];
    for (int i = 0; i < W; i++) a[i] = 1.0000001f, b[i] = 1e-7f;
    for (int c = 0; c < CHAINS; c++)
        for (int i = 0; i < W; i++) acc[c][i] = (float)c;
    long iters = 20000000;
    double t0 = now();
    for (long k = 0; k < iters; k++)
        for (int c = 0; c < CHAINS; c++)
            for (int i = 0; i < W; i++) acc[c][i] = fmaf(acc[c][i], a[i], b[i]);
    double t = now() - t0;
    float sink = 0;
    for (int c = 0; c < CHAINS; c++)
        for (int i = 0; i < W; i++) sink += acc[c][i];
    if (sink == 42.0f) printf(" ");
    return 2.0 * W * CHAINS * (double)iters / t / 1e9;
}

// Floating-point operations of one training token: forward matmuls and
// attention, times three for forward plus backward.
static double flops_per_token(const gg_config *c, int T) {
    double C = c->d_model, F = c->d_ff, V = c->vocab, L = c->n_layer;
    double matmul = L * (C * 3 * C + C * C + 2 * C * F) + C * V;
    double attention = L * 2 * C * (T + 1) / 2.0;  // q.k and att @ v over ~T/2 keys
    return 3 * 2 * (matmul + attention);
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    const char *only = argc > 2 ? argv[2] : NULL;  // one preset, and no peak
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    if (!only) {
        double peak = peak_gflops_one_core();
        printf("peak: %.1f GFLOP/s on one core with fused multiply-adds (x%d threads: %.1f)\n\n",
               peak, threads, peak * threads);
    }

    int n_tokens = 300000;
    int *tokens = malloc(sizeof *tokens * (size_t)n_tokens);
    gg_rng rng = gg_rng_seed(1);
    for (int i = 0; i < n_tokens; i++) tokens[i] = (int)gg_rng_below(&rng, 768);

    printf("%-6s %9s %7s %12s %9s   %14s %14s\n", "preset", "params", "batch", "train tok/s",
           "GFLOP/s", "gen tok/s (KV)", "gen (no KV)");
    int measured = 0;
    for (int p = 0; gg_preset_names[p]; p++) {
        if (only && strcmp(only, gg_preset_names[p]) != 0) continue;
        measured++;
        gg_config cfg;
        gg_config_preset(&cfg, gg_preset_names[p], NULL);
        gg_model m;
        gg_model_init(&m, &cfg, NULL);
        gg_model_init_weights(&m, 1);
        gg_optim_cfg opt = gg_optim_defaults();
        gg_trainer tr;
        int B = 16, T = cfg.ctx;
        gg_trainer_init(&tr, &m, tokens, (size_t)n_tokens, B, T, &opt, 1, NULL, NULL);
        gg_train_step(&tr, NULL);  // warm up: allocations
        double rates[5];
        for (int r = 0; r < 5; r++) {
            int steps = 0;
            double t0 = now();
            do {
                gg_train_step(&tr, NULL);
                steps++;
            } while (now() - t0 < seconds / 5);
            rates[r] = (double)steps * B * T / (now() - t0);
        }
        double tok_s = median(rates, 5);
        double gflops = tok_s * flops_per_token(&cfg, T) / 1e9;
        gg_trainer_free(&tr);

        // Generation, greedy, in windows that fill the context and start
        // over, so that what is measured is the cost of a token, with the
        // cache and without (PyTorch's side does the same).
        double gen[2];
        for (int cache = 1; cache >= 0; cache--) {
            double g[3];
            gg_generator gn;
            gg_sampler s;
            gg_generator_init(&gn, &m, cache, NULL);
            gg_sampler_init(&s, cfg.vocab, 0.0f, 0, 1.0f, 1, NULL);
            for (int r = 0; r < 3; r++) {
                int tok = 10, n = 0;
                double t0 = now();
                do {
                    if (gn.len == cfg.ctx) gg_generator_reset(&gn);
                    gg_generator_push(&gn, tok, NULL);
                    tok = gg_sample(&s, gn.logits);
                    n++;
                } while (now() - t0 < seconds / 10 || n < 8);
                g[r] = n / (now() - t0);
            }
            gg_sampler_free(&s);
            gg_generator_free(&gn);
            gen[cache] = median(g, 3);
        }
        printf("%-6s %9zu %4dx%-3d %12.0f %9.1f   %14.0f %14.0f\n", gg_preset_names[p], m.n_params,
               B, T, tok_s, gflops, gen[1], gen[0]);
        printf("GG_BENCH %s train_tok_s=%.0f gen_kv_tok_s=%.0f gen_nokv_tok_s=%.0f gflops=%.1f\n",
               gg_preset_names[p], tok_s, gen[1], gen[0], gflops);
        gg_model_free(&m);
    }
    if (!measured) {
        fprintf(stderr, "bench_model: unknown preset '%s'\n", only);
        return 2;
    }
    printf("\nGFLOP/s counts the matmuls and attention of forward and backward (6 flops per\n"
           "parameter and token, plus attention); the peak uses every vector FMA unit, which\n"
           "glassgpt does not (it keeps multiply and add apart, for bit-identical results\n"
           "on every path and in the browser).\n");
    free(tokens);
    return 0;
}
