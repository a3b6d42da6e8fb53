/* clock.c - time in milliseconds from the TSC. At start we count TSC ticks across BS->Stall(20 ms); the firmware
 * promises Stall waits at least that long, so the rate can only come out a little low (times a little long).
 * Under QEMU TCG the TSC follows the host's clock, so the numbers are wall-clock numbers there too. Firmware's
 * GetTime() only has one-second resolution on most machines, which is why it is not used. */
#include "efisys.h"

static uint64_t tsc_per_us = 1, tsc_khz, tsc_start;

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

void clock_init(void)
{
    uint64_t t0 = rdtsc();
    g_bs->Stall(20000);
    uint64_t t1 = rdtsc();
    tsc_khz = (t1 - t0) / 20;
    tsc_per_us = (t1 - t0) / 20000;
    if (tsc_per_us == 0)
        tsc_per_us = 1;
    tsc_start = t1;
}

uint64_t clock_us(void) { return (rdtsc() - tsc_start) / tsc_per_us; }
uint64_t clock_tsc_khz(void) { return tsc_khz; }
/* tsc_start is 20 ms after efi_main began (the calibration) */
uint64_t clock_firmware_ms(void)
{
    uint64_t ms = tsc_start / tsc_per_us / 1000;
    return ms > 20 ? ms - 20 : 0;
}
uint64_t clock_ms(void) { return clock_us() / 1000; }
