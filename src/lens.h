// Two views of a model that the walkthrough draws, computed by the engine:
// the logit lens (what the head would predict from the residual stream of
// any layer) and a map of the token embeddings (their first two principal
// components).
#ifndef GLASSGPT_LENS_H
#define GLASSGPT_LENS_H

#include "error.h"
#include "model.h"

// The head applied to N rows x (N,C) of a residual stream: the final layer
// norm, the token embedding transposed, the softmax. probs is (N,V). Each
// row is computed as the forward pass computes it, so the rows of the last
// block's output give the model's own probabilities, to the bit.
int gg_logit_lens(const gg_model *m, const float *x, int N, float *probs, gg_error *err);

// The first two principal axes of n points in d dimensions (the rows of X,
// n >= 2): axes (2,d) are unit vectors, coords (n,2) the centred points
// projected on them, and variance[2] the variance along each (of the
// total, in variance[2]). Each axis's largest entry is positive, so that
// the map keeps its orientation while the points move a little.
int gg_pca2(const float *X, int n, int d, float *coords, float *axes, double variance[3],
            gg_error *err);

#endif
