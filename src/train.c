#include "train.h"

#include "detmath.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Bytes per token of the held-out tokens (up to the first million of them),
// for bits per byte.
static double bytes_per_token(const gg_token_seq *val, const gg_tokenizer *tok) {
    size_t bytes = 0, counted = val->n < 1000000 ? val->n : 1000000;
    int buf[4096];
    for (size_t i = 0; i < counted; i += 4096) {
        size_t k = counted - i < 4096 ? counted - i : 4096;
        gg_token_seq_read(val, i, k, buf);
        for (size_t j = 0; j < k; j++) {
            size_t len = 0;
            if ((uint32_t)buf[j] < (uint32_t)gg_tokenizer_vocab(tok))
                gg_token_bytes(tok, (uint32_t)buf[j], &len);
            bytes += len;
        }
    }
    return counted ? (double)bytes / (double)counted : 0.0;
}

int gg_trainer_init(gg_trainer *tr, gg_model *m, const int *tokens, size_t n_tokens, int B, int T,
                    const gg_optim_cfg *opt, uint64_t seed, const gg_tokenizer *tok,
                    gg_error *err) {
    size_t n_val = n_tokens / 10, n_train = n_tokens - n_val;
    gg_token_piece own[2] = {{tokens, NULL, n_train}, {tokens + n_train, NULL, n_val}};
    gg_token_seq train = {NULL, 1, n_train}, val = {NULL, 1, n_val};
    int rc = gg_trainer_init_split(tr, m, &train, &val, B, T, opt, seed, NULL, err);
    if (rc) return rc;
    memcpy(tr->own, own, sizeof own);
    tr->train.pieces = &tr->own[0];
    tr->val.pieces = &tr->own[1];
    if (tok) tr->val_bytes_per_token = bytes_per_token(&tr->val, tok);
    return GG_OK;
}

int gg_trainer_init_split(gg_trainer *tr, gg_model *m, const gg_token_seq *train,
                          const gg_token_seq *val, int B, int T, const gg_optim_cfg *opt,
                          uint64_t seed, const gg_tokenizer *tok, gg_error *err) {
    memset(tr, 0, sizeof *tr);
    if (B < 1 || T < 1 || T > m->cfg.ctx)
        return gg_fail(err, GG_ERR_ARG, "batch %d x %d does not fit a model with context %d", B,
                       T, m->cfg.ctx);
    size_t n_train = train->n, n_val = val->n;
    if (n_train < (size_t)T + 1 || n_val < 2)
        return gg_fail(err, GG_ERR_ARG, "%zu tokens are too few to train with a context of %d "
                       "(need at least %d, 90%% for training and 10%% held out)", n_train + n_val,
                       T, 10 * (T + 2));
    if (n_train - (size_t)T > UINT32_MAX)
        return gg_fail(err, GG_ERR_ARG, "%zu training tokens are more than the batch generator "
                       "draws from (4 billion)", n_train);
    tr->model = m;
    tr->train = *train;
    tr->val = *val;
    tr->n_train = n_train;
    tr->n_val = n_val;
    tr->opt = *opt;
    tr->B = B;
    tr->T = T;
    tr->seed = seed;
    tr->rng = gg_rng_seed(seed);
    tr->rows = B;
    tr->x = malloc(sizeof *tr->x * (size_t)B * T);
    tr->y = malloc(sizeof *tr->y * (size_t)B * T);
    if (!tr->x || !tr->y) {
        gg_trainer_free(tr);
        return gg_fail(err, GG_ERR_NOMEM, "out of memory for a batch");
    }
    if (tok) tr->val_bytes_per_token = bytes_per_token(val, tok);
    return GG_OK;
}

void gg_trainer_free(gg_trainer *tr) {
    free(tr->x);
    free(tr->y);
    tr->x = tr->y = NULL;
}

int gg_train_prepare(gg_trainer *tr, gg_error *err) {
    int rc = gg_model_alloc(tr->model, tr->rows > 0 ? tr->rows : tr->B, tr->T, err);
    return rc ? rc : gg_optim_alloc(tr->model, err);
}

int gg_train_step(gg_trainer *tr, gg_error *err) {
    int B = tr->B, T = tr->T;
    for (int b = 0; b < B; b++) {
        size_t start = gg_rng_below(&tr->rng, (uint32_t)(tr->n_train - (size_t)T));
        gg_token_seq_read(&tr->train, start, (size_t)T, tr->x + b * T);
        gg_token_seq_read(&tr->train, start + 1, (size_t)T, tr->y + b * T);
    }
    gg_model *m = tr->model;
    int rows = tr->rows > 0 ? tr->rows : B;
    // each step its own masks, drawn from the seed and the step: a resumed
    // run drops what an uninterrupted one would
    m->dropout = (gg_dropout){tr->opt.dropout, gg_mix64(tr->seed ^ 0xd20f0a7d5e1b3c49ull,
                                                       (uint64_t)tr->step), (uint64_t)tr->row0 * T};
    int rc = gg_model_forward(m, tr->x + tr->row0 * T, tr->y + tr->row0 * T, rows, T, err);
    m->dropout.p = 0.0f;  // evaluation and inference never drop
    if (!rc) rc = gg_model_zero_grad(m, err);
    if (!rc) rc = gg_model_backward(m, err);
    float loss = m->loss;
    if (!rc && tr->reduce) rc = tr->reduce(tr->reduce_user, m->grads_mem, m->n_params, &loss, err);
    if (rc) return rc;
    if (!isfinite(loss))
        return gg_fail(err, GG_ERR_ARG, "the loss is %g at step %d: training has diverged (try a "
                       "lower learning rate); the weights are left as they were before the step",
                       (double)loss, tr->step + 1);
    tr->last_loss = loss;
    tr->last_norm = gg_clip_grads(m, tr->opt.grad_clip);
    if (!isfinite(tr->last_norm))
        return gg_fail(err, GG_ERR_ARG, "the gradient norm is %g at step %d: training has "
                       "diverged (try a lower learning rate); the weights are left as they were "
                       "before the step", (double)tr->last_norm, tr->step + 1);
    rc = gg_adamw_step(m, &tr->opt, gg_lr_at(&tr->opt, tr->step), tr->step + 1, err);
    if (!rc) tr->step++;
    return rc;
}

int gg_train_eval(gg_trainer *tr, int max_windows, float *loss, gg_error *err) {
    int B = tr->B, T = tr->T;
    size_t span = tr->n_val - (size_t)T - 1 + 1;  // possible window starts
    if (tr->n_val < (size_t)T + 1) span = 1;
    int windows = max_windows < 1 ? 1 : max_windows;
    double sum = 0.0;
    int done = 0;
    for (int w0 = 0; w0 < windows; w0 += B) {
        int nb = windows - w0 < B ? windows - w0 : B;
        int t = tr->n_val < (size_t)T + 1 ? (int)tr->n_val - 1 : T;
        for (int b = 0; b < nb; b++) {
            size_t start = windows > 1 ? (size_t)(w0 + b) * (span - 1) / (size_t)(windows - 1) : 0;
            gg_token_seq_read(&tr->val, start, (size_t)t, tr->x + b * t);
            gg_token_seq_read(&tr->val, start + 1, (size_t)t, tr->y + b * t);
        }
        int rc = gg_model_forward(tr->model, tr->x, tr->y, nb, t, err);
        if (rc) return rc;
        sum += (double)tr->model->loss * nb;
        done += nb;
    }
    *loss = (float)(sum / done);
    return GG_OK;
}

double gg_bits_per_byte(const gg_trainer *tr, double loss) {
    if (tr->val_bytes_per_token <= 0) return 0.0;
    return loss / GG_LN2 / tr->val_bytes_per_token;  // nats to bits
}

int gg_eval_tokens(gg_model *m, const int *tokens, size_t n, double *loss, size_t *n_scored,
                   gg_error *err) {
    enum { WINDOWS = 16 };  // full windows scored together, as a batch
    int T = m->cfg.ctx;
    double sum = 0.0;
    size_t scored = 0, full = n > 1 ? (n - 1) / (size_t)T : 0;
    int *x = malloc(sizeof *x * WINDOWS * (size_t)T), *y = malloc(sizeof *y * WINDOWS * (size_t)T);
    int rc = x && y ? GG_OK : gg_fail(err, GG_ERR_NOMEM, "out of memory for a batch");
    for (size_t w = 0; !rc && w < full; w += WINDOWS) {
        int nb = full - w < WINDOWS ? (int)(full - w) : WINDOWS;
        for (int b = 0; b < nb; b++) {
            memcpy(x + b * T, tokens + (w + (size_t)b) * T, sizeof *x * (size_t)T);
            memcpy(y + b * T, tokens + (w + (size_t)b) * T + 1, sizeof *y * (size_t)T);
        }
        rc = gg_model_forward(m, x, y, nb, T, err);
        for (int i = 0; !rc && i < nb * T; i++) sum += m->acts.losses[i];
        scored += (size_t)nb * T;
    }
    size_t start = full * (size_t)T;  // the last, shorter window
    if (!rc && start + 1 < n) {
        int t = (int)(n - 1 - start);
        rc = gg_model_forward(m, tokens + start, tokens + start + 1, 1, t, err);
        for (int i = 0; !rc && i < t; i++) sum += m->acts.losses[i];
        scored += (size_t)t;
    }
    free(x);
    free(y);
    *loss = scored ? sum / (double)scored : 0.0;
    *n_scored = scored;
    return rc;
}
