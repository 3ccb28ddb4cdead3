// glassgpt train | eval
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "../src/checkpoint.h"
#include "../src/fileio.h"
#include "../src/profile.h"
#include "../src/shard.h"
#include "../src/train.h"
#include "cli.h"
#include "parallel.h"

static const char usage_train[] =
    "usage: glassgpt train --data CORPUS [--tokenizer FILE] [--preset P] [options] -o MODEL\n"
    "       glassgpt train --resume MODEL [--steps N] [-o MODEL]\n"
    "\n"
    "Trains a GPT on next-token prediction. The last 10% of the corpus is held\n"
    "out for validation. The model is saved every K steps, at the end, and on\n"
    "Ctrl-C or SIGTERM, always atomically; --resume continues a saved run\n"
    "exactly where it stopped (the same losses and weights as a run never\n"
    "interrupted). A model too large for the machine's memory is refused before\n"
    "it is built.\n"
    "\n"
    "  --data FILE         the text to learn from, or token shards from glassgpt\n"
    "                      prepare: a directory of them, or one\n"
    "  --tokenizer FILE    a tokenizer (or a checkpoint); without one, a tokenizer\n"
    "                      of --vocab tokens is trained on the corpus first\n"
    "  -o, --output FILE   where to save the model\n"
    "  --preset P          tiny (d 8, 2 layers, 2 heads, ctx 8), small (d 64, 2\n"
    "                      layers, 8 heads, ctx 64) or base (d 128, 4 layers,\n"
    "                      8 heads, ctx 128); default small\n"
    "  --d N --layers N --heads N --ctx N --ff N   override the preset's sizes\n"
    "  --vocab N           the tokenizer's size when one is trained (default 768)\n"
    "  --pos KIND          learned (default) or sinusoidal position embeddings\n"
    "  --steps N           total optimizer steps of the run (default " GG_STR(GG_TRAIN_STEPS) ")\n"
    "  --time T            train for a time instead (90s, 5m, 1h): the steps are\n"
    "                      fitted to the speed measured before and during the\n"
    "                      run, and the schedule with them\n"
    "  --batch B           sequences per step (default " GG_STR(GG_TRAIN_BATCH) ")\n"
    "  --lr X              peak learning rate (default: 3e-3 up to d 128, 1e-3\n"
    "                      wider); warmup, then cosine decay to a tenth\n"
    "  --warmup N          warmup steps (default: 5% of --steps)\n"
    "  --dropout P         in training, zero this fraction of the embeddings and\n"
    "                      of each block's attention and feed-forward outputs\n"
    "                      (default 0: none)\n"
    "  --seed S            seeds the initial weights and the batches (default " GG_STR(GG_TRAIN_SEED) ")\n"
    "  --eval-every K      validate and save every K steps (default " GG_STR(GG_TRAIN_EVAL_EVERY) ")\n"
    "  --stop-after K      stop and save after K steps of this run, as if\n"
    "                      interrupted (continue with --resume)\n"
    "  --threads N         threads to use (default: all cores)\n"
    "  --profile           at the end, print where the steps' time went: each\n"
    "                      kernel's time, GFLOP/s and share of the machine's peak\n"
    "  --resume MODEL      continue the run saved in MODEL up to --steps, with the\n"
    "                      settings it was started with\n";

static const char usage_eval[] =
    "usage: glassgpt eval -m MODEL FILE\n"
    "\n"
    "Prints the model's mean next-token loss on FILE, scored in consecutive\n"
    "non-overlapping windows of its context length, as one line:\n"
    "  loss <nats per token> bpb <bits per byte> tokens <tokens predicted>\n";

// Ctrl-C (SIGINT) and SIGTERM both save and stop: the exit status is then
// 128 + the signal, as a shell reports a process killed by it. Under MPI,
// every process stops at the same step (parallel.h).
static void on_stop_signal(int sig) { par_request_stop(sig); }

// Reads and tokenizes a corpus into ints.
static int tokenize_file(const char *path, const gg_tokenizer *tok, int **out, size_t *n,
                         size_t *n_bytes, gg_error *err) {
    uint8_t *text;
    size_t len, n_ids;
    int rc = read_input(path, &text, &len, err);
    if (rc) return rc;
    uint32_t *ids = malloc(sizeof *ids * (len ? len : 1));
    if (!ids) {
        free(text);
        return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", path);
    }
    rc = gg_bpe_encode_parallel(tok, text, len, ids, &n_ids, 0, err);
    free(text);
    if (rc) {
        free(ids);
        return rc;
    }
    int *tokens = (int *)ids;  // same size: convert in place
    for (size_t i = 0; i < n_ids; i++) tokens[i] = (int)ids[i];
    *out = tokens;
    *n = n_ids;
    if (n_bytes) *n_bytes = len;
    return GG_OK;
}

// ---- token shards (glassgpt prepare) as the training data ----

typedef struct {
    gg_shard *shard;
    int n;
    gg_token_piece *pieces;  // the training pieces, then the validation ones
    gg_token_seq train, val;
} shards;

static void close_shards(shards *d) {
    for (int i = 0; i < d->n; i++) gg_shard_close(&d->shard[i]);
    free(d->shard);
    free(d->pieces);
    memset(d, 0, sizeof *d);
}

// Whether path is a directory (of shards) or a file that starts like a shard.
static int is_shards(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    if (S_ISDIR(st.st_mode)) return 1;
    FILE *f = S_ISREG(st.st_mode) ? fopen(path, "rb") : NULL;
    char magic[8] = {0};
    int yes = f && fread(magic, 1, 8, f) == 8 && memcmp(magic, GG_SHARD_MAGIC, 8) == 0;
    if (f) fclose(f);
    return yes;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Maps in the shards of a directory (train_*.bin and val_*.bin, in name
// order), or one shard, which is then split 90/10 as a text is. Each must
// have been made with tok.
static int open_shards(const char *path, const gg_tokenizer *tok, shards *d, gg_error *err) {
    struct stat st;
    char **names = NULL;
    int n = 0, rc = GG_OK;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        for (struct dirent *e; dir && (e = readdir(dir));) {
            size_t len = strlen(e->d_name);
            if (gg_shard_name_split(e->d_name) < 0) continue;
            char **more = realloc(names, sizeof *names * (size_t)(n + 1));
            if (more) names = more;
            size_t plen = strlen(path) + len + 2;
            char *name = more ? malloc(plen) : NULL;
            if (!name) {
                rc = gg_fail(err, GG_ERR_NOMEM, "out of memory");
                break;
            }
            snprintf(name, plen, "%s/%s", path, e->d_name);
            names[n++] = name;
        }
        if (dir) closedir(dir);
        if (!rc && !n)
            rc = gg_fail(err, GG_ERR_ARG, "%s holds no shards (train_*.bin, val_*.bin); make them "
                         "with glassgpt prepare", path);
        if (n) qsort(names, (size_t)n, sizeof *names, by_name);
    } else if (!(names = malloc(sizeof *names)) || !(names[0] = strdup(path))) {
        rc = gg_fail(err, GG_ERR_NOMEM, "out of memory");
    } else {
        n = 1;
    }
    d->shard = rc ? NULL : calloc((size_t)n, sizeof *d->shard);
    d->pieces = rc ? NULL : calloc((size_t)n + 1, sizeof *d->pieces);
    if (!rc && (!d->shard || !d->pieces)) rc = gg_fail(err, GG_ERR_NOMEM, "out of memory");
    uint32_t print = gg_tokenizer_fingerprint(tok);
    int n_train = 0;
    for (int i = 0; !rc && i < n; i++) {
        if ((rc = gg_shard_open(names[i], &d->shard[d->n], err))) break;
        gg_shard *s = &d->shard[d->n++];
        if (s->vocab != (uint32_t)gg_tokenizer_vocab(tok) || s->fingerprint != print)
            rc = gg_fail(err, GG_ERR_ARG, "%s was made with another tokenizer (vocabulary %u); "
                         "give the one it was prepared with", names[i], s->vocab);
        n_train += s->split == GG_SHARD_TRAIN;
    }
    if (!rc && n == 1) {  // one shard: the last tenth is held out
        gg_shard *s = &d->shard[0];
        size_t held = s->count / 10;
        d->pieces[0] = (gg_token_piece){NULL, s->ids, s->count - held};
        d->pieces[1] = (gg_token_piece){NULL, s->ids + 2 * (s->count - held), held};
        d->train = (gg_token_seq){&d->pieces[0], 1, s->count - held};
        d->val = (gg_token_seq){&d->pieces[1], 1, held};
    } else if (!rc) {
        if (!n_train || n_train == n)
            rc = gg_fail(err, GG_ERR_ARG, "%s holds %s shards but no %s ones", path,
                         n_train ? "training" : "validation", n_train ? "validation" : "training");
        int k = 0;
        for (int split = GG_SHARD_TRAIN; !rc && split <= GG_SHARD_VAL; split++) {
            gg_token_seq *seq = split == GG_SHARD_TRAIN ? &d->train : &d->val;
            *seq = (gg_token_seq){&d->pieces[k], 0, 0};
            for (int i = 0; i < n; i++)
                if (d->shard[i].split == split) {
                    d->pieces[k++] = (gg_token_piece){NULL, d->shard[i].ids, d->shard[i].count};
                    seq->n_pieces++;
                    seq->n += d->shard[i].count;
                }
        }
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    if (rc) close_shards(d);
    return rc;
}

typedef struct {
    const char *data, *tokenizer, *output, *resume, *preset, *pos;
    long d, layers, heads, ctx, ff, vocab, steps, batch, warmup, seed, eval_every, stop_after,
        threads;
    double lr, dropout, time;
    int profile;
} train_args;

static int parse_train_args(int argc, char **argv, train_args *a) {
    *a = (train_args){.preset = "small", .vocab = GG_BPE_DEFAULT_VOCAB, .steps = -1, .batch = -1,
                      .warmup = -1, .seed = -1, .eval_every = -1, .lr = -1, .dropout = -1,
                      .time = -1};
    struct {
        const char *name;
        long *value;
        long lo, hi;
    } ints[] = {
        {"--d", &a->d, 1, 16384},          {"--layers", &a->layers, 1, 256},
        {"--heads", &a->heads, 1, 1024},   {"--ctx", &a->ctx, 1, GG_MAX_CTX},
        {"--ff", &a->ff, 1, 65536},        {"--vocab", &a->vocab, 256, 65536},
        {"--steps", &a->steps, 1, 100000000}, {"--batch", &a->batch, 1, 65536},
        {"--warmup", &a->warmup, 0, 100000000}, {"--seed", &a->seed, 0, 2147483647},
        {"--eval-every", &a->eval_every, 1, 100000000},
        {"--stop-after", &a->stop_after, 1, 100000000}, {"--threads", &a->threads, 1, 4096},
    };
    struct {
        const char *name, *short_name;
        const char **value;
    } strs[] = {
        {"--data", NULL, &a->data},       {"--tokenizer", "-t", &a->tokenizer},
        {"--output", "-o", &a->output},   {"--resume", NULL, &a->resume},
        {"--preset", NULL, &a->preset},   {"--pos", NULL, &a->pos},
    };
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = 0, matched = 0;
        if (is_help(argv[i])) {
            fputs(usage_train, stdout);
            return -1;
        }
        for (size_t k = 0; !matched && k < sizeof strs / sizeof *strs; k++)
            if ((r = take_option(argc, argv, &i, strs[k].name, strs[k].short_name, &v))) {
                if (r < 0) return usage_error("train", "%s needs a value", strs[k].name);
                *strs[k].value = v;
                matched = 1;
            }
        for (size_t k = 0; !matched && k < sizeof ints / sizeof *ints; k++)
            if ((r = take_option(argc, argv, &i, ints[k].name, NULL, &v))) {
                if (r < 0) return usage_error("train", "%s needs a number", ints[k].name);
                if (!parse_long(v, ints[k].lo, ints[k].hi, ints[k].value))
                    return usage_error("train", "%s %s: expected a whole number from %ld to %ld",
                                       ints[k].name, v, ints[k].lo, ints[k].hi);
                matched = 1;
            }
        if (!matched && strcmp(argv[i], "--profile") == 0) a->profile = matched = 1;
        if (!matched && (r = take_option(argc, argv, &i, "--time", NULL, &v))) {
            if (r < 0 || !parse_duration(v, 1.0, 7 * 86400.0, &a->time))
                return usage_error("train", "--time %s: expected a duration from 1s to a week, "
                                   "such as 90s, 5m or 2h", r < 0 ? "" : v);
            matched = 1;
        }
        if (!matched && (r = take_option(argc, argv, &i, "--dropout", NULL, &v))) {
            if (r < 0 || !parse_float(v, 0.0, 0.95, &a->dropout))
                return usage_error("train", "--dropout %s: expected a fraction from 0 to 0.95, "
                                   "such as 0.1", r < 0 ? "" : v);
            matched = 1;
        }
        if (!matched && (r = take_option(argc, argv, &i, "--lr", NULL, &v))) {
            if (r < 0 || !parse_float(v, 1e-8, 10.0, &a->lr))
                return usage_error("train", "--lr %s: expected a learning rate such as 1e-3",
                                   r < 0 ? "" : v);
            matched = 1;
        }
        if (!matched) return usage_error("train", "unexpected argument '%s'", argv[i]);
    }
    return 0;
}

// Refuses up front what the machine cannot hold, rather than be killed for
// it minutes later.
static int check_memory(const gg_config *cfg, int B, int T) {
    double need = gg_train_memory(cfg, B, T), have = available_memory();
    if (have > 0 && need > have)
        return runtime_error("training this model takes about %.1f GiB (%zu parameters, batch %d "
                             "x %d, with its optimizer, activations and checkpoint), but this "
                             "machine has %.1f GiB available; choose a smaller --d, --ff, "
                             "--layers or --batch", need / 1073741824.0, gg_param_count(cfg), B,
                             T, have / 1073741824.0);
    return 0;
}

// ---- a run of a given time (--time) ----

// The seconds a training step and an evaluation take, measured on the
// held-out windows, without changing the weights or the batches to come:
// the backward's gradients are zeroed again by the first step.
static int measure_step(gg_trainer *tr, double *step, double *eval, gg_error *err) {
    double best = INFINITY;
    float loss;
    for (int k = 0; k < 3; k++) {  // the first one also allocates: the best of three
        double t0 = now_seconds();
        int rc = gg_train_eval(tr, tr->B, &loss, err);
        if (!rc) rc = gg_model_zero_grad(tr->model, err);
        if (!rc) rc = gg_model_backward(tr->model, err);
        if (rc) return rc;
        double t = now_seconds() - t0;
        best = t < best ? t : best;
    }
    double t0 = now_seconds();
    int rc = gg_train_eval(tr, GG_TRAIN_EVAL_WINDOWS, &loss, err);
    // and AdamW, the gradient norm and drawing the batch: about a tenth of a
    // step more (train --profile)
    *step = best * 1.1;
    *eval = now_seconds() - t0;
    return rc;
}

// The steps that fit in `seconds` at `per_step` seconds each (evaluations
// and saves included), at least one.
static int steps_that_fit(double seconds, double per_step) {
    double n = seconds / per_step;
    return n < 1.0 ? 1 : n > 100000000.0 ? 100000000 : (int)n;
}

static void fill_state(gg_train_state *st, const gg_trainer *tr, int eval_every, float val) {
    *st = (gg_train_state){.step = (uint64_t)tr->step, .rng_state = tr->rng.state,
                           .seed = tr->seed, .batch = (uint32_t)tr->B, .seq = (uint32_t)tr->T,
                           .eval_every = (uint32_t)eval_every, .opt = tr->opt,
                           .train_loss = tr->last_loss, .val_loss = val};
}

int cmd_train(int argc, char **argv) {
    train_args a;
    int rc = parse_train_args(argc, argv, &a);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    if (!a.resume && !a.data) return usage_error("train", "missing --data CORPUS, the text to learn from");
    if (!a.resume && !a.output) return usage_error("train", "missing -o MODEL, where to save the model");
    if (a.resume && !a.data) return usage_error("train", "--resume needs --data CORPUS, the same text the run used");
    if (a.time > 0 && a.steps > 0)
        return usage_error("train", "--time and --steps both set the length of the run: give one");
    if (a.resume && a.time > 0)
        return usage_error("train", "--time belongs to a new run; a resumed run goes on to --steps");
    if (a.resume && (a.lr > 0 || a.dropout >= 0 || a.warmup >= 0 || a.batch > 0 || a.seed >= 0))
        return usage_error("train", "--lr, --warmup, --dropout, --batch and --seed belong to the "
                           "run: a resumed run keeps the ones it was started with");
    if (!a.output) a.output = a.resume;
    gg_error err;
    if (gg_check_writable(a.output, &err)) return runtime_error("%s", err.msg);
    int from_shards = is_shards(a.data);

    gg_model model = {0};
    gg_tokenizer tok = {0};
    gg_train_state st;
    gg_optim_cfg opt = gg_optim_defaults();
    int has_train = 0, B, T;
    uint64_t seed;
    int eval_every;
    if (a.resume) {
        if (gg_checkpoint_load(a.resume, &model, &tok, &st, &has_train, &err))
            return runtime_error("%s", err.msg);
        if (!has_train || !model.m_mem) {
            gg_model_free(&model);
            gg_tokenizer_free(&tok);
            return runtime_error("%s: holds no training state to resume (it was saved without "
                                 "the optimizer); start a new run instead", a.resume);
        }
        opt = st.opt;
        B = (int)st.batch;
        T = (int)st.seq;
        seed = st.seed;
        eval_every = a.eval_every > 0 ? (int)a.eval_every : (int)st.eval_every;
        if (a.steps > 0) opt.total = (int)a.steps;
        if (check_memory(&model.cfg, B, T)) {
            gg_model_free(&model);
            gg_tokenizer_free(&tok);
            return EXIT_RUNTIME;
        }
        if ((uint64_t)opt.total <= st.step) {
            gg_model_free(&model);
            gg_tokenizer_free(&tok);
            return usage_error("train", "%s is already at step %llu of %d: there is nothing to "
                               "resume; give --steps above %llu to train it further", a.resume,
                               (unsigned long long)st.step, opt.total,
                               (unsigned long long)st.step);
        }
    } else {
        gg_config cfg;
        if (gg_config_preset(&cfg, a.preset, &err)) return usage_error("train", "%s", err.msg);
        if (a.d > 0) cfg.d_model = (int)a.d;
        if (a.layers > 0) cfg.n_layer = (int)a.layers;
        if (a.heads > 0) cfg.n_head = (int)a.heads;
        if (a.ctx > 0) cfg.ctx = (int)a.ctx;
        if (a.ff > 0) cfg.d_ff = (int)a.ff;
        else if (a.d > 0) cfg.d_ff = 4 * cfg.d_model;
        if (a.pos && strcmp(a.pos, "learned") == 0) cfg.pos_kind = GG_POS_LEARNED;
        else if (a.pos && strcmp(a.pos, "sinusoidal") == 0) cfg.pos_kind = GG_POS_SINUSOIDAL;
        else if (a.pos) return usage_error("train", "--pos %s: expected learned or sinusoidal", a.pos);
        cfg.vocab = (int)a.vocab;
        if (a.tokenizer) {
            if (load_tokenizer_any(a.tokenizer, &tok, &err)) return runtime_error("%s", err.msg);
            cfg.vocab = gg_tokenizer_vocab(&tok);
        }
        if (gg_config_check(&cfg, &err)) {
            gg_tokenizer_free(&tok);
            return usage_error("train", "%s", err.msg);
        }
        B = a.batch > 0 ? (int)a.batch : GG_TRAIN_BATCH;
        T = cfg.ctx;
        if (check_memory(&cfg, B, T)) {
            gg_tokenizer_free(&tok);
            return EXIT_RUNTIME;
        }
        if (!a.tokenizer && from_shards) {
            gg_tokenizer_free(&tok);
            return usage_error("train", "%s holds token shards: give the tokenizer they were "
                               "prepared with (-t)", a.data);
        }
        if (!a.tokenizer) {
            uint8_t *text;
            size_t len;
            if (read_input(a.data, &text, &len, &err)) return runtime_error("%s", err.msg);
            fprintf(stderr, "train: no --tokenizer given; learning one of %d tokens from %s\n",
                    cfg.vocab, a.data);
            gg_bpe_train_opts bo = {.vocab_size = cfg.vocab};
            rc = len ? gg_bpe_train(&tok, text, len, &bo, NULL, &err)
                     : gg_fail(&err, GG_ERR_ARG, "%s is empty", a.data);
            free(text);
            if (rc) return runtime_error("%s", err.msg);
            if (gg_tokenizer_vocab(&tok) != cfg.vocab) {
                gg_tokenizer_free(&tok);
                return runtime_error("%s is too small to learn %d tokens", a.data, cfg.vocab);
            }
        }
        if (gg_model_init(&model, &cfg, &err)) {
            gg_tokenizer_free(&tok);
            return runtime_error("%s", err.msg);
        }
        seed = a.seed >= 0 ? (uint64_t)a.seed : GG_TRAIN_SEED;
        gg_model_init_weights(&model, seed);
        opt.total = a.steps > 0 ? (int)a.steps : GG_TRAIN_STEPS;
        opt.lr = a.lr > 0 ? (float)a.lr : gg_default_lr(cfg.d_model);
        opt.warmup = a.warmup >= 0 ? (int)a.warmup : GG_TRAIN_WARMUP(opt.total);
        opt.dropout = a.dropout >= 0 ? (float)a.dropout : 0.0f;
        eval_every = a.eval_every > 0 ? (int)a.eval_every : GG_TRAIN_EVAL_EVERY;
    }
    if (a.threads > 0) gg_set_threads((int)a.threads);

    int *tokens = NULL;
    size_t n_tokens = 0;
    shards data = {0};
    gg_trainer tr;
    rc = from_shards ? open_shards(a.data, &tok, &data, &err)
                     : tokenize_file(a.data, &tok, &tokens, &n_tokens, NULL, &err);
    if (!rc) {
        if (data.n) n_tokens = data.train.n + data.val.n;
        rc = data.n ? gg_trainer_init_split(&tr, &model, &data.train, &data.val, B, T, &opt, seed,
                                            &tok, &err)
                    : gg_trainer_init(&tr, &model, tokens, n_tokens, B, T, &opt, seed, &tok, &err);
        if (rc) gg_fail(&err, rc, "%s: %.400s", a.data, err.msg);
    }
    if (rc) {
        free(tokens);
        close_shards(&data);
        gg_model_free(&model);
        gg_tokenizer_free(&tok);
        return runtime_error("%s", err.msg);
    }
    if (a.resume) {
        tr.step = (int)st.step;
        tr.rng.state = st.rng_state;
        tr.last_loss = st.train_loss;
    }
    // Data parallelism: each process computes its share of every batch.
    int rank = par_rank(), procs = par_size(), lead = rank == 0;
    if (procs > 1) {
        if (B % procs) {
            gg_trainer_free(&tr);
            free(tokens);
            close_shards(&data);
            gg_model_free(&model);
            gg_tokenizer_free(&tok);
            return usage_error("train", "a batch of %d does not split evenly over %d processes",
                               B, procs);
        }
        tr.rows = B / procs;
        tr.row0 = rank * tr.rows;
        tr.reduce = par_reduce;
    }
    // --time: as many steps as the measured speed allows, the warmup and the
    // cosine fitted to them; refitted at every evaluation (below)
    double t_begin = now_seconds(), deadline = t_begin + a.time;
    if (a.time > 0) {
        double per_step = 0.0, per_eval = 0.0;
        if (procs > 1)
            rc = gg_fail(&err, GG_ERR_ARG, "--time is for one process: the processes would each "
                         "measure their own speed; give --steps");
        else
            rc = measure_step(&tr, &per_step, &per_eval, &err);
        if (rc) {
            gg_trainer_free(&tr);
            free(tokens);
            close_shards(&data);
            gg_model_free(&model);
            gg_tokenizer_free(&tok);
            return procs > 1 ? usage_error("train", "%s", err.msg) : runtime_error("%s", err.msg);
        }
        opt.total = steps_that_fit(deadline - now_seconds(), per_step + per_eval / eval_every);
        opt.warmup = a.warmup >= 0 ? (int)a.warmup : GG_TRAIN_WARMUP(opt.total);
        tr.opt = opt;
        char budget[32];
        format_duration(a.time, budget, sizeof budget);
        fprintf(stderr, "train: a step takes about %.0f ms and an evaluation %.0f ms here: %d steps "
                "fit in %s\n", 1e3 * per_step, 1e3 * per_eval, opt.total, budget);
    }
    float val = a.resume ? st.val_loss : NAN;
    const gg_config *c = &model.cfg;
    char dropout[32] = "";
    if (opt.dropout > 0) snprintf(dropout, sizeof dropout, "; dropout %g", opt.dropout);
    if (lead)
        fprintf(stderr, "train: %zu parameters (V %d, d %d, %d layers, %d heads, ctx %d, ff %d, "
                "%s positions); %zu tokens (%zu for training); batch %d x %d%s; lr %g%s; "
                "steps %d..%d\n", model.n_params, c->vocab, c->d_model, c->n_layer, c->n_head,
                c->ctx, c->d_ff, c->pos_kind == GG_POS_LEARNED ? "learned" : "sinusoidal",
                n_tokens, tr.n_train, B, T, procs > 1 ? " over processes" : "", opt.lr, dropout,
                tr.step, opt.total);
    if (lead && procs > 1)
        fprintf(stderr, "train: %d processes (MPI), %d sequences each per step\n", procs, tr.rows);

    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
    int tty = lead && isatty(STDERR_FILENO), start_step = tr.step, stopped = 0;
    double t0 = now_seconds(), t_last = t0;
    int step_last = tr.step;
    double tok_s = 0.0, step_seconds = 0.0;  // in the steps themselves, for --profile
    if (a.profile) model.ops = gg_profile_wrap(model.ops);
    while (tr.step < opt.total && !par_stopping()) {
        double t_step = now_seconds();
        gg_profile_enable(1);
        rc = gg_train_step(&tr, &err);
        gg_profile_enable(0);  // evaluation is not part of a step
        step_seconds += now_seconds() - t_step;
        if (rc) break;
        if (a.time > 0 && now_seconds() >= deadline && tr.step < opt.total) {  // time's up
            if (lead)
                fprintf(stderr, "%strain: the time ran out at step %d of the %d fitted: the "
                        "machine slowed down\n", tty ? "\n" : "", tr.step, opt.total);
            tr.opt.total = opt.total = tr.step;
        }
        int last = tr.step == opt.total;
        int stop = a.stop_after > 0 && tr.step - start_step >= a.stop_after;
        int checkpoint = tr.step % eval_every == 0 || last || stop;
        if (lead && checkpoint && (rc = gg_train_eval(&tr, GG_TRAIN_EVAL_WINDOWS, &val, &err))) break;
        double now = now_seconds();
        if (a.time > 0 && checkpoint && !last) {
            // refit to the speed so far, evaluations and saves included; the
            // cosine stretches or shrinks to end at the deadline
            int fit = tr.step + steps_that_fit(deadline - now, (now - t0) / (tr.step - start_step));
            if (abs(fit - opt.total) > opt.total / 100) tr.opt.total = opt.total = fit;
        }
        // tokens/s over the last half second (over all steps so far, before one has passed)
        if (now > t_last && (now - t_last > 0.5 || last || t_last == t0))
            tok_s = (double)(tr.step - step_last) * B * T / (now - t_last);
        if (now - t_last > 0.5 || last) {
            t_last = now;
            step_last = tr.step;
        }
        if (lead && (tty || checkpoint)) {
            char eta[32];  // the time left: by the clock with --time, else by the speed
            format_duration(a.time > 0 ? (deadline > now ? deadline - now : 0)
                            : tok_s > 0 ? (double)(opt.total - tr.step) * B * T / tok_s : 0,
                            eta, sizeof eta);
            fprintf(stderr, "%sstep %d/%d | loss %.4f | val %.4f | bpb %.3f | %.0f tok/s | %s %s%s",
                    tty ? "\r\033[K" : "", tr.step, opt.total, tr.last_loss, val,
                    gg_bits_per_byte(&tr, val), tok_s, a.time > 0 ? "left" : "ETA", eta,
                    tty && !checkpoint ? "" : "\n");
        }
        if (lead && checkpoint) {
            fill_state(&st, &tr, eval_every, val);
            if ((rc = gg_checkpoint_save(a.output, &model, &tok, 1, &st, &err))) break;
        }
        if (stop) {
            stopped = 1;
            break;
        }
    }
    int interrupted = par_stopping();
    if (!rc && interrupted && lead) {
        fill_state(&st, &tr, eval_every, val);
        rc = gg_checkpoint_save(a.output, &model, &tok, 1, &st, &err);
        if (tty) fputc('\n', stderr);
    }
    double secs = now_seconds() - t0;
    if (!rc && lead) {
        if (interrupted || stopped)
            fprintf(stderr, "train: %s at step %d; saved %s; continue with: glassgpt train "
                    "--resume %s --data %s\n", interrupted ? "interrupted" : "stopped", tr.step,
                    a.output, a.output, a.data);
        else
            fprintf(stderr, "train: %d steps in %.1f s; val loss %.4f (%.3f bits per byte); "
                    "saved %s\n", tr.step - start_step, secs, val, gg_bits_per_byte(&tr, val),
                    a.output);
        if (a.profile)
            gg_profile_report(stderr, tr.step - start_step, step_seconds, gg_threads());
    }
    gg_trainer_free(&tr);
    free(tokens);
    close_shards(&data);
    gg_model_free(&model);
    gg_tokenizer_free(&tok);
    if (rc) return runtime_error("%s", err.msg);
    return interrupted ? 128 + interrupted : EXIT_OK;
}

int cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *file = NULL;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (is_help(argv[i])) {
            fputs(usage_eval, stdout);
            return EXIT_OK;
        } else if ((r = take_option(argc, argv, &i, "--model", "-m", &model_path))) {
            if (r < 0) return usage_error("eval", "-m needs a model file");
        } else if ((r = take_option(argc, argv, &i, "--threads", NULL, &v))) {
            if (r < 0 || !parse_long(v, 1, 4096, &threads))
                return usage_error("eval", "--threads needs a number from 1 to 4096");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("eval", "unknown option '%s'", argv[i]);
        } else if (!file) {
            file = argv[i];
        } else {
            return usage_error("eval", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!model_path) return usage_error("eval", "missing -m MODEL");
    if (!file) return usage_error("eval", "missing FILE, the text to score");
    if (threads > 0) gg_set_threads((int)threads);
    gg_error err;
    gg_model model;
    gg_tokenizer tok;
    if (gg_checkpoint_load(model_path, &model, &tok, NULL, NULL, &err))
        return runtime_error("%s", err.msg);
    int *tokens = NULL;
    size_t n = 0, n_bytes = 0, scored = 0;
    double loss = 0.0;
    int rc = tokenize_file(file, &tok, &tokens, &n, &n_bytes, &err);
    if (!rc && n < 2) rc = gg_fail(&err, GG_ERR_ARG, "%s: too short to score (%zu tokens)", file, n);
    if (!rc) rc = gg_eval_tokens(&model, tokens, n, &loss, &scored, &err);
    if (!rc) {
        // bits per byte: the nats of every predicted token over the bytes they cover
        size_t bytes = 0;
        for (size_t i = 1; i < n; i++) {
            size_t len;
            gg_token_bytes(&tok, (uint32_t)tokens[i], &len);
            bytes += len;
        }
        printf("loss %.6f bpb %.6f tokens %zu\n", loss, loss * (double)scored / log(2.0) / (double)bytes,
               scored);
    }
    free(tokens);
    gg_model_free(&model);
    gg_tokenizer_free(&tok);
    return rc ? runtime_error("%s", err.msg) : EXIT_OK;
}
