// Error reporting for the glassgpt library.
//
// Library functions never print and never exit: they return a negative
// gg_status and, when the caller passes a gg_error, fill it with a sentence
// that says what happened and to which input. The CLI prints it; the web page
// shows it. Both can tell the kind of failure apart by the status code.
#ifndef GLASSGPT_ERROR_H
#define GLASSGPT_ERROR_H

typedef enum {
    GG_OK = 0,
    GG_ERR_NOMEM = -1,   // an allocation failed
    GG_ERR_IO = -2,      // a file could not be read or written
    GG_ERR_FORMAT = -3,  // a file or buffer is malformed
    GG_ERR_ARG = -4,     // an argument is out of range
} gg_status;

typedef struct {
    char msg[512];
} gg_error;

// Formats the message into err (when not NULL) and returns code, so that a
// failure can be reported in one line: `return gg_fail(err, GG_ERR_ARG, ...)`.
int gg_fail(gg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// A short fixed name for a status code, such as "out of memory".
const char *gg_status_name(int code);

#endif
