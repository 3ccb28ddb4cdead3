#include "parallel.h"

#include <signal.h>

#ifdef GG_MPI
#include <mpi.h>
#endif

static volatile sig_atomic_t requested;  // this process was asked to stop
static int agreed;                        // every process knows

void par_request_stop(int sig) { requested = sig; }

#ifdef GG_MPI
static int rank, size = 1;

void par_init(int *argc, char ***argv) {
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
}

void par_finalize(void) { MPI_Finalize(); }
int par_rank(void) { return rank; }
int par_size(void) { return size; }

int par_reduce(void *user, float *grads, size_t n, float *loss, gg_error *err) {
    (void)user;
    // The gradients in pieces that an int can count, then the loss and the
    // stop request together.
    for (size_t at = 0; at < n; at += 1 << 30) {
        int count = (int)(n - at < (size_t)1 << 30 ? n - at : (size_t)1 << 30);
        if (MPI_Allreduce(MPI_IN_PLACE, grads + at, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD))
            return gg_fail(err, GG_ERR_IO, "MPI: summing the gradients failed");
    }
    float pair[2] = {*loss, (float)requested};
    float sum[2];
    if (MPI_Allreduce(pair, sum, 1, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) ||
        MPI_Allreduce(pair + 1, sum + 1, 1, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD))
        return gg_fail(err, GG_ERR_IO, "MPI: summing the loss failed");
    float scale = 1.0f / (float)size;
    for (size_t i = 0; i < n; i++) grads[i] *= scale;
    *loss = sum[0] * scale;
    agreed = (int)sum[1];
    return GG_OK;
}
#else
void par_init(int *argc, char ***argv) { (void)argc, (void)argv; }
void par_finalize(void) {}
int par_rank(void) { return 0; }
int par_size(void) { return 1; }

// One process: its mean is the mean.
int par_reduce(void *user, float *grads, size_t n, float *loss, gg_error *err) {
    (void)user, (void)grads, (void)n, (void)loss, (void)err;
    return GG_OK;
}
#endif

int par_stopping(void) { return par_size() > 1 ? agreed : requested; }
