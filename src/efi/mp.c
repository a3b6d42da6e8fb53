/* mp.c - the model's work on every core, through the firmware's EFI_MP_SERVICES_PROTOCOL (PI spec, volume 2).
 * The core splits each step into n parts (model.h, ModelParallel); the BSP runs part 0 and each application
 * processor (AP) one other part. Results are the same bits for any core count, so this only changes speed.
 *
 * Rules for code that runs on an AP (mp_ap_main and everything it calls):
 *  - never call a boot service (the firmware is not reentrant on APs), never allocate, never print;
 *  - switch its own AVX state on (CR4.OSXSAVE and XCR0 are per core) before any AVX instruction;
 *  - touch only memory the BSP handed over (Mp, the model, the run state), with atomics for the handshake.
 * SSE itself is on when an AP starts: EDK II's MpInitLib gives every AP the BSP's CR0/CR4, and firmware without MP
 * Services (U-Boot) never runs this file.
 *
 * Workers are persistent while the model runs: each AP spins on a call word (a token is tens of microseconds of
 * work, far less than starting an AP), and all are parked (their procedure returns) before the app waits for keys,
 * so idle cores stay idle. A call has phases (a one-token step is one call: model.h, run_phases); every core goes
 * through them together, running its own part of a phase and then waiting until every part of it is done, which is
 * the barrier before the next. Each part is claimed (a compare-and-swap of the call's and phase's stamp) by whoever
 * runs it: its core, or a core that has waited MP_STEAL_US for it (after which that core takes the next unclaimed
 * parts of the call at once). So an AP that is late (a virtual CPU its host has not scheduled: under QEMU on a busy
 * machine -smp 2 ran 5x slower than -smp 1 while the BSP waited for it) costs a part's time, not a stall. An AP
 * that does not start within MP_START_US, or a firmware that refuses, leaves the work to the BSP: the parts then
 * run one after another on it, with the same results. */
#include "mp.h"
#include "cpu.h"

EFI_GUID mp_services_guid = {0x3fdda605, 0xa76e, 0x4f46, {0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08}};

#define MP_START_US 200000 /* an AP that has not checked in by then is not used */
#define MP_PARK_US 1000000  /* the longest wait for the firmware to report a parked AP done */
#define PROCESSOR_ENABLED_BIT 0x2
#define PROCESSOR_AS_BSP_BIT 0x1

static void xcr0_apply(uint64_t xcr0)
{
#if !defined(__x86_64__)
    (void)xcr0; /* AArch64: never called (mp->xcr0 stays 0); FP/SIMD is on in every core the firmware starts */
#else
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    if (!(cr4 & (1ull << 18))) {
        cr4 |= 1ull << 18;
        __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
    }
    __asm__ volatile("xsetbv" : : "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)), "c"(0));
#endif
}

#define MP_STEAL_US 20 /* a part unclaimed for this long is run by the core waiting for it */
#define MP_MAX_PHASES 65536u
#define STAMP(gen, k) ((gen) * MP_MAX_PHASES + (k)) /* later phases and calls: larger; gen >= 1, 0 is "none yet" */

/* Claims part i of phase k (stamp st) and runs it: 1; 0 when another core has. The task and arg are read after the
 * claim: the call cannot end (and the BSP rewrite them) while a claimed part is not done. */
static int mp_try_run(Mp *mp, unsigned i, unsigned k, uint64_t st)
{
    uint64_t c = __atomic_load_n(&mp->part[i].claimed, __ATOMIC_RELAXED);
    /* c > st: this core is behind, in a phase or a call that every part has left */
    if (c >= st || !__atomic_compare_exchange_n(&mp->part[i].claimed, &c, st, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return 0;
    if (mp->task)
        mp->task(mp->arg, i, mp->n);
    else
        mp->phase_task(mp->arg, k, i, mp->n);
    __atomic_store_n(&mp->part[i].done, st, __ATOMIC_RELEASE);
    return 1;
}

/* Word by word (a late core's copy may race with the BSP's: see below). */
static void mp_copy_inputs(ModelPhaseInputs *to, const ModelPhaseInputs *from)
{
    for (unsigned i = 0; i < MODEL_PHASE_INPUTS; i++) {
        __atomic_store_n(&to->at[i], __atomic_load_n(&from->at[i], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
        __atomic_store_n(&to->bytes[i], __atomic_load_n(&from->bytes[i], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    }
    __atomic_store_n(&to->period, __atomic_load_n(&from->period, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

/* Asks for the lines of phase k's input (model.h, ModelPhaseInputs) while the phase before it ends. A core late
 * for a call may copy mp->in while the BSP writes the next call's: it then asks for the wrong lines, no more. */
static void mp_prefetch_input(const ModelPhaseInputs *in, unsigned k)
{
    unsigned i = in->period ? k % in->period : 0;
    if (!in->period || i >= MODEL_PHASE_INPUTS)
        return;
    for (uint32_t b = 0; b < in->bytes[i]; b += 64)
        __builtin_prefetch((const char *)in->at[i] + b, 0, 3); /* never faults, whatever the address */
}

/* Core `self`'s share of call gen: in every phase its own part, then the wait for the others' (asking for the next
 * phase's input meanwhile). */
static void mp_take_part(Mp *mp, uint64_t gen, unsigned phases, unsigned self)
{
    int eager = 0; /* took a part from its core in this call: take the next unclaimed ones at once */
    ModelPhaseInputs in;
    mp_copy_inputs(&in, &mp->in);
    for (unsigned k = 0; k < phases; k++) {
        uint64_t st = STAMP(gen, k);
        mp_try_run(mp, self, k, st);
        for (unsigned i = 0; i < mp->n; i++) {
            int tried = i == self;
            uint64_t t0 = 0;
            for (unsigned spins = 0; __atomic_load_n(&mp->part[i].done, __ATOMIC_ACQUIRE) < st; spins++) {
                if (!tried && !eager && spins % 64 == 0) { /* the clock costs a few divisions: not every round */
                    uint64_t now = clock_us();
                    t0 = spins ? t0 : now;
                    eager = now - t0 >= MP_STEAL_US;
                }
                if (!tried && eager) {
                    tried = 1;
                    if (mp_try_run(mp, i, k, st))
                        break;
                    eager = 0; /* its core (or another one) has it */
                }
                if (k + 1 < phases)
                    mp_prefetch_input(&in, k + 1);
                cpu_relax();
            }
        }
    }
}

/* The procedure each AP runs from mp_wake to mp_park. */
static void EFIAPI mp_ap_main(void *arg)
{
    MpSlot *slot = arg;
    Mp *mp = slot->mp;
    if (mp->xcr0)
        xcr0_apply(mp->xcr0);
#if defined(__aarch64__)
    __asm__ volatile("msr fpcr, %0" : : "r"((uint64_t)0)); /* per core: the defaults entry.c makes sure of */
#endif
    uint64_t seen = __atomic_load_n(&mp->call, __ATOMIC_ACQUIRE) >> 16;
    __atomic_store_n(&slot->alive, 1, __ATOMIC_RELEASE);
    for (;;) {
        uint64_t c;
        while (((c = __atomic_load_n(&mp->call, __ATOMIC_ACQUIRE)) >> 16) == seen) {
            if (__atomic_load_n(&mp->park, __ATOMIC_ACQUIRE))
                return;
            cpu_relax();
        }
        seen = c >> 16;
        mp_take_part(mp, seen, (unsigned)(c & 0xffffu) + 1, slot->worker);
    }
}

unsigned mp_init(Mp *mp, unsigned max_workers)
{
    fmt_zero(mp, sizeof *mp);
    mp->workers = 1;
    if (max_workers <= 1 || EFI_ERROR(g_bs->LocateProtocol(&mp_services_guid, NULL, (void **)&mp->proto)) || !mp->proto)
        return 1;
    UINTN total = 0, enabled = 0;
    if (EFI_ERROR(mp->proto->GetNumberOfProcessors(mp->proto, &total, &enabled)))
        return 1;
#if defined(__x86_64__)
    /* The AVX state the BSP runs with: every AP gets the same XCR0. */
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    if (((c >> 27) & 1) && (cr4 & (1ull << 18))) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        mp->xcr0 = (uint64_t)hi << 32 | lo;
    }
#endif
    for (UINTN i = 0; i < total && mp->n_slots < MP_MAX_APS && mp->n_slots + 1 < max_workers; i++) {
        MP_PROCESSOR_INFO info;
        if (EFI_ERROR(mp->proto->GetProcessorInfo(mp->proto, i, &info)))
            continue;
        if ((info.StatusFlag & PROCESSOR_AS_BSP_BIT) || !(info.StatusFlag & PROCESSOR_ENABLED_BIT))
            continue;
        MpSlot *s = &mp->slots[mp->n_slots];
        s->mp = mp;
        s->number = i;
        s->worker = mp->n_slots + 1;
        if (EFI_ERROR(g_bs->CreateEvent(0, 0, NULL, NULL, &s->finished)))
            continue;
        mp->n_slots++;
    }
    if (mp->n_slots == 0)
        return 1;
    /* One trial start: the APs that check in are the workers from now on. */
    if (!mp_wake(mp)) {
        mp->n_slots = 0;
        return 1;
    }
    mp_park(mp);
    mp->workers = mp->n_slots + 1;
    return mp->workers;
}

int mp_wake(Mp *mp)
{
    if (mp->running || mp->n_slots == 0)
        return mp->running;
    __atomic_store_n(&mp->park, 0, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < mp->n_slots; i++) {
        MpSlot *s = &mp->slots[i];
        s->alive = 0;
        s->started = !EFI_ERROR(mp->proto->StartupThisAP(mp->proto, mp_ap_main, s->number, s->finished, 0, s,
                                                          NULL));
    }
    uint64_t t0 = clock_us();
    for (unsigned i = 0; i < mp->n_slots; i++) {
        MpSlot *s = &mp->slots[i];
        while (s->started && !__atomic_load_n(&s->alive, __ATOMIC_ACQUIRE) && clock_us() - t0 < MP_START_US)
            cpu_relax();
        if (!s->started || !__atomic_load_n(&s->alive, __ATOMIC_ACQUIRE)) {
            /* One AP missing: park the others and leave every part to the BSP from now on. */
            mp->running = 1;
            mp_park(mp);
            mp->n_slots = 0;
            mp->failed = 1;
            return 0;
        }
    }
    mp->running = 1;
    return 1;
}

void mp_park(Mp *mp)
{
    if (!mp->running)
        return;
    __atomic_store_n(&mp->park, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < mp->n_slots; i++) {
        MpSlot *s = &mp->slots[i];
        if (!s->started)
            continue;
        /* Their procedures return at once and the firmware signals `finished` on its next check (EDK II polls
         * its APs every few ms). An AP that never started never finishes: give up on it after MP_PARK_US rather
         * than hang the app (it is not used again). */
        uint64_t t0 = clock_us();
        while (g_bs->CheckEvent(s->finished) == EFI_NOT_READY && clock_us() - t0 < MP_PARK_US)
            g_bs->Stall(100);
        s->started = 0;
    }
    mp->running = 0;
}

/* One call of `phases` phases (task: a one-phase call's task instead of phase_task). */
static void mp_call(Mp *mp, model_task task, model_phase_task phase_task, void *arg, unsigned phases,
                    const ModelPhaseInputs *in)
{
    uint64_t gen = ++mp->gen;
    mp->task = task;
    mp->phase_task = phase_task;
    mp->arg = arg;
    static const ModelPhaseInputs none; /* period 0 */
    mp_copy_inputs(&mp->in, in ? in : &none);
    __atomic_store_n(&mp->call, gen << 16 | (phases - 1), __ATOMIC_SEQ_CST); /* publishes task and arg */
    mp_take_part(mp, gen, phases, 0);
}

void mp_run(void *ctx, model_task task, void *arg, unsigned n)
{
    Mp *mp = ctx;
    if (!mp->running || n != mp->n_slots + 1) {
        for (unsigned w = 0; w < n; w++) /* the same parts, one after another: the same bits */
            task(arg, w, n);
        return;
    }
    mp->n = n;
    mp_call(mp, task, 0, arg, 1, 0);
}

void mp_run_phases(void *ctx, model_phase_task task, void *arg, unsigned n, unsigned phases,
                   const ModelPhaseInputs *in)
{
    Mp *mp = ctx;
    /* more phases than a call word holds: never asked by the core (at most 5 * 1024 + 1), the BSP alone then */
    if (!mp->running || n != mp->n_slots + 1 || phases > MP_MAX_PHASES) {
        for (unsigned k = 0; k < phases; k++)
            for (unsigned w = 0; w < n; w++)
                task(arg, k, w, n);
        return;
    }
    mp->n = n;
    mp_call(mp, 0, task, arg, phases, in);
}
