// A test helper: the native engine's logits for a checkpoint and some token
// ids, one line per position, for tests/wasm_parity.mjs to compare with the
// WebAssembly build's.
//
// usage: build/dump_logits MODEL ID...
#include <stdio.h>
#include <stdlib.h>

#include "../src/checkpoint.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: dump_logits MODEL ID...\n");
        return 2;
    }
    gg_model m;
    gg_tokenizer tok;
    gg_error err;
    if (gg_checkpoint_load(argv[1], &m, &tok, NULL, NULL, &err)) {
        fprintf(stderr, "dump_logits: %s\n", err.msg);
        return 1;
    }
    int T = argc - 2;
    int *ids = malloc(sizeof *ids * (size_t)T);
    for (int i = 0; i < T; i++) ids[i] = atoi(argv[i + 2]);
    if (gg_model_forward(&m, ids, NULL, 1, T, &err)) {
        fprintf(stderr, "dump_logits: %s\n", err.msg);
        return 1;
    }
    for (int t = 0; t < T; t++)
        for (int v = 0; v < m.cfg.vocab; v++)
            printf("%.9g%c", m.acts.logits[(size_t)t * m.cfg.vocab + v], v + 1 < m.cfg.vocab ? ' ' : '\n');
    free(ids);
    gg_model_free(&m);
    gg_tokenizer_free(&tok);
    return 0;
}
