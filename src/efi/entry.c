/* entry.c - the first code of efichat: switches SSE on (on AArch64: resets the FPCR), then runs efichat_main
 * (main.c). Built with -mgeneral-regs-only (mk/efi.mk) and tested to hold no SSE instruction (tests/efi/test_pe.py),
 * because everything else, the core included, is compiled for SSE2 and would fault if it ran first.
 * Why: U-Boot's UEFI on x86_64 starts images with CR4.OSFXSR clear, so the first SSE instruction raises #UD and the
 * machine resets in a loop. The UEFI spec asks x64 firmware to have SSE enabled; EDK II does, U-Boot does not. */
#include "efisys.h"

#if defined(__x86_64__)
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
#else
/* AArch64: UEFI's binding has FP/SIMD enabled (CPACR_EL1.FPEN) before an image runs, so NEON works from the first
 * instruction. What bit-identical sums still need is the FPCR at its reset value: round to nearest, no flush of
 * subnormals to zero, no default-NaN mode, no traps. The spec asks firmware for exactly that; this makes sure. */
static int sse_enable(void)
{
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    if (fpcr != 0)
        __asm__ volatile("msr fpcr, %0" : : "r"((uint64_t)0));
    return 0; /* "SSE was off" has no AArch64 meaning: nothing to report */
}
#endif

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    int sse_was_off = sse_enable();
    firmware_init(st);
    return efichat_main(image, st, sse_was_off);
}
