#include "checkpoint.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

uint32_t gg_crc32(const uint8_t *data, size_t len) {
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

// ---- little-endian writing ----

typedef struct {
    uint8_t *p;
} writer;

static void put_u32(writer *w, uint32_t v) {
    for (int i = 0; i < 4; i++) *w->p++ = (uint8_t)(v >> (8 * i));
}
static void put_u64(writer *w, uint64_t v) {
    for (int i = 0; i < 8; i++) *w->p++ = (uint8_t)(v >> (8 * i));
}
static void put_f32(writer *w, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(w, v);
}
static void put_floats(writer *w, const float *f, size_t n) {
    for (size_t i = 0; i < n; i++) put_f32(w, f[i]);
}

// ---- little-endian reading (the size is checked once, up front) ----

typedef struct {
    const uint8_t *data;
    size_t len, pos;
} reader;

static uint32_t get_u32(reader *r) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)r->data[r->pos++] << (8 * i);
    return v;
}
static uint64_t get_u64(reader *r) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->data[r->pos++] << (8 * i);
    return v;
}
static float get_f32(reader *r) {
    uint32_t v = get_u32(r);
    float f;
    memcpy(&f, &v, 4);
    return f;
}
static void get_floats(reader *r, float *f, size_t n) {
    for (size_t i = 0; i < n; i++) f[i] = get_f32(r);
}

// bytes: the header up to and with the merge count; the training state
enum { HEADER = 48, TRAIN_STATE = 8 * 3 + 4 * 3 + 4 * 10 + 4 * 2 };
enum { FLAG_OPT = 1, FLAG_TRAIN = 2 };

int gg_is_checkpoint(const uint8_t *data, size_t len) {
    return len >= 8 && memcmp(data, GG_CHECKPOINT_MAGIC, 8) == 0;
}

// The first value of a tensor arena that is not finite (or, for the second
// moments, negative), named by tensor and index; GG_OK when there is none.
static int check_finite(const float *mem, const gg_config *cfg, const char *name,
                        const char *what, int nonnegative, gg_error *err) {
    gg_tensor_info info[GG_N_PARAM_TENSORS];
    gg_param_layout(cfg, info);
    size_t off = 0;
    for (int k = 0; k < GG_N_PARAM_TENSORS; off += info[k].size, k++)
        for (size_t i = 0; i < info[k].size; i++) {
            float v = mem[off + i];
            if (!isfinite(v) || (nonnegative && v < 0.0f))
                return gg_fail(err, GG_ERR_FORMAT, "%s: %s %s[%zu] is %g; the model is damaged "
                               "(a run that diverged?) and cannot be used", name, what,
                               info[k].name, i, (double)v);
        }
    return GG_OK;
}

int gg_checkpoint_serialize(const gg_model *m, const gg_tokenizer *tok, int opt_state,
                            const gg_train_state *train, uint8_t **out, size_t *len,
                            gg_error *err) {
    const gg_config *c = &m->cfg;
    if (gg_tokenizer_vocab(tok) != c->vocab)
        return gg_fail(err, GG_ERR_ARG, "the tokenizer has %d tokens but the model %d",
                       gg_tokenizer_vocab(tok), c->vocab);
    // A diverged run is not saved over a good checkpoint.
    int rc = check_finite(m->params_mem, c, "the model", "the weight", 0, err);
    if (rc) return rc;
    if (opt_state && !m->m_mem) opt_state = 0;
    size_t n = HEADER + 12 * (size_t)tok->n_merges + 4 * m->n_params * (opt_state ? 3 : 1) +
               (train ? TRAIN_STATE : 0) + 4;
    uint8_t *buf = malloc(n);
    if (!buf) return gg_fail(err, GG_ERR_NOMEM, "out of memory for a checkpoint of %zu bytes", n);
    writer w = {buf};
    memcpy(w.p, GG_CHECKPOINT_MAGIC, 8);
    w.p += 8;
    put_u32(&w, GG_CHECKPOINT_VERSION);
    const int dims[7] = {c->vocab, c->d_model, c->n_layer, c->n_head, c->ctx, c->d_ff, c->pos_kind};
    for (int i = 0; i < 7; i++) put_u32(&w, (uint32_t)dims[i]);
    put_u32(&w, (opt_state ? FLAG_OPT : 0) | (train ? FLAG_TRAIN : 0));
    put_u32(&w, (uint32_t)tok->n_merges);
    for (int i = 0; i < tok->n_merges; i++) {
        put_u32(&w, tok->merges[i].left);
        put_u32(&w, tok->merges[i].right);
        put_u32(&w, tok->counts[i]);
    }
    put_floats(&w, m->params_mem, m->n_params);
    if (opt_state) {
        put_floats(&w, m->m_mem, m->n_params);
        put_floats(&w, m->v_mem, m->n_params);
    }
    if (train) {
        put_u64(&w, train->step);
        put_u64(&w, train->rng_state);
        put_u64(&w, train->seed);
        put_u32(&w, train->batch);
        put_u32(&w, train->seq);
        put_u32(&w, train->eval_every);
        const gg_optim_cfg *o = &train->opt;
        put_f32(&w, o->lr);
        put_f32(&w, o->min_lr_frac);
        put_u32(&w, (uint32_t)o->warmup);
        put_u32(&w, (uint32_t)o->total);
        put_f32(&w, o->beta1);
        put_f32(&w, o->beta2);
        put_f32(&w, o->eps);
        put_f32(&w, o->weight_decay);
        put_f32(&w, o->grad_clip);
        put_f32(&w, o->dropout);  // 0 in files from before dropout
        put_f32(&w, train->train_loss);
        put_f32(&w, train->val_loss);
    }
    put_u32(&w, gg_crc32(buf, n - 4));
    *out = buf;
    *len = n;
    return GG_OK;
}

int gg_checkpoint_header(const uint8_t *data, size_t len, const char *name, gg_config *cfg,
                         gg_error *err) {
    if (!gg_is_checkpoint(data, len))
        return gg_fail(err, GG_ERR_FORMAT, "%s: not a glassgpt checkpoint (it does not start with "
                       "'" GG_CHECKPOINT_MAGIC "')", name);
    if (len < HEADER)
        return gg_fail(err, GG_ERR_FORMAT, "%s: truncated at byte %zu (the header alone is %d "
                       "bytes); was the file copied completely?", name, len, HEADER);
    reader r = {data, len, 8};
    uint32_t version = get_u32(&r);
    if (version != GG_CHECKPOINT_VERSION)
        return gg_fail(err, GG_ERR_FORMAT, "%s: checkpoint format version %u; this build of "
                       "glassgpt reads version %d%s", name, version, GG_CHECKPOINT_VERSION,
                       version > GG_CHECKPOINT_VERSION ? " (the file is from a newer glassgpt; "
                       "update glassgpt)" : "");
    uint32_t dims[7];
    for (int i = 0; i < 7; i++) dims[i] = get_u32(&r);
    for (int i = 0; i < 7; i++)
        if (dims[i] > 1u << 30)
            return gg_fail(err, GG_ERR_FORMAT, "%s: the header holds an impossible size (%u); "
                           "the file is corrupted", name, dims[i]);
    *cfg = (gg_config){(int)dims[0], (int)dims[1], (int)dims[2], (int)dims[3], (int)dims[4],
                       (int)dims[5], (int)dims[6]};
    gg_error why;
    if (gg_config_check(cfg, &why))
        return gg_fail(err, GG_ERR_FORMAT, "%s: the model's configuration is invalid: %s", name,
                       why.msg);
    return GG_OK;
}

// Every field of a saved training state, before anything trusts it.
static int check_train_state(const gg_train_state *t, const gg_config *cfg, const char *name,
                             gg_error *err) {
    const gg_optim_cfg *o = &t->opt;
    const char *bad = NULL;
    if (t->eval_every < 1 || t->eval_every > INT_MAX) bad = "eval_every (must be from 1 to 2^31-1)";
    else if (o->total < 1) bad = "the total steps (must be from 1 to 2^31-1)";
    else if (t->step > (uint64_t)o->total) bad = "the step (must not pass the total steps)";
    else if (o->warmup < 0) bad = "warmup (must be from 0 to 2^31-1)";
    else if (t->batch < 1 || t->batch > 65536) bad = "the batch size (must be from 1 to 65536)";
    else if (t->seq < 1 || t->seq > (uint32_t)cfg->ctx) bad = "the sequence length (must be from 1 to the context)";
    else if (!(isfinite(o->lr) && o->lr > 0.0f)) bad = "the learning rate (must be finite and positive)";
    else if (!(o->min_lr_frac >= 0.0f && o->min_lr_frac <= 1.0f)) bad = "the learning rate floor (must be from 0 to 1)";
    else if (!(o->beta1 >= 0.0f && o->beta1 < 1.0f)) bad = "beta1 (must be from 0 to below 1)";
    else if (!(o->beta2 >= 0.0f && o->beta2 < 1.0f)) bad = "beta2 (must be from 0 to below 1)";
    else if (!(isfinite(o->eps) && o->eps > 0.0f)) bad = "eps (must be finite and positive)";
    else if (!(isfinite(o->weight_decay) && o->weight_decay >= 0.0f)) bad = "the weight decay (must be finite and not negative)";
    else if (!(isfinite(o->grad_clip) && o->grad_clip >= 0.0f)) bad = "the gradient clip (must be finite and not negative)";
    else if (!(o->dropout >= 0.0f && o->dropout < 1.0f)) bad = "the dropout (must be from 0 to below 1)";
    if (bad)
        return gg_fail(err, GG_ERR_FORMAT, "%s: its training state is invalid: %s; the file is "
                       "corrupted", name, bad);
    return GG_OK;
}

int gg_checkpoint_parse(const uint8_t *data, size_t len, const char *name, gg_model *m,
                        gg_tokenizer *tok, gg_train_state *train, int *has_train, gg_error *err) {
    memset(m, 0, sizeof *m);
    memset(tok, 0, sizeof *tok);
    if (has_train) *has_train = 0;
    gg_config cfg;
    int rc = gg_checkpoint_header(data, len, name, &cfg, err);
    if (rc) return rc;
    reader r = {data, len, 12 + 7 * 4};  // after the magic, version and dimensions
    uint32_t flags = get_u32(&r), n_merges = get_u32(&r);
    if (flags & ~(uint32_t)(FLAG_OPT | FLAG_TRAIN))
        return gg_fail(err, GG_ERR_FORMAT, "%s: unknown flags 0x%x in the header", name, flags);
    gg_error why;
    if ((uint64_t)n_merges + GG_BPE_BYTES != (uint64_t)cfg.vocab)
        return gg_fail(err, GG_ERR_FORMAT, "%s: the model's vocabulary is %d but its tokenizer "
                       "has %u merges (256 + %u tokens)", name, cfg.vocab, n_merges, n_merges);
    // In 64 bits, so that no size wraps in a 32-bit build (WebAssembly).
    size_t n_params = gg_param_count(&cfg);
    uint64_t expect = HEADER + 12 * (uint64_t)n_merges +
                      4 * (uint64_t)n_params * (flags & FLAG_OPT ? 3 : 1) +
                      (flags & FLAG_TRAIN ? TRAIN_STATE : 0) + 4;
    if ((uint64_t)len < expect)
        return gg_fail(err, GG_ERR_FORMAT, "%s: truncated at byte %zu (expected %llu bytes for a "
                       "model of %zu parameters); was the file copied completely?", name, len,
                       (unsigned long long)expect, n_params);
    if ((uint64_t)len > expect)
        return gg_fail(err, GG_ERR_FORMAT, "%s: %llu unexpected bytes after the end of the "
                       "checkpoint (expected %llu bytes)", name,
                       (unsigned long long)((uint64_t)len - expect), (unsigned long long)expect);
    uint32_t stored = (uint32_t)data[len - 4] | (uint32_t)data[len - 3] << 8 |
                      (uint32_t)data[len - 2] << 16 | (uint32_t)data[len - 1] << 24;
    if (stored != gg_crc32(data, len - 4))
        return gg_fail(err, GG_ERR_FORMAT, "%s: corrupted: the CRC-32 does not match the "
                       "contents", name);

    gg_pair *merges = malloc(sizeof *merges * (n_merges ? n_merges : 1));
    uint32_t *counts = malloc(sizeof *counts * (n_merges ? n_merges : 1));
    if (!merges || !counts) {
        free(merges);
        free(counts);
        return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", name);
    }
    for (uint32_t i = 0; i < n_merges; i++) {
        merges[i].left = get_u32(&r);
        merges[i].right = get_u32(&r);
        counts[i] = get_u32(&r);
    }
    rc = gg_tokenizer_init(tok, merges, counts, (int)n_merges, NULL, &why);
    free(merges);
    free(counts);
    if (rc) return gg_fail(err, rc, "%s: its tokenizer is invalid: %s", name, why.msg);
    if ((rc = gg_model_init(m, &cfg, err))) {
        gg_tokenizer_free(tok);
        return rc;
    }
    get_floats(&r, m->params_mem, n_params);
    rc = check_finite(m->params_mem, &cfg, name, "the weight", 0, err);
    if (!rc && (flags & FLAG_OPT) && !(rc = gg_optim_alloc(m, err))) {
        get_floats(&r, m->m_mem, n_params);
        get_floats(&r, m->v_mem, n_params);
        rc = check_finite(m->m_mem, &cfg, name, "the AdamW first moment of", 0, err);
        if (!rc) rc = check_finite(m->v_mem, &cfg, name, "the AdamW second moment of", 1, err);
    }
    if (rc) {
        gg_model_free(m);
        gg_tokenizer_free(tok);
        return rc;
    }
    if (flags & FLAG_TRAIN) {
        gg_train_state t;
        t.step = get_u64(&r);
        t.rng_state = get_u64(&r);
        t.seed = get_u64(&r);
        t.batch = get_u32(&r);
        t.seq = get_u32(&r);
        t.eval_every = get_u32(&r);
        t.opt.lr = get_f32(&r);
        t.opt.min_lr_frac = get_f32(&r);
        uint32_t warmup = get_u32(&r), total = get_u32(&r);
        t.opt.warmup = warmup > INT_MAX ? -1 : (int)warmup;  // -1, 0: refused below
        t.opt.total = total > INT_MAX ? 0 : (int)total;
        t.opt.beta1 = get_f32(&r);
        t.opt.beta2 = get_f32(&r);
        t.opt.eps = get_f32(&r);
        t.opt.weight_decay = get_f32(&r);
        t.opt.grad_clip = get_f32(&r);
        t.opt.dropout = get_f32(&r);
        t.train_loss = get_f32(&r);
        t.val_loss = get_f32(&r);
        if ((rc = check_train_state(&t, &cfg, name, err))) {
            gg_model_free(m);
            gg_tokenizer_free(tok);
            return rc;
        }
        if (train) *train = t;
        if (has_train) *has_train = 1;
    }
    return GG_OK;
}

int gg_checkpoint_save(const char *path, const gg_model *m, const gg_tokenizer *tok,
                       int opt_state, const gg_train_state *train, gg_error *err) {
    uint8_t *buf;
    size_t len;
    int rc = gg_checkpoint_serialize(m, tok, opt_state, train, &buf, &len, err);
    if (rc) return rc;
    rc = gg_write_file_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

int gg_checkpoint_load(const char *path, gg_model *m, gg_tokenizer *tok, gg_train_state *train,
                       int *has_train, gg_error *err) {
    uint8_t *data;
    size_t len;
    // The largest model (1e9 parameters) with its moments is 12 GB.
    size_t max = SIZE_MAX > 0xffffffffu ? (size_t)((uint64_t)16 << 30) : SIZE_MAX;
    int rc = gg_read_file_max(path, max, &data, &len, err);
    if (rc) return rc;
    rc = gg_checkpoint_parse(data, len, path, m, tok, train, has_train, err);
    free(data);
    return rc;
}
