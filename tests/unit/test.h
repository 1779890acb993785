/* A tiny self-registering unit-test harness. TEST(name) { ... CHECK(cond); } */
#ifndef SEAM_TEST_H
#define SEAM_TEST_H

#include <stdio.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
/* Records a failure of the running test; returns 0 so CHECK can `return` on it. */
int test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Folder of ../shared/fixtures (env SEAM_FIXTURES overrides). */
const char *test_fixtures(void);
/* Path inside the fixtures folder, in a static rotating buffer. */
const char *fixture(const char *rel);
/* A fresh empty temporary folder for this test. */
const char *test_tmpdir(void);

#define TEST(name)                                                              \
    static void name(void);                                                     \
    __attribute__((constructor)) static void register_##name(void) {           \
        test_register(#name, name);                                             \
    }                                                                           \
    static void name(void)

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) { test_fail(__FILE__, __LINE__, "%s", #cond); return; }   \
    } while (0)
#define CHECKF(cond, ...)                                                       \
    do {                                                                        \
        if (!(cond)) { test_fail(__FILE__, __LINE__, __VA_ARGS__); return; }    \
    } while (0)

#endif
