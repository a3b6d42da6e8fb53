/* cpu.h - the few CPU instructions the UEFI side uses outside the core, for x86-64 and AArch64: a free-running
 * counter for the clock and the spin-wait hint for the AP loops. Everything x86-only (CR4, XCR0, CPUID) stays in
 * the file that needs it behind #if defined(__x86_64__), with its AArch64 counterpart or a note why none is needed. */
#ifndef EFICHAT_EFI_CPU_H
#define EFICHAT_EFI_CPU_H

#include <stdint.h>

#if defined(__x86_64__)
static inline uint64_t cpu_counter(void) /* the TSC */
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
static inline uint64_t cpu_counter_hz(void) { return 0; } /* unknown: clock.c calibrates it against Stall() */
static inline void cpu_relax(void) { __asm__ volatile("pause"); }
#elif defined(__aarch64__)
/* The generic timer's virtual count; the architecture guarantees it is enabled for EL1 and EL2, where UEFI runs. */
static inline uint64_t cpu_counter(void)
{
    uint64_t v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v)); /* isb: not read ahead of the code before it */
    return v;
}
static inline uint64_t cpu_counter_hz(void) /* CNTFRQ_EL0, set by firmware; 0 on one that did not */
{
    uint64_t v;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
    return v;
}
static inline void cpu_relax(void) { __asm__ volatile("yield"); }
#else
#error "efichat's UEFI app is built for x86-64 and AArch64"
#endif

#endif
