#include "optim.h"

#include "detmath.h"

#include <math.h>

#include "fileio.h"

gg_optim_cfg gg_optim_defaults(void) {
    return (gg_optim_cfg){.lr = 1e-3f, .min_lr_frac = 0.1f, .warmup = 100, .total = 5000,
                          .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f,
                          .grad_clip = 1.0f};
}

float gg_default_lr(int d_model) { return d_model <= 128 ? 3e-3f : 1e-3f; }

float gg_lr_at(const gg_optim_cfg *o, int step) {
    if (step < o->warmup) return o->lr * (float)(step + 1) / (float)o->warmup;
    float min_lr = o->lr * o->min_lr_frac;
    if (step >= o->total) return min_lr;
    float progress = (float)(step - o->warmup) / (float)(o->total - o->warmup);
    return min_lr + 0.5f * (1.0f + (float)gg_cos_turns(0.5 * progress)) * (o->lr - min_lr);
}

float gg_clip_grads(gg_model *m, float max_norm) {
    m->ops->norm(&m->grad_norm, m->grads_mem, m->n_params);
    m->ops->clip(m->grads_mem, m->n_params, &m->grad_norm, max_norm);
    return m->grad_norm;
}

int gg_optim_alloc(gg_model *m, gg_error *err) {
    if (m->m_mem) return GG_OK;
    m->m_mem = gg_big_alloc(sizeof(float) * m->n_params);
    m->v_mem = gg_big_alloc(sizeof(float) * m->n_params);
    if (!m->m_mem || !m->v_mem) {
        gg_big_free(m->m_mem);
        gg_big_free(m->v_mem);
        m->m_mem = m->v_mem = NULL;
        return gg_fail(err, GG_ERR_NOMEM, "out of memory for the optimizer state");
    }
    m->ops->zero(m->m_mem, m->n_params);
    m->ops->zero(m->v_mem, m->n_params);
    gg_params_view(&m->m, &m->cfg, m->m_mem);
    gg_params_view(&m->v, &m->cfg, m->v_mem);
    return GG_OK;
}

int gg_adamw_step(gg_model *m, const gg_optim_cfg *o, float lr, int t, gg_error *err) {
    int rc = gg_optim_alloc(m, err);
    if (rc) return rc;
    gg_tensor_info info[GG_N_PARAM_TENSORS];
    gg_param_layout(&m->cfg, info);
    float bc1 = (float)(1.0 - gg_pow_int(o->beta1, t));
    float bc2_sqrt = sqrtf((float)(1.0 - gg_pow_int(o->beta2, t)));
    float step_size = lr / bc1;
    size_t off = 0;
    for (int k = 0; k < GG_N_PARAM_TENSORS; off += info[k].size, k++) {
        if (k == GG_WPE && m->cfg.pos_kind == GG_POS_SINUSOIDAL) continue;
        float decay = info[k].decay ? 1.0f - lr * o->weight_decay : 1.0f;
        m->ops->adamw_update(m->params_mem + off, m->grads_mem + off, m->m_mem + off,
                             m->v_mem + off, info[k].size, decay, o->beta1, o->beta2, o->eps,
                             step_size, bc2_sqrt);
    }
    return GG_OK;
}
