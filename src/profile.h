// Where a training step's time goes: an ops table that times every kernel
// call of another table and counts its floating-point work and the bytes it
// touches, by kernel and by shape; and the peak this machine's vector units
// reach, with fused multiply-adds and with multiply and add apart, as the
// engine computes.
//
//   model.ops = gg_profile_wrap(model.ops);
//   ... training steps, timed in all: seconds ...
//   gg_profile_report(stderr, steps, seconds, threads);
//
// There is one profile per process (a kernel has no pointer for context).
// The kernels must be called from one thread at a time, as the model does.
// gg_profile_enable(0) lets calls through untimed (an evaluation between
// steps, say).
#ifndef GLASSGPT_PROFILE_H
#define GLASSGPT_PROFILE_H

#include <stdio.h>

#include "ops.h"

// Starts a fresh profile of inner and returns the table that times it.
const gg_ops *gg_profile_wrap(const gg_ops *inner);

// Whether calls are timed (1, as after gg_profile_wrap) or only passed on.
void gg_profile_enable(int on);

typedef struct {
    const char *kernel;  // an entry of gg_ops, e.g. "matmul_backward"
    int rows, cols;      // the weight's shape for a matmul, else 0
    long calls;
    double seconds;
    double flops;        // multiplies and adds (a multiply-add counts 2)
    double bytes;        // read and written once, at least
} gg_profile_row;

// The rows measured so far, the slowest first; returns their number.
int gg_profile_rows(gg_profile_row *rows, int max);

// The GFLOP/s of one core's vector units over about `seconds`: fused
// multiply-adds (fused = 1), or a multiply and an add apart, which is how
// every kernel computes so that results are the same in WebAssembly.
double gg_peak_gflops(int fused, double seconds);

// Prints the table: per kernel and shape, the time per step, the share of
// the step, GFLOP/s and the fraction of the multiply-and-add peak of
// `threads` cores; then the time spent outside the kernels.
void gg_profile_report(FILE *out, int steps, double seconds, int threads);

#endif
