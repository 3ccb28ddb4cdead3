#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/checkpoint.h"
#include "../src/fileio.h"
#include "../src/tokenizer.h"

int usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "glassgpt %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'glassgpt %s --help'.\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

int runtime_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("glassgpt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_RUNTIME;
}

int is_help(const char *arg) {
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0;
}

int take_option(int argc, char **argv, int *i, const char *name, const char *short_name,
                const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (strcmp(a, name) != 0 && !(short_name && strcmp(a, short_name) == 0)) return 0;
    if (*i + 1 >= argc) return -1;
    *value = argv[++*i];
    return 1;
}

int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int read_input(const char *path, uint8_t **data, size_t *len, gg_error *err) {
    if (path && strcmp(path, "-") != 0) return gg_read_file(path, data, len, err);
    return gg_read_stream(stdin, "standard input", GG_READ_MAX, data, len, err);
}

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int load_tokenizer_any(const char *path, gg_tokenizer *tok, gg_error *err) {
    uint8_t *data;
    size_t len;
    int rc = gg_read_file(path, &data, &len, err);
    if (rc) return rc;
    if (gg_is_checkpoint(data, len)) {
        gg_model m;
        rc = gg_checkpoint_parse(data, len, path, &m, tok, NULL, NULL, err);
        if (!rc) gg_model_free(&m);
    } else {
        rc = gg_tokenizer_parse(tok, (const char *)data, len, path, err);
    }
    free(data);
    return rc;
}

int parse_float(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return 0;
    *out = v;
    return 1;
}

int parse_duration(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v)) return 0;
    double unit = strcmp(end, "") == 0 || strcmp(end, "s") == 0 ? 1.0
                  : strcmp(end, "m") == 0                       ? 60.0
                  : strcmp(end, "h") == 0                       ? 3600.0
                                                                : -1.0;
    if (unit < 0 || !(v * unit >= lo && v * unit <= hi)) return 0;
    *out = v * unit;
    return 1;
}

void format_duration(double seconds, char *out, size_t cap) {
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(out, cap, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else if (s >= 60) snprintf(out, cap, "%ldm%02lds", s / 60, s % 60);
    else snprintf(out, cap, "%lds", s);
}

double available_memory(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kib = -1.0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kib) == 1) break;
    if (f) fclose(f);
    if (kib >= 0.0) return kib * 1024.0;
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : -1.0;
}
