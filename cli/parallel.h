// Data-parallel training over MPI (build/glassgpt-mpi, made with mpicc and
// -DGG_MPI), and its one-process form in the plain build: the same calls,
// so that `train` has one code path.
//
// Every process draws the same batches, computes its share of each batch's
// rows, and the gradients and losses are summed over processes with
// MPI_Allreduce and divided by their number: the mean over the whole batch.
// Every process then applies the same AdamW step; the first alone prints,
// validates and writes checkpoints.
#ifndef GLASSGPT_PARALLEL_H
#define GLASSGPT_PARALLEL_H

#include <stddef.h>

#include "../src/error.h"

// Starts MPI where it is built in; a no-op otherwise.
void par_init(int *argc, char ***argv);
void par_finalize(void);
int par_rank(void);  // 0 without MPI
int par_size(void);  // 1 without MPI

// gg_trainer's reduce: the mean of every process's gradients and loss. It
// also agrees on stopping: par_stopping() is then true on every process if
// par_request_stop() was called on any of them (a signal, say).
int par_reduce(void *user, float *grads, size_t n, float *loss, gg_error *err);
void par_request_stop(int sig);
int par_stopping(void);  // the signal that stopped the run, or 0

#endif
