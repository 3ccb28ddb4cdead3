// Shared helpers for the command-line faces: messages, exit codes, options.
#ifndef GLASSGPT_CLI_H
#define GLASSGPT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "../src/error.h"
#include "../src/tokenizer.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

// Prints "glassgpt CMD: message" and a pointer to --help; returns EXIT_USAGE.
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Prints "glassgpt: message"; returns EXIT_RUNTIME.
int runtime_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int is_help(const char *arg);

// Matches argv[*i] against an option that takes a value, given as
// "--name VALUE", "--name=VALUE" or, if short_name is not NULL, "-x VALUE".
// Returns 1 and sets *value (advancing *i past a separate value), 0 if
// argv[*i] is another argument, or -1 if the value is missing.
int take_option(int argc, char **argv, int *i, const char *name, const char *short_name,
                const char **value);

// Parses a whole decimal integer in [lo, hi]; 0 on any junk or overflow.
int parse_long(const char *s, long lo, long hi, long *out);

// Reads a whole file, or standard input when path is NULL or "-".
int read_input(const char *path, uint8_t **data, size_t *len, gg_error *err);

// Seconds from a monotonic clock.
double now_seconds(void);

// Loads a tokenizer from a tokenizer file or from a checkpoint, which
// carries its own.
int load_tokenizer_any(const char *path, gg_tokenizer *tok, gg_error *err);

// Parses a float in [lo, hi]; 0 on junk.
int parse_float(const char *s, double lo, double hi, double *out);

// The bytes of memory available to a new allocation (MemAvailable), or -1
// when the system does not say.
double available_memory(void);

// Formats seconds as "1h02m", "3m05s" or "12s".
void format_duration(double seconds, char *out, size_t cap);
// Parses a duration such as "90", "90s", "5m" or "1.5h" into seconds, from
// lo to hi; 0 if it is not one.
int parse_duration(const char *s, double lo, double hi, double *out);

int cmd_bpe(int argc, char **argv);
int cmd_prepare(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
