/* The network commands of a `make NET=0` build: seam without libcurl and libmicrohttpd
 * (a minimal install, or a machine that lacks their headers) keeps every local command
 * and answers these with a clear error instead of failing to link. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"

static int no_net(const char *what) {
    return cli_error("'%s' needs network support; this seam was built with NET=0 (rebuild after make deps: make)", what);
}

int cmd_pull(int argc, char **argv) { (void)argc; (void)argv; return no_net("pull"); }
int cmd_serve(int argc, char **argv) { (void)argc; (void)argv; return no_net("serve"); }
int cmd_edge(int argc, char **argv) { (void)argc; (void)argv; return no_net("edge"); }

/* Folders only: a hub id would need a download. */
int cli_resolve_model(const char *arg, char **out_dir) {
    struct stat st;
    *out_dir = NULL;
    if (stat(arg, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_error("model folder '%s' not found (hub ids need a build with network support)", arg);
    *out_dir = strdup(arg);
    return *out_dir ? 0 : cli_error("out of memory");
}
