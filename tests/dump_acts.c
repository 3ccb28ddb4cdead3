// A test helper: the native engine's numbers for a checkpoint and some token
// ids, for the WebAssembly and browser tests to compare with. Prints the
// logits, or with --act NAME LAYER the intermediate of that name (as the
// forward pass's observer sees it), one line per row of its last dimension.
//
// usage: build/dump_acts MODEL [--act NAME LAYER] ID...
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/checkpoint.h"

static const char *want_name;
static int want_layer;
static int found;

static void print_if_wanted(void *user, const char *name, int layer, const float *data,
                            const int *shape, int ndim) {
    (void)user;
    if (found || strcmp(name, want_name) != 0 || layer != want_layer) return;
    found = 1;
    size_t rows = 1, cols = (size_t)shape[ndim - 1];
    for (int d = 0; d < ndim - 1; d++) rows *= (size_t)shape[d];
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) printf("%.9g%c", data[r * cols + c], c + 1 < cols ? ' ' : '\n');
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: dump_acts MODEL [--act NAME LAYER] ID...\n");
        return 2;
    }
    int first = 2;
    if (strcmp(argv[2], "--act") == 0 && argc > 5) {
        want_name = argv[3];
        want_layer = atoi(argv[4]);
        first = 5;
    }
    gg_model m;
    gg_tokenizer tok;
    gg_error err;
    if (gg_checkpoint_load(argv[1], &m, &tok, NULL, NULL, &err)) {
        fprintf(stderr, "dump_acts: %s\n", err.msg);
        return 1;
    }
    int T = argc - first;
    int *ids = malloc(sizeof *ids * (size_t)T);
    for (int i = 0; i < T; i++) ids[i] = atoi(argv[first + i]);
    if (want_name) m.observe = print_if_wanted;
    if (gg_model_forward(&m, ids, NULL, 1, T, &err)) {
        fprintf(stderr, "dump_acts: %s\n", err.msg);
        return 1;
    }
    if (!want_name)
        for (int t = 0; t < T; t++)
            for (int v = 0; v < m.cfg.vocab; v++)
                printf("%.9g%c", m.acts.logits[(size_t)t * m.cfg.vocab + v], v + 1 < m.cfg.vocab ? ' ' : '\n');
    free(ids);
    gg_model_free(&m);
    gg_tokenizer_free(&tok);
    if (want_name && !found) {
        fprintf(stderr, "dump_acts: no intermediate %s in layer %d\n", want_name, want_layer);
        return 1;
    }
    return 0;
}
