/* seam inspect: what a model folder holds. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "seam.h"
#include "seam_net.h"

static const char usage[] =
    "usage: seam inspect -m MODEL [--no-tensors]\n"
    "\n"
    "Prints the architecture, dimensions, dtypes, which layers the folder holds, the tensor\n"
    "table and the bytes of weights.\n"
    "\n"
    "  -m, --model MODEL   model folder or hub id\n"
    "      --no-tensors    skip the tensor table\n"
    "  -h, --help          show this help\n";

static const char *dtype_name(seam_dtype d) {
    return d == SEAM_DTYPE_F32 ? "F32" : d == SEAM_DTYPE_F16 ? "F16" : "BF16";
}

static void human_bytes(size_t b, char *out, size_t n) {
    if (b >= (1u << 30)) snprintf(out, n, "%.2f GiB", b / 1073741824.0);
    else if (b >= (1u << 20)) snprintf(out, n, "%.2f MiB", b / 1048576.0);
    else if (b >= 1024) snprintf(out, n, "%.2f KiB", b / 1024.0);
    else snprintf(out, n, "%zu B", b);
}

int cmd_inspect(int argc, char **argv) {
    const char *model = NULL;
    int tensors = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { fputs(usage, stdout); return 0; }
        else if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) { if (!(model = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(argv[i], "--no-tensors")) tensors = 0;
        else return cli_error("inspect: unknown argument '%s' (see seam inspect --help)", argv[i]);
    }
    if (!model) return cli_error("inspect: -m MODEL is required (see seam inspect --help)");
    char *dir = NULL;
    if (cli_resolve_model(model, &dir)) return 1;
    seam_error err = {0};
    seam_model *m = NULL;
    if (seam_model_open(dir, &m, &err)) { cli_error("%s", err.message); free(dir); return 1; }
    const seam_model_info *in = seam_model_get_info(m);
    char hb[32];
    human_bytes(in->weight_bytes, hb, sizeof hb);
    printf("model:        %s\n", dir);
    printf("architecture: gpt2\n");
    printf("layers:       %d (this folder holds [%d, %d)%s%s)\n", in->n_layer, in->layer_begin, in->layer_end,
           in->has_embed ? ", embeddings" : "", in->has_head ? ", final norm + head" : "");
    uint64_t dl = 0;
    int n_dl = 0;
    if (seam_shard_download_bytes(dir, &dl, &n_dl, NULL) == SEAM_OK)
        printf("shard:        %llu bytes in %d files for an edge to download (manifest.json)\n", (unsigned long long)dl, n_dl);
    printf("n_embd:       %d\nn_head:       %d (head dim %d)\nn_inner:      %d\n", in->n_embd, in->n_head,
           in->n_embd / in->n_head, in->n_inner);
    printf("n_positions:  %d\nvocab_size:   %d\n", in->n_positions, in->vocab_size);
    printf("layer_norm_epsilon: %g\n", in->layer_norm_epsilon);
    if (in->weight_quant == SEAM_WEIGHTS_PLAIN)
        printf("weights:      %s, %zu bytes (%s)\n", dtype_name(in->weight_dtype), in->weight_bytes, hb);
    else
        printf("weights:      %s (blocks of 32 with F16 scales%s; the rest %s), %zu bytes (%s)\n",
               in->weight_quant == SEAM_WEIGHTS_Q8 ? "q8" : "q4", in->weight_quant == SEAM_WEIGHTS_Q4 ? " and minima" : "",
               dtype_name(in->weight_dtype), in->weight_bytes, hb);
    if (in->eos_token_id >= 0) printf("eos_token_id: %d\n", in->eos_token_id);
    if (tensors) {
        size_t n = seam_model_tensor_count(m);
        printf("\n%-44s %-5s %-20s %12s  %s\n", "tensor", "dtype", "shape", "bytes", "file");
        for (size_t i = 0; i < n; i++) {
            seam_tensor_info t;
            if (!seam_model_tensor(m, i, &t)) break;
            char shape[64] = "[";
            size_t k = 1;
            for (int d = 0; d < t.n_dims && k < sizeof shape - 24; d++)
                k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%lld", d ? ", " : "", (long long)t.shape[d]);
            snprintf(shape + k, sizeof shape - k, "]");
            printf("%-44s %-5s %-20s %12zu  %s\n", t.name, t.dtype, shape, t.bytes, t.file);
        }
    }
    seam_model_close(m);
    free(dir);
    return 0;
}
