/* seam quantize: writes a model folder with q8/q4 block-quantised weights, and measures
 * how far its logits are from the original's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "format/safetensors.h"
#include "quant/quant.h"
#include "quant/quantize.h"
#include "seam.h"

static const char usage[] =
    "usage: seam quantize -m MODEL -o OUT_DIR --type q8|q4 [options]\n"
    "\n"
    "Writes OUT_DIR, a model folder seam loads directly: model.safetensors with the blocks'\n"
    "weight matrices quantised in blocks of 32 (q8: int8 + f16 scale; q4: 4-bit + f16 scale\n"
    "and offset), config.json and the tokenizer files copied. Norms, biases and position\n"
    "embeddings stay as stored.\n"
    "\n"
    "  -m, --model MODEL       model folder, or a hub id such as gpt2 (pulled into the cache)\n"
    "  -o, --output DIR        output folder (created if missing; not the input folder)\n"
    "      --type q8|q4        quantisation of the blocks' matrices\n"
    "      --head MODE         the token embedding wte, which is also the output head:\n"
    "                            tied      quantise wte; lookups and the head share it (default)\n"
    "                            separate  keep wte as stored, add a quantised lm_head\n"
    "                            keep      keep wte (and lm_head) as stored\n"
    "      --head-type q8|q4   quantisation of wte / the head (default: q8, also for --type q4)\n"
    "      --report            then compare OUT_DIR with MODEL: top-1 agreement of the logits\n"
    "                          and KL divergence (MODEL as reference) at every position\n"
    "      --report-ids FILE   report on the caseN.input_ids of a reference.safetensors\n"
    "                          (default: pseudo-random ids)\n"
    "      --report-positions N  positions of the random input (default: min(512, n_positions))\n"
    "      --report-only       do not quantise; compare an existing OUT_DIR with MODEL\n"
    "  -t, --threads N         threads (default: the machine's physical cores)\n"
    "  -q, --quiet             no progress on stderr\n"
    "  -h, --help              show this help\n";

typedef struct {
    const char *model, *out, *report_ids;
    seam_quantize_params p;
    int type_given, report, report_only, quiet;
    long positions, threads;
} q_opts;

static void show_progress(void *user, uint64_t done, uint64_t total) {
    int *last = user;
    if (total < (64u << 20)) return; /* small models are done before progress helps */
    int pct = total ? (int)(100.0 * (double)done / (double)total) : 100;
    if (isatty(2)) {
        fprintf(stderr, "\rquantize: %3d%% (%.0f of %.0f MB)", pct, done / 1e6, total / 1e6);
        if (done == total) fputc('\n', stderr);
    } else if (pct / 10 != *last / 10 || done == total) {
        fprintf(stderr, "quantize: %d%% (%.0f of %.0f MB)\n", pct, done / 1e6, total / 1e6);
    }
    *last = pct;
}

static int parse_args(int argc, char **argv, q_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); exit(0); }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!(o->model = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) { if (!(o->out = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "--type") || !strcmp(a, "--head-type")) {
            if (!(v = cli_value(argc, argv, &i))) return 0;
            seam_quant q;
            if (!seam_quant_parse(v, &q)) { cli_error("%s expects q8 or q4, got '%s'", a, v); return 0; }
            if (!strcmp(a, "--type")) { o->p.type = q; o->type_given = 1; }
            else o->p.head_type = q;
        } else if (!strcmp(a, "--head")) {
            if (!(v = cli_value(argc, argv, &i))) return 0;
            if (!strcmp(v, "tied")) o->p.head = SEAM_QHEAD_TIED;
            else if (!strcmp(v, "separate")) o->p.head = SEAM_QHEAD_SEPARATE;
            else if (!strcmp(v, "keep")) o->p.head = SEAM_QHEAD_KEEP;
            else { cli_error("--head expects tied, separate or keep, got '%s'", v); return 0; }
        } else if (!strcmp(a, "--report")) o->report = 1;
        else if (!strcmp(a, "--report-only")) o->report = o->report_only = 1;
        else if (!strcmp(a, "--report-ids")) {
            if (!(o->report_ids = cli_value(argc, argv, &i))) return 0;
            o->report = 1;
        } else if (!strcmp(a, "--report-positions")) {
            if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 1, 1 << 20, &o->positions)) return 0;
            o->report = 1;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 1, 1024, &o->threads)) return 0;
            o->p.n_threads = (int)o->threads;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = 1;
        else { cli_error("quantize: unknown option '%s' (see seam quantize --help)", a); return 0; }
    }
    if (!o->model) { cli_error("quantize: -m MODEL is required (see seam quantize --help)"); return 0; }
    if (!o->out) { cli_error("quantize: -o OUT_DIR is required (see seam quantize --help)"); return 0; }
    if (!o->type_given && !o->report_only) { cli_error("quantize: --type q8|q4 is required"); return 0; }
    return 1;
}

static void print_report(const char *what, const seam_qreport *r) {
    printf("report %s: %ld positions, top-1 agreement %.2f%% (%ld/%ld), mean KL %.3g, max KL %.3g, logits rel L2 %.3g\n",
           what, r->positions, r->positions ? 100.0 * (double)r->agree / (double)r->positions : 0.0, r->agree,
           r->positions, r->positions ? r->kl_sum / (double)r->positions : 0.0, r->kl_max,
           sqrt(r->err2 / (r->ref2 > 0 ? r->ref2 : 1)));
}

static int report(const q_opts *o, const char *in_dir) {
    seam_error err = {0};
    seam_model *ref = NULL, *q = NULL;
    int rc = 1;
    int32_t *ids = NULL;
    st_file cases;
    int have_cases = 0;
    if (seam_model_open(in_dir, &ref, &err) || seam_model_open(o->out, &q, &err)) { cli_error("%s", err.message); goto out; }
    const seam_model_info *in = seam_model_get_info(ref);
    seam_qreport r = {0};
    if (o->report_ids) {
        if (st_open(o->report_ids, &cases, &err)) { cli_error("%s", err.message); goto out; }
        have_cases = 1;
        int n_cases = 0;
        for (int ci = 0;; ci++) {
            char name[64];
            snprintf(name, sizeof name, "case%d.input_ids", ci);
            const st_tensor *t = st_find(&cases, name);
            if (!t) break;
            if (t->dtype != ST_I32 || t->n_dims != 1 || t->shape[0] < 1) {
                cli_error("%s: %s is not a non-empty I32 vector", o->report_ids, name);
                goto out;
            }
            int T = (int)t->shape[0];
            free(ids);
            if (!(ids = malloc((size_t)T * sizeof *ids))) { cli_error("out of memory"); goto out; }
            memcpy(ids, t->data, (size_t)T * sizeof *ids);
            if (seam_quant_compare(ref, q, ids, T, (int)o->threads, &r, &err)) { cli_error("%s", err.message); goto out; }
            n_cases++;
        }
        if (!n_cases) { cli_error("%s holds no case0.input_ids", o->report_ids); goto out; }
        char what[64];
        snprintf(what, sizeof what, "(%d cases)", n_cases);
        print_report(what, &r);
    } else {
        int T = o->positions ? (int)o->positions : (in->n_positions < 512 ? in->n_positions : 512);
        if (T > in->n_positions) { cli_error("--report-positions %d exceeds n_positions %d", T, in->n_positions); goto out; }
        if (!(ids = malloc((size_t)T * sizeof *ids))) { cli_error("out of memory"); goto out; }
        uint64_t x = 0x9E3779B97F4A7C15ull;
        for (int t = 0; t < T; t++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            ids[t] = (int32_t)((x >> 33) % (uint64_t)in->vocab_size);
        }
        if (seam_quant_compare(ref, q, ids, T, (int)o->threads, &r, &err)) { cli_error("%s", err.message); goto out; }
        print_report("(random ids)", &r);
    }
    rc = 0;
out:
    if (have_cases) st_close(&cases);
    free(ids);
    seam_model_close(ref);
    seam_model_close(q);
    return rc;
}

int cmd_quantize(int argc, char **argv) {
    q_opts o;
    memset(&o, 0, sizeof o);
    if (!parse_args(argc, argv, &o)) return 1;
    char *dir = NULL;
    if (cli_resolve_model(o.model, &dir)) return 1;
    int rc = 1, last = -1;
    if (!o.report_only) {
        seam_error err = {0};
        if (!o.quiet) { o.p.progress = show_progress; o.p.user = &last; }
        if (seam_quantize_model(dir, o.out, &o.p, &err)) {
            if (!o.quiet && last >= 0 && isatty(2)) fputc('\n', stderr);
            cli_error("%s", err.message);
            goto out;
        }
    }
    rc = o.report ? report(&o, dir) : 0;
out:
    free(dir);
    return rc;
}
