/* efisys.h - what the UEFI side of efichat shares between its files: firmware tables, pool memory, the clock and
 * the serial mirror. Only files under src/efi/, src/input/efi_*.c and src/gop/efi_*.c include UEFI headers. */
#ifndef EFICHAT_EFISYS_H
#define EFICHAT_EFISYS_H

#include <efi.h>
#include <stddef.h>
#include <stdint.h>

/* ---- firmware.c: the firmware's tables (set by firmware_init, from efi_main, before anything else) */
extern EFI_SYSTEM_TABLE *g_st;
extern EFI_BOOT_SERVICES *g_bs;
void firmware_init(EFI_SYSTEM_TABLE *st);

/* Pool memory (EfiLoaderData); NULL when the firmware has none left. */
void *efi_alloc(size_t bytes);
void efi_free(void *p);

/* ---- clock.c: milliseconds from the TSC, calibrated against the firmware's Stall() at start. */
void clock_init(void);
uint64_t clock_ms(void);
uint64_t clock_us(void);
uint64_t clock_tsc_khz(void);
/* The TSC when efi_main began, in ms: roughly how long the firmware ran since power-on or reset. */
uint64_t clock_firmware_ms(void);

/* ---- mirror.c: the plain-text copy of the conversation and the "efichat: ..." lines for headless use and tests.
 * With a graphical screen it writes the serial port directly (never ConOut, whose graphics console would paint
 * over our screen); without one it writes ConOut, which the firmware routes to serial and any text screen. */
void mirror_init(int text_console);
void mirror_bytes(const char *s, size_t n); /* '\n' becomes CR LF */
void mirror_str(const char *s);
void mirror_line(const char *s);            /* starts a new line first when needed, ends with CR LF */
void mirror_line2(const char *head, const char *text); /* one line of head then text, e.g. "efichat: error: " */
int mirror_at_line_start(void);

/* ---- files.c: reads a whole file from the volume this image was loaded from. The buffer is pool memory
 * (8-byte aligned, as model_load needs 4) for the caller to free. EFI_NOT_FOUND when there is no such file,
 * EFI_BAD_BUFFER_SIZE (nothing read) when it is larger than max_bytes. */
EFI_STATUS file_read_all(EFI_HANDLE image, const CHAR16 *path, size_t max_bytes, uint8_t **out, size_t *len);
/* Writes data as the whole file on the same volume, then flushes and closes it. replace = 0: EFI_ACCESS_DENIED
 * (nothing written) when the file exists. EFI_WRITE_PROTECTED on read-only media, EFI_VOLUME_FULL on a full one. */
EFI_STATUS file_write_all(EFI_HANDLE image, const CHAR16 *path, const void *data, size_t len, int replace);
/* EFI_SUCCESS when path exists (file or directory), EFI_NOT_FOUND when not. */
EFI_STATUS file_exists(EFI_HANDLE image, const CHAR16 *path);
/* Creates the directory when it is not there yet (its parent must be). */
EFI_STATUS file_make_dir(EFI_HANDLE image, const CHAR16 *path);
/* "the boot volume is read-only", "... is full", ...: what a write failure means, for the one error line. */
const char *file_error_phrase(EFI_STATUS st);
/* The boot volume's root directory, open, for the caller to Close(); EFI_NOT_FOUND when the app was not started
 * from a file system. */
EFI_STATUS file_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root);

/* ---- memory.c: the firmware's memory map in KiB: free (EfiConventionalMemory) pages, plus the loader's own
 * (code and pool data, what efichat took) when loader_too; 0 when the map cannot be read. */
uint64_t memory_map_kib(int loader_too);
/* "efichat: memory free_kib=N ctx_slides=S" on the mirror (config memlog=1, after every reply line). */
void memory_log_line(uint32_t ctx_slides);

/* ---- main.c: the app, once entry.c's efi_main has switched SSE on (sse_was_off: the firmware had left it off). */
EFI_STATUS efichat_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st, int sse_was_off);

/* ---- secureboot.c: the firmware's Secure Boot state, read once at start. */
typedef struct {
    int known;      /* the SecureBoot variable exists */
    int on;         /* SecureBoot == 1: the firmware verifies what it starts */
    int setup_mode; /* SetupMode == 1: no platform key enrolled, nothing is enforced */
    int shim;       /* shim's SHIM_LOCK protocol is installed: shim verified and started us */
} SecureBootInfo;
void secureboot_query(SecureBootInfo *sb);
/* "on", "on, started by shim", "off", "off (setup mode: ...)", ...: one phrase (at most 40 characters) for the
 * help screen and the serial line. */
const char *secureboot_describe(const SecureBootInfo *sb);

#endif
