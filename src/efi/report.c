/* report.c - gathers what the firmware and the CPU say about this machine and writes \efichat\report.txt on the
 * boot volume (the text itself comes from src/chat/report.c). Written once at start and again after the first
 * reply, when the model's speed and the keyboard that worked are known. Read-only media or a full stick give one
 * "efichat: error:" line and no further tries; the chat always goes on. Only reads firmware state. */
#include "app.h"
#include "llama_app.h"
#include "../kernels.h"
#include "../q8.h"
#include "../chat/fmt.h"
#include "../chat/report.h"
#include "mp.h"

static EFI_GUID ex_guid = EFI_SIMPLE_TEXT_INPUT_EX_PROTOCOL_GUID;
static EFI_GUID serial_guid = EFI_SERIAL_IO_PROTOCOL_GUID;

static const CHAR16 report_path[] = L"\\efichat\\report.txt";
#define REPORT_PATH_TEXT "\\efichat\\report.txt"

struct ReportState {
    ReportFacts facts;
    char text[REPORT_TEXT_MAX];
    int failed; /* a write failed: said once, not tried again */
};

#if defined(__x86_64__)
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static void cpu_facts(ReportFacts *f, const RunState *rs)
{
    uint32_t r[4], brand[12];
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000004u) {
        for (uint32_t i = 0; i < 3; i++)
            cpuid(0x80000002u + i, 0, brand + 4 * i);
        const char *b = (const char *)brand;
        size_t lo = 0, hi = 48;
        while (lo < hi && b[lo] == ' ')
            lo++;
        while (hi > lo && (b[hi - 1] == ' ' || b[hi - 1] == 0))
            hi--;
        fmt_copy(f->cpu_brand, b + lo, hi - lo);
        f->cpu_brand[hi - lo] = 0;
    }
    cpuid(1, 0, r);
    f->cpu_has = (r[3] >> 26) & 1 ? CPU_SSE2 : 0;
    if (kern_cpu_has_avx())
        f->cpu_has |= CPU_AVX;
    if (kern_cpu_has_avx2())
        f->cpu_has |= CPU_AVX2;
    cpuid(0, 0, r);
    if (r[0] >= 7) { /* AVX-512 Foundation and VNNI as CPUID says them (usable only with their XCR0 state) */
        cpuid(7, 0, r);
        if ((r[1] >> 16) & 1)
            f->cpu_has |= CPU_AVX512F;
        if ((r[1] >> 16) & 1 && (r[1] >> 30) & 1 && (r[2] >> 11) & 1)
            f->cpu_has |= CPU_AVX512VNNI;
    }
    int q8 = rs->kernel == KERNEL_Q8, wide = rs->kernel == KERNEL_AVX || (q8 && Q8_PATH_USES_AVX(rs->q8_path));
    f->cpu_used = CPU_SSE2 | (wide ? CPU_AVX : 0) | (q8 && Q8_PATH_USES_AVX(rs->q8_path) ? CPU_AVX2 : 0) |
                  (q8 && rs->q8_path == Q8_PATH_VNNI ? CPU_AVX512F | CPU_AVX512VNNI : 0);
    f->kernel = rs->kernel == KERNEL_AVX ? "avx" : rs->kernel == KERNEL_Q8 ? "q8" : "sse2";
}
#else
/* AArch64: no CPUID. The brand is the MIDR_EL1 implementer and part number (readable at EL1 and EL2); NEON is part
 * of the baseline, so the x86 feature bits stay empty. */
static void cpu_facts(ReportFacts *f, const RunState *rs)
{
    uint64_t midr;
    __asm__ volatile("mrs %0, midr_el1" : "=r"(midr));
    static const char hex[] = "0123456789abcdef";
    char b[] = "AArch64 MIDR 0x00000000";
    for (int i = 0; i < 8; i++)
        b[sizeof b - 2 - i] = hex[(midr >> (4 * i)) & 15];
    fmt_copy(f->cpu_brand, b, sizeof b);
    f->cpu_has = f->cpu_used = 0;
    f->kernel = rs->kernel == KERNEL_Q8 ? "q8" : "neon";
}
#endif

static void core_facts(ReportFacts *f)
{
    MpServices *mp = NULL;
    UINTN total = 0, enabled = 0;
    f->cores = f->cores_enabled = -1;
    if (!EFI_ERROR(g_bs->LocateProtocol(&mp_services_guid, NULL, (void **)&mp)) && mp &&
        !EFI_ERROR(mp->GetNumberOfProcessors(mp, &total, &enabled))) {
        f->cores = (int32_t)total;
        f->cores_enabled = (int32_t)enabled;
    }
}

static const char *pixel_format_name(EFI_GRAPHICS_PIXEL_FORMAT pf)
{
    switch (pf) {
    case PixelRedGreenBlueReserved8BitPerColor: return "RGB";
    case PixelBlueGreenRedReserved8BitPerColor: return "BGR";
    case PixelBitMask: return "bitmask";
    default: return "Blt-only";
    }
}

static void screen_facts(ReportFacts *f, const App *a)
{
    f->graphics = a->graphics;
    if (!a->graphics)
        return;
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = a->screen.gop;
    f->mode_count = gop->Mode->MaxMode;
    f->n_modes = f->mode_count < REPORT_MODES_MAX ? f->mode_count : REPORT_MODES_MAX;
    for (uint32_t i = 0; i < f->n_modes; i++) {
        EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
        UINTN size;
        f->modes[i].format = NULL;
        if (!EFI_ERROR(gop->QueryMode(gop, i, &size, &info))) {
            f->modes[i].w = info->HorizontalResolution;
            f->modes[i].h = info->VerticalResolution;
            f->modes[i].format = pixel_format_name(info->PixelFormat);
            efi_free(info);
        }
    }
    f->mode = a->screen.mode;
    f->width = a->screen.fb.width;
    f->height = a->screen.fb.height;
    f->format = a->screen.format;
    f->flush = a->screen.fb.video && !a->screen.fb.use_blt ? "framebuffer" : "blt";
}

/* Every text-input protocol there is, whether efichat reads it or not. */
static void input_facts(ReportFacts *f, const Input *in)
{
    Fmt m;
    fmt_init(&m, f->inputs_found, sizeof f->inputs_found);
    void *ex = NULL;
    if (g_st->ConsoleInHandle && !EFI_ERROR(g_bs->HandleProtocol(g_st->ConsoleInHandle, &ex_guid, &ex)) && ex)
        fmt_str(&m, in->ex ? "SimpleTextInputEx (read), " : "SimpleTextInputEx, ");
    if (g_st->ConIn)
        fmt_str(&m, in->in && !in->ex ? "SimpleTextInput (read), " : "SimpleTextInput, ");
    EFI_HANDLE *handles = NULL;
    UINTN n = 0;
    if (!EFI_ERROR(g_bs->LocateHandleBuffer(ByProtocol, &serial_guid, NULL, &n, &handles))) {
        fmt_u64(&m, n);
        fmt_str(&m, in->serial ? " SerialIo (read, VT100), " : " SerialIo, ");
        efi_free(handles);
    }
    if (m.len >= 2)
        m.buf[m.len -= 2] = 0; /* the last ", " */
    static const char *const names[] = {"SimpleTextInputEx", "SimpleTextInput", "serial (VT100)"};
    f->keys_from = NULL;
    for (uint32_t s = 0; s < 3; s++)
        if (in->delivered & (1u << s)) {
            f->keys_from = names[s];
            break;
        }
}

static void firmware_facts(ReportFacts *f)
{
    Fmt m;
    fmt_init(&m, f->fw_vendor, sizeof f->fw_vendor);
    for (const CHAR16 *v = g_st->FirmwareVendor; v && *v; v++) {
        char u[4];
        fmt_bytes(&m, u, utf8_encode(*v, u));
    }
    f->fw_revision = g_st->FirmwareRevision;
    f->uefi_revision = g_st->Hdr.Revision;
}

/* Writes the text; on the first failure says so once. */
static void write_report(App *a, struct ReportState *r)
{
    if (r->failed)
        return;
    size_t n = report_compose(&r->facts, r->text, sizeof r->text);
    EFI_STATUS st = file_make_dir(a->image, L"\\efichat");
    if (!EFI_ERROR(st))
        st = file_write_all(a->image, report_path, r->text, n, 1);
    if (EFI_ERROR(st)) {
        r->failed = 1;
        char buf[160];
        Fmt f;
        fmt_init(&f, buf, sizeof buf);
        fmt_str(&f, "cannot write " REPORT_PATH_TEXT ": ");
        fmt_str(&f, file_error_phrase(st));
        fmt_str(&f, "; the chat goes on without it");
        app_error(a, buf);
        return;
    }
    mirror_line("efichat: report written " REPORT_PATH_TEXT);
}

void report_start(App *a)
{
    struct ReportState *r = efi_alloc(sizeof *r);
    if (!r) {
        app_error(a, "out of memory for " REPORT_PATH_TEXT "; the chat goes on without it");
        return;
    }
    fmt_zero(r, sizeof *r);
    a->report = r;
    ReportFacts *f = &r->facts;
    firmware_facts(f);
    f->secure_boot = a->status.secure_boot;
    cpu_facts(f, &a->rs);
    f->sse_was_off = a->sse_was_off;
    core_facts(f);
    f->tsc_khz = clock_tsc_khz();
    f->memory_kib = memory_map_kib(1);
    screen_facts(f, a);
    input_facts(f, &a->input);
    f->firmware_ms = clock_firmware_ms();
    f->model_name = a->model.cfg.name;
    f->params = mf_param_count(&a->model.cfg);
    f->ctx = a->model.cfg.ctx;
    if (a->llama) { /* a Llama-family file runs */
        f->model_name = a->llama->name;
        f->params = llama_app_params(&a->llama->m.c);
        f->ctx = a->llama->m.c.ctx;
    }
    f->random_model = a->random_model;
    f->startup_ms = clock_ms();
    write_report(a, r);
}

void report_reply(App *a, uint32_t tokens, uint64_t ms)
{
    struct ReportState *r = a->report;
    if (!r || r->facts.replies++ > 0) /* only the first reply is written */
        return;
    r->facts.reply_tokens = tokens;
    r->facts.reply_ms = ms;
    r->facts.tok_s_tenths = a->status.tok_s_tenths;
    input_facts(&r->facts, &a->input);
    write_report(a, r);
}
