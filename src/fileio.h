// Whole-file reads, atomic writes, and large allocations.
//
// Every file glassgpt writes goes through gg_write_file_atomic: the bytes go
// to a temporary file beside the target, which is flushed and then renamed
// over it. A crash or a full disk therefore never leaves a half-written
// tokenizer or checkpoint where a good one used to be.
#ifndef GLASSGPT_FILEIO_H
#define GLASSGPT_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

// Reads all of path into a fresh buffer (free() it). A trailing NUL is added
// after the last byte, not counted in *len, so text parsers may use it.
int gg_read_file(const char *path, uint8_t **data, size_t *len, gg_error *err);

// Writes len bytes to path atomically (temporary file + rename).
int gg_write_file_atomic(const char *path, const void *data, size_t len,
                         gg_error *err);

// Allocates a large buffer, asking the system (where it can) for huge pages:
// on Linux this saves most of the page faults of touching tens of megabytes
// for the first time. Free it with gg_big_free. NULL when out of memory.
void *gg_big_alloc(size_t size);
void gg_big_free(void *p);

#endif
