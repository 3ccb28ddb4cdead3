// The one random number generator of glassgpt: xorshift64*, seeded
// explicitly, never from the clock. Its whole state is one uint64_t, which a
// checkpoint stores so that a resumed run draws the same numbers.
#ifndef GLASSGPT_RNG_H
#define GLASSGPT_RNG_H

#include <math.h>
#include <stdint.h>

#include "detmath.h"

typedef struct {
    uint64_t state;
} gg_rng;

// splitmix64: the k-th output of a generator seeded with seed, computed
// directly, so that nearby seeds and indices give unrelated numbers.
static inline uint64_t gg_mix64(uint64_t seed, uint64_t k) {
    uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline gg_rng gg_rng_seed(uint64_t seed) {
    uint64_t z = gg_mix64(seed, 0);
    return (gg_rng){z ? z : 1};
}

static inline uint32_t gg_rng_u32(gg_rng *r) {
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return (uint32_t)((r->state * 0x2545f4914f6cdd1dull) >> 32);
}

// Uniform in [0, 1), 24 bits.
static inline float gg_rng_float(gg_rng *r) { return (float)(gg_rng_u32(r) >> 8) / 16777216.0f; }

// Uniform integer in [0, n), n > 0.
static inline uint32_t gg_rng_below(gg_rng *r, uint32_t n) {
    return (uint32_t)(((uint64_t)gg_rng_u32(r) * n) >> 32);
}

// Standard normal, by Box-Muller, the same to the bit on every machine.
static inline float gg_rng_normal(gg_rng *r) {
    float u1 = ((float)(gg_rng_u32(r) >> 8) + 1.0f) / 16777217.0f;  // (0, 1]
    float u2 = gg_rng_float(r);
    return (float)(sqrt(-2.0 * gg_log(u1)) * gg_cos_turns(u2));
}

#endif
