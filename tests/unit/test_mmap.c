/* Opening a model maps its weights: resident memory must not grow by the weight bytes. */
#include <stdio.h>
#include <string.h>

#include "seam.h"
#include "test.h"

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

TEST(test_mmap_open_does_not_copy_weights) {
    long before = rss_kb();
    if (before < 0) return; /* no /proc: nothing to measure */
    seam_error err = {0};
    seam_model *m = NULL;
    CHECKF(seam_model_open(fixture("gpt2-tiny"), &m, &err) == SEAM_OK, "%s", err.message);
    long grown = rss_kb() - before;
    size_t bytes = seam_model_get_info(m)->weight_bytes;
    seam_model_close(m);
    /* 17 MB of weights; the loader may touch the header and the small per-channel vectors. */
    CHECKF(grown * 1024 < (long)(bytes / 8), "RSS grew by %ld kB opening %zu bytes of weights", grown, bytes);
}
