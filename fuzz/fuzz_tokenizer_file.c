// libFuzzer: the tokenizer file parser. Whatever it accepts must write back
// out and parse again to the same merges, counts and text.
#include <stdlib.h>
#include <string.h>

#include "../src/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gg_tokenizer a, b;
    gg_error err;
    if (gg_tokenizer_parse(&a, (const char *)data, size, "fuzz", &err) != GG_OK) return 0;
    char *text, *again;
    size_t len, len2;
    if (gg_tokenizer_format(&a, &text, &len, &err) != GG_OK) abort();
    if (gg_tokenizer_parse(&b, text, len, "formatted", &err) != GG_OK) abort();
    if (a.n_merges != b.n_merges ||
        memcmp(a.merges, b.merges, sizeof *a.merges * (size_t)a.n_merges) != 0 ||
        memcmp(a.counts, b.counts, sizeof *a.counts * (size_t)a.n_merges) != 0)
        abort();
    if (gg_tokenizer_format(&b, &again, &len2, &err) != GG_OK) abort();
    if (len != len2 || memcmp(text, again, len) != 0) abort();
    free(text);
    free(again);
    gg_tokenizer_free(&a);
    gg_tokenizer_free(&b);
    return 0;
}
