#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { const char *name; test_fn fn; } test_case;
static test_case tests[512];
static int n_tests;
static int current_failed;
static char tmp_root[256];

void test_register(const char *name, test_fn fn) {
    if (n_tests < (int)(sizeof tests / sizeof tests[0])) tests[n_tests++] = (test_case){name, fn};
}

int test_fail(const char *file, int line, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!current_failed) printf("\n");
    printf("    %s:%d: %s\n", file, line, msg);
    current_failed = 1;
    return 0;
}

const char *test_fixtures(void) {
    const char *e = getenv("SEAM_FIXTURES");
    return e && *e ? e : "../shared/fixtures";
}

const char *fixture(const char *rel) {
    static char bufs[8][1024];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 1024, "%s/%s", test_fixtures(), rel);
    return b;
}

const char *test_tmpdir(void) {
    static char dir[512];
    static int k;
    snprintf(dir, sizeof dir, "%s/t%d", tmp_root, k++);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) return "/tmp";
    return dir;
}

int main(int argc, char **argv) {
    /* Arguments are substrings; a test runs when its name contains any of them. */
    const char *results = getenv("SEAM_TEST_RESULTS");
    snprintf(tmp_root, sizeof tmp_root, "/tmp/seam-unit-%ld", (long)getpid());
    int passed = 0, failed = 0;
    for (int i = 0; i < n_tests; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc && !wanted; a++) wanted = strstr(tests[i].name, argv[a]) != NULL;
        if (!wanted) continue;
        current_failed = 0;
        printf("  %-48s", tests[i].name);
        fflush(stdout);
        tests[i].fn();
        if (current_failed) { printf("  FAIL %s\n", tests[i].name); failed++; }
        else { printf(" ok\n"); passed++; }
        fflush(stdout);
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
    printf("unit: %d passed, %d failed\n", passed, failed);
    if (results) {
        FILE *f = fopen(results, "a");
        if (f) { fprintf(f, "unit %d %d\n", passed, failed); fclose(f); }
    }
    return failed ? 1 : 0;
}
