#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

typedef struct {
    char name[64];
    const float *data;
    int ndim, shape[2];
    size_t size;
} export_tensor;

static void add(export_tensor *t, int *n, const char *name, const float *data, int d0, int d1) {
    export_tensor *e = &t[(*n)++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->data = data;
    e->ndim = d1 ? 2 : 1;
    e->shape[0] = d0;
    e->shape[1] = d1;
    e->size = (size_t)d0 * (d1 ? (size_t)d1 : 1);
}

int gg_export_hf(const gg_model *m, const char *dir, gg_error *err) {
    const gg_config *c = &m->cfg;
    const gg_params *p = &m->params;
    int V = c->vocab, C = c->d_model, L = c->n_layer, F = c->d_ff, P = c->ctx;
    int cap = 4 + 12 * L;  // wte, wpe, 12 per layer, ln_f
    export_tensor *t = malloc(sizeof *t * (size_t)cap);
    if (!t) return gg_fail(err, GG_ERR_NOMEM, "out of memory");
    int n = 0;
    char name[64];
    add(t, &n, "wte.weight", p->wte, V, C);
    add(t, &n, "wpe.weight", p->wpe, P, C);
    for (int l = 0; l < L; l++) {
#define LAYER(suffix, data, d0, d1)                              \
    snprintf(name, sizeof name, "h.%d.%s", l, suffix);           \
    add(t, &n, name, data, d0, d1)
        LAYER("ln_1.weight", p->ln1w + l * C, C, 0);
        LAYER("ln_1.bias", p->ln1b + l * C, C, 0);
        LAYER("attn.c_attn.weight", p->wqkv + (size_t)l * C * 3 * C, C, 3 * C);
        LAYER("attn.c_attn.bias", p->bqkv + l * 3 * C, 3 * C, 0);
        LAYER("attn.c_proj.weight", p->wout + (size_t)l * C * C, C, C);
        LAYER("attn.c_proj.bias", p->bout + l * C, C, 0);
        LAYER("ln_2.weight", p->ln2w + l * C, C, 0);
        LAYER("ln_2.bias", p->ln2b + l * C, C, 0);
        LAYER("mlp.c_fc.weight", p->w1 + (size_t)l * C * F, C, F);
        LAYER("mlp.c_fc.bias", p->b1 + l * F, F, 0);
        LAYER("mlp.c_proj.weight", p->w2 + (size_t)l * F * C, F, C);
        LAYER("mlp.c_proj.bias", p->b2 + l * C, C, 0);
#undef LAYER
    }
    add(t, &n, "ln_f.weight", p->lnfw, C, 0);
    add(t, &n, "ln_f.bias", p->lnfb, C, 0);

    // The header: JSON that maps each name to its dtype, shape and byte
    // range, padded with spaces to a multiple of 8 bytes.
    size_t hcap = 256 + (size_t)n * 160, hlen = 0, off = 0;
    char *header = malloc(hcap);
    if (!header) {
        free(t);
        return gg_fail(err, GG_ERR_NOMEM, "out of memory");
    }
    hlen += (size_t)snprintf(header + hlen, hcap - hlen,
                             "{\"__metadata__\":{\"format\":\"pt\",\"source\":\"glassgpt\"}");
    for (int i = 0; i < n; i++) {
        size_t bytes = 4 * t[i].size;
        if (t[i].ndim == 2)
            hlen += (size_t)snprintf(header + hlen, hcap - hlen,
                                     ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],"
                                     "\"data_offsets\":[%zu,%zu]}",
                                     t[i].name, t[i].shape[0], t[i].shape[1], off, off + bytes);
        else
            hlen += (size_t)snprintf(header + hlen, hcap - hlen,
                                     ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],"
                                     "\"data_offsets\":[%zu,%zu]}",
                                     t[i].name, t[i].shape[0], off, off + bytes);
        off += bytes;
    }
    header[hlen++] = '}';
    while (hlen % 8) header[hlen++] = ' ';
    size_t total = 8 + hlen + off;
    uint8_t *buf = malloc(total);
    int rc = GG_OK;
    if (!buf) {
        rc = gg_fail(err, GG_ERR_NOMEM, "out of memory for %zu bytes", total);
    } else {
        for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
        memcpy(buf + 8, header, hlen);
        uint8_t *o = buf + 8 + hlen;
        for (int i = 0; i < n; i++)
            for (size_t k = 0; k < t[i].size; k++) {
                uint32_t v;
                memcpy(&v, &t[i].data[k], 4);
                for (int b = 0; b < 4; b++) *o++ = (uint8_t)(v >> (8 * b));
            }
        char path[4096];
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        rc = gg_write_file_atomic(path, buf, total, err);
    }
    if (!rc) {
        char json[1024], path[4096];
        int len = snprintf(json, sizeof json,
                           "{\n"
                           "  \"architectures\": [\"GPT2LMHeadModel\"],\n"
                           "  \"model_type\": \"gpt2\",\n"
                           "  \"vocab_size\": %d,\n"
                           "  \"n_positions\": %d,\n"
                           "  \"n_ctx\": %d,\n"
                           "  \"n_embd\": %d,\n"
                           "  \"n_layer\": %d,\n"
                           "  \"n_head\": %d,\n"
                           "  \"n_inner\": %d,\n"
                           "  \"activation_function\": \"gelu_new\",\n"
                           "  \"layer_norm_epsilon\": 1e-05,\n"
                           "  \"tie_word_embeddings\": true,\n"
                           "  \"resid_pdrop\": 0.0,\n"
                           "  \"embd_pdrop\": 0.0,\n"
                           "  \"attn_pdrop\": 0.0,\n"
                           "  \"glassgpt_position_embedding\": \"%s\"\n"
                           "}\n",
                           V, P, P, C, L, c->n_head, F,
                           c->pos_kind == GG_POS_LEARNED ? "learned" : "sinusoidal");
        snprintf(path, sizeof path, "%s/config.json", dir);
        rc = gg_write_file_atomic(path, json, (size_t)len, err);
    }
    free(buf);
    free(header);
    free(t);
    return rc;
}
