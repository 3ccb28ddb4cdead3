// A minimal test harness: TEST cases made of CHECKs, a closing line
// "N passed, N failed" and a non-zero exit status on any failure.
#ifndef GLASSGPT_CHECK_H
#define GLASSGPT_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_passed, check_failed, check_case_failed;
static const char *check_case;

// Records a failure of the current case, with a message, unless cond holds.
#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            if (!check_case_failed)                                              \
                fprintf(stderr, "FAIL %s\n", check_case);                        \
            check_case_failed = 1;                                               \
            fprintf(stderr, "  %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

// Runs one named case and counts it as passed or failed.
#define RUN(fn)                                   \
    do {                                          \
        check_case = #fn;                         \
        check_case_failed = 0;                    \
        fn();                                     \
        if (check_case_failed) check_failed++;    \
        else check_passed++;                      \
    } while (0)

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

// |a - b| <= atol + rtol * |b|
static inline int check_close(double a, double b, double atol, double rtol) {
    return fabs(a - b) <= atol + rtol * fabs(b);
}

#endif
