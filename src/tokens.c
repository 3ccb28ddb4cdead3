#include "tokens.h"

#include <string.h>

void gg_token_seq_read(const gg_token_seq *s, size_t start, size_t count, int *out) {
    int k = 0;
    while (k < s->n_pieces && start >= s->pieces[k].n) start -= s->pieces[k++].n;
    for (; count > 0 && k < s->n_pieces; k++, start = 0) {
        const gg_token_piece *p = &s->pieces[k];
        size_t take = p->n - start < count ? p->n - start : count;
        if (p->ints) {
            memcpy(out, p->ints + start, sizeof *out * take);
        } else {
            const uint8_t *b = p->le16 + 2 * start;
            for (size_t i = 0; i < take; i++) out[i] = b[2 * i] | b[2 * i + 1] << 8;
        }
        out += take;
        count -= take;
    }
}
