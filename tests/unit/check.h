/* check.h - the host unit tests' tiny harness: one PASS/FAIL line per case (tests/run_tests.py counts them),
 * exit status 1 when any case failed. */
#ifndef EFICHAT_CHECK_H
#define EFICHAT_CHECK_H
#include <stdio.h>
#include <stdarg.h>

static int check_failures;

/* Reports one case: ok != 0 passes; on failure the printf-style reason follows the name. */
static void check_case(int ok, const char *name, const char *fmt, ...)
{
    if (ok) {
        printf("PASS: %s\n", name);
    } else {
        va_list ap;
        va_start(ap, fmt);
        printf("FAIL: %s: ", name);
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
        check_failures++;
    }
    fflush(stdout);
}

static int check_exit(void) { return check_failures ? 1 : 0; }
#endif
