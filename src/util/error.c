#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *seam_version(void) { return SEAM_VERSION; }

const char *seam_status_name(seam_status s) {
    switch (s) {
    case SEAM_OK: return "ok";
    case SEAM_ERR_IO: return "I/O error";
    case SEAM_ERR_FORMAT: return "format error";
    case SEAM_ERR_UNSUPPORTED: return "unsupported";
    case SEAM_ERR_NOMEM: return "out of memory";
    case SEAM_ERR_ARG: return "bad argument";
    case SEAM_ERR_RANGE: return "out of range";
    case SEAM_ERR_NET: return "network error";
    }
    return "unknown error";
}

seam_status seam_fail(seam_error *err, seam_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

seam_status seam_fail_wrap(seam_error *err, const char *fmt, ...) {
    if (!err) return SEAM_ERR_ARG;
    char prefix[256], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    /* Keep as much of both as fits; the message is a single line either way. */
    size_t n = strlen(prefix);
    if (n > sizeof err->message - 3) n = sizeof err->message - 3;
    memcpy(err->message, prefix, n);
    memcpy(err->message + n, ": ", 2);
    size_t room = sizeof err->message - n - 2 - 1, ol = strlen(old);
    if (ol > room) ol = room;
    memcpy(err->message + n + 2, old, ol);
    err->message[n + 2 + ol] = 0;
    return err->code;
}

seam_status seam_read_file(const char *path, size_t limit, char **out, size_t *len, seam_error *err) {
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return seam_fail(err, SEAM_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return seam_fail(err, SEAM_ERR_IO, "%s is not a regular file", path);
    }
    if ((unsigned long long)st.st_size > limit) {
        fclose(f);
        return seam_fail(err, SEAM_ERR_FORMAT, "%s is %lld bytes, more than the %zu allowed", path,
                         (long long)st.st_size, limit);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory reading %s", path);
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    fclose(f);
    if (got != n) {
        free(buf);
        return seam_fail(err, SEAM_ERR_IO, "short read on %s", path);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return SEAM_OK;
}

char *seam_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t n = a;
    if (a && dir[a - 1] != '/') p[n++] = '/';
    memcpy(p + n, name, b + 1);
    return p;
}

int seam_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

seam_status seam_write_file_atomic(const char *path, const void *data, size_t len, seam_error *err) {
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    snprintf(tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        seam_status s = seam_fail(err, SEAM_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return s;
    }
    int ok = (len == 0 || fwrite(data, 1, len, f) == len) && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        seam_status s = seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return s;
    }
    free(tmp);
    return SEAM_OK;
}
