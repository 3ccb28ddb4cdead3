#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "strbuf.h"

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

// ---- the tokenizer ----

// GPT-2's table from bytes to characters: the printable bytes stand for
// themselves, and the others (controls, space, DEL, NBSP, soft hyphen) take
// the code points from U+0100 on, in byte order. No token text then holds a
// space or a control character.
static void byte_chars(uint32_t cp[256]) {
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; b++)
        cp[b] = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174) ? b : next++;
}

// A token's text: its bytes through the table, as UTF-8.
static void token_text(gg_strbuf *out, const gg_tokenizer *t, uint32_t id, const uint32_t cp[256]) {
    size_t n;
    const uint8_t *bytes = gg_token_bytes(t, id, &n);
    gg_sb_clear(out);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[bytes[i]];
        if (c < 0x80) gg_sb_printf(out, "%c", (char)c);
        else gg_sb_printf(out, "%c%c", (char)(0xc0 | c >> 6), (char)(0x80 | (c & 0x3f)));
    }
}

typedef struct {
    const uint8_t *bytes;
    size_t n;
    uint32_t id;
} token_entry;

static int by_bytes(const void *a, const void *b) {
    const token_entry *x = a, *y = b;
    int c = memcmp(x->bytes, y->bytes, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static int write_text(const char *dir, const char *name, const gg_strbuf *b, gg_error *err) {
    if (b->failed) return gg_fail(err, GG_ERR_NOMEM, "out of memory for %s", name);
    gg_strbuf path = {0};
    gg_sb_printf(&path, "%s/%s", dir, name);
    int rc = path.failed ? gg_fail(err, GG_ERR_NOMEM, "out of memory")
                         : gg_write_file_atomic(path.p, b->p, b->len, err);
    free(path.p);
    return rc;
}

int gg_export_hf_tokenizer(const gg_tokenizer *tok, int ctx, const char *dir, gg_error *err) {
    uint32_t V = (uint32_t)gg_tokenizer_vocab(tok), cp[256];
    byte_chars(cp);
    // Tokens with the same bytes would share one key.
    token_entry *order = malloc(sizeof *order * V);
    if (!order) return gg_fail(err, GG_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < V; i++) {
        order[i].id = i;
        order[i].bytes = gg_token_bytes(tok, i, &order[i].n);
    }
    qsort(order, V, sizeof *order, by_bytes);
    for (uint32_t i = 1; i < V; i++)
        if (by_bytes(&order[i - 1], &order[i]) == 0) {
            uint32_t a = order[i - 1].id, b = order[i].id;
            free(order);
            return gg_fail(err, GG_ERR_ARG, "tokens %u and %u have the same bytes, which "
                           "tokenizer.json cannot tell apart; no Hugging Face tokenizer files "
                           "were written", a < b ? a : b, a < b ? b : a);
        }
    free(order);

    gg_strbuf left = {0}, right = {0}, vocab = {0}, merges = {0}, merge_list = {0};
    gg_strbuf json = {0}, config = {0};
    gg_sb_printf(&vocab, "{");
    for (uint32_t id = 0; id < V; id++) {
        token_text(&left, tok, id, cp);
        gg_sb_printf(&vocab, "%s\n  ", id ? "," : "");
        gg_sb_json_string(&vocab, left.p, left.len);
        gg_sb_printf(&vocab, ": %u", id);
    }
    gg_sb_printf(&vocab, "\n}");
    gg_sb_printf(&merges, "#version: 0.2\n");
    gg_sb_clear(&merge_list);  // a string even with no merges
    for (int i = 0; i < tok->n_merges; i++) {
        // The texts hold no space (GPT-2's table maps it away), so
        // "left right" splits back into the pair.
        token_text(&left, tok, tok->merges[i].left, cp);
        token_text(&right, tok, tok->merges[i].right, cp);
        gg_sb_printf(&left, " %s", right.p);
        gg_sb_printf(&merges, "%s\n", left.p);
        gg_sb_printf(&merge_list, "%s\n      ", i ? "," : "");
        gg_sb_json_string(&merge_list, left.p, left.len);
    }
    const char *byte_level = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                             "\"trim_offsets\": false, \"use_regex\": false}";
    gg_sb_printf(&json,
                 "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
                 "  \"added_tokens\": [],\n  \"normalizer\": null,\n"
                 "  \"pre_tokenizer\": %s,\n  \"post_processor\": null,\n  \"decoder\": %s,\n"
                 "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n"
                 "    \"unk_token\": null,\n    \"continuing_subword_prefix\": null,\n"
                 "    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n"
                 "    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n"
                 "    \"vocab\": %s,\n    \"merges\": [%s\n    ]\n  }\n}\n",
                 byte_level, byte_level, vocab.failed ? "" : vocab.p,
                 merge_list.failed ? "" : merge_list.p);
    gg_sb_printf(&vocab, "\n");
    gg_sb_printf(&config,
                 "{\n  \"tokenizer_class\": \"GPT2TokenizerFast\",\n  \"model_max_length\": %d,\n"
                 "  \"add_prefix_space\": false,\n  \"clean_up_tokenization_spaces\": false\n}\n",
                 ctx);
    int rc = left.failed || right.failed || merge_list.failed
                 ? gg_fail(err, GG_ERR_NOMEM, "out of memory") : GG_OK;
    if (!rc) rc = write_text(dir, "tokenizer.json", &json, err);
    if (!rc) rc = write_text(dir, "vocab.json", &vocab, err);
    if (!rc) rc = write_text(dir, "merges.txt", &merges, err);
    if (!rc) rc = write_text(dir, "tokenizer_config.json", &config, err);
    free(left.p), free(right.p), free(vocab.p), free(merges.p), free(merge_list.p);
    free(json.p), free(config.p);
    return rc;
}
