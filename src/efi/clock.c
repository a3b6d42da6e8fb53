/* clock.c - time in milliseconds from the TSC. At start we count TSC ticks across BS->Stall(20 ms); the firmware
 * promises Stall waits at least that long, so the rate can only come out a little low (times a little long).
 * Under QEMU TCG the TSC follows the host's clock, so the numbers are wall-clock numbers there too. Firmware's
 * GetTime() only has one-second resolution on most machines, which is why it is not used.
 * On AArch64 the counter is the generic timer (cpu.h), whose rate the firmware states in CNTFRQ_EL0 (62.5 MHz under
 * QEMU, 24 MHz or 1 GHz on boards): no calibration, and times are converted from the rate in kHz, since whole ticks
 * per microsecond would round 62.5 down to 62. */
#include "efisys.h"
#include "cpu.h"

static uint64_t tsc_per_us = 1, tsc_khz, tsc_start;
static int rate_stated; /* the CPU told us its counter's rate (AArch64) */

static uint64_t rdtsc(void) { return cpu_counter(); }

void clock_init(void)
{
    uint64_t hz = cpu_counter_hz();
    if (hz >= 1000000) {
        rate_stated = 1;
        tsc_khz = hz / 1000;
        tsc_per_us = hz / 1000000;
        tsc_start = rdtsc();
        return;
    }
    uint64_t t0 = rdtsc();
    g_bs->Stall(20000);
    uint64_t t1 = rdtsc();
    tsc_khz = (t1 - t0) / 20;
    tsc_per_us = (t1 - t0) / 20000;
    if (tsc_per_us == 0)
        tsc_per_us = 1;
    tsc_start = t1;
}

uint64_t clock_us(void)
{
    uint64_t t = rdtsc() - tsc_start;
    if (rate_stated) /* whole ms, then the rest: t * 1000 could overflow, (t % khz) * 1000 cannot */
        return t / tsc_khz * 1000 + t % tsc_khz * 1000 / tsc_khz;
    return t / tsc_per_us;
}
uint64_t clock_tsc_khz(void) { return tsc_khz; }
/* tsc_start is 20 ms after efi_main began (the calibration), or efi_main's start when the rate was stated */
uint64_t clock_firmware_ms(void)
{
    if (rate_stated)
        return tsc_start / tsc_khz;
    uint64_t ms = tsc_start / tsc_per_us / 1000;
    return ms > 20 ? ms - 20 : 0;
}
uint64_t clock_ms(void) { return clock_us() / 1000; }
