/* `seam pull` and the -m model resolution shared by the other commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "seam_hub.h"

static const char pull_usage[] =
    "usage: seam pull REPO_ID [--revision REV] [--force]\n"
    "\n"
    "Downloads a model (config, tokenizer and safetensors weights) from the Hugging Face hub\n"
    "into the local cache and prints the model folder. REPO_ID is NAME or ORG/NAME, e.g.\n"
    "gpt2, distilgpt2, openai-community/gpt2-medium. Interrupted downloads resume.\n"
    "\n"
    "  --revision REV  branch, tag or commit (default: main)\n"
    "  --force         download every file again even if the model is cached\n"
    "  -h, --help      show this help\n"
    "\n"
    "Environment: SEAM_HOME (cache root, default ~/.cache/seam; models go to\n"
    "$SEAM_HOME/models/ORG--NAME/REV/), SEAM_HUB_URL (default https://huggingface.co),\n"
    "HF_TOKEN (for gated or private models), SEAM_OFFLINE=1 (no network),\n"
    "SEAM_HUB_RETRIES (default 2), SEAM_HUB_TIMEOUT (seconds without progress, default 30).\n";

static int fail(const char *msg) {
    fprintf(stderr, "seam: error: %s\n", msg);
    return 1;
}

int cmd_pull(int argc, char **argv) {
    const char *repo = NULL, *rev = NULL;
    int force = 0;
    char msg[300];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(pull_usage, stdout);
            return 0;
        } else if (strcmp(a, "--revision") == 0 || strcmp(a, "-r") == 0) {
            if (i + 1 >= argc) return fail("--revision needs a value (usage: seam pull REPO_ID [--revision REV])");
            rev = argv[++i];
        } else if (strncmp(a, "--revision=", 11) == 0) {
            rev = a + 11;
        } else if (strcmp(a, "--force") == 0) {
            force = 1;
        } else if (a[0] == '-' && a[1] != 0) {
            snprintf(msg, sizeof msg, "unknown option %.200s (see seam pull --help)", a);
            return fail(msg);
        } else if (repo) {
            snprintf(msg, sizeof msg, "unexpected argument %.200s: seam pull takes one REPO_ID", a);
            return fail(msg);
        } else {
            repo = a;
        }
    }
    if (!repo) return fail("missing REPO_ID (usage: seam pull REPO_ID [--revision REV])");
    seam_hub_options opt = seam_hub_default_options();
    opt.progress_bar = 1;
    opt.force = force;
    seam_error err = {SEAM_OK, ""};
    char *dir = NULL;
    if (seam_hub_pull(repo, rev, &opt, &dir, &err) != SEAM_OK) return fail(err.message);
    printf("%s\n", dir);
    free(dir);
    return fflush(stdout) == 0 ? 0 : 1;
}

int cli_resolve_model(const char *arg, char **out_dir) {
    seam_hub_options opt = seam_hub_default_options();
    opt.progress_bar = 1;
    seam_error err = {SEAM_OK, ""};
    *out_dir = NULL;
    if (seam_hub_resolve(arg, 1, &opt, out_dir, &err) != SEAM_OK) return fail(err.message);
    return 0;
}
