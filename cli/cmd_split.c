/* seam split: write a layer shard of a model (see include/seam_net.h, "Shards"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "seam.h"
#include "seam_net.h"


static const char usage[] =
    "usage: seam split -m MODEL --layers A:B [--embed] [--head] [--quant q8|q4] -o OUT_DIR\n"
    "       seam split -m MODEL --layers A:B [--embed] [--head] [--quant q8|q4] --size\n"
    "\n"
    "Writes a model folder holding only blocks A..B-1 of MODEL (plus the embeddings and/or the\n"
    "final norm and head), a config.json that records the range and the parent's fingerprint,\n"
    "and a manifest.json with every file's size and sha256. `seam edge` runs such a shard.\n"
    "\n"
    "  -m, --model MODEL   whole model folder, or a hub id such as gpt2\n"
    "      --layers A:B    blocks [A, B) with 0 <= A <= B <= n_layer (A:B may be empty, e.g. 12:12)\n"
    "      --embed         also the token and position embeddings (needs A = 0)\n"
    "      --head          also the final layer norm and the LM head (needs B = n_layer)\n"
    "      --quant q8|q4   block-quantise the shard's matrices and wte (as seam quantize --head tied):\n"
    "                      a smaller download for the edge, approximate results\n"
    "  -o, --out DIR       output folder (created; existing shard files are replaced)\n"
    "      --size          print the bytes an edge would download for this shard; write nothing\n"
    "  -h, --help          show this help\n";

/* "A:B" with both parts plain non-negative integers. */
static int parse_layers(const char *s, int *a, int *b) {
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || !colon[1]) return 0;
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end != colon || errno || x < 0 || x > 100000 || *s == '+' || *s == '-') return 0;
    long y = strtol(colon + 1, &end, 10);
    if (*end || errno || y < 0 || y > 100000 || colon[1] == '+' || colon[1] == '-') return 0;
    *a = (int)x;
    *b = (int)y;
    return 1;
}

int cmd_split(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *layers = NULL;
    int size_only = 0;
    seam_shard_range r = {0, 0, 0, 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!(model = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--out")) { if (!(out = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--layers")) { if (!(layers = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--embed")) r.embed = 1;
        else if (!strcmp(a, "--head")) r.head = 1;
        else if (!strcmp(a, "--size")) size_only = 1;
        else if (!strcmp(a, "--quant")) {
            const char *q = cli_value(argc, argv, &i);
            if (!q) return 1;
            if (!strcmp(q, "q8")) r.quant = 8;
            else if (!strcmp(q, "q4")) r.quant = 4;
            else return cli_error("split: --quant expects q8 or q4, got '%s'", q);
        }
        else return cli_error("split: unknown option '%s' (see seam split --help)", a);
    }
    if (!model) return cli_error("split: -m MODEL is required (see seam split --help)");
    if (!layers) return cli_error("split: --layers A:B is required (see seam split --help)");
    if (!parse_layers(layers, &r.layer_begin, &r.layer_end))
        return cli_error("split: --layers expects A:B with non-negative integers, got '%s'", layers);
    if (r.layer_begin > r.layer_end)
        return cli_error("split: --layers %d:%d is reversed (need A <= B)", r.layer_begin, r.layer_end);
    if (!out && !size_only) return cli_error("split: -o OUT_DIR is required (see seam split --help)");
    char *dir = NULL;
    if (cli_resolve_model(model, &dir)) return 1;
    seam_error err = {0};
    int rc = 0;
    if (size_only) {
        uint64_t bytes = 0;
        if (seam_shard_size(dir, &r, &bytes, &err)) rc = cli_error("%s", err.message);
        else printf("%llu\n", (unsigned long long)bytes);
    } else if (seam_shard_write(dir, &r, NULL, out, &err)) {
        rc = cli_error("%s", err.message);
    } else {
        uint64_t bytes = 0;
        int n = 0;
        if (seam_shard_download_bytes(out, &bytes, &n, &err)) rc = cli_error("%s", err.message);
        else
            printf("wrote %s: layers [%d, %d)%s%s%s, %d files, %llu bytes\n", out, r.layer_begin, r.layer_end,
                   r.embed ? " + embeddings" : "", r.head ? " + head" : "",
                   r.quant == 8 ? ", q8" : r.quant == 4 ? ", q4" : "", n, (unsigned long long)bytes);
    }
    free(dir);
    return rc;
}
