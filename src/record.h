// A recording of kernel calls, to run the one model definition elsewhere.
//
// A recording table passes every kernel call on to another table and notes
// it: the kernel, each buffer as an offset into one of the arenas it was
// told about, and each number as it was. gg_replay then makes the same
// calls, in the same order, on any table and any copies of those arenas.
// That is how a backend with memory of its own (a GPU's buffers) runs what
// model.c, train.c and generate.c decide, without a second definition of
// the model: record a step once, upload the arenas, replay.
//
//   gg_recording rec = {0};
//   gg_arena arenas[GG_MODEL_ARENAS];
//   gg_model_arenas(&m, arenas);
//   gg_record_arenas(&rec, arenas, GG_MODEL_ARENAS, &err);
//   m.ops = gg_record_wrap(&rec, m.ops);
//   ... a training step ...
//   gg_replay(&rec, other_ops, bases, &err);   // bases[i]: arena i's copy
//
// The numbers are recorded as they were: a recording of step t replays
// step t (its learning rate, its dropout seed). There is one recording at a
// time per process, as with the profile (profile.h).
#ifndef GLASSGPT_RECORD_H
#define GLASSGPT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model.h"
#include "ops.h"

enum {
    GG_RECORD_MAX_ARENAS = 16,
    GG_RECORD_MAX_ARGS = 11,
    GG_RECORD_CALL_WORDS = 2 + 2 * GG_RECORD_MAX_ARGS,  // a call, as words
};

typedef struct {
    int arena;      // -1: a NULL pointer
    size_t offset;  // in bytes
} gg_record_ref;

typedef union {
    gg_record_ref ref;
    int i;
    size_t z;
    float f;
    uint64_t u;
} gg_record_arg;

typedef struct {
    int kernel;  // the kernel's place in GG_OPS_KERNELS
    gg_record_arg args[GG_RECORD_MAX_ARGS];
} gg_record_call;

typedef struct {
    gg_arena arenas[GG_RECORD_MAX_ARENAS];
    int n_arenas;
    gg_record_call *calls;
    size_t n_calls, cap;
    const char *failure;  // why the recording cannot be replayed, or NULL
    const gg_ops *inner;  // the table the calls go on to
} gg_recording;

// Tells the recording about an arena: a buffer that kernel arguments may
// point into. Its index is its order of registration.
int gg_record_arena(gg_recording *r, const char *name, const void *base, size_t bytes,
                    gg_error *err);
// The same for n arenas, in order (gg_model_arenas, gg_infer_arenas).
int gg_record_arenas(gg_recording *r, const gg_arena *arenas, int n, gg_error *err);
// Starts recording r (its calls so far are kept) and returns the table that
// records; every call goes on to inner. With inner NULL the calls are only
// noted, not made: a step recorded for another backend to compute, while
// this one keeps only its bookkeeping (the step count, the batch drawn).
const gg_ops *gg_record_wrap(gg_recording *r, const gg_ops *inner);
// Makes the recorded calls on ops, with bases[i] standing for arena i.
int gg_replay(const gg_recording *r, const gg_ops *ops, void *const bases[], gg_error *err);
void gg_recording_free(gg_recording *r);

// Kernel k's name and arguments, in the table's order, as one line:
// "encoder_forward out:R tokens:R wte:R wpe:R N:I T:I C:I", where R is a
// buffer, I an int, Z a size, F a float and U a 64-bit number. NULL past
// the last kernel. A backend elsewhere (web/gpu.js) reads the calls by it.
const char *gg_kernel_signature(int k);

// The calls as 32-bit words, for a backend in another language:
// GG_RECORD_CALL_WORDS a call, the kernel's place first, then a 0, then
// each argument in two words, as its signature says: a buffer as its arena
// (0xffffffff for NULL) and its offset in 4-byte elements; a number as its
// bits, low word first. out (NULL: only count) receives r->n_calls calls.
// Fails when the recording is spoilt or a buffer is not 4-byte aligned.
int gg_record_words(const gg_recording *r, uint32_t *out, gg_error *err);
// Makes n_calls calls given as words on ops, with bases[i], of bytes[i]
// bytes, standing for arena i; a call that names no arena, or an offset
// past its arena's end, is refused before any call is made.
int gg_replay_words(const uint32_t *words, size_t n_calls, const gg_ops *ops, void *const bases[],
                    const size_t bytes[], int n_arenas, gg_error *err);

#endif
