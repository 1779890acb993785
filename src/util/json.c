#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *p, *end, *start;
    char *err;
    size_t errlen;
    int failed;
} parser;

__attribute__((format(printf, 2, 3))) static void fail(parser *ps, const char *fmt, ...) {
    if (ps->failed) return;
    ps->failed = 1;
    if (!ps->err || ps->errlen == 0) return;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "invalid JSON at byte %zu: %s", (size_t)(ps->p - ps->start), msg);
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

/* Length of the UTF-8 sequence at s (max n bytes), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    return len;
}

int utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *e = p + len;
    while (p < e) {
        if (*p < 0x80) { p++; continue; }
        size_t l = utf8_seq_len(p, (size_t)(e - p));
        if (!l) return 0;
        p += l;
    }
    return 1;
}

static size_t utf8_encode(unsigned cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hex4(parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) { fail(ps, "truncated \\u escape"); return 0; }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = ps->p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else { fail(ps, "bad hex digit in \\u escape"); return 0; }
        v = v * 16 + d;
    }
    ps->p += 4;
    *out = v;
    return 1;
}

/* Parses a string literal starting at '"'. The decoded form is never longer than the
 * literal, so one allocation of the literal's length suffices. */
static char *parse_string(parser *ps, size_t *out_len) {
    ps->p++; /* opening quote */
    const unsigned char *q = ps->p;
    size_t raw = 0;
    while (q < ps->end && *q != '"') {
        if (*q == '\\' && ++q == ps->end) break;
        q++;
    }
    if (q >= ps->end) { fail(ps, "unterminated string"); return NULL; }
    raw = (size_t)(q - ps->p);
    char *buf = malloc(raw + 1);
    if (!buf) { fail(ps, "out of memory"); return NULL; }
    size_t n = 0;
    while (*ps->p != '"') {
        unsigned c = *ps->p;
        if (c < 0x20) { fail(ps, "control character in string"); free(buf); return NULL; }
        if (c == '\\') {
            ps->p++;
            unsigned e = *ps->p++;
            switch (e) {
            case '"': buf[n++] = '"'; break;
            case '\\': buf[n++] = '\\'; break;
            case '/': buf[n++] = '/'; break;
            case 'b': buf[n++] = '\b'; break;
            case 'f': buf[n++] = '\f'; break;
            case 'n': buf[n++] = '\n'; break;
            case 'r': buf[n++] = '\r'; break;
            case 't': buf[n++] = '\t'; break;
            case 'u': {
                unsigned cp;
                if (!hex4(ps, &cp)) { free(buf); return NULL; }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                        fail(ps, "unpaired surrogate in \\u escape"); free(buf); return NULL;
                    }
                    ps->p += 2;
                    if (!hex4(ps, &lo)) { free(buf); return NULL; }
                    if (lo < 0xDC00 || lo > 0xDFFF) { fail(ps, "unpaired surrogate in \\u escape"); free(buf); return NULL; }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail(ps, "unpaired surrogate in \\u escape"); free(buf); return NULL;
                }
                n += utf8_encode(cp, buf + n);
                break;
            }
            default: ps->p--; fail(ps, "bad escape"); free(buf); return NULL;
            }
        } else if (c < 0x80) {
            buf[n++] = (char)c;
            ps->p++;
        } else {
            size_t l = utf8_seq_len(ps->p, (size_t)(ps->end - ps->p));
            if (!l) { fail(ps, "invalid UTF-8 in string"); free(buf); return NULL; }
            memcpy(buf + n, ps->p, l);
            n += l;
            ps->p += l;
        }
    }
    ps->p++; /* closing quote */
    buf[n] = 0;
    *out_len = n;
    return buf;
}

static int parse_number(parser *ps, json_value *v) {
    const unsigned char *s = ps->p;
    int integral = 1;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end) { fail(ps, "truncated number"); return 0; }
    if (*ps->p == '0') ps->p++;
    else if (*ps->p >= '1' && *ps->p <= '9') { while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++; }
    else { fail(ps, "bad number"); return 0; }
    if (ps->p < ps->end && *ps->p == '.') {
        integral = 0;
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') { fail(ps, "bad fraction"); return 0; }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        integral = 0;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') { fail(ps, "bad exponent"); return 0; }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    size_t n = (size_t)(ps->p - s);
    char tmp[64];
    char *heap = NULL, *b = tmp;
    if (n >= sizeof tmp) {
        heap = malloc(n + 1);
        if (!heap) { fail(ps, "out of memory"); return 0; }
        b = heap;
    }
    memcpy(b, s, n);
    b[n] = 0;
    v->type = JSON_NUMBER;
    v->number = strtod(b, NULL);
    if (integral) {
        errno = 0;
        long long ll = strtoll(b, NULL, 10);
        if (errno == 0) { v->is_int = 1; v->integer = ll; }
    }
    free(heap);
    return 1;
}

static int parse_value(parser *ps, json_value *v, int depth);

static int parse_array(parser *ps, json_value *v, int depth) {
    ps->p++;
    v->type = JSON_ARRAY;
    size_t cap = 0;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') { ps->p++; return 1; }
    for (;;) {
        if (v->len == cap) {
            size_t nc = cap ? cap * 2 : 4;
            json_value *ni = realloc(v->items, nc * sizeof *ni);
            if (!ni) { fail(ps, "out of memory"); return 0; }
            v->items = ni;
            cap = nc;
        }
        json_value *item = &v->items[v->len];
        memset(item, 0, sizeof *item);
        v->len++;
        if (!parse_value(ps, item, depth + 1)) return 0;
        skip_ws(ps);
        if (ps->p >= ps->end) { fail(ps, "unterminated array"); return 0; }
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == ']') { ps->p++; return 1; }
        fail(ps, "expected ',' or ']' in array");
        return 0;
    }
}

static int parse_object(parser *ps, json_value *v, int depth) {
    ps->p++;
    v->type = JSON_OBJECT;
    size_t cap = 0;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') { ps->p++; return 1; }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"') { fail(ps, "expected string key in object"); return 0; }
        if (v->len == cap) {
            size_t nc = cap ? cap * 2 : 4;
            json_member *nm = realloc(v->members, nc * sizeof *nm);
            if (!nm) { fail(ps, "out of memory"); return 0; }
            v->members = nm;
            cap = nc;
        }
        json_member *m = &v->members[v->len];
        memset(m, 0, sizeof *m);
        v->len++;
        m->key = parse_string(ps, &m->key_len);
        if (!m->key) return 0;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') { fail(ps, "expected ':' after object key"); return 0; }
        ps->p++;
        if (!parse_value(ps, &m->value, depth + 1)) return 0;
        skip_ws(ps);
        if (ps->p >= ps->end) { fail(ps, "unterminated object"); return 0; }
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == '}') { ps->p++; return 1; }
        fail(ps, "expected ',' or '}' in object");
        return 0;
    }
}

static int match_lit(parser *ps, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0) { fail(ps, "unexpected token"); return 0; }
    ps->p += n;
    return 1;
}

static int parse_value(parser *ps, json_value *v, int depth) {
    if (depth > JSON_MAX_DEPTH) { fail(ps, "nesting deeper than %d", JSON_MAX_DEPTH); return 0; }
    skip_ws(ps);
    if (ps->p >= ps->end) { fail(ps, "unexpected end of input"); return 0; }
    switch (*ps->p) {
    case '{': return parse_object(ps, v, depth);
    case '[': return parse_array(ps, v, depth);
    case '"':
        v->type = JSON_STRING;
        v->str = parse_string(ps, &v->len);
        return v->str != NULL;
    case 't': v->type = JSON_BOOL; v->boolean = 1; return match_lit(ps, "true");
    case 'f': v->type = JSON_BOOL; v->boolean = 0; return match_lit(ps, "false");
    case 'n': v->type = JSON_NULL; return match_lit(ps, "null");
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, v);
        fail(ps, "unexpected character 0x%02x", *ps->p);
        return 0;
    }
}

static void free_inner(json_value *v) {
    if (v->type == JSON_STRING) free(v->str);
    else if (v->type == JSON_ARRAY) {
        for (size_t i = 0; i < v->len; i++) free_inner(&v->items[i]);
        free(v->items);
    } else if (v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) {
            free(v->members[i].key);
            free_inner(&v->members[i].value);
        }
        free(v->members);
    }
}

void json_free(json_value *v) {
    if (!v) return;
    free_inner(v);
    free(v);
}

json_value *json_parse(const char *text, size_t len, char *err, size_t errlen) {
    parser ps = {(const unsigned char *)text, (const unsigned char *)text + len, (const unsigned char *)text, err, errlen, 0};
    if (err && errlen) err[0] = 0;
    json_value *v = calloc(1, sizeof *v);
    if (!v) { fail(&ps, "out of memory"); return NULL; }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ps.p += 3; /* tolerate a UTF-8 BOM */
    if (parse_value(&ps, v, 0)) {
        skip_ws(&ps);
        if (ps.p != ps.end) fail(&ps, "trailing characters after JSON value");
    }
    if (ps.failed) { json_free(v); return NULL; }
    return v;
}

const json_value *json_get(const json_value *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    /* The last of duplicate keys wins, as in Python's json, which wrote most of these files
     * and is what transformers reads them with. */
    size_t kl = strlen(key);
    for (size_t i = v->len; i-- > 0;)
        if (v->members[i].key_len == kl && memcmp(v->members[i].key, key, kl) == 0) return &v->members[i].value;
    return NULL;
}

int json_get_int(const json_value *obj, const char *key, int64_t *out) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER || !v->is_int) return 0;
    *out = v->integer;
    return 1;
}

int json_get_number(const json_value *obj, const char *key, double *out) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER) return 0;
    *out = v->number;
    return 1;
}

int json_get_bool(const json_value *obj, const char *key, int *out) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_BOOL) return 0;
    *out = v->boolean;
    return 1;
}

const char *json_get_string(const json_value *obj, const char *key) {
    const json_value *v = json_get(obj, key);
    /* A string with an embedded NUL would compare equal to its prefix in C. */
    return (v && v->type == JSON_STRING && strlen(v->str) == v->len) ? v->str : NULL;
}

void json_write_string(FILE *f, const char *s, size_t len) {
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20 || c == 0x7F) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
        }
    }
    fputc('"', f);
}
