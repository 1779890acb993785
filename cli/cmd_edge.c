/* seam edge: generate across the network with part of the model on this machine. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "seam.h"
#include "seam_net.h"


static const char usage[] =
    "usage: seam edge -s URL --split K --mode tail|head (-p PROMPT | --ids LIST) [options]\n"
    "\n"
    "Generates text with a model split between a `seam serve` server and this machine, one\n"
    "round trip per token, streaming the text. The shard this side needs is downloaded from\n"
    "the server (resuming, checksummed) and cached, unless --shard gives a folder.\n"
    "\n"
    "  -s, --server URL      the server, e.g. http://127.0.0.1:8080\n"
    "      --model NAME      model id on the server (default: its only model)\n"
    "      --split K         split point: blocks [0, K) on one side, [K, n_layer) on the other\n"
    "      --mode tail       the server embeds and runs [0, K); this side runs the rest and samples\n"
    "      --mode head       this side embeds and runs [0, K) (raw tokens never leave it); the\n"
    "                        server runs the rest and samples\n"
    "  -p, --prompt TEXT     prompt text          --ids LIST   prompt as token ids\n"
    "  -n, --max-tokens N    tokens to generate (default 64)\n"
    "      --greedy, --temperature T, --top-k K, --top-p P, --seed S   sampling, as in generate\n"
    "      --activation DT   hidden states on the wire: f32 (default, exact), f16 or q8\n"
    "      --quant q8|q4     download a block-quantised shard (smaller, approximate)\n"
    "      --print-ids       print the generated ids (comma-separated) instead of text\n"
    "      --ignore-eos      do not stop at the end-of-text token\n"
    "      --ctx N           context to reserve (default: prompt + N, at most n_positions)\n"
    "      --shard DIR       use this shard (or whole model) folder instead of downloading\n"
    "      --cache-dir DIR   shard cache (default $SEAM_HOME/edge-cache)\n"
    "      --api-key KEY     bearer key for the server (default: env SEAM_API_KEY)\n"
    "      --limit-rate B    cap shard downloads at B bytes/s\n"
    "      --timeout S       most seconds one request may take (default 300)\n"
    "  -t, --threads N       threads for this side's layers (default: physical cores)\n"
    "      --stats           print bytes each way per token, round trips and time per side\n"
    "  -q, --quiet           no download progress on stderr\n"
    "  -h, --help            show this help\n";

typedef struct {
    const char *server, *model, *prompt, *ids_arg, *shard, *cache_dir, *api_key, *act;
    int quant;
    long split, n, ctx, threads, top_k, timeout, rate;
    int head_mode, greedy, print_ids, ignore_eos, stats, quiet, seed_given, mode_given;
    double temperature, top_p;
    uint64_t seed;
} edge_opts;

static int parse_args(int argc, char **argv, edge_opts *o) {
    *o = (edge_opts){.n = 64, .temperature = 0.8, .top_p = 0.95, .top_k = 40, .split = -1, .act = "f32"};
    o->api_key = getenv("SEAM_API_KEY");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); exit(0); }
        else if (!strcmp(a, "-s") || !strcmp(a, "--server")) { if (!(o->server = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "--model")) { if (!(o->model = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) { if (!(o->prompt = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "--ids")) { if (!(o->ids_arg = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "--shard")) { if (!(o->shard = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "--cache-dir")) { if (!(o->cache_dir = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "--api-key")) { if (!(o->api_key = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "--activation")) { if (!(o->act = cli_value(argc, argv, &i))) return 0; }
        else if (!strcmp(a, "--quant")) {
            if (!(v = cli_value(argc, argv, &i))) return 0;
            if (strcmp(v, "q8") != 0 && strcmp(v, "q4") != 0) { cli_error("--quant expects q8 or q4, got '%s'", v); return 0; }
            o->quant = v[1] - '0';
        }
        else if (!strcmp(a, "--mode")) {
            if (!(v = cli_value(argc, argv, &i))) return 0;
            if (strcmp(v, "tail") != 0 && strcmp(v, "head") != 0) { cli_error("--mode expects tail or head, got '%s'", v); return 0; }
            o->head_mode = !strcmp(v, "head");
            o->mode_given = 1;
        }
        else if (!strcmp(a, "--split")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 0, 100000, &o->split)) return 0; }
        else if (!strcmp(a, "-n") || !strcmp(a, "--max-tokens")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 0, 100000000, &o->n)) return 0; }
        else if (!strcmp(a, "--ctx")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 1, 100000000, &o->ctx)) return 0; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 1, 1024, &o->threads)) return 0; }
        else if (!strcmp(a, "--timeout")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 1, 86400, &o->timeout)) return 0; }
        else if (!strcmp(a, "--limit-rate")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 1, 1L << 40, &o->rate)) return 0; }
        else if (!strcmp(a, "--temperature")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_float(a, v, 0, 100, &o->temperature)) return 0; }
        else if (!strcmp(a, "--top-k")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_int(a, v, 0, 100000000, &o->top_k)) return 0; }
        else if (!strcmp(a, "--top-p")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_float(a, v, 1e-9, 1, &o->top_p)) return 0; }
        else if (!strcmp(a, "--seed")) { if (!(v = cli_value(argc, argv, &i)) || !cli_parse_u64(a, v, &o->seed)) return 0; o->seed_given = 1; }
        else if (!strcmp(a, "--greedy")) o->greedy = 1;
        else if (!strcmp(a, "--print-ids")) o->print_ids = 1;
        else if (!strcmp(a, "--ignore-eos")) o->ignore_eos = 1;
        else if (!strcmp(a, "--stats")) o->stats = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = 1;
        else { cli_error("edge: unknown option '%s' (see seam edge --help)", a); return 0; }
    }
    if (!o->server) { cli_error("edge: -s URL is required (see seam edge --help)"); return 0; }
    if (o->split < 0) { cli_error("edge: --split K is required (see seam edge --help)"); return 0; }
    if (!o->mode_given) { cli_error("edge: --mode tail|head is required (see seam edge --help)"); return 0; }
    if (!o->prompt == !o->ids_arg) { cli_error("edge: give exactly one of -p PROMPT or --ids LIST"); return 0; }
    seam_wire_dtype d;
    if (!seam_wire_dtype_parse(o->act, &d)) { cli_error("--activation expects f32, f16 or q8, got '%s'", o->act); return 0; }
    return 1;
}

static void note_line(void *user, const char *line) {
    (void)user;
    fprintf(stderr, "seam edge: %s\n", line);
}

/* Cache root for shards: --cache-dir, else $SEAM_HOME/edge-cache, else ~/.cache/seam/edge-cache. */
static char *cache_root(const char *given) {
    const char *v;
    char buf[4096];
    if (given) return strdup(given);
    if ((v = getenv("SEAM_HOME")) && *v) snprintf(buf, sizeof buf, "%s/edge-cache", v);
    else if ((v = getenv("HOME")) && *v) snprintf(buf, sizeof buf, "%s/.cache/seam/edge-cache", v);
    else return NULL;
    return strdup(buf);
}

typedef struct {
    seam_model *m;
    seam_tokenizer *tok;
    seam_context *ctx;
    seam_sampler *smp;
    seam_client *cl;
    seam_remote_session rs;
    int have_session;
    int32_t *ids;
    float *hidden, *logits;
    char *dir;
} edge_state;

static void edge_free(edge_state *e) {
    seam_error err = {0};
    if (e->have_session) seam_client_session_close(e->cl, &e->rs, &err);
    seam_client_free(e->cl);
    seam_sampler_free(e->smp);
    seam_context_free(e->ctx);
    seam_tokenizer_close(e->tok);
    seam_model_close(e->m);
    free(e->ids);
    free(e->hidden);
    free(e->logits);
    free(e->dir);
}

/* One step on this side. Tail mode: ids at pos go to the server, its hidden state runs
 * through [k, N) + head here, the token is sampled here. Head mode: ids run through embed +
 * [0, k) here, the hidden state goes to the server, which samples. */
static int step(edge_state *e, const edge_opts *o, const int32_t *ids, int T, int pos, int32_t *next, double *t_local,
                seam_error *err) {
    const seam_model_info *in = seam_model_get_info(e->m);
    int k = (int)o->split, N = in->n_layer;
    double t0;
    struct timespec ts;
#define NOW() (clock_gettime(CLOCK_MONOTONIC, &ts), (double)ts.tv_sec + ts.tv_nsec * 1e-9)
    if (!o->head_mode) {
        if (seam_client_step_ids(e->cl, &e->rs, ids, T, pos, e->hidden, err)) return 0;
        t0 = NOW();
        float *last = e->hidden + (size_t)(T - 1) * in->n_embd;
        if (seam_run_layers_last_row(e->ctx, k, N, e->hidden, T, pos, err) || seam_final_norm(e->ctx, last, 1, err) ||
            seam_lm_head(e->ctx, last, 1, e->logits, err))
            return 0;
        *next = seam_sample(e->smp, e->logits);
        *t_local += NOW() - t0;
        return 1;
    }
    t0 = NOW();
    if (seam_embed(e->ctx, ids, T, pos, e->hidden, err) || seam_run_layers(e->ctx, 0, k, e->hidden, T, pos, err)) return 0;
    *t_local += NOW() - t0;
    return seam_client_step_hidden(e->cl, &e->rs, e->hidden, T, pos, next, err) == SEAM_OK;
#undef NOW
}

int cmd_edge(int argc, char **argv) {
    edge_opts o;
    if (!parse_args(argc, argv, &o)) return 1;
    edge_state e;
    memset(&e, 0, sizeof e);
    seam_error err = {0};
    int rc = 1;
    size_t n_prompt = 0;
    seam_wire_dtype act;
    seam_wire_dtype_parse(o.act, &act);

    seam_sampler_params sp = seam_sampler_default_params();
    sp.temperature = o.greedy ? 0.0f : (float)o.temperature;
    sp.top_k = (int)o.top_k;
    sp.top_p = (float)o.top_p;
    sp.seed = o.seed_given ? o.seed : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);

    if (o.ids_arg && !cli_parse_ids("--ids", o.ids_arg, &e.ids, &n_prompt)) goto out;
    if (seam_client_new(o.server, o.api_key, (int)o.timeout, &e.cl, &err)) { cli_error("%s", err.message); goto out; }
    if (o.rate) seam_client_set_rate_limit(e.cl, (uint64_t)o.rate);
    /* Model first (its fingerprint names the shard), then the shard and its tokenizer (the
     * prompt's length sizes the context), then the session with exactly that context. */
    seam_remote_model rm;
    if (seam_client_model(e.cl, o.model, &rm, &err)) { cli_error("%s", err.message); goto out; }
    int N = rm.n_layer, k = (int)o.split;
    if (k > N) { cli_error("--split %d is past the model's %d layers", k, N); goto out; }
    seam_shard_range want = o.head_mode ? (seam_shard_range){0, k, 1, 0, o.quant} : (seam_shard_range){k, N, 0, 1, o.quant};
    if (o.shard && o.quant) { cli_error("--quant picks the shard to download; a --shard folder is used as it is"); goto out; }
    if (o.shard) {
        e.dir = strdup(o.shard);
        /* A shard folder is checked against its manifest (sizes and hashes) first; a whole
         * model folder has none and is checked by fingerprint below. */
        size_t ml = strlen(o.shard) + 16;
        char *man = malloc(ml);
        if (man) snprintf(man, ml, "%s/manifest.json", o.shard);
        FILE *mf = man ? fopen(man, "rb") : NULL;
        free(man);
        if (mf) {
            fclose(mf);
            if (seam_shard_verify(o.shard, &want, rm.fingerprint, 1, &err)) { cli_error("%s", err.message); goto out; }
        }
    } else {
        char *root = cache_root(o.cache_dir);
        if (!root) { cli_error("no shard cache folder: pass --cache-dir or set SEAM_HOME"); goto out; }
        seam_status s = seam_client_fetch_shard(e.cl, rm.id, &want, rm.fingerprint, root, o.quiet ? NULL : note_line, NULL,
                                                &e.dir, &err);
        free(root);
        if (s) { cli_error("%s", err.message); goto out; }
    }
    if (!e.dir) { cli_error("out of memory"); goto out; }
    if (seam_model_open(e.dir, &e.m, &err) || seam_model_check_shard(e.m, &want, rm.fingerprint, &err)) {
        cli_error("%s", err.message);
        goto out;
    }
    const seam_model_info *in = seam_model_get_info(e.m);
    if (o.prompt || !o.print_ids) {
        if (seam_tokenizer_open(e.dir, &e.tok, &err)) { cli_error("%s", err.message); goto out; }
    }
    if (o.prompt) {
        size_t len = strlen(o.prompt), cap = len + 16;
        e.ids = malloc(cap * sizeof *e.ids);
        if (!e.ids) { cli_error("out of memory"); goto out; }
        if (seam_tokenize(e.tok, o.prompt, len, e.ids, cap, &n_prompt, &err)) { cli_error("%s", err.message); goto out; }
        if (n_prompt == 0) {
            if (in->bos_token_id < 0) { cli_error("the prompt is empty and the model has no bos_token_id"); goto out; }
            e.ids[0] = in->bos_token_id;
            n_prompt = 1;
        }
    }
    for (size_t i = 0; i < n_prompt; i++)
        if (e.ids[i] >= in->vocab_size) { cli_error("--ids: id %d is outside the vocabulary of %d", (int)e.ids[i], in->vocab_size); goto out; }
    long need = (long)n_prompt + o.n;
    int n_ctx = o.ctx ? (int)o.ctx : (int)(need < rm.max_context ? need : rm.max_context);
    if (n_ctx > rm.max_context) {
        cli_error("--ctx %d exceeds the server's limit of %d", n_ctx, rm.max_context);
        goto out;
    }
    if (need > n_ctx) {
        cli_error("the prompt (%zu tokens) plus -n %ld exceeds the context of %d tokens (split generation has no --sliding)",
                  n_prompt, o.n, n_ctx);
        goto out;
    }
    seam_session_request rq = {rm.id, k, o.head_mode ? SEAM_SPLIT_HEAD : SEAM_SPLIT_TAIL, act, n_ctx, o.head_mode ? &sp : NULL};
    if (seam_client_session_open(e.cl, &rq, &e.rs, &err)) { cli_error("%s", err.message); goto out; }
    e.have_session = 1;
    if (strcmp(e.rs.fingerprint, rm.fingerprint) != 0) { cli_error("the server's model changed during setup; run again"); goto out; }
    /* Only this side's layers get a KV cache (a --shard folder may be the whole model). */
    if (seam_context_new_layers(e.m, o.head_mode ? 0 : k, o.head_mode ? k : N, n_ctx, 0, &e.ctx, &err) ||
        seam_context_set_threads(e.ctx, (int)o.threads, &err) ||
        (!o.head_mode && seam_sampler_new(&sp, in->vocab_size, &e.smp, &err))) {
        cli_error("%s", err.message);
        goto out;
    }
    e.hidden = malloc((size_t)n_ctx * (size_t)in->n_embd * sizeof *e.hidden);
    e.logits = malloc((size_t)in->vocab_size * sizeof *e.logits);
    int32_t *grown = realloc(e.ids, ((size_t)n_ctx + 1) * sizeof *e.ids);
    if (!e.hidden || !e.logits || !grown) { cli_error("out of memory"); goto out; }
    e.ids = grown;

    utf8_stream us = {0};
    if (o.prompt && !o.print_ids) { fputs(o.prompt, stdout); fflush(stdout); }
    struct timespec ts0, ts1;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    double t_local = 0;
    int pos = 0, T = (int)n_prompt, first = 1;
    long produced = 0;
    int32_t *feed = e.ids;
    seam_client_stats after_prompt = {0};
    /* Where the prompt step ended, so the decode steps can be timed on their own. */
    struct timespec ts_prompt = ts0;
    double t_local_prompt = 0;
    for (; produced < o.n; produced++) {
        int32_t next;
        if (!step(&e, &o, feed, T, pos, &next, &t_local, &err)) { cli_error("%s", err.message); goto out; }
        if (produced == 0) {
            after_prompt = *seam_client_get_stats(e.cl);
            clock_gettime(CLOCK_MONOTONIC, &ts_prompt);
            t_local_prompt = t_local;
        }
        pos += T;
        if (!o.ignore_eos && next == in->eos_token_id) break;
        if (o.print_ids) { printf("%s%d", first ? "" : ",", (int)next); first = 0; }
        else {
            size_t bl;
            const char *b = seam_token_bytes(e.tok, next, &bl);
            if (b) utf8_stream_write(&us, stdout, b, bl);
        }
        fflush(stdout);
        e.ids[pos] = next;
        feed = &e.ids[pos];
        T = 1;
    }
    utf8_stream_flush(&us, stdout);
    putchar('\n');
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &ts1);
    if (o.stats) {
        const seam_client_stats *st = seam_client_get_stats(e.cl);
        double wall = (double)(ts1.tv_sec - ts0.tv_sec) + (ts1.tv_nsec - ts0.tv_nsec) * 1e-9;
        double decode = st->round_trips > 1 ? (double)(st->round_trips - 1) : 0;
        double dwall = (double)(ts1.tv_sec - ts_prompt.tv_sec) + (ts1.tv_nsec - ts_prompt.tv_nsec) * 1e-9;
        double dserver = st->server_seconds - after_prompt.server_seconds, dnet = st->seconds - after_prompt.seconds;
        fprintf(stderr,
                "seam edge: %ld tokens in %.3f s, %llu round trips (one per token; the first carries the %zu-token prompt)\n"
                "seam edge: prompt step: sent %llu bytes, received %llu bytes\n"
                "seam edge: per decode step: sent %.0f bytes, received %.0f bytes\n"
                "seam edge: time: this side %.3f s, server compute %.3f s, network and HTTP %.3f s\n"
                "seam edge: decode: %.0f steps, %.3f ms per token (this side %.3f ms, server compute %.3f ms, network and HTTP %.3f ms)\n"
                "seam edge: split at %d of %d layers, mode %s, activations %s, shard %s\n",
                produced, wall, (unsigned long long)st->round_trips, n_prompt, (unsigned long long)after_prompt.bytes_sent,
                (unsigned long long)after_prompt.bytes_received,
                decode > 0 ? (double)(st->bytes_sent - after_prompt.bytes_sent) / decode : 0,
                decode > 0 ? (double)(st->bytes_received - after_prompt.bytes_received) / decode : 0, t_local,
                st->server_seconds, st->seconds - st->server_seconds, decode,
                decode > 0 ? 1e3 * dwall / decode : 0, decode > 0 ? 1e3 * (t_local - t_local_prompt) / decode : 0,
                decode > 0 ? 1e3 * dserver / decode : 0, decode > 0 ? 1e3 * (dnet - dserver) / decode : 0, k, N,
                o.head_mode ? "head" : "tail", o.act, e.dir);
    }
    rc = 0;
out:
    edge_free(&e);
    return rc;
}
