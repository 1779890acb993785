/* String buffer, JSON escaping and HTTP answers shared by the server files. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/net.h"

void sb_free(sbuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

static int sb_reserve(sbuf *b, size_t extra) {
    if (b->oom) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) { b->oom = 1; return 0; }
    b->s = s;
    b->cap = cap;
    return 1;
}

void sb_putn(sbuf *b, const char *s, size_t n) {
    if (!sb_reserve(b, n)) return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sb_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    for (int i = 1; i < n; i++) {
        unsigned x = s[i];
        if (i == 1 ? (x < lo || x > hi) : (x & 0xC0) != 0x80) return 0;
    }
    return n;
}

void sb_json_strn(sbuf *b, const char *s, size_t len) {
    sb_putn(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; sb_putn(b, e, 2); p++; }
        else if (c < 0x20) { sb_printf(b, "\\u%04x", c); p++; }
        else {
            /* utf8_len may look past a truncated sequence only up to its NUL or the end */
            unsigned char tmp[4] = {0, 0, 0, 0};
            size_t avail = (size_t)(end - p) < 4 ? (size_t)(end - p) : 4;
            memcpy(tmp, p, avail);
            int n = utf8_len(tmp);
            if (n == 0) { sb_puts(b, "\\ufffd"); p++; }
            else { sb_putn(b, (const char *)p, (size_t)n); p += n; }
        }
    }
    sb_putn(b, "\"", 1);
}

void sb_json_str(sbuf *b, const char *s) { sb_json_strn(b, s, strlen(s)); }

double seam_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void answer_json(http_answer *a, int status, sbuf *b) {
    memset(a, 0, sizeof *a);
    if (b->oom) {
        sb_free(b);
        answer_error(a, 500, "out_of_memory", "out of memory");
        return;
    }
    a->status = status;
    a->content_type = "application/json";
    sb_putn(b, "\n", 1);
    a->body = (uint8_t *)b->s;
    a->len = b->len;
    b->s = NULL;
    sb_free(b);
}

/* {"error": {"code": CODE, "message": MESSAGE, "status": N}}; the message is one line. */
void answer_error(http_answer *a, int status, const char *code, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sbuf b = {0};
    sb_puts(&b, "{\"error\":{\"code\":");
    sb_json_str(&b, code);
    sb_puts(&b, ",\"message\":");
    sb_json_str(&b, msg);
    sb_printf(&b, ",\"status\":%d}}\n", status);
    memset(a, 0, sizeof *a);
    a->status = status;
    a->content_type = "application/json";
    if (b.oom) { sb_free(&b); return; } /* server.c sends an empty body */
    a->body = (uint8_t *)b.s;
    a->len = b.len;
}
