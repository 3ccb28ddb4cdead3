// glassgpt generate
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/checkpoint.h"
#include "../src/generate.h"
#include "../src/sampler.h"
#include "cli.h"

static const char usage_generate[] =
    "usage: glassgpt generate -m MODEL [--prompt TEXT] [-n N] [--temperature T]\n"
    "                         [--top-k K] [--top-p P] [--seed S] [--no-kv-cache]\n"
    "\n"
    "Writes the prompt and then N generated tokens as they are produced, and\n"
    "the speed on standard error. Without a prompt, generation starts from a\n"
    "newline. When the text outgrows the context, the window slides: the oldest\n"
    "half is dropped.\n"
    "\n"
    "  -m, --model FILE     the checkpoint\n"
    "  --prompt TEXT        the text to continue\n"
    "  -n N                 tokens to generate (default 200)\n"
    "  --temperature T      0 picks the most likely token (greedy); higher is\n"
    "                       more adventurous (default 0.8)\n"
    "  --top-k K            sample among the K most likely tokens only\n"
    "  --top-p P            sample among the most likely tokens whose\n"
    "                       probabilities add up to P\n"
    "  --seed S             seeds the sampler (default 1): the same seed, the\n"
    "                       same text\n"
    "  --no-kv-cache        recompute the whole context for every token, for\n"
    "                       comparison; gives the same tokens, more slowly\n"
    "  --threads N          threads to use (default: all cores)\n";

int cmd_generate(int argc, char **argv) {
    const char *model_path = NULL, *prompt = NULL, *v;
    long n = 200, top_k = 0, seed = 1, threads = 0;
    double temperature = 0.8, top_p = 1.0;
    int use_cache = 1;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            fputs(usage_generate, stdout);
            return EXIT_OK;
        } else if ((r = take_option(argc, argv, &i, "--model", "-m", &model_path))) {
            if (r < 0) return usage_error("generate", "-m needs a model file");
        } else if ((r = take_option(argc, argv, &i, "--prompt", NULL, &prompt))) {
            if (r < 0) return usage_error("generate", "--prompt needs a text");
        } else if ((r = take_option(argc, argv, &i, "-n", NULL, &v))) {
            if (r < 0 || !parse_long(v, 0, 100000000, &n))
                return usage_error("generate", "-n needs a number of tokens (0 or more)");
        } else if ((r = take_option(argc, argv, &i, "--temperature", NULL, &v))) {
            if (r < 0 || !parse_float(v, 0.0, 100.0, &temperature))
                return usage_error("generate", "--temperature needs a number from 0 to 100");
        } else if ((r = take_option(argc, argv, &i, "--top-k", NULL, &v))) {
            if (r < 0 || !parse_long(v, 0, 65536, &top_k))
                return usage_error("generate", "--top-k needs a number from 0 (off) to 65536");
        } else if ((r = take_option(argc, argv, &i, "--top-p", NULL, &v))) {
            if (r < 0 || !parse_float(v, 1e-9, 1.0, &top_p))
                return usage_error("generate", "--top-p needs a number in (0, 1]");
        } else if ((r = take_option(argc, argv, &i, "--seed", NULL, &v))) {
            if (r < 0 || !parse_long(v, 0, 2147483647, &seed))
                return usage_error("generate", "--seed needs a whole number");
        } else if ((r = take_option(argc, argv, &i, "--threads", NULL, &v))) {
            if (r < 0 || !parse_long(v, 1, 4096, &threads))
                return usage_error("generate", "--threads needs a number from 1 to 4096");
        } else if (strcmp(argv[i], "--no-kv-cache") == 0) {
            use_cache = 0;
        } else {
            return usage_error("generate", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!model_path) return usage_error("generate", "missing -m MODEL");
    if (threads > 0) gg_set_threads((int)threads);

    gg_error err;
    gg_model model;
    gg_tokenizer tok;
    if (gg_checkpoint_load(model_path, &model, &tok, NULL, NULL, &err))
        return runtime_error("%s", err.msg);
    const char *text = prompt && *prompt ? prompt : "\n";
    size_t text_len = strlen(text), n_prompt = 0;
    uint32_t *ids = malloc(sizeof *ids * (text_len + 1));
    int rc = ids ? gg_bpe_encode(&tok, (const uint8_t *)text, text_len, ids, &n_prompt, &err)
                 : gg_fail(&err, GG_ERR_NOMEM, "out of memory");
    int ctx = model.cfg.ctx;
    if (!rc && n_prompt > (size_t)ctx) {
        free(ids);
        gg_model_free(&model);
        gg_tokenizer_free(&tok);
        return usage_error("generate", "the prompt is %zu tokens long, longer than the model's "
                           "context of %d tokens; shorten it", n_prompt, ctx);
    }
    gg_generator gen;
    gg_sampler sampler;
    int have_gen = 0, have_sampler = 0;
    if (!rc && !(rc = gg_generator_init(&gen, &model, use_cache, &err))) have_gen = 1;
    if (!rc && !(rc = gg_sampler_init(&sampler, model.cfg.vocab, (float)temperature, (int)top_k,
                                      (float)top_p, (uint64_t)seed, &err)))
        have_sampler = 1;
    if (prompt) fputs(prompt, stdout);
    fflush(stdout);
    double t0 = now_seconds();
    for (size_t i = 0; !rc && i < n_prompt; i++) rc = gg_generator_push(&gen, (int)ids[i], &err);
    double t_prompt = now_seconds();
    // Bytes of a UTF-8 character split across tokens wait here for the rest.
    uint8_t pending[64 + 4];
    size_t n_pending = 0;
    long produced = 0;
    for (; !rc && produced < n; produced++) {
        int next = gg_sample(&sampler, gen.logits);
        size_t len;
        const uint8_t *b = gg_token_bytes(&tok, (uint32_t)next, &len);
        while (len > 0) {  // a token can be longer than the buffer
            size_t chunk = len < 64 ? len : 64;
            memcpy(pending + n_pending, b, chunk);
            n_pending += chunk;
            b += chunk;
            len -= chunk;
            size_t ready = gg_utf8_complete(pending, n_pending);
            fwrite(pending, 1, ready, stdout);
            memmove(pending, pending + ready, n_pending - ready);
            n_pending -= ready;
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {  // a closed pipe, a full disk: stop
            rc = gg_fail(&err, GG_ERR_IO, "cannot write the text to standard output: %s",
                         strerror(errno));
            break;
        }
        if (produced + 1 < n) rc = gg_generator_push(&gen, next, &err);
    }
    fwrite(pending, 1, n_pending, stdout);  // never drop bytes, even of a broken character
    if (n > 0) putchar('\n');
    if ((fflush(stdout) != 0 || ferror(stdout)) && !rc)
        rc = gg_fail(&err, GG_ERR_IO, "cannot write the text to standard output: %s",
                     strerror(errno));
    double t1 = now_seconds();
    if (!rc)
        fprintf(stderr, "generate: %ld tokens in %.3f s (%.0f tokens/s; prompt %zu tokens in "
                "%.3f s), %s KV cache, %ld positions computed\n", produced, t1 - t_prompt,
                (t1 - t_prompt) > 0 ? (double)produced / (t1 - t_prompt) : 0.0, n_prompt,
                t_prompt - t0, use_cache ? "with" : "without", gen.positions);
    if (have_sampler) gg_sampler_free(&sampler);
    if (have_gen) gg_generator_free(&gen);
    free(ids);
    gg_model_free(&model);
    gg_tokenizer_free(&tok);
    return rc ? runtime_error("%s", err.msg) : EXIT_OK;
}
