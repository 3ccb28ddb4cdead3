#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int gg_fail(gg_error *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *gg_status_name(int code) {
    switch (code) {
    case GG_OK: return "ok";
    case GG_ERR_NOMEM: return "out of memory";
    case GG_ERR_IO: return "input/output error";
    case GG_ERR_FORMAT: return "malformed input";
    case GG_ERR_ARG: return "invalid argument";
    default: return "unknown error";
    }
}
