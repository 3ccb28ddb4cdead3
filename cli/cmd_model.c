// glassgpt inspect | export
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../src/checkpoint.h"
#include "../src/export.h"
#include "cli.h"

static const char usage_inspect[] =
    "usage: glassgpt inspect MODEL\n"
    "\n"
    "Prints a checkpoint's configuration, a table of its parameter tensors, and\n"
    "its training state.\n";

static const char usage_export[] =
    "usage: glassgpt export MODEL -o DIR\n"
    "\n"
    "Writes DIR/model.safetensors and DIR/config.json in the Hugging Face GPT-2\n"
    "layout (wte.weight, wpe.weight, h.0.attn.c_attn.weight stored [d, 3d], ...,\n"
    "ln_f.weight; activation gelu_new), so that tools that read GPT-2 can load\n"
    "the model. A sinusoidal model exports its fixed table as wpe.weight.\n"
    "\n"
    "The tokenizer goes beside it: DIR/tokenizer.json (byte-level BPE with no\n"
    "pre-tokenizer split, which encodes exactly as glassgpt does), the GPT-2\n"
    "style DIR/vocab.json and DIR/merges.txt, and DIR/tokenizer_config.json.\n"
    "\n"
    "  -o, --output DIR  the directory to write (created if missing)\n";

// Parses "MODEL" plus, for export, "-o DIR".
static int model_args(const char *cmd, const char *usage, int argc, char **argv,
                      const char **model, const char **out) {
    *model = NULL;
    if (out) *out = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            fputs(usage, stdout);
            return -1;
        } else if (out && (r = take_option(argc, argv, &i, "--output", "-o", out))) {
            if (r < 0) return usage_error(cmd, "-o needs a directory");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (!*model) {
            *model = argv[i];
        } else {
            return usage_error(cmd, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!*model) return usage_error(cmd, "missing MODEL, a checkpoint");
    if (out && !*out) return usage_error(cmd, "missing -o DIR");
    return 0;
}

int cmd_inspect(int argc, char **argv) {
    const char *path;
    int rc = model_args("inspect", usage_inspect, argc, argv, &path, NULL);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    gg_error err;
    gg_model m;
    gg_tokenizer tok;
    gg_train_state st;
    int has_train;
    if (gg_checkpoint_load(path, &m, &tok, &st, &has_train, &err)) return runtime_error("%s", err.msg);
    const gg_config *c = &m.cfg;
    printf("model      %s\n", path);
    printf("config     vocab %d, d_model %d, layers %d, heads %d (head size %d), ctx %d, ff %d\n",
           c->vocab, c->d_model, c->n_layer, c->n_head, c->d_model / c->n_head, c->ctx, c->d_ff);
    printf("positions  %s\n", c->pos_kind == GG_POS_LEARNED ? "learned" : "sinusoidal (fixed)");
    printf("tokenizer  %d merges (vocab %d)\n", tok.n_merges, gg_tokenizer_vocab(&tok));
    printf("\n%-6s %-16s %12s  %s\n", "tensor", "shape", "parameters", "trained");
    gg_tensor_info info[GG_N_PARAM_TENSORS];
    gg_param_layout(c, info);
    size_t trained = 0;
    for (int i = 0; i < GG_N_PARAM_TENSORS; i++) {
        char shape[48];
        if (info[i].ndim == 3) snprintf(shape, sizeof shape, "%d x %d x %d", info[i].shape[0], info[i].shape[1], info[i].shape[2]);
        else if (info[i].ndim == 2) snprintf(shape, sizeof shape, "%d x %d", info[i].shape[0], info[i].shape[1]);
        else snprintf(shape, sizeof shape, "%d", info[i].shape[0]);
        int fixed = i == GG_WPE && c->pos_kind == GG_POS_SINUSOIDAL;
        if (!fixed) trained += info[i].size;
        printf("%-6s %-16s %12zu  %s\n", info[i].name, shape, info[i].size,
               fixed ? "no (fixed)" : info[i].decay ? "yes, with weight decay" : "yes");
    }
    printf("%-6s %-16s %12zu  (%zu trained)\n", "total", "", m.n_params, trained);
    if (has_train) {
        printf("\ntraining   step %llu of %d, batch %u x %u, seed %llu, dropout %g\n",
               (unsigned long long)st.step, st.opt.total, st.batch, st.seq,
               (unsigned long long)st.seed, st.opt.dropout);
        printf("optimizer  AdamW lr %g (warmup %d, cosine to %g), betas %g %g, weight decay %g, "
               "clip %g%s\n", st.opt.lr, st.opt.warmup, st.opt.lr * st.opt.min_lr_frac,
               st.opt.beta1, st.opt.beta2, st.opt.weight_decay, st.opt.grad_clip,
               m.m_mem ? "" : " (moments not saved)");
        printf("losses     train %.4f, validation %.4f\n", st.train_loss, st.val_loss);
    } else {
        printf("\ntraining   no training state saved\n");
    }
    gg_model_free(&m);
    gg_tokenizer_free(&tok);
    return EXIT_OK;
}

int cmd_export(int argc, char **argv) {
    const char *path, *dir;
    int rc = model_args("export", usage_export, argc, argv, &path, &dir);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    gg_error err;
    gg_model m;
    gg_tokenizer tok;
    if (gg_checkpoint_load(path, &m, &tok, NULL, NULL, &err)) return runtime_error("%s", err.msg);
    struct stat sb;
    if (stat(dir, &sb) != 0 && mkdir(dir, 0755) != 0)
        rc = gg_fail(&err, GG_ERR_IO, "%s: cannot create the directory", dir);
    else if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
        rc = gg_fail(&err, GG_ERR_IO, "%s exists and is not a directory", dir);
    if (!rc) rc = gg_export_hf(&m, dir, &err);
    if (!rc) rc = gg_export_hf_tokenizer(&tok, m.cfg.ctx, dir, &err);
    if (!rc)
        printf("wrote %s/model.safetensors, config.json, tokenizer.json, vocab.json, merges.txt "
               "and tokenizer_config.json\n", dir);
    gg_model_free(&m);
    gg_tokenizer_free(&tok);
    return rc ? runtime_error("%s", err.msg) : EXIT_OK;
}
