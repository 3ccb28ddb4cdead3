#include "model.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detmath.h"
#include "fileio.h"
#include "rng.h"

// ---- configuration ----

const char *const gg_preset_names[] = {"tiny", "small", "base", NULL};

int gg_config_preset(gg_config *cfg, const char *name, gg_error *err) {
    static const gg_config presets[] = {
        // V    C    L  NH  ctx  F
        {768, 8, 2, 2, 8, 32, GG_POS_LEARNED},       // tiny: every number fits on screen
        {768, 64, 2, 8, 64, 256, GG_POS_LEARNED},    // small
        {768, 128, 4, 8, 128, 512, GG_POS_LEARNED},  // base: about 0.9M parameters
    };
    for (int i = 0; gg_preset_names[i]; i++)
        if (strcmp(name, gg_preset_names[i]) == 0) {
            *cfg = presets[i];
            return GG_OK;
        }
    return gg_fail(err, GG_ERR_ARG, "unknown preset '%s' (the presets are tiny, small and base)",
                   name);
}

int gg_config_check(const gg_config *c, gg_error *err) {
    const struct {
        const char *name;
        int value, lo, hi;
    } f[] = {
        {"vocabulary size", c->vocab, 1, 65536},  {"model width (d)", c->d_model, 1, 16384},
        {"number of layers", c->n_layer, 1, 256}, {"number of heads", c->n_head, 1, 1024},
        {"context length", c->ctx, 1, GG_MAX_CTX}, {"feed-forward width", c->d_ff, 1, 65536},
    };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (f[i].value < f[i].lo || f[i].value > f[i].hi)
            return gg_fail(err, GG_ERR_ARG, "%s %d is out of range (%d..%d)", f[i].name,
                           f[i].value, f[i].lo, f[i].hi);
    if (c->d_model % c->n_head != 0)
        return gg_fail(err, GG_ERR_ARG, "%d heads do not divide the model width %d: each head "
                       "takes d / heads columns", c->n_head, c->d_model);
    if (c->pos_kind != GG_POS_LEARNED && c->pos_kind != GG_POS_SINUSOIDAL)
        return gg_fail(err, GG_ERR_ARG, "unknown position embedding kind %d", c->pos_kind);
    // Counted in doubles: in a 32-bit build (WebAssembly), a size_t would wrap.
    gg_tensor_info t[GG_N_PARAM_TENSORS];
    gg_param_layout(c, t);
    double n = 0.0;
    for (int i = 0; i < GG_N_PARAM_TENSORS; i++) {
        double size = 1.0;
        for (int d = 0; d < t[i].ndim; d++) size *= t[i].shape[d];
        n += size;
    }
    if (n > 1e9)
        return gg_fail(err, GG_ERR_ARG, "%.0f parameters is more than glassgpt handles (1e9)", n);
    if (n * 4.0 * sizeof(float) > (double)SIZE_MAX)  // the weights, gradients and two moments
        return gg_fail(err, GG_ERR_ARG, "%.0f parameters is more than this %zu-bit build can "
                       "address", n, 8 * sizeof(size_t));
    return GG_OK;
}

// ---- the parameter arena ----

void gg_param_layout(const gg_config *c, gg_tensor_info t[GG_N_PARAM_TENSORS]) {
    int V = c->vocab, C = c->d_model, L = c->n_layer, F = c->d_ff, P = c->ctx;
#define INFO(name, NAME, ndim, d0, d1, d2, decay) {#name, ndim, {d0, d1, d2}, 0, decay},
    const gg_tensor_info info[GG_N_PARAM_TENSORS] = {GG_PARAM_TENSORS(INFO)};
#undef INFO
    for (int i = 0; i < GG_N_PARAM_TENSORS; i++) {
        t[i] = info[i];
        t[i].size = 1;
        for (int d = 0; d < t[i].ndim; d++) t[i].size *= (size_t)t[i].shape[d];
    }
}

size_t gg_param_count(const gg_config *c) {
    gg_tensor_info t[GG_N_PARAM_TENSORS];
    gg_param_layout(c, t);
    size_t n = 0;
    for (int i = 0; i < GG_N_PARAM_TENSORS; i++) n += t[i].size;
    return n;
}

void gg_params_view(gg_params *p, const gg_config *c, float *mem) {
    gg_tensor_info t[GG_N_PARAM_TENSORS];
    gg_param_layout(c, t);
#define VIEW(name, ...) &p->name,
    float **views[GG_N_PARAM_TENSORS] = {GG_PARAM_TENSORS(VIEW)};
#undef VIEW
    for (int i = 0; i < GG_N_PARAM_TENSORS; i++) {
        *views[i] = mem;
        mem += t[i].size;
    }
}

void gg_sinusoidal_table(float *pe, int ctx, int C) {
    double log10000 = gg_log(10000.0);
    for (int pos = 0; pos < ctx; pos++)
        for (int i = 0; i < C; i++) {
            // the angle pos / 10000^((i - i % 2) / C), in turns
            double turns = pos * gg_exp(-log10000 * (i - i % 2) / C) / GG_TWO_PI;
            pe[(size_t)pos * C + i] = (float)(i % 2 ? gg_cos_turns(turns) : gg_sin_turns(turns));
        }
}

int gg_model_init(gg_model *m, const gg_config *cfg, gg_error *err) {
    memset(m, 0, sizeof *m);
    int rc = gg_config_check(cfg, err);
    if (rc) return rc;
    m->cfg = *cfg;
    m->ops = &gg_ops_cpu;
    m->n_params = gg_param_count(cfg);
    m->params_mem = gg_big_alloc(sizeof(float) * m->n_params);
    if (!m->params_mem)
        return gg_fail(err, GG_ERR_NOMEM, "out of memory for %zu parameters", m->n_params);
    memset(m->params_mem, 0, sizeof(float) * m->n_params);
    gg_params_view(&m->params, cfg, m->params_mem);
    if (cfg->pos_kind == GG_POS_SINUSOIDAL) gg_sinusoidal_table(m->params.wpe, cfg->ctx, cfg->d_model);
    return GG_OK;
}

void gg_model_free(gg_model *m) {
    gg_big_free(m->params_mem);
    gg_big_free(m->grads_mem);
    gg_big_free(m->m_mem);
    gg_big_free(m->v_mem);
    gg_big_free(m->acts_mem);
    gg_big_free(m->dacts_mem);
    free(m->tokens);
    free(m->targets);
    memset(m, 0, sizeof *m);
}

void gg_model_init_weights(gg_model *m, uint64_t seed) {
    const gg_config *c = &m->cfg;
    gg_tensor_info t[GG_N_PARAM_TENSORS];
    gg_param_layout(c, t);
    gg_rng rng = gg_rng_seed(seed);
    float resid_scale = 1.0f / sqrtf(2.0f * (float)c->n_layer);
    float *p = m->params_mem;
    for (int i = 0; i < GG_N_PARAM_TENSORS; p += t[i].size, i++) {
        if (i == GG_WPE && c->pos_kind == GG_POS_SINUSOIDAL) continue;  // fixed, not learned
        int ln_weight = i == GG_LN1W || i == GG_LN2W || i == GG_LNFW;
        // the projections into the residual stream start smaller, as in GPT-2
        float std = 0.02f * (i == GG_WOUT || i == GG_W2 ? resid_scale : 1.0f);
        for (size_t k = 0; k < t[i].size; k++)
            p[k] = ln_weight ? 1.0f : t[i].decay ? std * gg_rng_normal(&rng) : 0.0f;
    }
}

// ---- activations ----

// Lays the activations of a B x T batch out in mem (or, with mem NULL, only
// counts them); returns their number of floats.
static size_t acts_layout(gg_acts *a, float *mem, const gg_config *c, int B, int T) {
    size_t V = (size_t)c->vocab, C = (size_t)c->d_model, L = (size_t)c->n_layer;
    size_t NH = (size_t)c->n_head, F = (size_t)c->d_ff, BT = (size_t)B * T;
    struct {
        float **view;
        size_t size;
    } table[] = {
#define ROW(name, size) {&a->name, size},
        GG_ACTS(ROW)
#undef ROW
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        if (mem) *table[i].view = mem + n;
        n += table[i].size;
    }
    return n;
}

static size_t grad_acts_count(int N, int C, int V, int F);

double gg_train_memory(const gg_config *c, int B, int T) {
    gg_acts a;
    // parameters, gradients and two moments; the checkpoint, serialised whole
    // before it is written, holds three of those again
    double floats = 7.0 * (double)gg_param_count(c) + (double)acts_layout(&a, NULL, c, B, T) +
                    (double)grad_acts_count(B * T, c->d_model, c->vocab, c->d_ff);
    return 4.0 * floats + 2.0 * sizeof(int) * B * T;
}

static int alloc_acts(gg_model *m, int B, int T, gg_error *err) {
    if (m->acts_mem && m->B == B && m->T == T) return GG_OK;
    if (B < 1 || T < 1 || B > 65536)
        return gg_fail(err, GG_ERR_ARG, "a batch of %d x %d tokens: both must be at least 1 "
                       "(and the batch at most 65536)", B, T);
    if (T > m->cfg.ctx)
        return gg_fail(err, GG_ERR_ARG, "a sequence of %d tokens is longer than the model's "
                       "context of %d", T, m->cfg.ctx);
    gg_big_free(m->acts_mem);
    free(m->tokens);
    free(m->targets);
    m->acts_mem = NULL;
    size_t n = acts_layout(&m->acts, NULL, &m->cfg, B, T), BT = (size_t)B * T;
    m->acts_mem = gg_big_alloc(sizeof(float) * n);
    m->tokens = malloc(sizeof *m->tokens * BT);
    m->targets = malloc(sizeof *m->targets * BT);
    if (!m->acts_mem || !m->tokens || !m->targets)
        return gg_fail(err, GG_ERR_NOMEM, "out of memory for the activations of a %d x %d batch "
                       "(%zu floats)", B, T, n);
    acts_layout(&m->acts, m->acts_mem, &m->cfg, B, T);
    m->n_acts = n;
    m->B = B;
    m->T = T;
    return GG_OK;
}

// ---- forward ----

// Dropout of the (N, C) activation or gradient x at one site of the model:
// 0 the embeddings, 1 + 2l layer l's attn output, 2 + 2l its ffn output.
static void drop(const gg_model *m, float *x, int site, int N, int C) {
    const gg_dropout *d = &m->dropout_used;
    if (d->p > 0.0f)
        m->ops->dropout(x, (size_t)N * C, d->first_pos * (uint64_t)C, d->p,
                        gg_mix64(d->seed, (uint64_t)site));
}

static void observe(const gg_model *m, const char *name, int layer, const float *data, int d0,
                    int d1, int d2, int d3) {
    if (!m->observe) return;
    int shape[4] = {d0, d1, d2, d3}, ndim = d3 ? 4 : d2 ? 3 : 2;
    m->observe(m->observe_user, name, layer, data, shape, ndim);
}

int gg_model_forward(gg_model *m, const int *tokens, const int *targets, int B, int T,
                     gg_error *err) {
    int rc = alloc_acts(m, B, T, err);
    if (rc) return rc;
    const gg_ops *ops = m->ops;
    const gg_config *c = &m->cfg;
    int V = c->vocab, C = c->d_model, L = c->n_layer, NH = c->n_head, F = c->d_ff, N = B * T;
    for (int i = 0; i < N; i++)
        if (tokens[i] < 0 || tokens[i] >= V || (targets && (targets[i] < 0 || targets[i] >= V)))
            return gg_fail(err, GG_ERR_ARG, "token %d of the batch is outside the vocabulary "
                           "of %d", i, V);
    if (!(m->dropout.p >= 0.0f && m->dropout.p < 1.0f))
        return gg_fail(err, GG_ERR_ARG, "dropout %g is outside [0, 1)", (double)m->dropout.p);
    m->dropout_used = m->dropout;
    memcpy(m->tokens, tokens, sizeof *tokens * (size_t)N);
    if (targets) memcpy(m->targets, targets, sizeof *targets * (size_t)N);
    gg_params *p = &m->params;
    gg_acts *a = &m->acts;

    ops->encoder_forward(a->encoded, m->tokens, p->wte, p->wpe, N, T, C);  // the batch, uploaded
    drop(m, a->encoded, 0, N, C);
    observe(m, "encoded", -1, a->encoded, B, T, C, 0);
    const float *x = a->encoded;  // the residual stream
    for (int l = 0; l < L; l++) {
        size_t lc = (size_t)l * N * C, lt = (size_t)l * N;
        float *ln1 = a->ln1 + lc, *qkv = a->qkv + lc * 3, *atty = a->atty + lc;
        float *scores = a->scores + (size_t)l * B * NH * T * T, *att = a->att + (size_t)l * B * NH * T * T;
        float *attproj = a->attproj + lc, *res_att = a->res_att + lc, *ln2 = a->ln2 + lc;
        float *ffh = a->ffh + (size_t)l * N * F, *ffh_gelu = a->ffh_gelu + (size_t)l * N * F;
        float *ffproj = a->ffproj + lc, *res_ff = a->res_ff + lc;

        ops->layernorm_forward(ln1, a->ln1_mean + lt, a->ln1_rstd + lt, x, p->ln1w + l * C,
                               p->ln1b + l * C, N, C);
        ops->matmul_forward(qkv, ln1, p->wqkv + (size_t)l * C * 3 * C, p->bqkv + l * 3 * C, N, C,
                            3 * C);
        // the scores are kept only to be shown
        ops->attention_forward(atty, m->observe ? scores : NULL, att, qkv, B, T, C, NH);
        ops->matmul_forward(attproj, atty, p->wout + (size_t)l * C * C, p->bout + l * C, N, C, C);
        drop(m, attproj, 1 + 2 * l, N, C);
        ops->residual_forward(res_att, x, attproj, N * C);
        ops->layernorm_forward(ln2, a->ln2_mean + lt, a->ln2_rstd + lt, res_att, p->ln2w + l * C,
                               p->ln2b + l * C, N, C);
        ops->matmul_forward(ffh, ln2, p->w1 + (size_t)l * C * F, p->b1 + l * F, N, C, F);
        ops->gelu_forward(ffh_gelu, ffh, N * F);
        ops->matmul_forward(ffproj, ffh_gelu, p->w2 + (size_t)l * F * C, p->b2 + l * C, N, F, C);
        drop(m, ffproj, 2 + 2 * l, N, C);
        ops->residual_forward(res_ff, res_att, ffproj, N * C);
        x = res_ff;

        if (m->observe) {  // the scores above the diagonal too, for showing
            ops->attention_scores(scores, qkv, B, T, C, NH);
        }
#define OBSERVE(name, d1, d2, d3) observe(m, #name, l, name, B, d1, d2, d3);
        GG_OBSERVED_BLOCK(OBSERVE)
#undef OBSERVE
    }
    ops->layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, x, p->lnfw, p->lnfb, N, C);
    ops->transpose(a->wte_t, p->wte, V, C);
    ops->matmul_forward(a->logits, a->lnf, a->wte_t, NULL, N, C, V);
    ops->softmax_forward(a->probs, a->logits, N, V);
    observe(m, "lnf", -1, a->lnf, B, T, C, 0);
    observe(m, "logits", -1, a->logits, B, T, V, 0);
    observe(m, "probs", -1, a->probs, B, T, V, 0);
    m->has_loss = targets != NULL;
    if (targets) {
        ops->crossentropy_forward(a->losses, a->probs, m->targets, N, V);
        ops->mean(&m->loss, a->losses, (size_t)N);
    }
    return GG_OK;
}

// ---- backward ----

static int alloc_grads(gg_model *m, gg_error *err) {
    if (m->grads_mem) return GG_OK;
    m->grads_mem = gg_big_alloc(sizeof(float) * m->n_params);
    if (!m->grads_mem)
        return gg_fail(err, GG_ERR_NOMEM, "out of memory for %zu gradients", m->n_params);
    gg_params_view(&m->grads, &m->cfg, m->grads_mem);
    return GG_OK;
}

int gg_model_zero_grad(gg_model *m, gg_error *err) {
    int rc = alloc_grads(m, err);
    if (rc) return rc;
    m->ops->zero(m->grads_mem, m->n_params);
    return GG_OK;
}

// The gradients of the activations need far fewer buffers than the
// activations: one for the residual stream, and one per tensor of a block,
// reused by every layer. They live in a second arena, made on first use.
typedef struct {
    float *dlogits;   // (N,V)
    float *dwte_t;    // (C,V)
    float *dlnf;      // (N,C)
    float *dres;      // (N,C) the residual stream, flowing back through the layers
    float *dres_att;  // (N,C)
    float *dproj;     // (N,C) of attproj, then of ffproj
    float *dln;       // (N,C) of ln1, then of ln2
    float *datty;     // (N,C)
    float *dqkv;      // (N,3C)
    float *dffh;      // (N,F)
    float *dffh_gelu; // (N,F)
} grad_acts;

static size_t grad_acts_view(grad_acts *d, float *mem, int N, int C, int V, int F) {
    struct {
        float **view;
        size_t size;
    } table[] = {
        {&d->dlogits, (size_t)N * V}, {&d->dwte_t, (size_t)C * V}, {&d->dlnf, (size_t)N * C},
        {&d->dres, (size_t)N * C},    {&d->dres_att, (size_t)N * C}, {&d->dproj, (size_t)N * C},
        {&d->dln, (size_t)N * C},     {&d->datty, (size_t)N * C},  {&d->dqkv, (size_t)N * 3 * C},
        {&d->dffh, (size_t)N * F},    {&d->dffh_gelu, (size_t)N * F},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        if (mem) *table[i].view = mem + n;
        n += table[i].size;
    }
    return n;
}

static size_t grad_acts_count(int N, int C, int V, int F) {
    grad_acts d;
    return grad_acts_view(&d, NULL, N, C, V, F);
}

// The gradients' arena of the activations, for the batch of the last
// forward pass.
static int alloc_dacts(gg_model *m, gg_error *err) {
    const gg_config *c = &m->cfg;
    grad_acts d;
    size_t need = grad_acts_view(&d, NULL, m->B * m->T, c->d_model, c->vocab, c->d_ff);
    if (m->n_dacts == need) return GG_OK;
    gg_big_free(m->dacts_mem);
    m->n_dacts = 0;
    if (!(m->dacts_mem = gg_big_alloc(sizeof(float) * need)))
        return gg_fail(err, GG_ERR_NOMEM, "out of memory for the backward pass (%zu floats)", need);
    m->n_dacts = need;
    return GG_OK;
}

void gg_model_arenas(gg_model *m, gg_arena out[GG_MODEL_ARENAS]) {
    size_t P = sizeof(float) * m->n_params, BT = sizeof(int) * (size_t)m->B * m->T;
    const gg_arena arenas[GG_MODEL_ARENAS] = {
        {"params", m->params_mem, P}, {"grads", m->grads_mem, P}, {"m", m->m_mem, P}, {"v", m->v_mem, P},
        {"acts", m->acts_mem, sizeof(float) * m->n_acts}, {"dacts", m->dacts_mem, sizeof(float) * m->n_dacts},
        {"tokens", m->tokens, BT}, {"targets", m->targets, BT},
        {"loss", &m->loss, sizeof m->loss}, {"grad_norm", &m->grad_norm, sizeof m->grad_norm},
    };
    memcpy(out, arenas, sizeof arenas);
}

int gg_model_alloc(gg_model *m, int B, int T, gg_error *err) {
    int rc = alloc_acts(m, B, T, err);
    if (!rc) rc = alloc_grads(m, err);
    if (!rc) rc = alloc_dacts(m, err);
    return rc;
}

int gg_model_backward(gg_model *m, gg_error *err) {
    const gg_ops *ops = m->ops;
    const gg_config *c = &m->cfg;
    int B = m->B, T = m->T, V = c->vocab, C = c->d_model, L = c->n_layer, NH = c->n_head;
    int F = c->d_ff, N = B * T;
    if (!m->has_loss || !m->grads_mem)
        return gg_fail(err, GG_ERR_ARG, "backward needs a forward pass with targets and zeroed "
                       "gradients first");
    grad_acts d;
    int rc = alloc_dacts(m, err);
    if (rc) return rc;
    grad_acts_view(&d, m->dacts_mem, N, C, V, F);
    // Gradients accumulate, so each buffer is zeroed before its first use:
    // the head's here, the layers' as they come. The loss's gradient, the
    // first, is written whole (crossentropy_softmax_backward).
    ops->zero(d.dwte_t, (size_t)C * V);
    ops->zero(d.dlnf, (size_t)N * C);
    ops->zero(d.dres, (size_t)N * C);
    gg_params *p = &m->params, *g = &m->grads;
    gg_acts *a = &m->acts;

    // the head, in reverse: loss <- probs <- logits <- lnf @ wte_t <- wte
    ops->crossentropy_softmax_backward(d.dlogits, a->probs, m->targets, 1.0f / (float)N, N, V);
    ops->matmul_backward(d.dlnf, d.dwte_t, NULL, d.dlogits, a->lnf, a->wte_t, N, C, V);
    ops->transpose_backward(g->wte, d.dwte_t, V, C);
    const float *x_last = a->res_ff + (size_t)(L - 1) * N * C;
    ops->layernorm_backward(d.dres, g->lnfw, g->lnfb, d.dlnf, x_last, p->lnfw, a->lnf_mean,
                            a->lnf_rstd, N, C);

    for (int l = L - 1; l >= 0; l--) {
        size_t lc = (size_t)l * N * C, lt = (size_t)l * N, lf = (size_t)l * N * F;
        const float *x = l > 0 ? a->res_ff + lc - (size_t)N * C : a->encoded;
        // feed-forward sub-block, in reverse: res_ff = res_att + ffproj
        ops->zero(d.dres_att, (size_t)N * C);
        ops->zero(d.dproj, (size_t)N * C);
        ops->residual_backward(d.dres_att, d.dproj, d.dres, N * C);
        drop(m, d.dproj, 2 + 2 * l, N, C);
        ops->zero(d.dffh_gelu, (size_t)N * F);
        ops->matmul_backward(d.dffh_gelu, g->w2 + (size_t)l * F * C, g->b2 + l * C, d.dproj,
                             a->ffh_gelu + lf, p->w2 + (size_t)l * F * C, N, F, C);
        ops->zero(d.dffh, (size_t)N * F);
        ops->gelu_backward(d.dffh, a->ffh + lf, d.dffh_gelu, N * F);
        ops->zero(d.dln, (size_t)N * C);
        ops->matmul_backward(d.dln, g->w1 + (size_t)l * C * F, g->b1 + l * F, d.dffh,
                             a->ln2 + lc, p->w1 + (size_t)l * C * F, N, C, F);
        ops->layernorm_backward(d.dres_att, g->ln2w + l * C, g->ln2b + l * C, d.dln,
                                a->res_att + lc, p->ln2w + l * C, a->ln2_mean + lt,
                                a->ln2_rstd + lt, N, C);
        // attention sub-block, in reverse: res_att = x + attproj
        ops->zero(d.dres, (size_t)N * C);
        ops->zero(d.dproj, (size_t)N * C);
        ops->residual_backward(d.dres, d.dproj, d.dres_att, N * C);
        drop(m, d.dproj, 1 + 2 * l, N, C);
        ops->zero(d.datty, (size_t)N * C);
        ops->matmul_backward(d.datty, g->wout + (size_t)l * C * C, g->bout + l * C, d.dproj,
                             a->atty + lc, p->wout + (size_t)l * C * C, N, C, C);
        ops->zero(d.dqkv, (size_t)N * 3 * C);
        ops->attention_backward(d.dqkv, d.datty, a->qkv + lc * 3,
                                a->att + (size_t)l * B * NH * T * T, B, T, C, NH);
        ops->zero(d.dln, (size_t)N * C);
        ops->matmul_backward(d.dln, g->wqkv + (size_t)l * C * 3 * C, g->bqkv + l * 3 * C, d.dqkv,
                             a->ln1 + lc, p->wqkv + (size_t)l * C * 3 * C, N, C, 3 * C);
        ops->layernorm_backward(d.dres, g->ln1w + l * C, g->ln1b + l * C, d.dln, x,
                                p->ln1w + l * C, a->ln1_mean + lt, a->ln1_rstd + lt, N, C);
    }
    drop(m, d.dres, 0, N, C);
    // a fixed, sinusoidal position table has no gradient
    ops->encoder_backward(g->wte, c->pos_kind == GG_POS_LEARNED ? g->wpe : NULL, d.dres,
                          m->tokens, N, T, C);
    return GG_OK;
}
