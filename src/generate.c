#include "generate.h"

#include <stdlib.h>
#include <string.h>

#include "fileio.h"

int gg_infer_init(gg_infer *inf, const gg_model *m, gg_error *err) {
    memset(inf, 0, sizeof *inf);
    const gg_config *c = &m->cfg;
    size_t V = (size_t)c->vocab, C = (size_t)c->d_model, L = (size_t)c->n_layer;
    size_t NH = (size_t)c->n_head, F = (size_t)c->d_ff, P = (size_t)c->ctx;
    struct {
        float **view;
        size_t size;
    } table[] = {
        {&inf->key_cache, L * P * C}, {&inf->value_cache, L * P * C}, {&inf->x, C},
        {&inf->ln1, L * C},           {&inf->qkv, L * 3 * C},         {&inf->scores, L * NH * P},
        {&inf->att, L * NH * P},      {&inf->atty, L * C},            {&inf->attproj, L * C},
        {&inf->res_att, L * C},       {&inf->ln2, L * C},             {&inf->ffh, L * F},
        {&inf->ffh_gelu, L * F},      {&inf->ffproj, L * C},          {&inf->res_ff, L * C},
        {&inf->lnf, C},               {&inf->logits, V},              {&inf->wte_t, C * V},
        {&inf->stats, 2},
    };
    size_t n = 0, count = sizeof table / sizeof *table;
    for (size_t i = 0; i < count; i++) n += table[i].size;
    if (!(inf->mem = gg_big_alloc(sizeof(float) * n)))
        return gg_fail(err, GG_ERR_NOMEM, "out of memory for the KV cache (%zu floats)", n);
    memset(inf->mem, 0, sizeof(float) * n);
    inf->n_mem = n;
    float *p = inf->mem;
    for (size_t i = 0; i < count; i++) {
        *table[i].view = p;
        p += table[i].size;
    }
    inf->model = m;
    m->ops->transpose(inf->wte_t, m->params.wte, c->vocab, c->d_model);
    return GG_OK;
}

void gg_infer_arenas(gg_infer *inf, gg_arena out[GG_INFER_ARENAS]) {
    out[0] = (gg_arena){"params", inf->model->params_mem, sizeof(float) * inf->model->n_params};
    out[1] = (gg_arena){"inference", inf->mem, sizeof(float) * inf->n_mem};
}

void gg_infer_free(gg_infer *inf) {
    gg_big_free(inf->mem);
    memset(inf, 0, sizeof *inf);
}

int gg_infer_forward(gg_infer *inf, int token, int pos, gg_error *err) {
    const gg_model *m = inf->model;
    const gg_ops *ops = m->ops;
    const gg_config *c = &m->cfg;
    const gg_params *p = &m->params;
    int V = c->vocab, C = c->d_model, L = c->n_layer, NH = c->n_head, F = c->d_ff, P = c->ctx;
    if (token < 0 || token >= V)
        return gg_fail(err, GG_ERR_ARG, "token %d is outside the vocabulary of %d", token, V);
    if (pos < 0 || pos >= P)
        return gg_fail(err, GG_ERR_ARG, "position %d is outside the context of %d", pos, P);

    ops->residual_forward(inf->x, p->wte + (size_t)token * C, p->wpe + (size_t)pos * C, C);
    const float *x = inf->x;
    for (int l = 0; l < L; l++) {
        float *ln1 = inf->ln1 + l * C, *qkv = inf->qkv + l * 3 * C, *atty = inf->atty + l * C;
        float *kc = inf->key_cache + (size_t)l * P * C, *vc = inf->value_cache + (size_t)l * P * C;
        ops->layernorm_forward(ln1, inf->stats, inf->stats + 1, x, p->ln1w + l * C,
                               p->ln1b + l * C, 1, C);
        ops->matmul_forward(qkv, ln1, p->wqkv + (size_t)l * C * 3 * C, p->bqkv + l * 3 * C, 1, C,
                            3 * C);
        // this position's key and value go straight into the cache
        ops->copy(kc + (size_t)pos * C, qkv + C, (size_t)C);
        ops->copy(vc + (size_t)pos * C, qkv + 2 * C, (size_t)C);
        ops->attention_decode(atty, inf->scores + (size_t)l * NH * P, inf->att + (size_t)l * NH * P,
                              qkv, kc, vc, pos + 1, C, NH);
        ops->matmul_forward(inf->attproj + l * C, atty, p->wout + (size_t)l * C * C,
                            p->bout + l * C, 1, C, C);
        ops->residual_forward(inf->res_att + l * C, x, inf->attproj + l * C, C);
        ops->layernorm_forward(inf->ln2 + l * C, inf->stats, inf->stats + 1, inf->res_att + l * C,
                               p->ln2w + l * C, p->ln2b + l * C, 1, C);
        ops->matmul_forward(inf->ffh + l * F, inf->ln2 + l * C, p->w1 + (size_t)l * C * F,
                            p->b1 + l * F, 1, C, F);
        ops->gelu_forward(inf->ffh_gelu + l * F, inf->ffh + l * F, F);
        ops->matmul_forward(inf->ffproj + l * C, inf->ffh_gelu + l * F, p->w2 + (size_t)l * F * C,
                            p->b2 + l * C, 1, F, C);
        ops->residual_forward(inf->res_ff + l * C, inf->res_att + l * C, inf->ffproj + l * C, C);
        x = inf->res_ff + l * C;
    }
    ops->layernorm_forward(inf->lnf, inf->stats, inf->stats + 1, x, p->lnfw, p->lnfb, 1, C);
    ops->matmul_forward(inf->logits, inf->lnf, inf->wte_t, NULL, 1, C, V);
    return GG_OK;
}

int gg_generator_init(gg_generator *g, gg_model *m, int use_cache, gg_error *err) {
    memset(g, 0, sizeof *g);
    g->model = m;
    g->use_cache = use_cache;
    g->window = malloc(sizeof *g->window * (size_t)m->cfg.ctx);
    if (!g->window) return gg_fail(err, GG_ERR_NOMEM, "out of memory for the context");
    if (use_cache) {
        int rc = gg_infer_init(&g->inf, m, err);
        if (rc) {
            free(g->window);
            return rc;
        }
    }
    return GG_OK;
}

void gg_generator_free(gg_generator *g) {
    if (g->use_cache) gg_infer_free(&g->inf);
    free(g->window);
    memset(g, 0, sizeof *g);
}

void gg_generator_reset(gg_generator *g) {
    g->len = 0;
    g->logits = NULL;
    g->positions = g->positions_without_cache = 0;
}

int gg_generator_push(gg_generator *g, int token, gg_error *err) {
    int ctx = g->model->cfg.ctx;
    if (token < 0 || token >= g->model->cfg.vocab)
        return gg_fail(err, GG_ERR_ARG, "token %d is outside the vocabulary", token);
    int slid = 0;
    if (g->len == ctx) {  // full: keep the newest half
        int keep = ctx / 2;
        memmove(g->window, g->window + ctx - keep, sizeof *g->window * (size_t)keep);
        g->len = keep;
        slid = 1;
    }
    g->window[g->len++] = token;
    g->positions_without_cache += g->len;
    if (g->use_cache) {
        // after a slide every position has moved: rebuild the cache
        for (int pos = slid ? 0 : g->len - 1; pos < g->len; pos++) {
            int rc = gg_infer_forward(&g->inf, g->window[pos], pos, err);
            if (rc) return rc;
            g->positions++;
        }
        g->logits = g->inf.logits;
        return GG_OK;
    }
    int rc = gg_model_forward(g->model, g->window, NULL, 1, g->len, err);
    if (rc) return rc;
    g->positions += g->len;
    g->logits = g->model->acts.logits + (size_t)(g->len - 1) * g->model->cfg.vocab;
    return GG_OK;
}
