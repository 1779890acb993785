/* The `seam` command: a dispatcher over subcommands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "seam.h"

static const char usage[] =
    "usage: seam COMMAND [options]     (seam COMMAND --help for each)\n"
    "\n"
    "commands:\n"
    "  generate   generate text with a GPT-2 family model, streaming tokens\n"
    "  tokenize   text → token ids (one text, or JSON Lines)\n"
    "  embed      sentence embeddings with a BERT-family encoder (texts or JSON Lines)\n"
    "  quantize   write a copy of a model with q8 or q4 block-quantised weights\n"
    "  split      write a layer shard of a model (for split inference)\n"
    "  serve      serve a model over HTTP: split sessions, shards, completions, embeddings\n"
    "  edge       generate with a model split between a seam serve server and this machine\n"
    "  inspect    show a model's architecture, dtypes and tensors\n"
    "  pull       download a model from the Hugging Face hub into the cache\n"
    "  version    print the version\n"
    "\n"
    "MODEL arguments (-m) take a model folder or a hub id such as gpt2; a hub id is pulled\n"
    "into $SEAM_HOME (default ~/.cache/seam) the first time it is used.\n";

int main(int argc, char **argv) {
    if (argc < 2) { fputs(usage, stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) { fputs(usage, stdout); return 0; }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) { printf("seam %s\n", seam_version()); return 0; }
    static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
        {"generate", cmd_generate}, {"tokenize", cmd_tokenize}, {"inspect", cmd_inspect}, {"pull", cmd_pull}, {"embed", cmd_embed}, {"quantize", cmd_quantize},
        {"split", cmd_split}, {"serve", cmd_serve}, {"edge", cmd_edge},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(cmd, cmds[i].name)) return cmds[i].fn(argc - 1, argv + 1);
    return cli_error("unknown command '%s' (see seam --help)", cmd);
}
