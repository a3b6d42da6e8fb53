/* replay.c - runs every file of a committed corpus through one harness, without libFuzzer, so `make test`
 * proves the seeds still pass under ASan/UBSan. Built once per target with FUZZ_TARGET and FUZZ_CORPUS defined.
 * Prints 'PASS: fuzz <target> corpus (<n> inputs)', or a FAIL line naming the input that broke.
 * With arguments it replays those files instead (a crash file from `make fuzz`, say). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sanitizer/common_interface_defs.h>

#include "fuzz.h"

static const char *current = "(none)"; /* the input being replayed, for the FAIL line of a crash */

static void say_crash(void)
{
    printf("FAIL: fuzz %s corpus: %s crashed (the report above says how)\n", FUZZ_TARGET, current);
    fflush(stdout);
}

/* FUZZ_CHECK and UBSan abort; ASan reports end through the death callback. Each names the input. */
static void on_abort(int sig)
{
    (void)sig;
    say_crash();
    _exit(1);
}

/* UBSan ends the program without calling the death callback: make it abort, so on_abort names the input. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "abort_on_error=1:print_stacktrace=1"; }

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    /* An exact-size copy, as libFuzzer hands it: ASan then sees a read one byte past the end. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    current = path;
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    signal(SIGABRT, on_abort);
    __sanitizer_set_death_callback(say_crash);
    char *paths[4096];
    int n = 0;
    if (argc > 1) {
        for (int i = 1; i < argc && n < 4096; i++)
            paths[n++] = argv[i];
    } else {
        DIR *d = opendir(FUZZ_CORPUS);
        if (!d) {
            printf("FAIL: fuzz %s corpus: cannot open %s (run from the repository root)\n", FUZZ_TARGET, FUZZ_CORPUS);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d)) && n < 4096) {
            if (e->d_name[0] == '.')
                continue;
            size_t len = strlen(FUZZ_CORPUS) + strlen(e->d_name) + 2;
            paths[n] = malloc(len);
            snprintf(paths[n], len, "%s/%s", FUZZ_CORPUS, e->d_name);
            struct stat st;
            if (stat(paths[n], &st) == 0 && S_ISREG(st.st_mode))
                n++;
            else
                free(paths[n]);
        }
        closedir(d);
        qsort(paths, n, sizeof paths[0], by_name);
    }
    if (n == 0) {
        printf("FAIL: fuzz %s corpus: no inputs in %s\n", FUZZ_TARGET, FUZZ_CORPUS);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (replay_file(paths[i]) != 0) {
            printf("FAIL: fuzz %s corpus: cannot read %s\n", FUZZ_TARGET, paths[i]);
            return 1;
        }
    }
    printf("PASS: fuzz %s corpus (%d inputs)\n", FUZZ_TARGET, n);
    for (int i = 0; argc == 1 && i < n; i++)
        free(paths[i]);
    return 0;
}
