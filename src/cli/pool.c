/* pool.c - persistent worker threads for the core's ModelParallel (host only).
 *
 * A call costs what its cache lines cost to move between cores, so it moves as few as it can. The caller writes one
 * word (generation, phases, part count) that the workers spin on; then every thread, the caller being thread 0,
 * goes through the call's phases together (a one-phase call is pool_run): in each phase it runs its own parts
 * (part p belongs to thread p mod threads) and waits until every part of the phase is done, which is the barrier
 * before the next phase. Each part has a slot of its own, two cache lines: `claimed` (the stamp, generation and
 * phase, that last claimed it, written by whoever runs it) and `done` (the stamp that last finished it). A thread
 * claims its own part with a compare-and-swap on a line it wrote itself last time, so it stays in its cache. A part
 * still unclaimed after POOL_STEAL rounds of waiting is claimed and run by the waiting thread, so a worker the OS
 * has not scheduled never holds a call up; after one such theft in a call the thief takes the next unclaimed parts
 * at once (its owner is away), until a claim fails (the owner is back). Any thread may run any part: the core's
 * parts give the same bits whoever runs them. Inside a call a thread waits with `pause`, then sched_yield (a part
 * being run always finishes); between calls workers spin a few microseconds, then yield, then sleep on a
 * condition variable that the caller signals only when one of them has gone to sleep. */
#define _POSIX_C_SOURCE 200809L
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* POOL_PAUSE rounds of `pause` (~20 ns each: a few us, enough when every thread has a core of its own), then
 * sched_yield until POOL_SPIN rounds (a thread sharing its core with the one it waits for lets it run), then sleep.
 * Measured on this 2-vCPU machine while a QEMU run held one core: a pure 80 us spin made a call cost ~100-190 us. */
#define POOL_PAUSE 200
#define POOL_SPIN 2000
/* Rounds a thread waits for a part's owner to claim it before it runs the part itself. A waiting thread that
 * looks at the owner's `claimed` line takes it out of the owner's cache, so it must not look every phase. */
#define POOL_STEAL 100

/* The call word: generation (bits 18-63), phases - 1 (bits 8-17), parts - 1 (bits 0-7). */
#define POOL_MAX_PHASES 1024u
#define CALL(gen, phases, n) (((uint64_t)(gen) << 18) | ((uint64_t)(phases) - 1) << 8 | ((uint64_t)(n) - 1))
#define CALL_GEN(v) ((v) >> 18)
#define CALL_PHASES(v) ((unsigned)((v) >> 8 & 1023u) + 1)
#define CALL_N(v) ((unsigned)((v) & 255u) + 1)
/* What claims and finishes phase k of call gen (gen >= 1; 0 is the slots' "nothing yet"): later phases and later
 * calls have larger stamps. */
#define STAMP(gen, k) ((uint64_t)(gen) * POOL_MAX_PHASES + (k))

typedef struct {
    alignas(64) _Atomic uint64_t claimed; /* the stamp that claimed this part last */
    alignas(64) _Atomic uint64_t done;    /* the stamp that finished it last */
} Slot;

struct Pool {
    alignas(64) _Atomic uint64_t call; /* written once per call, after the task and arg */
    model_task task;                   /* a one-phase call (pool_run), else NULL */
    model_phase_task phase_task;       /* a call in phases (pool_run_phases) */
    void *arg;
    /* the call's ModelPhaseInputs (period 0: none) and its first phase's number in them; atomic because a thread
     * late for a call may copy them while the caller writes the next call's: it then prefetches the wrong lines */
    _Atomic(uintptr_t) in_at[MODEL_PHASE_INPUTS];
    _Atomic uint32_t in_bytes[MODEL_PHASE_INPUTS];
    _Atomic unsigned in_period, in_k0;
    alignas(64) atomic_int quit;
    atomic_uint sleepers;   /* workers in (or about to enter) pthread_cond_wait on go */
    unsigned threads;
    uint64_t gen;           /* the caller's generation counter */
    pthread_t *th;          /* threads - 1 workers; the caller of pool_run is the other one */
    struct Worker *who;     /* each worker's number */
    Slot *slots;            /* POOL_MAX_PARTS */
    pthread_mutex_t mu;
    pthread_cond_t go;
};

struct Worker {
    Pool *p;
    unsigned self;
};

static void relax(void)
{
#if defined(__aarch64__)
    __asm__ volatile("yield"); /* AArch64's spin-wait hint, as x86's pause */
#else
    __asm__ volatile("pause");
#endif
}

/* One round of waiting; returns 0 when it is time to sleep instead. */
static int spin_once(int *spins)
{
    if (++*spins >= POOL_SPIN)
        return 0;
    if (*spins < POOL_PAUSE)
        relax();
    else
        sched_yield();
    return 1;
}

/* Claims part i of phase k (stamp st) and runs it: 1; 0 when another thread had claimed it. The task and arg are
 * read only after the claim succeeded: the caller cannot start the next call (and rewrite them) while a claimed
 * part is not done. */
static int try_run(Pool *p, unsigned i, unsigned k, unsigned n, uint64_t st)
{
    Slot *s = &p->slots[i];
    uint64_t c = atomic_load_explicit(&s->claimed, memory_order_relaxed);
    /* c > st: this thread is behind, in a phase or a call that every part has left */
    if (c >= st || !atomic_compare_exchange_strong_explicit(&s->claimed, &c, st, memory_order_acq_rel,
                                                            memory_order_relaxed))
        return 0;
    if (p->task)
        p->task(p->arg, i, n);
    else
        p->phase_task(p->arg, k, i, n);
    atomic_store_explicit(&s->done, st, memory_order_release);
    return 1;
}

/* The lines of phase k's input (ModelPhaseInputs), asked for while the phase before it ends. */
typedef struct {
    uintptr_t at[MODEL_PHASE_INPUTS];
    uint32_t bytes[MODEL_PHASE_INPUTS];
    unsigned period, k0;
} Inputs;

static Inputs inputs_of(Pool *p)
{
    Inputs in;
    for (unsigned i = 0; i < MODEL_PHASE_INPUTS; i++) {
        in.at[i] = atomic_load_explicit(&p->in_at[i], memory_order_relaxed);
        in.bytes[i] = atomic_load_explicit(&p->in_bytes[i], memory_order_relaxed);
    }
    in.period = atomic_load_explicit(&p->in_period, memory_order_relaxed);
    in.k0 = atomic_load_explicit(&p->in_k0, memory_order_relaxed);
    return in;
}

static void prefetch_input(const Inputs *in, unsigned k)
{
    unsigned i = in->period ? (in->k0 + k) % in->period : 0;
    if (!in->period || i >= MODEL_PHASE_INPUTS)
        return;
    for (uint32_t b = 0; b < in->bytes[i]; b += 64)
        __builtin_prefetch((const char *)in->at[i] + b, 0, 3); /* never faults, whatever the address */
}

/* Thread `self`'s share of call gen: phase by phase its own parts, then the wait for the phase's others (asking
 * for the next phase's input meanwhile). */
static void take_part(Pool *p, uint64_t gen, unsigned phases, unsigned n, unsigned self)
{
    int eager = 0; /* took a part from its owner in this call: take the next unclaimed ones at once */
    Inputs in = inputs_of(p);
    for (unsigned k = 0; k < phases; k++) {
        uint64_t st = STAMP(gen, k);
        for (unsigned i = self; i < n; i += p->threads)
            try_run(p, i, k, n, st);
        for (unsigned i = 0; i < n; i++) {
            int spins = 0, tried = i % p->threads == self; /* its own: tried above */
            while (atomic_load_explicit(&p->slots[i].done, memory_order_acquire) < st) {
                if (!tried && (eager || spins >= POOL_STEAL)) {
                    tried = 1;
                    if (try_run(p, i, k, n, st)) {
                        eager = 1;
                        break;
                    }
                    eager = 0; /* its owner (or another thief) has it */
                }
                if (++spins < POOL_PAUSE) {
                    if (k + 1 < phases)
                        prefetch_input(&in, k + 1);
                    relax();
                } else {
                    sched_yield();
                }
            }
        }
    }
}

static void *worker_main(void *w_)
{
    Pool *p = ((struct Worker *)w_)->p;
    unsigned self = ((struct Worker *)w_)->self;
    uint64_t seen = 0;
    for (;;) {
        uint64_t v;
        int spins = 0;
        while (CALL_GEN(v = atomic_load_explicit(&p->call, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&p->quit, memory_order_acquire)) {
            if (spin_once(&spins))
                continue;
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
            while (CALL_GEN(atomic_load_explicit(&p->call, memory_order_seq_cst)) == seen &&
                   !atomic_load_explicit(&p->quit, memory_order_acquire))
                pthread_cond_wait(&p->go, &p->mu);
            atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load_explicit(&p->quit, memory_order_acquire))
            return 0;
        seen = CALL_GEN(v);
        take_part(p, seen, CALL_PHASES(v), CALL_N(v), self);
    }
}

Pool *pool_new(unsigned threads)
{
    Pool *p = threads >= 1 && threads <= POOL_MAX_PARTS ? aligned_alloc(64, sizeof(Pool)) : 0;
    if (!p)
        return 0;
    *p = (Pool){0};
    p->th = calloc(threads, sizeof *p->th);
    p->who = calloc(threads, sizeof *p->who);
    p->slots = aligned_alloc(64, POOL_MAX_PARTS * sizeof(Slot));
    if (!p->th || !p->who || !p->slots) {
        free(p->th);
        free(p->who);
        free(p->slots);
        free(p);
        return 0;
    }
    for (unsigned i = 0; i < POOL_MAX_PARTS; i++) {
        atomic_init(&p->slots[i].claimed, 0);
        atomic_init(&p->slots[i].done, 0);
    }
    p->threads = threads;
    pthread_mutex_init(&p->mu, 0);
    pthread_cond_init(&p->go, 0);
    atomic_init(&p->call, 0);
    for (unsigned i = 0; i < MODEL_PHASE_INPUTS; i++) {
        atomic_init(&p->in_at[i], 0);
        atomic_init(&p->in_bytes[i], 0);
    }
    atomic_init(&p->in_period, 0);
    atomic_init(&p->in_k0, 0);
    atomic_init(&p->quit, 0);
    atomic_init(&p->sleepers, 0);
    for (unsigned i = 1; i < threads; i++) {
        p->who[i] = (struct Worker){p, i};
        if (pthread_create(&p->th[i], 0, worker_main, &p->who[i])) {
            p->threads = i; /* only workers 1..i-1 exist */
            pool_free(p);
            return 0;
        }
    }
    return p;
}

void pool_free(Pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->quit, 1, memory_order_release);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 1; i < p->threads; i++)
        pthread_join(p->th[i], 0);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
    free(p->th);
    free(p->who);
    free(p->slots);
    free(p);
}

typedef struct {
    model_phase_task task;
    void *arg;
    unsigned k0;
} OffsetPhases;
static void offset_phases(void *arg, unsigned k, unsigned w, unsigned n)
{
    const OffsetPhases *o = arg;
    o->task(o->arg, o->k0 + k, w, n);
}

/* One call of `phases` phases on the pool (task: a one-phase call's task instead of phase_task; in: phase k0's and
 * the later phases' inputs, or NULL). */
static void call(Pool *p, model_task task, model_phase_task phase_task, void *arg, unsigned n, unsigned phases,
                 const ModelPhaseInputs *in, unsigned k0)
{
    uint64_t gen = ++p->gen;
    p->task = task;
    p->phase_task = phase_task;
    p->arg = arg;
    for (unsigned i = 0; i < MODEL_PHASE_INPUTS; i++) {
        atomic_store_explicit(&p->in_at[i], in ? (uintptr_t)in->at[i] : 0, memory_order_relaxed);
        atomic_store_explicit(&p->in_bytes[i], in ? in->bytes[i] : 0, memory_order_relaxed);
    }
    atomic_store_explicit(&p->in_period, in ? in->period : 0, memory_order_relaxed);
    atomic_store_explicit(&p->in_k0, k0, memory_order_relaxed);
    atomic_store_explicit(&p->call, CALL(gen, phases, n), memory_order_seq_cst); /* publishes task and arg */
    if (atomic_load_explicit(&p->sleepers, memory_order_seq_cst)) {
        pthread_mutex_lock(&p->mu); /* a sleeping worker checks the call word under this lock */
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    take_part(p, gen, phases, n, 0);
}

void pool_run(void *ctx, model_task task, void *arg, unsigned n)
{
    Pool *p = ctx;
    if (n <= 1 || p->threads <= 1 || n > POOL_MAX_PARTS) {
        for (unsigned w = 0; w < n; w++)
            task(arg, w, n);
        return;
    }
    call(p, task, 0, arg, n, 1, 0, 0);
}

void pool_run_phases(void *ctx, model_phase_task task, void *arg, unsigned n, unsigned phases,
                     const ModelPhaseInputs *in)
{
    Pool *p = ctx;
    if (n <= 1 || p->threads <= 1 || n > POOL_MAX_PARTS) {
        for (unsigned k = 0; k < phases; k++)
            for (unsigned w = 0; w < n; w++)
                task(arg, k, w, n);
        return;
    }
    for (unsigned k0 = 0; k0 < phases; k0 += POOL_MAX_PHASES) { /* the end of a call is a barrier too */
        unsigned m = phases - k0 < POOL_MAX_PHASES ? phases - k0 : POOL_MAX_PHASES;
        OffsetPhases o = {task, arg, k0};
        call(p, 0, offset_phases, &o, n, m, in, k0);
    }
}

ModelParallel pool_parallel(Pool *p)
{
    ModelParallel mp = {0, 0, 1, 0};
    if (p && p->threads > 1) {
        mp.run = pool_run;
        mp.run_phases = pool_run_phases;
        mp.ctx = p;
        mp.workers = p->threads;
    }
    return mp;
}
