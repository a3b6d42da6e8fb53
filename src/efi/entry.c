/* entry.c - the first code of efichat: switches SSE on, then runs efichat_main (main.c). Built with
 * -mgeneral-regs-only (mk/efi.mk) and tested to hold no SSE instruction (tests/efi/test_pe.py), because everything
 * else, the core included, is compiled for SSE2 and would fault if it ran first.
 * Why: U-Boot's UEFI on x86_64 starts images with CR4.OSFXSR clear, so the first SSE instruction raises #UD and the
 * machine resets in a loop. The UEFI spec asks x64 firmware to have SSE enabled; EDK II does, U-Boot does not. */
#include "efisys.h"

/* Returns 1 when SSE had to be switched on (the firmware had left it off). */
static int sse_enable(void)
{
    uint64_t cr0, cr4;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    const uint64_t cr0_em = 1ull << 2, cr0_mp = 1ull << 1, cr0_ts = 1ull << 3;
    const uint64_t cr4_osfxsr = 1ull << 9, cr4_osxmmexcpt = 1ull << 10;
    int was_off = (cr0 & (cr0_em | cr0_ts)) || !(cr4 & cr4_osfxsr);
    if (!was_off)
        return 0;
    cr0 = (cr0 & ~(cr0_em | cr0_ts)) | cr0_mp; /* no x87 emulation, no lazy-switch trap */
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
    cr4 |= cr4_osfxsr | cr4_osxmmexcpt;        /* SSE instructions and their exceptions */
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
    uint32_t mxcsr = 0x1F80;                   /* the reset value: round to nearest, all exceptions masked */
    __asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
    return 1;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    int sse_was_off = sse_enable();
    firmware_init(st);
    return efichat_main(image, st, sse_was_off);
}
