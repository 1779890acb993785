/* Minimal strict JSON (RFC 8259) DOM parser used for config.json, tokenizer.json and
 * safetensors headers. Input must be valid UTF-8; nesting is bounded so hostile input
 * cannot exhaust the stack. Strings are decoded (escapes resolved) and NUL-terminated,
 * but may contain embedded NULs: always use the length. */
#ifndef SEAM_JSON_H
#define SEAM_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
typedef struct json_member json_member;

struct json_value {
    json_type type;
    /* JSON_NUMBER: is_int is set when the literal had no fraction/exponent and fits int64. */
    int is_int;
    int boolean;
    int64_t integer;
    double number;
    char *str;      /* JSON_STRING, decoded, NUL-terminated */
    size_t len;     /* string length, array item count or object member count */
    json_value *items;   /* JSON_ARRAY */
    json_member *members; /* JSON_OBJECT, in document order */
};

struct json_member {
    char *key;
    size_t key_len;
    json_value value;
};

#define JSON_MAX_DEPTH 128

/* Parses text[0..len). On failure returns NULL and writes a message naming the problem
 * and its byte offset into err (if errlen > 0). Free with json_free. */
json_value *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(json_value *v);

/* Object member lookup (first match); NULL if v is not an object or key is absent. */
const json_value *json_get(const json_value *v, const char *key);

/* Helpers: return 1 and set *out when the member exists with the right type, else 0. */
int json_get_int(const json_value *obj, const char *key, int64_t *out);
int json_get_number(const json_value *obj, const char *key, double *out);
int json_get_bool(const json_value *obj, const char *key, int *out);
/* NULL also when the string holds an embedded NUL. */
const char *json_get_string(const json_value *obj, const char *key);

/* Writes s[0..len) as a JSON string literal (quotes included) with required escapes. */
void json_write_string(FILE *f, const char *s, size_t len);

/* Returns 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int utf8_valid(const char *s, size_t len);

#endif
