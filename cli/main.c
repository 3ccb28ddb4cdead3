// glassgpt: the command-line face of the engine. Each command lives in a
// file of its own and only parses arguments, calls the library and prints.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "parallel.h"

#define GLASSGPT_VERSION "0.1.0"

static const char usage[] =
    "usage: glassgpt COMMAND [ARGS...]\n"
    "\n"
    "glassgpt is a tiny GPT written in C that you can watch learn and think.\n"
    "\n"
    "commands:\n"
    "  bpe train    learn a byte-level BPE tokenizer from a text\n"
    "  bpe encode   turn text into token ids\n"
    "  bpe decode   turn token ids back into text\n"
    "  bpe show     list the learned tokens\n"
    "  prepare      encode a corpus of any size into token shards for training\n"
    "  train        train a GPT on a text or shards (or resume a run)\n"
    "  generate     generate text with a trained model\n"
    "  eval         score a model on a text: loss and bits per byte\n"
    "  inspect      show a model's configuration, tensors and training state\n"
    "  export       write a model as Hugging Face GPT-2 safetensors\n"
    "  serve        serve the walkthrough page (libmicrohttpd)\n"
    "\n"
    "Run 'glassgpt COMMAND --help' for the options of a command.\n"
    "Exit status: 0 on success, 1 on a runtime failure, 2 on a usage error.\n";

// Whatever a command printed must have reached its reader: a full disk or a
// closed pipe is a failure, not a silent success.
static int flushed(int rc) {
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == EXIT_OK)
        rc = runtime_error("cannot write to standard output: %s", strerror(errno));
    return rc;
}

int main(int argc, char **argv) {
    // Past a file size limit, a write fails (EFBIG) and is reported, rather
    // than the process being killed halfway through a save.
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (is_help(cmd)) {
        fputs(usage, stdout);
        return flushed(EXIT_OK);
    }
    if (strcmp(cmd, "--version") == 0) {
        puts("glassgpt " GLASSGPT_VERSION);
        return flushed(EXIT_OK);
    }
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        {"bpe", cmd_bpe},           {"prepare", cmd_prepare}, {"train", cmd_train},
        {"generate", cmd_generate},
        {"eval", cmd_eval},         {"inspect", cmd_inspect}, {"export", cmd_export},
        {"serve", cmd_serve},
    };
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(cmd, commands[i].name) == 0) {
            par_init(&argc, &argv);  // MPI, in build/glassgpt-mpi
            int rc = flushed(commands[i].run(argc - 1, argv + 1));
            par_finalize();
            return rc;
        }
    fprintf(stderr, "glassgpt: unknown command '%s'\n\n%s", cmd, usage);
    return EXIT_USAGE;
}
