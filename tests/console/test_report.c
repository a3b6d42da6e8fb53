/* test_report.c - the text of \efichat\report.txt from a set of facts: the whole report compared line by line with
 * one written out here by hand, then the variants (no reply yet, text console, unknown cores, no brand, more modes
 * than listed, UEFI revision spellings) and a buffer too small to hold it. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "chat/report.h"

static char out[REPORT_TEXT_MAX];

static void facts_qemu(ReportFacts *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->fw_vendor, "EDK II");
    r->fw_revision = 0x10000;
    r->uefi_revision = 2u << 16 | 70;
    r->secure_boot = "off";
    strcpy(r->cpu_brand, "QEMU Virtual CPU version 2.5+");
    r->cpu_has = CPU_SSE2 | CPU_AVX | CPU_AVX2;
    r->cpu_used = CPU_SSE2 | CPU_AVX2;
    r->kernel = "q8";
    r->cores = 2;
    r->cores_enabled = 2;
    r->tsc_khz = 2995123;
    r->memory_kib = 503 * 1024 + 512;
    r->graphics = 1;
    r->mode_count = r->n_modes = 3;
    r->modes[0] = (ReportMode){640, 480, "BGR"};
    r->modes[1] = (ReportMode){800, 600, NULL};
    r->modes[2] = (ReportMode){1280, 800, "BGR"};
    r->mode = 2;
    r->width = 1280;
    r->height = 800;
    r->format = "BGR";
    r->flush = "framebuffer";
    strcpy(r->inputs_found, "SimpleTextInputEx, SimpleTextInput");
    r->keys_from = "SimpleTextInputEx";
    r->firmware_ms = 4210;
    r->startup_ms = 812;
    r->model_name = "shakespeare-4L256";
    r->params = 3214592;
    r->ctx = 256;
    r->replies = 1;
    r->reply_tokens = 57;
    r->reply_ms = 1234;
    r->tok_s_tenths = 523;
}

static const char *const want_qemu =
    "efichat report: what efichat found on this machine\r\n"
    "firmware: EDK II revision 0x00010000\r\n"
    "uefi: 2.7\r\n"
    "secure_boot: off\r\n"
    "cpu: QEMU Virtual CPU version 2.5+\r\n"
    "cpu_features: SSE2 AVX AVX2\r\n"
    "cpu_features_used: SSE2 AVX2 (kernel q8)\r\n"
    "cores: 2 (2 enabled)\r\n"
    "tsc_mhz: 2995.123\r\n"
    "memory_mib: 503 (conventional + loader memory in the memory map at start)\r\n"
    "screen: 1280x800 mode=2 format=BGR flush=framebuffer\r\n"
    "gop_modes: 3\r\n"
    "gop_mode 0: 640x480 BGR\r\n"
    "gop_mode 1: (QueryMode failed)\r\n"
    "gop_mode 2: 1280x800 BGR (chosen)\r\n"
    "input_found: SimpleTextInputEx, SimpleTextInput\r\n"
    "input_keys_from: SimpleTextInputEx\r\n"
    "boot_ms: firmware=4210 efichat=812\r\n"
    "model: shakespeare-4L256 params=3214592 ctx=256\r\n"
    "first_reply: tokens=57 ms=1234\r\n"
    "tokens_per_s: 52.3\r\n";

/* The first line where a and b differ, for the failure message. */
static void first_difference(const char *a, const char *b, char *why, size_t n)
{
    size_t i = 0, line = 1, start = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '\n')
            line++, start = i + 1;
        i++;
    }
    snprintf(why, n, "line %zu: got '%.60s', want '%.60s'", line, a + start, b + start);
}

static void check_text(const char *name, const ReportFacts *r, const char *want)
{
    size_t n = report_compose(r, out, sizeof out);
    char why[200] = "";
    if (strcmp(out, want) != 0)
        first_difference(out, want, why, sizeof why);
    check_case(n == strlen(want) && strcmp(out, want) == 0, name, "%s (length %zu)", why, n);
}

/* Does the report hold this exact line? */
static int has_line(const char *line)
{
    char buf[256];
    snprintf(buf, sizeof buf, "\n%s\r\n", line);
    return strstr(out, buf) != NULL;
}

int main(void)
{
    ReportFacts r;
    facts_qemu(&r);
    check_text("report_full_text", &r, want_qemu);

    facts_qemu(&r);
    r.sse_was_off = 1;
    report_compose(&r, out, sizeof out);
    check_case(has_line("cpu_sse: off at start (CR4.OSFXSR clear), switched on by efichat") &&
                   strstr(out, "cpu_features_used: SSE2 AVX2 (kernel q8)\r\ncpu_sse: off") != NULL,
               "report_sse_switched_on_by_efichat", "%s", out);

    facts_qemu(&r);
    r.replies = 0;
    r.keys_from = NULL;
    report_compose(&r, out, sizeof out);
    check_case(has_line("first_reply: none yet") && has_line("tokens_per_s: none yet") &&
                   has_line("input_keys_from: none yet"),
               "report_before_the_first_reply", "%s", out);

    facts_qemu(&r);
    r.graphics = 0;
    r.cores = r.cores_enabled = -1;
    r.cpu_brand[0] = 0;
    r.fw_vendor[0] = 0;
    r.cpu_has = r.cpu_used = 0;
    r.random_model = 1;
    report_compose(&r, out, sizeof out);
    check_case(has_line("screen: none (text console)") && !strstr(out, "gop_mode") &&
                   has_line("cores: unknown (no MP Services protocol)") && has_line("cpu: (no brand string)") &&
                   has_line("firmware: (no vendor) revision 0x00010000") && has_line("cpu_features: none") &&
                   has_line("model: shakespeare-4L256 params=3214592 ctx=256 (random test model)"),
               "report_text_console_and_unknowns", "%s", out);

    facts_qemu(&r);
    r.mode_count = 200;
    r.n_modes = REPORT_MODES_MAX;
    for (uint32_t i = 0; i < REPORT_MODES_MAX; i++)
        r.modes[i] = (ReportMode){7680, 4320, "bitmask"};
    size_t n = report_compose(&r, out, sizeof out);
    check_case(has_line("gop_modes: 200 (first 128 listed)") && has_line("gop_mode 127: 7680x4320 bitmask") &&
                   has_line("tokens_per_s: 52.3") && n < sizeof out - 1,
               "report_128_modes_fit", "length %zu", n);

    facts_qemu(&r);
    r.uefi_revision = 2u << 16 | 31;
    report_compose(&r, out, sizeof out);
    int ok231 = has_line("uefi: 2.3.1");
    r.uefi_revision = 1u << 16 | 10;
    report_compose(&r, out, sizeof out);
    check_case(ok231 && has_line("uefi: 1.1"), "report_uefi_revision_spelling", "%s", out);

    facts_qemu(&r);
    char small[40];
    memset(small, 'x', sizeof small);
    n = report_compose(&r, small, 32);
    check_case(n == 31 && small[31] == 0 && small[32] == 'x' && strncmp(small, want_qemu, 31) == 0,
               "report_cut_short_in_a_small_buffer", "length %zu", n);
    return check_exit();
}
