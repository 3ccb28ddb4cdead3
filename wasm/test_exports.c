// What the tests' build of the engine (build/web/glassgpt-test.wasm) adds
// to the page's: the reference kernels, which the page itself never runs,
// for the GPU's kernels to be held to in the browser.
#include <stddef.h>
#include <stdint.h>

#include "../src/error.h"
#include "../src/ops.h"
#include "../src/record.h"

#define EXPORT(name) __attribute__((export_name(#name))) name

extern gg_error last_error;  // exports.c's

// Makes n_calls calls given as words on the reference kernels (the
// definition), with bases[i], of bytes[i] bytes, standing for arena i.
// Returns 0, or -1 with the message at gg_last_error().
int EXPORT(gg_replay_reference)(const uint32_t *words, size_t n_calls, void *const *bases,
                                const size_t *bytes, int n_arenas) {
    return gg_replay_words(words, n_calls, &gg_ops_ref, bases, bytes, n_arenas, &last_error) ? -1 : 0;
}
