/* seam tokenize: text → ids, one text from the command line or a JSONL stream. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "seam.h"
#include "util/json.h"

static const char usage[] =
    "usage: seam tokenize -m MODEL TEXT\n"
    "       seam tokenize -m MODEL --jsonl < in.jsonl > out.jsonl\n"
    "\n"
    "Prints the token ids of TEXT on one line, comma-separated. With --jsonl, reads lines\n"
    "{\"text\": ...} from stdin and writes {\"ids\": [...]} for each.\n"
    "\n"
    "  -m, --model MODEL   model folder or hub id (its tokenizer.json or vocab.json + merges.txt)\n"
    "      --jsonl         JSON Lines mode\n"
    "      --decode IDS    the other way: comma-separated ids → text\n"
    "  -h, --help          show this help\n";

/* Tokenizes text into a growable buffer. */
static int tokenize_all(const seam_tokenizer *tok, const char *text, size_t len, int32_t **buf, size_t *cap,
                        size_t *n) {
    seam_error err = {0};
    for (;;) {
        seam_status s = seam_tokenize(tok, text, len, *buf, *cap, n, &err);
        if (s == SEAM_OK) return 1;
        if (s != SEAM_ERR_RANGE || *n <= *cap) { cli_error("%s", err.message); return 0; }
        int32_t *nb = realloc(*buf, *n * sizeof *nb);
        if (!nb) { cli_error("out of memory"); return 0; }
        *buf = nb;
        *cap = *n;
    }
}

static int run_jsonl(const seam_tokenizer *tok) {
    char *line = NULL;
    size_t line_cap = 0, cap = 0, n = 0;
    int32_t *ids = NULL;
    ssize_t got;
    long lineno = 0;
    int rc = 0;
    while ((got = getline(&line, &line_cap, stdin)) >= 0) {
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
        int ok = tokenize_all(tok, text->str, text->len, &ids, &cap, &n);
        json_free(v);
        if (!ok) { rc = 1; break; }
        fputs("{\"ids\": [", stdout);
        for (size_t i = 0; i < n; i++) printf("%s%d", i ? ", " : "", (int)ids[i]);
        fputs("]}\n", stdout);
    }
    free(line);
    free(ids);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL, *decode = NULL;
    int jsonl = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!(model = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--jsonl")) jsonl = 1;
        else if (!strcmp(a, "--decode")) { if (!(decode = cli_value(argc, argv, &i))) return 1; }
        else if (a[0] == '-' && a[1] && !text) return cli_error("tokenize: unknown option '%s' (see seam tokenize --help)", a);
        else if (!text) text = a;
        else return cli_error("tokenize: give one TEXT argument (quote it), or use --jsonl");
    }
    if (!model) return cli_error("tokenize: -m MODEL is required (see seam tokenize --help)");
    if ((text != NULL) + jsonl + (decode != NULL) != 1) return cli_error("tokenize: give exactly one of TEXT, --jsonl or --decode");
    char *dir = NULL;
    if (cli_resolve_model(model, &dir)) return 1;
    seam_error err = {0};
    seam_tokenizer *tok = NULL;
    int rc = 1;
    if (seam_tokenizer_open(dir, &tok, &err)) { cli_error("%s", err.message); goto out; }
    if (jsonl) rc = run_jsonl(tok);
    else if (decode) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (!cli_parse_ids("--decode", decode, &ids, &n)) goto out;
        for (size_t i = 0; i < n; i++)
            if (!seam_token_bytes(tok, ids[i], &(size_t){0})) { free(ids); cli_error("--decode: unknown token id %d", (int)ids[i]); goto out; }
        size_t need = seam_detokenize(tok, ids, n, NULL, 0);
        char *buf = malloc(need + 1);
        if (!buf) { free(ids); cli_error("out of memory"); goto out; }
        seam_detokenize(tok, ids, n, buf, need + 1);
        fwrite(buf, 1, need, stdout);
        putchar('\n');
        free(buf);
        free(ids);
        rc = 0;
    } else {
        int32_t *ids = NULL;
        size_t cap = 0, n = 0;
        if (tokenize_all(tok, text, strlen(text), &ids, &cap, &n)) {
            for (size_t i = 0; i < n; i++) printf("%s%d", i ? "," : "", (int)ids[i]);
            putchar('\n');
            rc = 0;
        }
        free(ids);
    }
out:
    seam_tokenizer_close(tok);
    free(dir);
    return rc;
}
