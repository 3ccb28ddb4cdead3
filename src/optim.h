// AdamW with decoupled weight decay (on matrices only), global gradient-norm
// clipping, and a learning rate that warms up linearly and then decays along
// a cosine to a floor. The same arithmetic as torch.optim.AdamW and
// torch.nn.utils.clip_grad_norm_.
#ifndef GLASSGPT_OPTIM_H
#define GLASSGPT_OPTIM_H

#include "model.h"

typedef struct {
    float lr;            // peak learning rate
    float min_lr_frac;   // the floor, as a fraction of lr
    int warmup;          // steps of linear warmup
    int total;           // the step at which the cosine reaches the floor
    float beta1, beta2, eps;
    float weight_decay;  // decoupled, on matrices (wte, wpe, wqkv, wout, w1, w2)
    float grad_clip;     // the largest global gradient norm; 0: no clipping
    float dropout;       // the probability that training zeroes an activation of the
                         // embeddings or a residual branch (model.h); 0: none
} gg_optim_cfg;

gg_optim_cfg gg_optim_defaults(void);

// The default peak learning rate for a model d_model wide: 3e-3 up to 128
// (the best of the runs in the README on tiny, small and base), 1e-3 wider.
float gg_default_lr(int d_model);

// The learning rate of step (0-based).
float gg_lr_at(const gg_optim_cfg *o, int step);

// Scales the gradients so that their global L2 norm (summed in a fixed
// order, the ops table's norm) is at most max_norm; returns the norm before
// clipping, which m->grad_norm keeps.
float gg_clip_grads(gg_model *m, float max_norm);

// Allocates the AdamW moments, zeroed, unless the model has them already.
int gg_optim_alloc(gg_model *m, gg_error *err);

// One AdamW update with learning rate lr; t is the 1-based step count for
// the bias corrections. Allocates the moments (zeroed) on first use. A fixed
// sinusoidal position table is not updated.
int gg_adamw_step(gg_model *m, const gg_optim_cfg *o, float lr, int t, gg_error *err);

#endif
