/* seam embed: sentence embeddings, one JSON array per text or a JSON Lines stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "seam.h"
#include "seam_encoder.h"
#include "util/json.h"

int cmd_embed(int argc, char **argv);

static const char usage[] =
    "usage: seam embed -m MODEL TEXT [TEXT ...]\n"
    "       seam embed -m MODEL --jsonl < texts.jsonl > vectors.jsonl\n"
    "\n"
    "Prints the embedding of each TEXT as a JSON array, one line per text, in order. With\n"
    "--jsonl, reads lines {\"text\": ...} from stdin and writes {\"embedding\": [...]} for each.\n"
    "\n"
    "MODEL is a sentence-transformers folder (modules.json, 1_Pooling, optional 2_Normalize),\n"
    "a plain BertModel folder (mean pooling and L2 normalisation are then assumed), or a hub id.\n"
    "\n"
    "  -m, --model MODEL   model folder or hub id\n"
    "      --jsonl         JSON Lines mode\n"
    "      --batch N       sequences per forward pass (default 32)\n"
    "  -t, --threads N     threads (default: the machine's physical cores)\n"
    "      --precision P   high (default) or highest. With high, a CPU with AMX-BF16 tiles (Intel\n"
    "                      Xeon 4th gen. and later) runs the Linear layers as three bf16 products\n"
    "                      per f32 product (~16 significant bits, relative error ~1e-5, 2-3x\n"
    "                      faster); highest keeps IEEE f32. Elsewhere both are f32. The\n"
    "                      environment's SEAM_PRECISION sets the default\n"
    "      --verbose       report on stderr the model's setup and inputs that were truncated\n"
    "  -h, --help          show this help\n"
    "\n"
    "Inputs longer than the model's max_seq_length are truncated, as sentence-transformers does.\n";

typedef struct {
    seam_encoder *enc;
    float *vecs;
    size_t cap_vecs;
    size_t n_inputs, n_truncated;
} embedder;

static void print_vector(const float *v, int n) {
    putchar('[');
    for (int i = 0; i < n; i++) {
        /* %.9g round-trips a float; JSON has no NaN or infinity */
        if (isfinite(v[i])) printf(i ? ", %.9g" : "%.9g", (double)v[i]);
        else fputs(i ? ", null" : "null", stdout);
    }
    putchar(']');
}

/* Embeds texts[0..n) and prints them; returns 0 on success. */
static int embed_and_print(embedder *em, const char *const *texts, const size_t *lens, size_t n, int jsonl) {
    int C = seam_encoder_get_info(em->enc)->hidden;
    if (n * (size_t)C > em->cap_vecs) {
        float *nv = realloc(em->vecs, n * (size_t)C * sizeof *nv);
        if (!nv) return cli_error("out of memory");
        em->vecs = nv;
        em->cap_vecs = n * (size_t)C;
    }
    seam_error err = {0};
    seam_embed_stats st;
    if (seam_encoder_embed(em->enc, texts, lens, n, em->vecs, SEAM_EMBED_DEFAULT, &st, &err)) return cli_error("%s", err.message);
    em->n_inputs += n;
    em->n_truncated += st.n_truncated;
    for (size_t i = 0; i < n; i++) {
        if (jsonl) fputs("{\"embedding\": ", stdout);
        print_vector(em->vecs + i * (size_t)C, C);
        fputs(jsonl ? "}\n" : "\n", stdout);
    }
    return ferror(stdout) ? cli_error("cannot write the output") : 0;
}

/* Reads stdin in blocks of texts so memory stays bounded on long streams. */
static int run_jsonl(embedder *em, size_t block) {
    char *line = NULL;
    size_t line_cap = 0, n = 0;
    json_value **docs = calloc(block, sizeof *docs);
    const char **texts = calloc(block, sizeof *texts);
    size_t *lens = calloc(block, sizeof *lens);
    ssize_t got;
    long lineno = 0;
    int rc = 0;
    if (!docs || !texts || !lens) rc = cli_error("out of memory");
    while (!rc && (got = getline(&line, &line_cap, stdin)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (len == 0) continue;
        char jerr[256];
        json_value *v = json_parse(line, len, jerr, sizeof jerr);
        const json_value *text = v ? json_get(v, "text") : NULL;
        if (!v || !text || text->type != JSON_STRING) {
            rc = cli_error("stdin line %ld: %s", lineno, v ? "expected an object with a string \"text\"" : jerr);
            json_free(v);
            break;
        }
        docs[n] = v;
        texts[n] = text->str;
        lens[n] = text->len;
        if (++n == block) {
            rc = embed_and_print(em, texts, lens, n, 1);
            for (size_t i = 0; i < n; i++) json_free(docs[i]);
            n = 0;
        }
    }
    if (!rc && n) rc = embed_and_print(em, texts, lens, n, 1);
    for (size_t i = 0; docs && i < n; i++) json_free(docs[i]);
    free(docs);
    free(texts);
    free(lens);
    free(line);
    return rc;
}

int cmd_embed(int argc, char **argv) {
    const char *model = NULL;
    int jsonl = 0, verbose = 0, end_of_options = 0;
    long batch = 32, threads = 0;
    seam_precision precision = SEAM_PRECISION_DEFAULT;
    char **texts = calloc((size_t)argc + 1, sizeof *texts);
    size_t n_texts = 0;
    if (!texts) return cli_error("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (end_of_options || a[0] != '-' || !a[1]) { texts[n_texts++] = argv[i]; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); free(texts); return 0; }
        else if (!strcmp(a, "--")) end_of_options = 1;
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!(model = cli_value(argc, argv, &i))) goto fail; }
        else if (!strcmp(a, "--jsonl")) jsonl = 1;
        else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) verbose = 1;
        else if (!strcmp(a, "--batch")) {
            const char *v = cli_value(argc, argv, &i);
            if (!v || !cli_parse_int("--batch", v, 1, 4096, &batch)) goto fail;
        } else if (!strcmp(a, "--precision")) {
            const char *v = cli_value(argc, argv, &i);
            if (!v) goto fail;
            if (!strcmp(v, "high")) precision = SEAM_PRECISION_HIGH;
            else if (!strcmp(v, "highest")) precision = SEAM_PRECISION_HIGHEST;
            else { cli_error("embed: --precision takes high or highest, not '%s'", v); goto fail; }
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            const char *v = cli_value(argc, argv, &i);
            if (!v || !cli_parse_int("--threads", v, 0, 1024, &threads)) goto fail;
        } else {
            cli_error("embed: unknown option '%s' (see seam embed --help)", a);
            goto fail;
        }
    }
    if (!model) { cli_error("embed: -m MODEL is required (see seam embed --help)"); goto fail; }
    if (jsonl == (n_texts > 0)) { cli_error("embed: give TEXT arguments or --jsonl (not both)"); goto fail; }
    char *dir = NULL;
    if (cli_resolve_model(model, &dir)) goto fail;
    seam_error err = {0};
    seam_encoder_params params = {(int)batch, 0, (int)threads, precision};
    embedder em = {0};
    int rc = 1;
    if (seam_encoder_open(dir, &params, &em.enc, &err)) { cli_error("%s", err.message); goto out; }
    const seam_encoder_info *in = seam_encoder_get_info(em.enc);
    if (verbose) {
        if (in->is_plain)
            fprintf(stderr, "seam: %s has no modules.json: a plain BertModel, embedded with mean pooling and L2 normalisation\n", dir);
        fprintf(stderr, "seam: encoder: %d layers, hidden %d, %d heads, max_seq_length %d, pooling %s%s, batch %d, %d threads\n",
                in->n_layer, in->hidden, in->n_head, in->max_seq_length, seam_pooling_name(in->pooling),
                in->normalize ? " + normalize" : "", in->max_batch, in->n_threads);
        fprintf(stderr, "seam: kernels %s, matmul precision %s%s\n", in->kernels, seam_precision_name(in->precision),
                in->precision == SEAM_PRECISION_HIGH
                    ? " (AMX: three bf16 products per f32 product; products of fewer than 16 rows in f32 on AVX-512)"
                    : " (IEEE f32)");
    }
    if (jsonl) rc = run_jsonl(&em, (size_t)batch * 16 > 256 ? (size_t)batch * 16 : 256);
    else rc = embed_and_print(&em, (const char *const *)texts, NULL, n_texts, 0);
    if (verbose && em.n_truncated)
        fprintf(stderr, "seam: %zu of %zu inputs were longer than %d tokens and were truncated\n", em.n_truncated, em.n_inputs,
                in->max_seq_length);
    else if (verbose) fprintf(stderr, "seam: %zu inputs embedded, none truncated\n", em.n_inputs);
out:
    seam_encoder_close(em.enc);
    free(em.vecs);
    free(dir);
    free(texts);
    return rc;
fail:
    free(texts);
    return 1;
}
