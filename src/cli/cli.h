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

/* Seconds on a monotonic clock. */
double now_s(void);

/* The 4-lane float kernel is SSE2 on x86-64 and NEON on AArch64 (the same bits: src/arch/vec4.h). */
#if defined(__aarch64__)
#define VEC4_NAME "neon"
#else
#define VEC4_NAME "sse2"
#endif

/* "" (the fastest this CPU has), "-sse2" ("-neon" on AArch64), "-avx2", "-vnni" or "-dot": the Q8 path (the same
 * numbers on each); -1 when the name is unknown or this CPU lacks the path. */
int q8_path_named(const char *suffix);

#endif
