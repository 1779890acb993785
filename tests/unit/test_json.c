/* json_parse / json_write_string: valid documents, hostile documents, round trips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/json.h"

static json_value *parse_str(const char *s, char *err, size_t errlen) {
    return json_parse(s, strlen(s), err, errlen);
}

/* Parses s (s_len bytes), expecting rejection; returns 1 when it was rejected with a
 * message, 0 (after printing what happened) otherwise. */
static int rejects(const char *s, size_t s_len, const char *want_in_msg) {
    char err[256];
    memset(err, 'x', sizeof err);
    json_value *v = json_parse(s, s_len, err, sizeof err);
    if (v) {
        json_free(v);
        test_fail(__FILE__, __LINE__, "accepted invalid JSON (%zu bytes) \"%.*s\"", s_len, (int)(s_len > 60 ? 60 : s_len), s);
        return 0;
    }
    if (memchr(err, 0, sizeof err) == NULL) {
        test_fail(__FILE__, __LINE__, "error message not NUL-terminated");
        return 0;
    }
    if (strncmp(err, "invalid JSON", 12) != 0 || (want_in_msg && !strstr(err, want_in_msg))) {
        test_fail(__FILE__, __LINE__, "for \"%.*s\": message \"%s\" does not mention \"%s\"",
                  (int)(s_len > 60 ? 60 : s_len), s, err, want_in_msg ? want_in_msg : "invalid JSON");
        return 0;
    }
    return 1;
}
#define REJECT(lit, what) CHECK(rejects(lit, sizeof(lit) - 1, what))

TEST(test_json_nested_document) {
    char err[256];
    const char *doc =
        " \t\r\n{\"a\": [1, 2, {\"b\": null, \"c\": [true, false, []], \"d\": {}}],\n"
        "  \"e\": \"str\", \"f\": -0.5e+2, \"\": \"empty key\"} \n";
    json_value *v = parse_str(doc, err, sizeof err);
    CHECKF(v != NULL, "parse failed: %s", err);
    CHECK(v->type == JSON_OBJECT && v->len == 4);
    CHECK(strcmp(v->members[0].key, "a") == 0 && strcmp(v->members[3].key, "") == 0); /* document order */
    const json_value *a = json_get(v, "a");
    CHECK(a && a->type == JSON_ARRAY && a->len == 3);
    CHECK(a->items[0].type == JSON_NUMBER && a->items[0].is_int && a->items[0].integer == 1);
    const json_value *o = &a->items[2];
    CHECK(o->type == JSON_OBJECT && o->len == 3);
    CHECK(json_get(o, "b") && json_get(o, "b")->type == JSON_NULL);
    const json_value *c = json_get(o, "c");
    CHECK(c && c->type == JSON_ARRAY && c->len == 3);
    CHECK(c->items[0].type == JSON_BOOL && c->items[0].boolean == 1);
    CHECK(c->items[1].type == JSON_BOOL && c->items[1].boolean == 0);
    CHECK(c->items[2].type == JSON_ARRAY && c->items[2].len == 0);
    CHECK(json_get(o, "d") && json_get(o, "d")->type == JSON_OBJECT && json_get(o, "d")->len == 0);
    CHECK(json_get_string(v, "e") && strcmp(json_get_string(v, "e"), "str") == 0);
    double f = 0;
    CHECK(json_get_number(v, "f", &f) && f == -50.0);
    CHECK(json_get(v, "f")->is_int == 0);
    CHECK(json_get_string(v, "") && strcmp(json_get_string(v, ""), "empty key") == 0);
    CHECK(json_get(v, "missing") == NULL);
    CHECK(json_get(a, "a") == NULL); /* not an object */
    int64_t i64;
    CHECK(!json_get_int(v, "e", &i64)); /* wrong type */
    int b;
    CHECK(!json_get_bool(v, "a", &b));
    json_free(v);
    json_free(NULL);
}

TEST(test_json_scalars_at_top_level) {
    char err[256];
    json_value *v;
    v = parse_str("null", err, sizeof err);
    CHECK(v && v->type == JSON_NULL);
    json_free(v);
    v = parse_str(" true ", err, sizeof err);
    CHECK(v && v->type == JSON_BOOL && v->boolean);
    json_free(v);
    v = parse_str("\"x\"", err, sizeof err);
    CHECK(v && v->type == JSON_STRING && v->len == 1);
    json_free(v);
    v = parse_str("-0", err, sizeof err);
    CHECK(v && v->type == JSON_NUMBER && v->is_int && v->integer == 0);
    json_free(v);
}

TEST(test_json_escapes) {
    char err[256];
    json_value *v = parse_str("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u0041\\u00e9\\u20AC\\u0000z\"", err, sizeof err);
    CHECKF(v != NULL, "parse failed: %s", err);
    CHECK(v->type == JSON_STRING);
    static const char want[] = "q\" b\\ s/ \b\f\n\r\t A\xC3\xA9\xE2\x82\xAC\0z";
    CHECKF(v->len == sizeof want - 1, "len %zu", v->len);
    CHECK(memcmp(v->str, want, sizeof want) == 0); /* includes the terminating NUL */
    json_free(v);
}

TEST(test_json_surrogate_pairs) {
    char err[256];
    /* U+1F600 😀 and U+10FFFF (the largest code point), and U+10000. */
    json_value *v = parse_str("[\"\\uD83D\\uDE00\", \"\\udbff\\udfff\", \"\\uD800\\uDC00\"]", err, sizeof err);
    CHECKF(v != NULL, "parse failed: %s", err);
    CHECK(v->type == JSON_ARRAY && v->len == 3);
    CHECK(v->items[0].len == 4 && memcmp(v->items[0].str, "\xF0\x9F\x98\x80", 4) == 0);
    CHECK(v->items[1].len == 4 && memcmp(v->items[1].str, "\xF4\x8F\xBF\xBF", 4) == 0);
    CHECK(v->items[2].len == 4 && memcmp(v->items[2].str, "\xF0\x90\x80\x80", 4) == 0);
    CHECK(utf8_valid(v->items[0].str, v->items[0].len));
    json_free(v);
    /* Raw (unescaped) UTF-8 passes through unchanged. */
    v = parse_str("\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\"", err, sizeof err);
    CHECKF(v != NULL, "parse failed: %s", err);
    CHECK(v->len == 15 && memcmp(v->str, "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", 15) == 0);
    json_free(v);
}

TEST(test_json_unpaired_surrogates) {
    REJECT("\"\\uD83D\"", "surrogate");          /* high alone */
    REJECT("\"\\uD83Dx\"", "surrogate");         /* high then a plain char */
    REJECT("\"\\uD83D\\n\"", "surrogate");       /* high then another escape */
    REJECT("\"\\uDE00\"", "surrogate");          /* low alone */
    REJECT("\"\\uDE00\\uD83D\"", "surrogate");   /* reversed pair */
    REJECT("\"\\uD83D\\uD83D\"", "surrogate");   /* two highs */
    REJECT("\"\\uD83D\\u0041\"", "surrogate");   /* high then a BMP char */
    REJECT("\"\\uD83D\\uDE0", NULL);             /* truncated second escape */
    REJECT("\"\\uD83D\\", NULL);
    REJECT("\"\\u12\"", NULL);                   /* short escape */
    REJECT("\"\\u12G4\"", "hex");
    REJECT("\"\\x41\"", "escape");
    REJECT("\"\\U0041\"", "escape");
    REJECT("\"abc\\", NULL);                     /* backslash as the last byte */
    REJECT("\"abc\\\"", NULL);                   /* escaped quote, no closing quote */
}

TEST(test_json_numbers) {
    char err[256];
    json_value *v = parse_str("[0, -1, 42, 9223372036854775807, -9223372036854775808, 9223372036854775808,"
                              " -9223372036854775809, 1.0, 1e2, 1E-2, 0.000001, -0.0, 123456789012345678901234567890,"
                              " 1e400, 2.5e-3]",
                              err, sizeof err);
    CHECKF(v != NULL, "parse failed: %s", err);
    CHECK(v->type == JSON_ARRAY && v->len == 15);
    const json_value *it = v->items;
    CHECK(it[0].is_int && it[0].integer == 0);
    CHECK(it[1].is_int && it[1].integer == -1 && it[1].number == -1.0);
    CHECK(it[2].is_int && it[2].integer == 42);
    CHECK(it[3].is_int && it[3].integer == INT64_MAX);
    CHECK(it[4].is_int && it[4].integer == INT64_MIN);
    CHECKF(!it[5].is_int && it[5].number > 9.2e18, "INT64_MAX+1 must not be is_int");
    CHECKF(!it[6].is_int && it[6].number < -9.2e18, "INT64_MIN-1 must not be is_int");
    CHECK(!it[7].is_int && it[7].number == 1.0);  /* a fraction means not an integer literal */
    CHECK(!it[8].is_int && it[8].number == 100.0); /* nor does an exponent */
    CHECK(!it[9].is_int && it[9].number > 0.0099 && it[9].number < 0.0101);
    CHECK(!it[10].is_int && it[10].number > 0);
    CHECK(!it[11].is_int && it[11].number == 0.0);
    CHECK(!it[12].is_int && it[12].number > 1e29);
    CHECK(it[13].type == JSON_NUMBER && !it[13].is_int); /* overflows double: accepted as a huge number */
    CHECK(it[14].number > 0.0024 && it[14].number < 0.0026);
    int64_t i = 0;
    json_free(v);
    v = parse_str("{\"n\": 7, \"x\": 7.5}", err, sizeof err);
    CHECK(v != NULL);
    CHECK(json_get_int(v, "n", &i) && i == 7);
    CHECK(!json_get_int(v, "x", &i));
    json_free(v);
    /* A very long integer literal (longer than any stack buffer) must not overflow anything. */
    size_t n = 5000;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    big[0] = '1';
    memset(big + 1, '7', n - 1);
    big[n] = 0;
    v = json_parse(big, n, err, sizeof err);
    free(big);
    CHECK(v && v->type == JSON_NUMBER && !v->is_int);
    json_free(v);
}

TEST(test_json_bad_numbers) {
    REJECT("01", NULL);     /* leading zero */
    REJECT("[00]", NULL);
    REJECT("-01", NULL);
    REJECT("[-]", "number");
    REJECT("-", NULL);
    REJECT("+1", NULL);
    REJECT("1.", "fraction");
    REJECT("[1.]", "fraction");
    REJECT(".5", NULL);
    REJECT("1e", "exponent");
    REJECT("1e+", "exponent");
    REJECT("[1E-]", "exponent");
    REJECT("0x10", NULL);
    REJECT("NaN", NULL);
    REJECT("Infinity", NULL);
    REJECT("-Infinity", NULL);
    REJECT("1 2", "trailing");
}

TEST(test_json_bom) {
    char err[256];
    json_value *v = parse_str("\xEF\xBB\xBF{\"a\": 1}", err, sizeof err);
    CHECKF(v != NULL, "BOM rejected: %s", err);
    CHECK(v->type == JSON_OBJECT && v->len == 1);
    json_free(v);
    REJECT("\xEF\xBB\xBF", NULL);               /* BOM alone is not a document */
    REJECT("\xEF\xBB\xBF\xEF\xBB\xBF{}", NULL); /* only one BOM */
    REJECT("\xEF\xBB", NULL);                   /* truncated BOM */
    REJECT(" \xEF\xBB\xBF{}", NULL);            /* BOM must be first */
}

TEST(test_json_trailing_garbage) {
    REJECT("{} x", "trailing");
    REJECT("{}}", "trailing");
    REJECT("[1]]", "trailing");
    REJECT("null,", "trailing");
    REJECT("\"a\"\"b\"", "trailing");
    REJECT("true false", "trailing");
    /* An embedded NUL after the value is garbage too: length, not strlen, is the bound. */
    CHECK(rejects("{}\0", 3, "trailing"));
    CHECK(rejects("{\"a\":1\0}", 8, NULL));
}

TEST(test_json_structural_errors) {
    REJECT("", "end of input");
    REJECT("   \n\t ", "end of input");
    REJECT("[", NULL);
    REJECT("[1,", NULL);
    REJECT("[1,]", NULL);         /* trailing comma */
    REJECT("[,1]", NULL);
    REJECT("[1 2]", NULL);
    REJECT("{", NULL);
    REJECT("{\"a\"", NULL);
    REJECT("{\"a\":", NULL);
    REJECT("{\"a\":1,}", NULL);
    REJECT("{\"a\" 1}", "':'");
    REJECT("{a:1}", "key");
    REJECT("{'a':1}", "key");
    REJECT("{1:1}", "key");
    REJECT("{\"a\":1 \"b\":2}", NULL);
    REJECT("\"abc", "unterminated");
    REJECT("]", NULL);
    REJECT("}", NULL);
    REJECT("[1}", NULL);
    REJECT("{\"a\":1]", NULL);
    REJECT("/* comment */ {}", NULL);
    REJECT("{} // comment", NULL);
    REJECT("\v{}", NULL);          /* only space, tab, CR and LF are whitespace */
    REJECT("\f[]", NULL);
}

TEST(test_json_bare_words) {
    REJECT("nul", NULL);
    REJECT("nulll", "trailing");
    REJECT("tru", NULL);
    REJECT("True", NULL);
    REJECT("FALSE", NULL);
    REJECT("None", NULL);
    REJECT("undefined", NULL);
    REJECT("hello", NULL);
    REJECT("[truex]", NULL);
    REJECT("{\"a\": nan}", NULL);
    REJECT("t", NULL);
    REJECT("f", NULL);
    REJECT("n", NULL);
}

TEST(test_json_control_chars_in_strings) {
    for (int c = 0; c < 0x20; c++) {
        char doc[8] = {'"', 'a', (char)c, 'b', '"'};
        CHECKF(rejects(doc, 5, "control"), "control character 0x%02x accepted", c);
    }
    REJECT("{\"k\x01\":1}", "control"); /* in keys too */
    /* DEL (0x7F) is not a JSON control character. */
    char err[256];
    json_value *v = json_parse("\"\x7f\"", 3, err, sizeof err);
    CHECK(v && v->len == 1 && v->str[0] == 0x7f);
    json_free(v);
}

TEST(test_json_invalid_utf8) {
    REJECT("\"\x80\"", "UTF-8");                 /* lone continuation byte */
    REJECT("\"\xBF\"", "UTF-8");
    REJECT("\"\xC0\xAF\"", "UTF-8");             /* overlong '/' */
    REJECT("\"\xC1\xBF\"", "UTF-8");             /* overlong */
    REJECT("\"\xE0\x80\xAF\"", "UTF-8");         /* 3-byte overlong */
    REJECT("\"\xE0\x9F\xBF\"", "UTF-8");         /* 3-byte overlong (U+07FF) */
    REJECT("\"\xF0\x80\x80\xAF\"", "UTF-8");     /* 4-byte overlong */
    REJECT("\"\xF0\x8F\xBF\xBF\"", "UTF-8");     /* 4-byte overlong (U+FFFF) */
    REJECT("\"\xED\xA0\x80\"", "UTF-8");         /* U+D800 encoded directly */
    REJECT("\"\xED\xBF\xBF\"", "UTF-8");         /* U+DFFF */
    REJECT("\"\xED\xA0\xBD\xED\xB8\x80\"", "UTF-8"); /* CESU-8 surrogate pair */
    REJECT("\"\xF4\x90\x80\x80\"", "UTF-8");     /* U+110000 */
    REJECT("\"\xF5\x80\x80\x80\"", "UTF-8");
    REJECT("\"\xF8\x88\x80\x80\x80\"", "UTF-8"); /* 5-byte form */
    REJECT("\"\xFE\"", "UTF-8");
    REJECT("\"\xFF\"", "UTF-8");
    REJECT("\"\xC3\"", "UTF-8");                 /* truncated 2-byte before the quote */
    REJECT("\"\xE2\x82\"", "UTF-8");             /* truncated 3-byte */
    REJECT("\"\xF0\x9F\x98\"", "UTF-8");         /* truncated 4-byte */
    REJECT("\"\xC3x\"", "UTF-8");                /* continuation missing */
    REJECT("{\"\xC3\x28\":1}", "UTF-8");         /* in a key */
    /* Truncated at the very end of the buffer (no closing quote). */
    CHECK(rejects("\"\xE2\x82", 3, NULL));
    CHECK(rejects("[\"\xF0\x9F", 4, NULL));
    /* Non-ASCII outside strings. */
    REJECT("\xC3\xA9", NULL);
    REJECT("[1,\xC2\xA0 2]", NULL); /* NBSP is not whitespace */
    /* Boundaries that ARE valid. */
    char err[256];
    json_value *v = parse_str("[\"\xC2\x80\", \"\xDF\xBF\", \"\xE0\xA0\x80\", \"\xED\x9F\xBF\", \"\xEE\x80\x80\","
                              " \"\xEF\xBF\xBF\", \"\xF0\x90\x80\x80\", \"\xF4\x8F\xBF\xBF\"]",
                              err, sizeof err);
    CHECKF(v && v->len == 8, "valid boundary code points rejected: %s", err);
    json_free(v);
}

TEST(test_json_utf8_valid) {
    CHECK(utf8_valid("", 0));
    CHECK(utf8_valid("abc", 3));
    CHECK(utf8_valid("\xF0\x9F\x98\x80", 4));
    CHECK(!utf8_valid("\xF0\x9F\x98", 3));
    CHECK(!utf8_valid("\xED\xA0\x80", 3));
    CHECK(!utf8_valid("\xC0\x80", 2));
    CHECK(!utf8_valid("a\x80", 2));
    CHECK(utf8_valid("a\0b", 3)); /* NUL is a valid code point */
}

static char *nest(size_t depth, const char *open, const char *close, size_t *out_len) {
    size_t lo = strlen(open), lc = strlen(close);
    char *s = malloc(depth * (lo + lc) + 1);
    if (!s) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < depth; i++) { memcpy(s + n, open, lo); n += lo; }
    for (size_t i = 0; i < depth; i++) { memcpy(s + n, close, lc); n += lc; }
    s[n] = 0;
    *out_len = n;
    return s;
}

TEST(test_json_depth_limit) {
    char err[256];
    size_t n;
    /* JSON_MAX_DEPTH levels of nesting are fine. */
    char *s = nest(JSON_MAX_DEPTH, "[", "]", &n);
    CHECK(s != NULL);
    json_value *v = json_parse(s, n, err, sizeof err);
    free(s);
    CHECKF(v != NULL, "%d-deep array rejected: %s", JSON_MAX_DEPTH, err);
    json_free(v);
    s = nest(JSON_MAX_DEPTH, "{\"k\":", "}", &n);
    CHECK(s != NULL);
    /* innermost value is missing: put a 0 in the middle */
    char *t = malloc(n + 2);
    CHECK(t != NULL);
    size_t half = JSON_MAX_DEPTH * 5;
    memcpy(t, s, half);
    t[half] = '0';
    memcpy(t + half + 1, s + half, n - half + 1);
    free(s);
    v = json_parse(t, n + 1, err, sizeof err);
    free(t);
    CHECKF(v != NULL, "%d-deep object rejected: %s", JSON_MAX_DEPTH, err);
    json_free(v);
    /* A little deeper than the limit is refused with a message; far deeper must not crash. */
    size_t depths[] = {JSON_MAX_DEPTH + 2, 1000, 100000};
    for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
        s = nest(depths[k], "[", "]", &n);
        CHECK(s != NULL);
        int ok = rejects(s, n, "nesting");
        ok = ok && rejects(s, depths[k], "nesting"); /* unclosed "[[[[..." */
        free(s);
        CHECKF(ok, "depth %zu", depths[k]);
        s = nest(depths[k], "{\"a\":", "}", &n);
        CHECK(s != NULL);
        ok = rejects(s, n, "nesting");
        free(s);
        CHECKF(ok, "object depth %zu", depths[k]);
    }
    /* Mixed: arrays of objects. */
    s = nest(50000, "[{\"x\":", "}]", &n);
    CHECK(s != NULL);
    int ok = rejects(s, n, "nesting");
    free(s);
    CHECK(ok);
}

TEST(test_json_wide_documents) {
    /* Many members and items: exercises growth of the arrays. */
    size_t count = 20000;
    size_t cap = count * 24 + 16;
    char *s = malloc(cap);
    CHECK(s != NULL);
    size_t n = 0;
    s[n++] = '{';
    for (size_t i = 0; i < count; i++) n += (size_t)snprintf(s + n, cap - n, "%s\"k%zu\":[%zu]", i ? "," : "", i, i);
    s[n++] = '}';
    char err[256];
    json_value *v = json_parse(s, n, err, sizeof err);
    free(s);
    CHECKF(v != NULL, "parse failed: %s", err);
    CHECK(v->len == count);
    const json_value *last = json_get(v, "k19999");
    CHECK(last && last->type == JSON_ARRAY && last->len == 1 && last->items[0].integer == 19999);
    json_free(v);
}

TEST(test_json_error_messages) {
    char err[256];
    json_value *v = parse_str("[1, 2, x]", err, sizeof err);
    CHECK(v == NULL);
    CHECKF(strstr(err, "byte 7") != NULL, "message \"%s\" should give the offset 7", err);
    /* A tiny error buffer is truncated, still NUL-terminated. */
    char small[8];
    memset(small, 'x', sizeof small);
    v = parse_str("[1, 2, x]", small, sizeof small);
    CHECK(v == NULL);
    CHECK(memchr(small, 0, sizeof small) != NULL);
    /* No error buffer at all. */
    CHECK(parse_str("[1, 2, x]", NULL, 0) == NULL);
    /* A successful parse clears the buffer. */
    memset(err, 'x', sizeof err);
    v = parse_str("[]", err, sizeof err);
    CHECK(v != NULL && err[0] == 0);
    json_free(v);
}

/* json_write_string → json_parse gives back exactly the input bytes. */
static int round_trip(const char *s, size_t len) {
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    if (!f) return test_fail(__FILE__, __LINE__, "open_memstream failed");
    json_write_string(f, s, len);
    fclose(f);
    char err[256];
    json_value *v = json_parse(buf, blen, err, sizeof err);
    int ok = v && v->type == JSON_STRING && v->len == len && memcmp(v->str, s, len) == 0;
    if (!ok) test_fail(__FILE__, __LINE__, "round trip of %zu bytes failed: wrote %.*s (%s)", len, (int)blen, buf,
                       v ? "value differs" : err);
    /* Written literals contain no raw control characters. */
    for (size_t i = 0; ok && i < blen; i++)
        if ((unsigned char)buf[i] < 0x20) ok = test_fail(__FILE__, __LINE__, "raw control byte 0x%02x written", buf[i]);
    json_free(v);
    free(buf);
    return ok;
}

#define RT(lit) CHECK(round_trip(lit, sizeof(lit) - 1))
TEST(test_json_write_string_round_trip) {
    RT("");
    RT("plain");
    RT("quote \" backslash \\ slash /");
    char all[128];
    for (int i = 0; i < 128; i++) all[i] = (char)i; /* every ASCII byte, NUL included */
    CHECK(round_trip(all, sizeof all));
    RT("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF");
    RT("\0\0\0");
    RT("\\u0041"); /* a literal backslash-u stays literal */
    RT("\x7f\x1f\x01");
    RT("<|endoftext|>\n\t\r\b\f");
}
