/* cli.h - the helpers efichat_cli.c shares with the command files beside it (llama_cmds.c): one-line fatal errors,
 * whole-file reads and --key value options. Host only. */
#ifndef EFICHAT_CLI_H
#define EFICHAT_CLI_H

#include <stddef.h>

typedef struct {
    const char *name;
    const char *value;
    int used;
} Opt;

/* "efichat-cli: <message>" on stderr, exit status 2. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* A whole regular file, 64-byte aligned; dies when it cannot. */
void *read_file(const char *path, size_t *len);
/* argv after the command: --key value pairs only; an unknown key dies. */
void parse_opts(int argc, char **argv, Opt *opts, int nopts);
const char *opt_str(Opt *o, int n, const char *name, const char *def);
/* A number in [lo, hi], def when absent; dies otherwise. */
double opt_num(Opt *o, int n, const char *name, double def, double lo, double hi);

#endif
