// glassgpt bpe train|encode|decode|show
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/fileio.h"
#include "../src/rng.h"
#include "../src/tokenizer.h"
#include "cli.h"

static const char usage_bpe[] =
    "usage: glassgpt bpe SUBCOMMAND [ARGS...]\n"
    "\n"
    "A byte-level BPE tokenizer with the semantics of minbpe's BasicTokenizer.\n"
    "\n"
    "  train CORPUS -o FILE [--vocab N] [--trace TSV]   learn merges from a text\n"
    "  encode -t FILE [INPUT]                           print the ids of a text\n"
    "  decode -t FILE [INPUT]                           print the text of ids\n"
    "  show -t FILE                                     list the learned tokens as TSV\n"
    "\n"
    "Run 'glassgpt bpe SUBCOMMAND --help' for details.\n";

static const char usage_train[] =
    "usage: glassgpt bpe train CORPUS -o FILE [--vocab N] [--trace TSV] [--sample BYTES]\n"
    "                          [--seed S] [--threads N]\n"
    "\n"
    "Learns byte pair merges from CORPUS until the vocabulary holds N tokens:\n"
    "the 256 byte values plus N - 256 merges. In each round the most frequent\n"
    "adjacent pair is merged (ties: leftmost first occurrence).\n"
    "\n"
    "  -o, --output FILE  where to write the tokenizer (written atomically)\n"
    "  --vocab N          vocabulary size, 256..65536 (default 768)\n"
    "  --sample BYTES     a corpus larger than this (default 100000000) is learned\n"
    "                     from a uniform sample of this many bytes: 64 KiB pieces\n"
    "                     spread evenly over the file\n"
    "  --seed S           seeds that sample (default 1)\n"
    "  --threads N        threads that count the byte pairs at the start (default:\n"
    "                     all cores); any number learns the same merges\n"
    "  --trace TSV        also write the training history: for every merge, the\n"
    "                     10 best candidate pairs and their counts (rank 1 is\n"
    "                     the pair merged); columns step, id, rank, left, right,\n"
    "                     count, token\n"
    "\n"
    "If the corpus runs out of pairs before N is reached (or the tokens' bytes\n"
    "would pass 8 MiB, which only a corpus that repeats one long text can do),\n"
    "the merges learned so far are saved, a warning is printed and the exit\n"
    "status is 1.\n";

static const char usage_encode[] =
    "usage: glassgpt bpe encode -t FILE [INPUT]\n"
    "\n"
    "Encodes INPUT (standard input when absent or '-') and prints the token ids\n"
    "on one line, separated by spaces.\n"
    "\n"
    "  -t, --tokenizer FILE  the tokenizer to use (or a checkpoint, which carries one)\n";

static const char usage_decode[] =
    "usage: glassgpt bpe decode -t FILE [INPUT]\n"
    "\n"
    "Reads token ids separated by whitespace from INPUT (standard input when\n"
    "absent or '-') and writes the bytes they stand for.\n"
    "\n"
    "  -t, --tokenizer FILE  the tokenizer to use (or a checkpoint, which carries one)\n";

static const char usage_show[] =
    "usage: glassgpt bpe show -t FILE\n"
    "\n"
    "Prints one TSV row per learned token, with the columns id, left, right,\n"
    "count and token. In token, a space shows as '\xe2\x90\xa3', a newline as \\n, and bytes\n"
    "that are not part of a printable UTF-8 character as \\xNN.\n"
    "\n"
    "  -t, --tokenizer FILE  the tokenizer to show\n";

// ---- train ----

static void show_progress(void *user, int done, int wanted) {
    (void)user;
    if (done % 16 == 0 || done == wanted)
        fprintf(stderr, "\rbpe train: merge %d/%d", done, wanted);
}

static int write_trace(const char *path, const gg_tokenizer *t, const gg_bpe_step *trace,
                       gg_error *err) {
    size_t cap = 64, longest = 0;
    for (int i = 0; i < t->n_merges; i++) {
        for (uint32_t k = 0; k < trace[i].n_top; k++) {
            size_t l1, l2;
            gg_token_bytes(t, trace[i].top[k].left, &l1);
            gg_token_bytes(t, trace[i].top[k].right, &l2);
            cap += 80 + 4 * (l1 + l2);
            if (l1 + l2 > longest) longest = l1 + l2;
        }
    }
    char *out = malloc(cap);
    uint8_t *joined = malloc(longest + 1);
    char *esc = malloc(4 * longest + 1);
    if (!out || !joined || !esc) {
        free(out);
        free(joined);
        free(esc);
        return gg_fail(err, GG_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t n = (size_t)sprintf(out, "step\tid\trank\tleft\tright\tcount\ttoken\n");
    for (int i = 0; i < t->n_merges; i++) {
        for (uint32_t k = 0; k < trace[i].n_top; k++) {
            const gg_bpe_candidate *c = &trace[i].top[k];
            size_t l1, l2;
            const uint8_t *b1 = gg_token_bytes(t, c->left, &l1);
            const uint8_t *b2 = gg_token_bytes(t, c->right, &l2);
            memcpy(joined, b1, l1);
            memcpy(joined + l1, b2, l2);
            gg_escape_bytes(joined, l1 + l2, esc);
            n += (size_t)sprintf(out + n, "%d\t%u\t%u\t%u\t%u\t%u\t%s\n", i + 1, trace[i].id,
                                 k + 1, c->left, c->right, c->count, esc);
        }
    }
    int rc = gg_write_file_atomic(path, out, n, err);
    free(out);
    free(joined);
    free(esc);
    return rc;
}

// A uniform, seeded sample of a file too large to train on whole: `want`
// bytes in pieces of 64 KiB, one at a random offset in each of as many equal
// stretches of the file, so that every part of it is represented.
static int sample_file(const char *path, size_t size, size_t want, uint64_t seed, uint8_t **out,
                       gg_error *err) {
    enum { PIECE = 64 << 10 };
    size_t pieces = want / PIECE ? want / PIECE : 1, stretch = size / pieces;
    uint8_t *buf = malloc(pieces * PIECE + 1);
    FILE *f = fopen(path, "rb");
    if (!buf || !f) {
        free(buf);
        if (f) fclose(f);
        return gg_fail(err, buf ? GG_ERR_IO : GG_ERR_NOMEM, "%s: cannot sample: %s", path,
                       buf ? strerror(errno) : "out of memory");
    }
    gg_rng rng = gg_rng_seed(seed);
    for (size_t k = 0; k < pieces; k++) {
        size_t slack = stretch - PIECE;  // want < size, so stretch >= PIECE
        size_t at = k * stretch + (slack ? (size_t)gg_rng_below(&rng, (uint32_t)(slack > UINT32_MAX
                                                                   ? UINT32_MAX : slack + 1)) : 0);
        if (fseeko(f, (off_t)at, SEEK_SET) != 0 || fread(buf + k * PIECE, 1, PIECE, f) != PIECE) {
            fclose(f);
            free(buf);
            return gg_fail(err, GG_ERR_IO, "%s: cannot read at byte %zu", path, at);
        }
    }
    fclose(f);
    *out = buf;
    return GG_OK;
}

static int bpe_train(int argc, char **argv) {
    const char *corpus = NULL, *output = NULL, *trace_path = NULL, *v;
    long vocab = GG_BPE_DEFAULT_VOCAB, sample = 100000000, seed = 1, threads = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            fputs(usage_train, stdout);
            return EXIT_OK;
        } else if ((r = take_option(argc, argv, &i, "--output", "-o", &output))) {
            if (r < 0) return usage_error("bpe train", "-o needs a file name");
        } else if ((r = take_option(argc, argv, &i, "--trace", NULL, &trace_path))) {
            if (r < 0) return usage_error("bpe train", "--trace needs a file name");
        } else if ((r = take_option(argc, argv, &i, "--vocab", NULL, &v))) {
            if (r < 0) return usage_error("bpe train", "--vocab needs a number");
            if (!parse_long(v, GG_BPE_BYTES, GG_BPE_MAX_VOCAB, &vocab))
                return usage_error("bpe train", "--vocab %s: the vocabulary size must be a whole "
                                   "number from 256 (the bytes alone) to 65536", v);
        } else if ((r = take_option(argc, argv, &i, "--sample", NULL, &v))) {
            if (r < 0 || !parse_long(v, 1 << 16, 1L << 40, &sample))
                return usage_error("bpe train", "--sample needs a number of bytes, at least 65536");
        } else if ((r = take_option(argc, argv, &i, "--seed", NULL, &v))) {
            if (r < 0 || !parse_long(v, 0, 2147483647, &seed))
                return usage_error("bpe train", "--seed needs a number from 0 to 2147483647");
        } else if ((r = take_option(argc, argv, &i, "--threads", NULL, &v))) {
            if (r < 0 || !parse_long(v, 1, 4096, &threads))
                return usage_error("bpe train", "--threads needs a number from 1 to 4096");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("bpe train", "unknown option '%s'", argv[i]);
        } else if (!corpus) {
            corpus = argv[i];
        } else {
            return usage_error("bpe train", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!corpus) return usage_error("bpe train", "missing CORPUS, the text to learn from");
    if (!output) return usage_error("bpe train", "missing -o FILE, where to write the tokenizer");

    gg_error err;
    if (gg_check_writable(output, &err) || (trace_path && gg_check_writable(trace_path, &err)))
        return runtime_error("%s", err.msg);
    uint8_t *text;
    size_t n;
    struct stat st;
    if (strcmp(corpus, "-") != 0 && stat(corpus, &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size > (uint64_t)sample) {
        if (sample_file(corpus, (size_t)st.st_size, (size_t)sample, (uint64_t)seed, &text, &err))
            return runtime_error("%s", err.msg);
        n = (size_t)sample / (64 << 10) * (64 << 10);
        fprintf(stderr, "bpe train: %s is %.1f MB; learning from a uniform sample of %.1f MB "
                "(seed %ld; --sample and --seed to change)\n", corpus,
                (double)st.st_size / 1e6, (double)n / 1e6, seed);
    } else if (read_input(corpus, &text, &n, &err)) {
        return runtime_error("%s", err.msg);
    }
    if (n == 0) {
        free(text);
        return runtime_error("%s: the corpus is empty; give a text to learn from", corpus);
    }
    int want = (int)vocab - GG_BPE_BYTES;
    gg_bpe_step *trace = trace_path ? calloc(want ? (size_t)want : 1, sizeof *trace) : NULL;
    if (trace_path && !trace) {
        free(text);
        return runtime_error("out of memory for the trace of %d merges", want);
    }
    int tty = isatty(STDERR_FILENO);
    gg_bpe_train_opts opts = {.vocab_size = (int)vocab, .trace = trace,
                              .progress = tty ? show_progress : NULL, .threads = (int)threads};
    gg_tokenizer t;
    size_t n_tokens = 0;
    double t0 = now_seconds();
    int rc = gg_bpe_train(&t, text, n, &opts, &n_tokens, &err);
    double secs = now_seconds() - t0;
    free(text);
    if (tty && want > 0) fputs("\r\033[K", stderr);
    if (rc) {
        free(trace);
        return runtime_error("%s: %s", corpus, err.msg);
    }
    rc = gg_tokenizer_save(&t, output, &err);
    if (!rc && trace_path) rc = write_trace(trace_path, &t, trace, &err);
    free(trace);
    if (rc) {
        gg_tokenizer_free(&t);
        return runtime_error("%s", err.msg);
    }
    printf("learned %d merges in %.3f s: vocab %d, %zu bytes -> %zu tokens (%.3f bytes/token)\n",
           t.n_merges, secs, gg_tokenizer_vocab(&t), n, n_tokens, (double)n / (double)n_tokens);
    printf("wrote %s%s%s\n", output, trace_path ? " and " : "", trace_path ? trace_path : "");
    int short_of = t.n_merges < want;
    if (short_of && n_tokens == 1)
        fprintf(stderr, "glassgpt: warning: %s is too small for %d merges: it became a single "
                "token after %d, so %s holds a vocabulary of %d, not %ld\n",
                corpus, want, t.n_merges, output, gg_tokenizer_vocab(&t), vocab);
    else if (short_of)
        fprintf(stderr, "glassgpt: warning: %s repeats itself so much that after %d merges the "
                "next token would take the tokens' bytes past the limit of %d MiB; %s holds a "
                "vocabulary of %d, not %ld\n", corpus, t.n_merges, GG_BPE_MAX_TOKEN_BYTES >> 20,
                output, gg_tokenizer_vocab(&t), vocab);
    gg_tokenizer_free(&t);
    return short_of ? EXIT_RUNTIME : EXIT_OK;
}

// ---- encode, decode, show ----

// Parses "-t FILE [INPUT]" for encode, decode and show.
static int tokenizer_args(const char *cmd, const char *usage, int argc, char **argv,
                          int takes_input, const char **tok_path, const char **input) {
    *tok_path = *input = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (is_help(argv[i])) {
            fputs(usage, stdout);
            return -1;
        } else if ((r = take_option(argc, argv, &i, "--tokenizer", "-t", tok_path))) {
            if (r < 0) return usage_error(cmd, "-t needs a tokenizer file");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error(cmd, "unknown option '%s'", argv[i]);
        } else if (takes_input && !*input) {
            *input = argv[i];
        } else {
            return usage_error(cmd, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!*tok_path) return usage_error(cmd, "missing -t FILE, the tokenizer to use");
    return 0;
}

static int bpe_encode(int argc, char **argv) {
    const char *tok_path, *input;
    int rc = tokenizer_args("bpe encode", usage_encode, argc, argv, 1, &tok_path, &input);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    gg_error err;
    gg_tokenizer t;
    if (load_tokenizer_any(tok_path, &t, &err)) return runtime_error("%s", err.msg);
    uint8_t *text;
    size_t n, n_ids;
    if (read_input(input, &text, &n, &err)) {
        gg_tokenizer_free(&t);
        return runtime_error("%s", err.msg);
    }
    uint32_t *ids = malloc(sizeof *ids * (n ? n : 1));
    rc = ids ? gg_bpe_encode_parallel(&t, text, n, ids, &n_ids, 0, &err)
             : gg_fail(&err, GG_ERR_NOMEM, "out of memory for %zu ids", n);
    if (!rc) {
        for (size_t i = 0; i < n_ids; i++) printf(i ? " %u" : "%u", ids[i]);
        putchar('\n');
    }
    free(ids);
    free(text);
    gg_tokenizer_free(&t);
    if (rc) return runtime_error("%s", err.msg);
    return fflush(stdout) == 0 ? EXIT_OK : runtime_error("cannot write the ids");
}

static int bpe_decode(int argc, char **argv) {
    const char *tok_path, *input;
    int rc = tokenizer_args("bpe decode", usage_decode, argc, argv, 1, &tok_path, &input);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    const char *in_name = input && strcmp(input, "-") != 0 ? input : "standard input";
    gg_error err;
    gg_tokenizer t;
    if (load_tokenizer_any(tok_path, &t, &err)) return runtime_error("%s", err.msg);
    uint8_t *text;
    size_t n;
    if (read_input(input, &text, &n, &err)) {
        gg_tokenizer_free(&t);
        return runtime_error("%s", err.msg);
    }
    // There are at most n / 2 + 1 whitespace-separated numbers in n bytes.
    uint32_t *ids = malloc(sizeof *ids * (n / 2 + 1));
    uint8_t *out = NULL;
    size_t n_ids = 0, n_out = 0;
    rc = ids ? GG_OK : gg_fail(&err, GG_ERR_NOMEM, "out of memory for the ids");
    for (char *p = (char *)text; !rc && *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) break;
        char *s = p;
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            if (v <= UINT32_MAX) v = v * 10 + (uint64_t)(*p - '0');
            p++;
        }
        if (p == s || (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')) {
            while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
            rc = gg_fail(&err, GG_ERR_FORMAT, "%s: token %zu, '%.*s', is not a token id "
                         "(ids are whole numbers separated by whitespace)",
                         in_name, n_ids + 1, (int)(p - s > 40 ? 40 : p - s), s);
        } else if (v > UINT32_MAX) {
            rc = gg_fail(&err, GG_ERR_ARG, "%s: id %.*s (token %zu) is out of range: the "
                         "vocabulary has %d tokens", in_name, (int)(p - s > 40 ? 40 : p - s), s,
                         n_ids + 1, gg_tokenizer_vocab(&t));
        } else {
            ids[n_ids++] = (uint32_t)v;
        }
    }
    if (memchr(text, 0, n) && !rc)
        rc = gg_fail(&err, GG_ERR_FORMAT, "%s: contains a NUL byte; expected token ids", in_name);
    gg_error why;
    if (!rc && (rc = gg_bpe_decoded_size(&t, ids, n_ids, &n_out, &why)))
        gg_fail(&err, rc, "%s: %s", in_name, why.msg);
    if (!rc && !(out = malloc(n_out ? n_out : 1)))
        rc = gg_fail(&err, GG_ERR_NOMEM, "out of memory for %zu bytes of text", n_out);
    if (!rc) rc = gg_bpe_decode(&t, ids, n_ids, out, &err);
    if (!rc && fwrite(out, 1, n_out, stdout) != n_out)
        rc = gg_fail(&err, GG_ERR_IO, "cannot write the decoded text");
    free(out);
    free(ids);
    free(text);
    gg_tokenizer_free(&t);
    if (rc) return runtime_error("%s", err.msg);
    return fflush(stdout) == 0 ? EXIT_OK : runtime_error("cannot write the decoded text");
}

static int bpe_show(int argc, char **argv) {
    const char *tok_path, *input;
    int rc = tokenizer_args("bpe show", usage_show, argc, argv, 0, &tok_path, &input);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    gg_error err;
    gg_tokenizer t;
    if (load_tokenizer_any(tok_path, &t, &err)) return runtime_error("%s", err.msg);
    size_t longest = 1;
    for (int i = 0; i < t.n_merges; i++) {
        size_t len;
        gg_token_bytes(&t, GG_BPE_BYTES + (uint32_t)i, &len);
        if (len > longest) longest = len;
    }
    char *esc = malloc(4 * longest + 1);
    if (!esc) {
        gg_tokenizer_free(&t);
        return runtime_error("out of memory");
    }
    printf("id\tleft\tright\tcount\ttoken\n");
    for (int i = 0; i < t.n_merges; i++) {
        uint32_t id = GG_BPE_BYTES + (uint32_t)i;
        size_t len;
        const uint8_t *b = gg_token_bytes(&t, id, &len);
        gg_escape_bytes(b, len, esc);
        printf("%u\t%u\t%u\t%u\t%s\n", id, t.merges[i].left, t.merges[i].right, t.counts[i], esc);
    }
    free(esc);
    gg_tokenizer_free(&t);
    return fflush(stdout) == 0 ? EXIT_OK : runtime_error("cannot write the table");
}

int cmd_bpe(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage_bpe, stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (is_help(sub)) {
        fputs(usage_bpe, stdout);
        return EXIT_OK;
    }
    if (strcmp(sub, "train") == 0) return bpe_train(argc - 1, argv + 1);
    if (strcmp(sub, "encode") == 0) return bpe_encode(argc - 1, argv + 1);
    if (strcmp(sub, "decode") == 0) return bpe_decode(argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0) return bpe_show(argc - 1, argv + 1);
    fprintf(stderr, "glassgpt bpe: unknown subcommand '%s'\n\n%s", sub, usage_bpe);
    return EXIT_USAGE;
}
