/* report.h - the text of \efichat\report.txt: what efichat found on this machine (firmware, CPU, memory, screen
 * modes, keyboards, timings, the model's speed), so a user can send it and the hardware table can be filled in.
 * The UEFI side (src/efi/report.c) gathers the facts; this file only turns them into text. Freestanding. */
#ifndef EFICHAT_REPORT_H
#define EFICHAT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_MODES_MAX 128
#define REPORT_TEXT_MAX 16384 /* enough for REPORT_MODES_MAX modes and every other line */

typedef struct {
    uint32_t w, h;
    const char *format; /* "BGR", "RGB", "bitmask", "Blt-only"; NULL: QueryMode failed */
} ReportMode;

enum report_cpu { CPU_SSE2 = 1, CPU_AVX = 2, CPU_AVX2 = 4, CPU_AVX512F = 8, CPU_AVX512VNNI = 16 };

typedef struct {
    /* firmware */
    char fw_vendor[64];     /* UTF-8, from the system table's FirmwareVendor */
    uint32_t fw_revision;
    uint32_t uefi_revision; /* major << 16 | minor, as in the system table header */
    const char *secure_boot;
    /* CPU and memory */
    char cpu_brand[49];     /* CPUID 0x80000002..4, blanks trimmed; empty when the CPU has no brand string */
    uint32_t cpu_has;       /* enum report_cpu: what the CPU (and the XSAVE state we enabled) offers */
    uint32_t cpu_used;      /* enum report_cpu: what the model's kernel runs */
    const char *kernel;     /* "sse2", "avx", "q8" */
    int sse_was_off;        /* the firmware started efichat with SSE off (U-Boot); efichat switched it on */
    int32_t cores, cores_enabled; /* -1: unknown (no MP Services protocol) */
    uint64_t tsc_khz;
    uint64_t memory_kib;    /* conventional + loader (ours) memory in the firmware's memory map at start */
    /* screen; graphics == 0: text console */
    int graphics;
    ReportMode modes[REPORT_MODES_MAX];
    uint32_t n_modes;       /* modes listed; mode_count may be larger */
    uint32_t mode_count;    /* GOP MaxMode */
    uint32_t mode;          /* the chosen mode */
    uint32_t width, height;
    const char *format, *flush;
    /* keyboards */
    char inputs_found[96];  /* e.g. "SimpleTextInputEx, SimpleTextInput, serial (VT100)" */
    const char *keys_from;  /* the source that delivered the first key; NULL: none yet */
    /* timings (ms) */
    uint64_t firmware_ms;   /* TSC at efi_main / TSC rate: roughly the time since power-on or reset */
    uint64_t startup_ms;    /* efi_main to the report at start */
    /* the model */
    const char *model_name;
    uint64_t params;
    uint32_t ctx;
    int random_model;
    /* the first reply; replies == 0: none yet */
    uint32_t replies;
    uint32_t reply_tokens;
    uint64_t reply_ms;
    uint32_t tok_s_tenths;
} ReportFacts;

/* Writes the report (CR LF line ends: it is read on Windows as often as not) into out[0..cap), NUL-terminated;
 * returns its length without the NUL. A cap below REPORT_TEXT_MAX may cut the text short. */
size_t report_compose(const ReportFacts *r, char *out, size_t cap);

#endif
