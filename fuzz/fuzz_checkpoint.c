// libFuzzer: the checkpoint parser. The CRC-32 is repaired here before the
// parse, so that the fuzzer reaches every check behind it. Whatever it
// accepts must serialise back to the same bytes.
#include <stdlib.h>
#include <string.h>

#include "../src/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 8 || size > (1u << 20)) return 0;
    uint8_t *copy = malloc(size);
    memcpy(copy, data, size);
    uint32_t crc = gg_crc32(copy, size - 4);
    for (int i = 0; i < 4; i++) copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    gg_model m;
    gg_tokenizer tok;
    gg_train_state st;
    int has_train;
    gg_error err;
    if (gg_checkpoint_parse(copy, size, "fuzz", &m, &tok, &st, &has_train, &err) == GG_OK) {
        uint8_t *out;
        size_t len;
        if (gg_checkpoint_serialize(&m, &tok, 1, has_train ? &st : NULL, &out, &len, &err) != GG_OK)
            abort();
        // the reserved word of the training state is written as 0
        if (len != size) abort();
        size_t reserved = has_train ? size - 16 : 0;  // see src/checkpoint.h
        for (size_t i = 0; i < size - 4; i++)
            if (out[i] != copy[i] && !(has_train && i >= reserved && i < reserved + 4)) abort();
        free(out);
        gg_model_free(&m);
        gg_tokenizer_free(&tok);
    }
    free(copy);
    return 0;
}
