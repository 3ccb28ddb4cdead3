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
#include <stdio.h>

#include "error.h"

// The most that a whole-file read takes in: a text, a tokenizer. Larger
// inputs are refused with a message rather than grown into until the system
// kills the process.
#define GG_READ_MAX ((size_t)1 << 30)

// Reads all of path into a fresh buffer (free() it). A trailing NUL is added
// after the last byte, not counted in *len, so text parsers may use it. Only
// regular files, pipes, sockets and /dev/null are read (another device, such
// as /dev/zero, is refused), and at most GG_READ_MAX bytes of them.
int gg_read_file(const char *path, uint8_t **data, size_t *len, gg_error *err);
// The same with another limit.
int gg_read_file_max(const char *path, size_t max, uint8_t **data, size_t *len, gg_error *err);
// The same from an open stream (standard input, say); a terminal is read too.
// name is used in messages.
int gg_read_stream(FILE *f, const char *name, size_t max, uint8_t **data, size_t *len,
                   gg_error *err);

// Writes len bytes to path atomically (temporary file + rename). A link is
// written through: its target is replaced and the link kept. Anything that
// is not a regular file (a directory, a device such as /dev/full, a FIFO) is
// refused, never replaced.
int gg_write_file_atomic(const char *path, const void *data, size_t len,
                         gg_error *err);

// Whether gg_write_file_atomic would accept path, so that a command can
// refuse a bad output before it works for minutes.
int gg_check_writable(const char *path, gg_error *err);

// Allocates a large buffer, asking the system (where it can) for huge pages:
// on Linux this saves most of the page faults of touching tens of megabytes
// for the first time. Free it with gg_big_free. NULL when out of memory.
void *gg_big_alloc(size_t size);
void gg_big_free(void *p);

#endif
