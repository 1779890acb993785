/* seam serve: run a model behind HTTP for split sessions and shard downloads. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "seam.h"
#include "seam_net.h"


static const char usage[] =
    "usage: seam serve -m MODEL [options]\n"
    "\n"
    "Serves MODEL over HTTP for split inference (`seam edge`): split sessions whose KV cache\n"
    "covers the server's layers, and layer shards for edges to download. Prints the URL on\n"
    "stdout once listening; stops on SIGINT or SIGTERM.\n"
    "\n"
    "  -m, --model MODEL        whole model folder, or a hub id such as gpt2\n"
    "      --name NAME          model id in the API (default: the folder's name)\n"
    "      --host ADDR          address to bind (default 127.0.0.1; 0.0.0.0 exposes it)\n"
    "      --port P             port (default 8080; 0 picks a free one)\n"
    "      --api-key KEY        require \"Authorization: Bearer KEY\" on every route\n"
    "                           (default: env SEAM_API_KEY; none when unset)\n"
    "      --threads N          HTTP worker threads (default 4)\n"
    "      --compute-threads N  threads per forward pass (default 1)\n"
    "      --max-sessions N     most split sessions at once (default 64; more get 503)\n"
    "      --session-ttl S      seconds a session may stay idle before it is freed (default 300)\n"
    "      --max-context N      largest context a session may ask for (default: n_positions)\n"
    "      --max-body BYTES     largest request body (default 67108864; more get 413)\n"
    "      --cache-dir DIR      where built shards are kept (default $SEAM_HOME/serve-cache)\n"
    "      --allow-uploads      accept resumable model uploads (PUT /v1/uploads/NAME/FILE?offset=N,\n"
    "                           POST /v1/uploads/NAME/commit with every file's sha256)\n"
    "      --upload-dir DIR     uploads in progress (default $SEAM_HOME/uploads)\n"
    "      --models-dir DIR     where committed uploads are installed (default $SEAM_HOME/models-uploaded)\n"
    "      --web DIR            also serve DIR's files (the demo page: build/web) at /, with the\n"
    "                           COOP/COEP headers that make it cross-origin isolated (threads)\n"
    "      --quiet              do not log requests on stderr\n"
    "      --exit-after S       stop by itself after S seconds (tests, CI)\n"
    "  -h, --help               show this help\n";

int cmd_serve(int argc, char **argv) {
    seam_server_options o = seam_server_default_options();
    const char *model = NULL;
    long port = 8080, exit_after = 0, v;
    o.log_requests = 1;
    o.api_key = getenv("SEAM_API_KEY");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *s;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); return 0; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) { if (!(model = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--name")) { if (!(o.model_name = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--host")) { if (!(o.host = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--api-key")) { if (!(o.api_key = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--cache-dir")) { if (!(o.cache_dir = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--web")) { if (!(o.web_dir = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--quiet")) o.log_requests = 0;
        else if (!strcmp(a, "--allow-uploads")) o.allow_uploads = 1;
        else if (!strcmp(a, "--upload-dir")) { if (!(o.upload_dir = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--models-dir")) { if (!(o.models_dir = cli_value(argc, argv, &i))) return 1; }
        else if (!strcmp(a, "--port")) { if (!(s = cli_value(argc, argv, &i)) || !cli_parse_int(a, s, 0, 65535, &port)) return 1; }
        else if (!strcmp(a, "--threads")) { if (!(s = cli_value(argc, argv, &i)) || !cli_parse_int(a, s, 1, 1024, &v)) return 1; o.threads = (int)v; }
        else if (!strcmp(a, "--compute-threads")) { if (!(s = cli_value(argc, argv, &i)) || !cli_parse_int(a, s, 1, 1024, &v)) return 1; o.compute_threads = (int)v; }
        else if (!strcmp(a, "--max-sessions")) { if (!(s = cli_value(argc, argv, &i)) || !cli_parse_int(a, s, 1, 100000, &v)) return 1; o.max_sessions = (int)v; }
        else if (!strcmp(a, "--session-ttl")) { if (!(s = cli_value(argc, argv, &i)) || !cli_parse_int(a, s, 1, 100000000, &v)) return 1; o.session_ttl_s = (int)v; }
        else if (!strcmp(a, "--max-context")) { if (!(s = cli_value(argc, argv, &i)) || !cli_parse_int(a, s, 1, 100000000, &v)) return 1; o.max_context = (int)v; }
        else if (!strcmp(a, "--max-body")) { if (!(s = cli_value(argc, argv, &i)) || !cli_parse_int(a, s, 1024, 1L << 40, &v)) return 1; o.max_body = (size_t)v; }
        else if (!strcmp(a, "--exit-after")) { if (!(s = cli_value(argc, argv, &i)) || !cli_parse_int(a, s, 1, 100000000, &exit_after)) return 1; }
        else return cli_error("serve: unknown option '%s' (see seam serve --help)", a);
    }
    if (!model) return cli_error("serve: -m MODEL is required (see seam serve --help)");
    o.port = (int)port;
    char *dir = NULL;
    if (cli_resolve_model(model, &dir)) return 1;
    o.model_dir = dir;
    /* A hub id names the model better than its cache folder (.../gpt2/main) would. */
    char name[129];
    struct stat st;
    if (!o.model_name && stat(model, &st) != 0) {
        size_t k = 0;
        for (const char *p = model; *p && k < sizeof name - 2; p++) {
            if (*p == '/') { name[k++] = '-'; name[k++] = '-'; }
            else name[k++] = *p;
        }
        name[k] = 0;
        o.model_name = name;
    }

    /* Signals are taken synchronously by this thread: block them before any thread starts
     * so the server's threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    seam_error err = {0};
    seam_server *sv = NULL;
    if (seam_server_start(&o, &sv, &err)) {
        free(dir);
        return cli_error("%s", err.message);
    }
    const char *host = o.host ? o.host : "127.0.0.1";
    int v6 = strchr(host, ':') != NULL;
    printf("http://%s%s%s:%d\n", v6 ? "[" : "", host, v6 ? "]" : "", seam_server_port(sv));
    fflush(stdout);
    fprintf(stderr, "seam serve: listening on http://%s%s%s:%d (model %s, fingerprint %.16s..., %s)\n", v6 ? "[" : "",
            host, v6 ? "]" : "", seam_server_port(sv), seam_server_model_name(sv), seam_server_fingerprint(sv),
            o.api_key && *o.api_key ? "API key required" : "no API key");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec wait = {1, 0};
        int sig = sigtimedwait(&set, NULL, &wait);
        if (sig == SIGINT || sig == SIGTERM) break;
        if (exit_after) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - start.tv_sec >= exit_after) {
                fprintf(stderr, "seam serve: --exit-after %ld s reached, stopping\n", exit_after);
                break;
            }
        }
    }
    seam_server_stop(sv);
    free(dir);
    return 0;
}
