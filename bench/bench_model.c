// Engine benchmarks: training tokens/s for each preset, generation tokens/s
// with and without the KV cache, and the achieved GFLOP/s against the peak
// this machine reaches in a loop of fused multiply-adds. Medians of several
// runs.
//
// usage: build/bench_model [SECONDS_PER_MEASUREMENT [PRESET]]
//        build/bench_model --train SECONDS V C L NH CTX F
// With a PRESET, only that preset is measured, and not the peak. --train
// measures training tokens/s of one shape (batch 16), for the pairs that
// make bench alternates with PyTorch's.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench.h"
#include "../src/generate.h"
#include "../src/model.h"
#include "../src/profile.h"
#include "../src/sampler.h"
#include "../src/train.h"

// Read bandwidth from the last-level cache: the sum of a buffer larger
// than L2 (8 MiB, which this machine's L3 holds), summed repeatedly in 16
// lanes; GB/s of one core.
static double l3_gbytes_per_s(void) {
    enum { N = 2 << 20, W = 16 };
    float *buf = malloc(sizeof *buf * N), lane[W] = {0};
    for (int i = 0; i < N; i++) buf[i] = (float)(i % 7);
    double best = 0.0;
    for (int r = 0; r < 20; r++) {
        double t0 = now();
        for (int i = 0; i < N; i += W)
            for (int j = 0; j < W; j++) lane[j] += buf[i + j];
        double gbs = sizeof *buf * (double)N / (now() - t0) / 1e9;
        best = gbs > best ? gbs : best;
    }
    float sink = 0;
    for (int j = 0; j < W; j++) sink += lane[j];
    if (sink == 42.0f) printf(" ");
    free(buf);
    return best;
}

// Floating-point operations of one training token: forward matmuls and
// attention, times three for forward plus backward.
static double flops_per_token(const gg_config *c, int T) {
    double C = c->d_model, F = c->d_ff, V = c->vocab, L = c->n_layer;
    double matmul = L * (C * 3 * C + C * C + 2 * C * F) + C * V;
    double attention = L * 2 * C * (T + 1) / 2.0;  // q.k and att @ v over ~T/2 keys
    return 3 * 2 * (matmul + attention);
}

// Training tokens/s of cfg on batches of 16 x ctx random tokens: the median
// of five spans of seconds / 5.
static double train_tok_s(const gg_config *cfg, const int *tokens, int n_tokens, double seconds) {
    gg_model m;
    gg_model_init(&m, cfg, NULL);
    gg_model_init_weights(&m, 1);
    gg_optim_cfg opt = gg_optim_defaults();
    gg_trainer tr;
    int B = 16, T = cfg->ctx;
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
    gg_trainer_free(&tr);
    gg_model_free(&m);
    return median(rates, 5);
}

int main(int argc, char **argv) {
    int n_tokens = 300000;
    int *tokens = malloc(sizeof *tokens * (size_t)n_tokens);
    gg_rng rng = gg_rng_seed(1);
    for (int i = 0; i < n_tokens; i++) tokens[i] = (int)gg_rng_below(&rng, 768);
    if (argc == 9 && strcmp(argv[1], "--train") == 0) {
        gg_config cfg = {atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]),
                         atoi(argv[8]), GG_POS_LEARNED};
        if (gg_config_check(&cfg, NULL) || cfg.vocab > 768) {
            fprintf(stderr, "bench_model: not a shape (V at most 768): %s %s %s %s %s %s\n", argv[3],
                    argv[4], argv[5], argv[6], argv[7], argv[8]);
            return 2;
        }
        printf("GG_BENCH train_tok_s=%.0f\n", train_tok_s(&cfg, tokens, n_tokens, atof(argv[2])));
        free(tokens);
        return 0;
    }
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    const char *only = argc > 2 ? argv[2] : NULL;  // one preset, and no peak
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    double l3 = 0.0;
    if (!only) {
        double fused = gg_peak_gflops(1, 1.0), apart = gg_peak_gflops(0, 1.0);
        l3 = l3_gbytes_per_s();
        printf("peak of one core: %.1f GFLOP/s with fused multiply-adds, %.1f with multiply and "
               "add apart (x%d threads: %.1f and %.1f); last-level cache reads: %.1f GB/s\n\n",
               fused, apart, threads, fused * threads, apart * threads, l3);
        printf("GG_BENCH peak fma_gflops=%.1f apart_gflops=%.1f l3_gbs=%.1f threads=%d\n\n",
               fused * threads, apart * threads, l3, threads);
    }

    printf("%-6s %9s %7s %12s %9s   %14s %14s\n", "preset", "params", "batch", "train tok/s",
           "GFLOP/s", "gen tok/s (KV)", "gen (no KV)");
    int measured = 0;
    for (int p = 0; gg_preset_names[p]; p++) {
        if (only && strcmp(only, gg_preset_names[p]) != 0) continue;
        measured++;
        gg_config cfg;
        gg_config_preset(&cfg, gg_preset_names[p], NULL);
        int B = 16, T = cfg.ctx;
        double tok_s = train_tok_s(&cfg, tokens, n_tokens, seconds);
        double gflops = tok_s * flops_per_token(&cfg, T) / 1e9;
        gg_model m;
        gg_model_init(&m, &cfg, NULL);
        gg_model_init_weights(&m, 1);

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
        // A token with the cache reads every weight once (the embedding
        // table one row, and its transposed copy for the head whole).
        // Weights larger than a core's own L2 (sysconf's figure) come, at
        // least in part, from the last-level cache: at most so many times a
        // second on every core.
        double bytes = sizeof(float) * (double)m.n_params;
        long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        if (l3 > 0.0 && l2 > 0 && bytes > (double)l2) {
            double bound = l3 * 1e9 * threads / bytes;
            printf("       generation with the cache: %.0f%% of %.0f tokens/s, the bound of reading "
                   "%.1f MB of weights a token from the last-level cache on %d cores\n",
                   100.0 * gen[1] / bound, bound, bytes / 1e6, threads);
            // each core reads its share of every product's weight (and of the
            // cache): whether that share stays in its L2 from token to token
            printf("       each core's share of the weights: %.2f MB a token, against its own L2 "
                   "of %.2f MB\n", bytes / threads / 1e6, (double)l2 / 1e6);
        }
        printf("GG_BENCH %s train_tok_s=%.0f gen_kv_tok_s=%.0f gen_nokv_tok_s=%.0f gflops=%.1f\n",
               gg_preset_names[p], tok_s, gen[1], gen[0], gflops);
        gg_model_free(&m);
    }
    if (!measured) {
        fprintf(stderr, "bench_model: unknown preset '%s'\n", only);
        return 2;
    }
    printf("\nGFLOP/s counts the matmuls and attention of forward and backward (6 flops per\n"
           "parameter and token, plus attention). glassgpt keeps multiply and add apart, for\n"
           "bit-identical results on every path and in the browser: its peak is the second.\n");
    free(tokens);
    return 0;
}
