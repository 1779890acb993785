/* The `seam` subcommands and the helpers they share. Each cmd_* takes the argv that starts
 * at the subcommand's own name and returns the process exit status. */
#ifndef SEAM_CLI_COMMANDS_H
#define SEAM_CLI_COMMANDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_split(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_edge(int argc, char **argv);

/* -m argument → model folder: an existing folder, else a hub id pulled into the cache.
 * Prints the error itself; returns 0 on success. */
int cli_resolve_model(const char *arg, char **out_dir);

/* One-line error on stderr ("seam: error: ..."); returns 1 for `return cli_error(...)`. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict number parsing for option values; print an error naming the option on failure. */
int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_float(const char *opt, const char *s, double lo, double hi, double *out);
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);
/* "15496,11,995" → malloc'd ids. */
int cli_parse_ids(const char *opt, const char *s, int32_t **ids, size_t *n);

/* An option's value: argv[*i + 1], advancing *i; prints an error when it is missing. */
const char *cli_value(int argc, char **argv, int *i);

/* Streams token bytes to f as valid UTF-8: holds back an incomplete trailing sequence
 * until the next token completes it, and replaces invalid bytes with U+FFFD. */
typedef struct {
    unsigned char pending[8];
    size_t n;
} utf8_stream;
void utf8_stream_write(utf8_stream *s, FILE *f, const char *bytes, size_t len);
void utf8_stream_flush(utf8_stream *s, FILE *f);

#endif
