#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

int cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("seam: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

const char *cli_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        cli_error("option %s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        cli_error("%s expects an integer in [%ld, %ld], got '%s'", opt, lo, hi, s);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_u64(const char *opt, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || *s == '-') {
        cli_error("%s expects a non-negative integer, got '%s'", opt, s);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_float(const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < lo || v > hi) {
        cli_error("%s expects a number in [%g, %g], got '%s'", opt, lo, hi, s);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_ids(const char *opt, const char *s, int32_t **ids, size_t *n) {
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    int32_t *v = malloc(cap * sizeof *v);
    if (!v) return cli_error("out of memory"), 0;
    size_t k = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 0 || x > INT32_MAX || (*end && *end != ',')) {
            free(v);
            cli_error("%s expects comma-separated token ids, got '%s'", opt, s);
            return 0;
        }
        v[k++] = (int32_t)x;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p) { free(v); cli_error("%s: trailing comma in '%s'", opt, s); return 0; }
    }
    if (k == 0) { free(v); cli_error("%s: no token ids given", opt); return 0; }
    *ids = v;
    *n = k;
    return 1;
}

/* Length of a complete valid UTF-8 sequence at s (n bytes available): >0 complete,
 * 0 incomplete but valid so far, -1 invalid lead or continuation. */
static int utf8_check(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    int len;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return -1;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) return 0;
        unsigned b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return -1;
    }
    return len;
}

void utf8_stream_write(utf8_stream *s, FILE *f, const char *bytes, size_t len) {
    for (size_t i = 0; i < len; i++) {
        s->pending[s->n++] = (unsigned char)bytes[i];
        for (;;) {
            if (s->n == 0) break;
            int r = utf8_check(s->pending, s->n);
            if (r == 0) break;
            if (r > 0) fwrite(s->pending, 1, (size_t)r, f);
            else fputs("\xEF\xBF\xBD", f);
            /* Python's 'replace' drops just the maximal invalid prefix; one byte at a time
             * for a bad lead, the valid prefix for a truncated sequence. */
            size_t drop = r > 0 ? (size_t)r : 1;
            if (r < 0) {
                for (size_t k = 1; k < s->n; k++) {
                    int rr = utf8_check(s->pending, k);
                    if (rr == 0) drop = k; else break;
                }
            }
            memmove(s->pending, s->pending + drop, s->n - drop);
            s->n -= drop;
        }
    }
}

void utf8_stream_flush(utf8_stream *s, FILE *f) {
    if (s->n) fputs("\xEF\xBF\xBD", f);
    s->n = 0;
}
