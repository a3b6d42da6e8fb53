/* report.c - \efichat\report.txt as text (see report.h). One "key: value" per line, so that both a person and a
 * script can read it; the keys never change meaning (docs/console.md lists them). Freestanding. */
#include "report.h"
#include "fmt.h"

static void line_end(Fmt *f) { fmt_str(f, "\r\n"); }

static void key(Fmt *f, const char *k)
{
    fmt_str(f, k);
    fmt_str(f, ": ");
}

static void cpu_list(Fmt *f, uint32_t set)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{CPU_SSE2, "SSE2"}, {CPU_AVX, "AVX"}, {CPU_AVX2, "AVX2"}, {CPU_AVX512F, "AVX-512"}, {CPU_AVX512VNNI, "VNNI"}};
    int any = 0;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(set & names[i].bit))
            continue;
        if (any)
            fmt_char(f, ' ');
        fmt_str(f, names[i].name);
        any = 1;
    }
    if (!any)
        fmt_str(f, "none");
}

static void revision(Fmt *f, uint32_t rev)
{
    /* UEFI 2.70 is 0x00020046: minor 70 prints as "2.7", minor 31 as "2.3.1" (the spec's own rule) */
    uint32_t minor = rev & 0xFFFF;
    fmt_u64(f, rev >> 16);
    fmt_char(f, '.');
    fmt_u64(f, minor / 10);
    if (minor % 10) {
        fmt_char(f, '.');
        fmt_u64(f, minor % 10);
    }
}

static void hex32(Fmt *f, uint32_t v)
{
    fmt_str(f, "0x");
    for (int s = 28; s >= 0; s -= 4)
        fmt_char(f, "0123456789abcdef"[(v >> s) & 0xF]);
}

static void screen_lines(Fmt *f, const ReportFacts *r)
{
    key(f, "screen");
    if (!r->graphics) {
        fmt_str(f, "none (text console)");
        line_end(f);
        return;
    }
    fmt_u64(f, r->width);
    fmt_char(f, 'x');
    fmt_u64(f, r->height);
    fmt_str(f, " mode=");
    fmt_u64(f, r->mode);
    fmt_str(f, " format=");
    fmt_str(f, r->format ? r->format : "?");
    fmt_str(f, " flush=");
    fmt_str(f, r->flush ? r->flush : "?");
    line_end(f);
    key(f, "gop_modes");
    fmt_u64(f, r->mode_count);
    if (r->n_modes < r->mode_count) {
        fmt_str(f, " (first ");
        fmt_u64(f, r->n_modes);
        fmt_str(f, " listed)");
    }
    line_end(f);
    for (uint32_t i = 0; i < r->n_modes; i++) {
        fmt_str(f, "gop_mode ");
        fmt_u64(f, i);
        fmt_str(f, ": ");
        if (r->modes[i].format) {
            fmt_u64(f, r->modes[i].w);
            fmt_char(f, 'x');
            fmt_u64(f, r->modes[i].h);
            fmt_char(f, ' ');
            fmt_str(f, r->modes[i].format);
        } else {
            fmt_str(f, "(QueryMode failed)");
        }
        if (i == r->mode)
            fmt_str(f, " (chosen)");
        line_end(f);
    }
}

size_t report_compose(const ReportFacts *r, char *out, size_t cap)
{
    Fmt f;
    fmt_init(&f, out, cap);
    fmt_str(&f, "efichat report: what efichat found on this machine");
    line_end(&f);

    key(&f, "firmware");
    fmt_str(&f, r->fw_vendor[0] ? r->fw_vendor : "(no vendor)");
    fmt_str(&f, " revision ");
    hex32(&f, r->fw_revision);
    line_end(&f);
    key(&f, "uefi");
    revision(&f, r->uefi_revision);
    line_end(&f);
    key(&f, "secure_boot");
    fmt_str(&f, r->secure_boot ? r->secure_boot : "unknown");
    line_end(&f);

    key(&f, "cpu");
    fmt_str(&f, r->cpu_brand[0] ? r->cpu_brand : "(no brand string)");
    line_end(&f);
    key(&f, "cpu_features");
    cpu_list(&f, r->cpu_has);
    line_end(&f);
    key(&f, "cpu_features_used");
    cpu_list(&f, r->cpu_used);
    fmt_str(&f, " (kernel ");
    fmt_str(&f, r->kernel ? r->kernel : "?");
    fmt_char(&f, ')');
    line_end(&f);
    if (r->sse_was_off) {
        key(&f, "cpu_sse");
        fmt_str(&f, "off at start (CR4.OSFXSR clear), switched on by efichat");
        line_end(&f);
    }
    key(&f, "cores");
    if (r->cores < 0) {
        fmt_str(&f, "unknown (no MP Services protocol)");
    } else {
        fmt_u64(&f, (uint64_t)r->cores);
        fmt_str(&f, " (");
        fmt_u64(&f, (uint64_t)(r->cores_enabled < 0 ? 0 : r->cores_enabled));
        fmt_str(&f, " enabled)");
    }
    line_end(&f);
    key(&f, "tsc_mhz");
    fmt_fixed(&f, r->tsc_khz, 3);
    line_end(&f);
    key(&f, "memory_mib");
    fmt_u64(&f, r->memory_kib / 1024);
    fmt_str(&f, " (conventional + loader memory in the memory map at start)");
    line_end(&f);

    screen_lines(&f, r);

    key(&f, "input_found");
    fmt_str(&f, r->inputs_found[0] ? r->inputs_found : "none");
    line_end(&f);
    key(&f, "input_keys_from");
    fmt_str(&f, r->keys_from ? r->keys_from : "none yet");
    line_end(&f);

    key(&f, "boot_ms");
    fmt_str(&f, "firmware=");
    fmt_u64(&f, r->firmware_ms);
    fmt_str(&f, " efichat=");
    fmt_u64(&f, r->startup_ms);
    line_end(&f);

    key(&f, "model");
    fmt_str(&f, r->model_name ? r->model_name : "?");
    fmt_str(&f, " params=");
    fmt_u64(&f, r->params);
    fmt_str(&f, " ctx=");
    fmt_u64(&f, r->ctx);
    if (r->random_model)
        fmt_str(&f, " (random test model)");
    line_end(&f);
    key(&f, "first_reply");
    if (r->replies == 0) {
        fmt_str(&f, "none yet");
    } else {
        fmt_str(&f, "tokens=");
        fmt_u64(&f, r->reply_tokens);
        fmt_str(&f, " ms=");
        fmt_u64(&f, r->reply_ms);
    }
    line_end(&f);
    key(&f, "tokens_per_s");
    if (r->replies == 0)
        fmt_str(&f, "none yet");
    else
        fmt_fixed(&f, r->tok_s_tenths, 1);
    line_end(&f);
    return f.len;
}
