// The C engine against an independent PyTorch implementation: the fixture
// tests/fixtures/reference.bin (written by scripts/reference.py) holds a
// model's weights, a batch, and what PyTorch computed from them: logits,
// loss, every gradient, and the losses and weights of 10 AdamW steps.
//
// It also writes build/export-check/: the same model exported in the
// Hugging Face layout, with glassgpt's logits for a token sequence, which
// `scripts/reference.py check-export` loads into PyTorch by GPT-2 names.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../src/export.h"
#include "../src/fileio.h"
#include "../src/model.h"
#include "../src/optim.h"
#include "check.h"

typedef struct {
    const uint8_t *p, *end;
} cursor;

static int take(cursor *c, void *out, size_t n) {
    if ((size_t)(c->end - c->p) < n) return 0;
    memcpy(out, c->p, n);  // the fixture is little-endian, like every machine we run on
    c->p += n;
    return 1;
}

static gg_model model;
static int B, T, *tokens, *targets, n_steps;
static float *ref_params, *ref_logits, ref_loss, *ref_grads, *ref_losses, *ref_final;
static gg_optim_cfg opt;
static int loaded;

static float *floats(cursor *c, size_t n) {
    float *f = malloc(sizeof *f * (n ? n : 1));
    if (!take(c, f, sizeof *f * n)) {
        free(f);
        return NULL;
    }
    return f;
}

static void load_fixture(void) {
    uint8_t *data;
    size_t len;
    gg_error err;
    CHECK(gg_read_file("tests/fixtures/reference.bin", &data, &len, &err) == GG_OK, "%s", err.msg);
    if (check_case_failed) return;
    cursor c = {data, data + len};
    char magic[8];
    uint32_t dims[8];
    CHECK(take(&c, magic, 8) && memcmp(magic, "GGREF001", 8) == 0, "not a reference fixture");
    CHECK(take(&c, dims, sizeof dims), "truncated fixture");
    gg_config cfg = {(int)dims[0], (int)dims[1], (int)dims[2], (int)dims[3], (int)dims[4],
                     (int)dims[5], GG_POS_LEARNED};
    B = (int)dims[6];
    T = (int)dims[7];
    CHECK(gg_model_init(&model, &cfg, &err) == GG_OK, "%s", err.msg);
    size_t n = model.n_params, BT = (size_t)B * T;
    tokens = malloc(sizeof *tokens * BT);
    targets = malloc(sizeof *targets * BT);
    int ok = take(&c, tokens, sizeof *tokens * BT) && take(&c, targets, sizeof *targets * BT);
    ref_params = floats(&c, n);
    ref_logits = floats(&c, BT * (size_t)cfg.vocab);
    ok = ok && ref_params && ref_logits && take(&c, &ref_loss, 4);
    ref_grads = floats(&c, n);
    uint32_t warmup = 0, total = 0, steps = 0;
    float f2[2] = {0}, f5[5] = {0};
    ok = ok && ref_grads && take(&c, f2, 8) && take(&c, &warmup, 4) && take(&c, &total, 4) &&
         take(&c, f5, 20) && take(&c, &steps, 4);
    opt = (gg_optim_cfg){.lr = f2[0], .min_lr_frac = f2[1], .warmup = (int)warmup,
                         .total = (int)total, .beta1 = f5[0], .beta2 = f5[1], .eps = f5[2],
                         .weight_decay = f5[3], .grad_clip = f5[4]};
    n_steps = (int)steps;
    ref_losses = ok ? floats(&c, steps) : NULL;
    ref_final = ok ? floats(&c, n) : NULL;
    CHECK(ok && ref_losses && ref_final && c.p == c.end, "the fixture is malformed or truncated");
    free(data);
    loaded = !check_case_failed;
}

// Compares tensor by tensor, so that a failure names the tensor.
static void compare_params(const float *got, const float *want, double atol, double rtol,
                           const char *what) {
    gg_tensor_info info[GG_N_PARAM_TENSORS];
    gg_param_layout(&model.cfg, info);
    size_t off = 0;
    for (int k = 0; k < GG_N_PARAM_TENSORS; off += info[k].size, k++) {
        size_t bad = 0, worst_i = 0;
        double worst = 0.0;
        for (size_t i = 0; i < info[k].size; i++) {
            double e = fabs((double)got[off + i] - want[off + i]) / (atol + rtol * fabs((double)want[off + i]));
            if (!(e <= 1.0)) bad++;
            if (!(e <= worst)) worst = e, worst_i = i;
        }
        CHECK(bad == 0, "%s of %s: %zu of %zu values differ; worst at %zu: %g vs PyTorch %g", what,
              info[k].name, bad, info[k].size, worst_i, got[off + worst_i], want[off + worst_i]);
    }
}

static void test_forward_matches_pytorch(void) {
    if (!loaded) return;
    memcpy(model.params_mem, ref_params, sizeof(float) * model.n_params);
    gg_error err;
    CHECK(gg_model_forward(&model, tokens, targets, B, T, &err) == GG_OK, "%s", err.msg);
    size_t n = (size_t)B * T * model.cfg.vocab, bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!check_close(model.acts.logits[i], ref_logits[i], 1e-5, 1e-4)) bad++;
    CHECK(bad == 0, "%zu of %zu logits differ from PyTorch's", bad, n);
    CHECK(check_close(model.loss, ref_loss, 1e-6, 1e-5), "loss %.7f, PyTorch %.7f", model.loss, ref_loss);
}

static void test_gradients_match_pytorch(void) {
    if (!loaded) return;
    memcpy(model.params_mem, ref_params, sizeof(float) * model.n_params);
    gg_error err;
    gg_model_forward(&model, tokens, targets, B, T, &err);
    CHECK(gg_model_zero_grad(&model, &err) == GG_OK && gg_model_backward(&model, &err) == GG_OK,
          "%s", err.msg);
    compare_params(model.grads_mem, ref_grads, 1e-6, 1e-3, "the gradient");
}

static void test_adamw_steps_match_pytorch(void) {
    if (!loaded) return;
    memcpy(model.params_mem, ref_params, sizeof(float) * model.n_params);
    gg_error err;
    for (int step = 0; step < n_steps; step++) {
        gg_model_forward(&model, tokens, targets, B, T, &err);
        CHECK(check_close(model.loss, ref_losses[step], 1e-5, 1e-4), "step %d: loss %.6f, PyTorch %.6f",
              step, model.loss, ref_losses[step]);
        gg_model_zero_grad(&model, &err);
        gg_model_backward(&model, &err);
        gg_clip_grads(&model, opt.grad_clip);
        gg_adamw_step(&model, &opt, gg_lr_at(&opt, step), step + 1, &err);
    }
    // The key bias gets no gradient: adding a constant to every key adds the
    // same amount to all scores of a query, which softmax ignores. Its
    // gradient is rounding noise (checked tiny in the test above), and Adam
    // divides noise by its own size: those few weights wander differently in
    // every implementation. Compare the rest.
    int C = model.cfg.d_model;
    for (int l = 0; l < model.cfg.n_layer; l++)
        for (int i = C; i < 2 * C; i++) {
            size_t at = (size_t)(model.params.bqkv - model.params_mem) + (size_t)l * 3 * C + (size_t)i;
            CHECK(fabsf(ref_grads[at]) < 1e-6f, "PyTorch's key-bias gradient %g is not ~0", ref_grads[at]);
            model.params_mem[at] = ref_final[at];
        }
    compare_params(model.params_mem, ref_final, 1e-5, 1e-3, "after 10 AdamW steps, the weights");
}

// Writes the export for scripts/reference.py check-export, and checks its
// layout here, without PyTorch.
static void test_export_layout(void) {
    if (!loaded) return;
    memcpy(model.params_mem, ref_params, sizeof(float) * model.n_params);
    const char *dir = "build/export-check";
    mkdir("build", 0755);
    mkdir(dir, 0755);
    gg_error err;
    CHECK(gg_export_hf(&model, dir, &err) == GG_OK, "%s", err.msg);
    // glassgpt's logits for one sequence, for the PyTorch side to compare
    int t = model.cfg.ctx;
    gg_model_forward(&model, tokens, NULL, 1, t, &err);
    size_t V = (size_t)model.cfg.vocab, n = 4 + 4 * (size_t)t + 4 * (size_t)t * V;
    uint8_t *buf = malloc(n);
    uint32_t tt = (uint32_t)t;
    memcpy(buf, &tt, 4);
    memcpy(buf + 4, tokens, 4 * (size_t)t);
    memcpy(buf + 4 + 4 * (size_t)t, model.acts.logits, 4 * (size_t)t * V);
    CHECK(gg_write_file_atomic("build/export-check/expected.bin", buf, n, &err) == GG_OK, "%s", err.msg);
    free(buf);

    uint8_t *st;
    size_t len;
    CHECK(gg_read_file("build/export-check/model.safetensors", &st, &len, &err) == GG_OK, "%s", err.msg);
    if (check_case_failed) return;
    uint64_t hlen = 0;
    memcpy(&hlen, st, 8);
    CHECK(hlen % 8 == 0 && 8 + hlen + 4 * model.n_params == len, "header %llu bytes, file %zu",
          (unsigned long long)hlen, len);
    char *header = malloc(hlen + 1);
    memcpy(header, st + 8, hlen);
    header[hlen] = 0;
    const char *names[] = {"\"wte.weight\":{\"dtype\":\"F32\",\"shape\":[50,16]",
                           "\"wpe.weight\":{\"dtype\":\"F32\",\"shape\":[8,16]",
                           "\"h.0.attn.c_attn.weight\":{\"dtype\":\"F32\",\"shape\":[16,48]",
                           "\"h.1.mlp.c_proj.weight\":{\"dtype\":\"F32\",\"shape\":[40,16]",
                           "\"h.1.ln_2.bias\"", "\"ln_f.weight\""};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        CHECK(strstr(header, names[i]) != NULL, "the header lacks %s", names[i]);
    // the data follows in arena order, which GPT-2's names map one to one
    const float *data = (const float *)(st + 8 + hlen);
    CHECK(memcmp(data, model.params.wte, sizeof(float) * 50 * 16) == 0, "wte.weight's data");
    free(header);
    free(st);
    uint8_t *cfg;
    CHECK(gg_read_file("build/export-check/config.json", &cfg, &len, &err) == GG_OK, "%s", err.msg);
    CHECK(strstr((char *)cfg, "\"activation_function\": \"gelu_new\"") &&
          strstr((char *)cfg, "\"n_embd\": 16") && strstr((char *)cfg, "\"layer_norm_epsilon\": 1e-05"),
          "config.json: %s", cfg);
    free(cfg);
}

int main(void) {
    RUN(load_fixture);
    RUN(test_forward_matches_pytorch);
    RUN(test_gradients_match_pytorch);
    RUN(test_adamw_steps_match_pytorch);
    RUN(test_export_layout);
    gg_model_free(&model);
    free(tokens);
    free(targets);
    free(ref_params);
    free(ref_logits);
    free(ref_grads);
    free(ref_losses);
    free(ref_final);
    return check_summary();
}
