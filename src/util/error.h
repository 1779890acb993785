/* Internal error helpers: fill a caller's seam_error and return the status code. */
#ifndef SEAM_ERROR_H
#define SEAM_ERROR_H

#include <stddef.h>
#include "seam.h"

#if defined(__GNUC__)
#define SEAM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SEAM_PRINTF(a, b)
#endif

/* Sets err (if non-NULL) and returns code, so callers write `return seam_fail(err, ...)`. */
seam_status seam_fail(seam_error *err, seam_status code, const char *fmt, ...) SEAM_PRINTF(3, 4);

/* Prefixes an existing message: "context: original". */
seam_status seam_fail_wrap(seam_error *err, const char *fmt, ...) SEAM_PRINTF(2, 3);

/* Reads a whole file into a malloc'd, NUL-terminated buffer (limit bytes at most). */
seam_status seam_read_file(const char *path, size_t limit, char **out, size_t *len, seam_error *err);

/* Joins dir and name with one '/', into a malloc'd string (NULL on OOM). */
char *seam_path_join(const char *dir, const char *name);

/* 1 if path names an existing regular file. */
int seam_file_exists(const char *path);

/* Writes data to path atomically: a temporary file in the same folder, fsync, rename. */
seam_status seam_write_file_atomic(const char *path, const void *data, size_t len, seam_error *err);

#endif
