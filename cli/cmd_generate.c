/* seam generate: prompt (text or ids) in, tokens streamed out. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "seam.h"

static const char usage[] =
    "usage: seam generate -m MODEL (-p PROMPT | --ids ID,ID,...) [options]\n"
    "\n"
    "Generates text with a GPT-2 family model, streaming it to stdout token by token.\n"
    "\n"
    "  -m, --model MODEL     model folder, or a hub id such as gpt2 (pulled into the cache)\n"
    "  -p, --prompt TEXT     prompt text (printed, then the continuation)\n"
    "      --ids LIST        prompt as comma-separated token ids instead of text\n"
    "  -n, --max-tokens N    tokens to generate (default 64)\n"
    "      --greedy          always take the most likely token (same as --temperature 0)\n"
    "      --temperature T   sampling temperature, 0 = greedy (default 0.8)\n"
    "      --top-k K         keep the K most likely tokens, 0 = off (default 40)\n"
    "      --top-p P         nucleus sampling mass in (0, 1], 1 = off (default 0.95)\n"
    "      --seed S          random seed for reproducible sampling (default: from the clock)\n"
    "      --print-ids       print the generated ids on one line (comma-separated) instead of text\n"
    "      --ctx N           context size in tokens (default: the model's n_positions)\n"
    "      --sliding         when the context fills, keep its last half and go on\n"
    "                        (default: running past the context is an error)\n"
    "      --ignore-eos      do not stop at the end-of-text token\n"
    "  -t, --threads N       threads (default: the machine's physical cores)\n"
    "      --stats           print timing (prefill and decode tokens/s) on stderr\n"
    "  -h, --help            show this help\n";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    const char *model, *prompt, *ids_arg;
    long n, ctx, threads;
    int greedy, print_ids, sliding, ignore_eos, stats, seed_given;
    double temperature, top_p;
    long top_k;
    uint64_t seed;
} gen_opts;

static int parse_args(int argc, char **argv, gen_opts *o) {
    *o = (gen_opts){.n = 64, .temperature = 0.8, .top_p = 0.95, .top_k = 40};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        long lv;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); exit(0); }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!(o->model = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) { if (!(o->prompt = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "--ids")) { if (!(o->ids_arg = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "-n") || !strcmp(a, "--max-tokens")) {
            if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 0, 100000000, &o->n)) return 0;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 1, 1024, &o->threads)) return 0;
        } else if (!strcmp(a, "--ctx")) {
            if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 1, 100000000, &o->ctx)) return 0;
        } else if (!strcmp(a, "--temperature")) {
            if (!(v = cli_value(argc, argv, &i)) || !cli_parse_float(a, v, 0, 100, &o->temperature)) return 0;
        } else if (!strcmp(a, "--top-k")) {
            if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 0, 100000000, &lv)) return 0;
            o->top_k = lv;
        } else if (!strcmp(a, "--top-p")) {
            if (!(v = cli_value(argc, argv, &i)) || !cli_parse_float(a, v, 1e-9, 1, &o->top_p)) return 0;
        } else if (!strcmp(a, "--seed")) {
            if (!(v = cli_value(argc, argv, &i)) || !cli_parse_u64(a, v, &o->seed)) return 0;
            o->seed_given = 1;
        } else if (!strcmp(a, "--greedy")) o->greedy = 1;
        else if (!strcmp(a, "--print-ids")) o->print_ids = 1;
        else if (!strcmp(a, "--sliding")) o->sliding = 1;
        else if (!strcmp(a, "--ignore-eos")) o->ignore_eos = 1;
        else if (!strcmp(a, "--stats")) o->stats = 1;
        else { cli_error("generate: unknown option '%s' (see seam generate --help)", a); return 0; }
    }
    if (!o->model) { cli_error("generate: -m MODEL is required (see seam generate --help)"); return 0; }
    if (!o->prompt == !o->ids_arg) { cli_error("generate: give exactly one of -p PROMPT or --ids LIST"); return 0; }
    return 1;
}

int cmd_generate(int argc, char **argv) {
    gen_opts o;
    if (!parse_args(argc, argv, &o)) return 1;
    char *dir = NULL;
    if (cli_resolve_model(o.model, &dir)) return 1;

    int rc = 1;
    seam_error err = {0};
    seam_model *m = NULL;
    seam_tokenizer *tok = NULL;
    seam_context *ctx = NULL;
    seam_sampler *smp = NULL;
    int32_t *ids = NULL;
    float *logits = NULL;
    size_t n_prompt = 0;

    if (seam_model_open(dir, &m, &err)) { cli_error("%s", err.message); goto out; }
    const seam_model_info *in = seam_model_get_info(m);
    if (in->layer_begin != 0 || in->layer_end != in->n_layer || !in->has_embed || !in->has_head) {
        cli_error("%s is a shard holding layers [%d, %d); generate needs a whole model", dir, in->layer_begin, in->layer_end);
        goto out;
    }
    /* A tokenizer is needed for text in or out; ids in and ids out work without one. */
    if (o.prompt || !o.print_ids) {
        if (seam_tokenizer_open(dir, &tok, &err)) { cli_error("%s", err.message); goto out; }
    }
    if (o.prompt) {
        size_t len = strlen(o.prompt), cap = len + 16, need = 0;
        ids = malloc(cap * sizeof *ids);
        if (!ids) { cli_error("out of memory"); goto out; }
        if (seam_tokenize(tok, o.prompt, len, ids, cap, &need, &err)) { cli_error("%s", err.message); goto out; }
        n_prompt = need;
        if (n_prompt == 0) {
            /* An empty prompt starts from the end-of-text token, as GPT-2 was trained to. */
            if (in->bos_token_id < 0) { cli_error("the prompt is empty and the model has no bos_token_id"); goto out; }
            ids[0] = in->bos_token_id;
            n_prompt = 1;
        }
    } else {
        if (!cli_parse_ids("--ids", o.ids_arg, &ids, &n_prompt)) goto out;
        for (size_t i = 0; i < n_prompt; i++)
            if (ids[i] >= in->vocab_size) { cli_error("--ids: id %d is outside the vocabulary of %d", (int)ids[i], in->vocab_size); goto out; }
    }

    int n_ctx = o.ctx ? (int)o.ctx : in->n_positions;
    if (n_ctx > in->n_positions) { cli_error("--ctx %d exceeds the model's n_positions %d", n_ctx, in->n_positions); goto out; }
    if (!o.sliding && (long)n_prompt + o.n > n_ctx) {
        cli_error("the prompt (%zu tokens) plus -n %ld exceeds the context of %d tokens; lower -n or pass --sliding",
                  n_prompt, o.n, n_ctx);
        goto out;
    }
    if (o.sliding && n_ctx < 2) { cli_error("--sliding needs a context of at least 2 tokens"); goto out; }
    if (seam_context_new(m, n_ctx, 0, &ctx, &err) || seam_context_set_threads(ctx, (int)o.threads, &err)) {
        cli_error("%s", err.message);
        goto out;
    }

    seam_sampler_params sp = seam_sampler_default_params();
    sp.temperature = o.greedy ? 0.0f : (float)o.temperature;
    sp.top_k = (int)o.top_k;
    sp.top_p = (float)o.top_p;
    sp.seed = o.seed_given ? o.seed : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
    if (seam_sampler_new(&sp, in->vocab_size, &smp, &err)) { cli_error("%s", err.message); goto out; }

    /* The window holds every token in the context: the prompt, then what is generated. */
    size_t win_cap = (size_t)n_ctx + 1;
    int32_t *window = malloc(win_cap * sizeof *window);
    logits = malloc((size_t)in->vocab_size * sizeof *logits);
    if (!window || !logits) { free(window); cli_error("out of memory"); goto out; }
    size_t n_win = 0;
    /* A prompt longer than the window under --sliding keeps its tail. */
    size_t skip = n_prompt > (size_t)n_ctx ? n_prompt - (size_t)n_ctx / 2 : 0;
    for (size_t i = skip; i < n_prompt; i++) window[n_win++] = ids[i];

    utf8_stream us = {0};
    if (o.prompt && !o.print_ids) { fputs(o.prompt, stdout); fflush(stdout); }
    double t0 = now_s();
    if (seam_forward(ctx, window, (int)n_win, 0, logits, &err)) { free(window); cli_error("%s", err.message); goto out; }
    double t_prefill = now_s() - t0, t1 = now_s();
    long produced = 0;
    int first = 1;
    for (; produced < o.n; produced++) {
        int32_t next = seam_sample(smp, logits);
        if (!o.ignore_eos && next == in->eos_token_id) break;
        if (o.print_ids) { printf("%s%d", first ? "" : ",", (int)next); first = 0; }
        else {
            size_t bl;
            const char *b = seam_token_bytes(tok, next, &bl);
            if (b) utf8_stream_write(&us, stdout, b, bl);
        }
        fflush(stdout);
        if (produced + 1 == o.n) { produced++; break; }
        if (n_win == (size_t)n_ctx) {
            /* --sliding: keep the last half of the window and recompute its cache. */
            size_t keep = (size_t)n_ctx / 2;
            memmove(window, window + n_win - keep, keep * sizeof *window);
            n_win = keep;
            window[n_win++] = next;
            if (seam_forward(ctx, window, (int)n_win, 0, logits, &err)) { free(window); cli_error("%s", err.message); goto out; }
            continue;
        }
        window[n_win++] = next;
        if (seam_forward(ctx, &next, 1, (int)n_win - 1, logits, &err)) { free(window); cli_error("%s", err.message); goto out; }
    }
    utf8_stream_flush(&us, stdout);
    putchar('\n');
    fflush(stdout);
    double t_decode = now_s() - t1;
    if (o.stats)
        fprintf(stderr, "prompt %zu tokens in %.3f s (%.1f tok/s), generated %ld tokens in %.3f s (%.1f tok/s)\n",
                n_win > 0 ? n_prompt : 0, t_prefill, n_prompt / (t_prefill > 0 ? t_prefill : 1e-9), produced, t_decode,
                produced / (t_decode > 0 ? t_decode : 1e-9));
    free(window);
    rc = 0;
out:
    free(logits);
    free(ids);
    seam_sampler_free(smp);
    seam_context_free(ctx);
    seam_tokenizer_close(tok);
    seam_model_close(m);
    free(dir);
    return rc;
}
