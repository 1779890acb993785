/* libFuzzer target: json_parse on arbitrary bytes, then walk and free the tree. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* Touches every node so a bad pointer or length in the tree is caught by ASan. */
static size_t walk(const json_value *v) {
    size_t sum = 1;
    switch (v->type) {
    case JSON_STRING:
        if (v->str[v->len] != 0) abort(); /* decoded strings are NUL-terminated */
        if (!utf8_valid(v->str, v->len)) abort(); /* the parser only accepts valid UTF-8 */
        sum += v->len;
        break;
    case JSON_ARRAY:
        for (size_t i = 0; i < v->len; i++) sum += walk(&v->items[i]);
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->len; i++) {
            const json_member *m = &v->members[i];
            if (m->key[m->key_len] != 0 || !utf8_valid(m->key, m->key_len)) abort();
            sum += m->key_len + walk(&m->value);
        }
        break;
    case JSON_NUMBER:
        /* Integers up to 2^53 are exact in both fields, so the two must agree. */
        if (v->is_int && v->integer <= (1LL << 53) && v->integer >= -(1LL << 53) && (double)v->integer != v->number)
            abort();
        break;
    default:
        break;
    }
    return sum;
}

/* Writes every string of the tree with json_write_string and checks it parses back to the
 * same bytes. */
static void round_trip_strings(const json_value *v) {
    if (v->type == JSON_ARRAY) {
        for (size_t i = 0; i < v->len; i++) round_trip_strings(&v->items[i]);
        return;
    }
    if (v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) round_trip_strings(&v->members[i].value);
        return;
    }
    if (v->type != JSON_STRING) return;
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    if (!f) return;
    json_write_string(f, v->str, v->len);
    fclose(f);
    json_value *w = json_parse(buf, blen, NULL, 0);
    if (!w || w->type != JSON_STRING || w->len != v->len || memcmp(w->str, v->str, v->len) != 0) abort();
    json_free(w);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[128];
    json_value *v = json_parse((const char *)data, size, err, sizeof err);
    if (v) {
        (void)walk(v);
        round_trip_strings(v);
        (void)json_get(v, "a");
        int64_t i;
        (void)json_get_int(v, "model_type", &i);
        json_free(v);
    } else {
        if (memchr(err, 0, sizeof err) == NULL || strncmp(err, "invalid JSON", 12) != 0) abort();
    }
    return 0;
}
