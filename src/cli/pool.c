/* pool.c - persistent worker threads for the core's ModelParallel (host only).
 *
 * A call costs what its cache lines cost to move between cores, so it moves as few as it can: the caller writes
 * one word (generation, part count) that the workers spin on, and each part p has a slot of its own, two cache
 * lines: `claimed` (the generation that last claimed p, written by whoever runs it) and `done` (the generation that
 * last finished it). Part p belongs to thread p mod threads, the caller being thread 0; a thread claims its own
 * parts (a compare-and-swap on a line it wrote itself last time, so it stays in its cache), runs them, and stores
 * their done words; the caller runs its parts, then waits for the others' done words. A part that is not done when
 * the caller gets to it may not even be claimed: the caller tries to claim it (one look at the owner's `claimed`
 * line) and runs it itself if its owner has not, so a worker the OS has not scheduled never holds up a call.
 * (Giving the owner ~100 rounds first saved ~0.1 us a call on idle cores and cost ~1-2 us with a busy process on
 * the other core, measured with a 1-3 us part per thread.) Any thread may run any part: the core's parts give the
 * same bits whoever runs them. Workers wait for a new generation with a few microseconds of spinning, then
 * sched_yield, then a condition variable; the caller signals it only when one of them has gone to sleep. */
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

/* The call word: generation (bits 16-63), parts in this call (0-15). */
#define CALL(gen, n) (((uint64_t)(gen) << 16) | (uint64_t)(n))
#define CALL_GEN(v) ((v) >> 16)
#define CALL_N(v) ((unsigned)(v) & 0xffffu)

typedef struct {
    alignas(64) _Atomic uint64_t claimed; /* the generation that claimed this part last */
    alignas(64) _Atomic uint64_t done;    /* the generation that finished it last */
} Slot;

struct Pool {
    alignas(64) _Atomic uint64_t call; /* written once per call, after task and arg */
    model_task task;
    void *arg;
    alignas(64) atomic_int quit;
    atomic_uint sleepers;   /* workers in (or about to enter) pthread_cond_wait on go */
    atomic_int caller_asleep;
    unsigned threads;
    uint64_t gen;           /* the caller's generation counter */
    pthread_t *th;          /* threads - 1 workers; the caller of pool_run is the other one */
    struct Worker *who;     /* each worker's number */
    Slot *slots;            /* POOL_MAX_PARTS */
    pthread_mutex_t mu;
    pthread_cond_t go, finished;
};

struct Worker {
    Pool *p;
    unsigned self;
};

/* One round of waiting; returns 0 when it is time to sleep instead. */
static int spin_once(int *spins)
{
    if (++*spins >= POOL_SPIN)
        return 0;
    if (*spins < POOL_PAUSE)
#if defined(__aarch64__)
        __asm__ volatile("yield"); /* AArch64's spin-wait hint, as x86's pause */
#else
        __asm__ volatile("pause");
#endif
    else
        sched_yield();
    return 1;
}

/* Claims part i of call `gen` and runs it; 0 when another thread had claimed it. task and arg are read only after
 * the claim succeeded: the caller cannot start the next call (and rewrite them) while a claimed part is not done. */
static int try_run(Pool *p, unsigned i, unsigned n, uint64_t gen)
{
    Slot *s = &p->slots[i];
    uint64_t c = atomic_load_explicit(&s->claimed, memory_order_relaxed);
    /* c > gen: this thread read the call word of a call that has ended (every part claimed by others) */
    if (c >= gen || !atomic_compare_exchange_strong_explicit(&s->claimed, &c, gen, memory_order_acq_rel,
                                                             memory_order_relaxed))
        return 0;
    p->task(p->arg, i, n);
    atomic_store_explicit(&s->done, gen, memory_order_seq_cst);
    if (atomic_load_explicit(&p->caller_asleep, memory_order_seq_cst)) {
        pthread_mutex_lock(&p->mu); /* the caller checks the done words under this lock before it sleeps */
        pthread_cond_signal(&p->finished);
        pthread_mutex_unlock(&p->mu);
    }
    return 1;
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
        unsigned n = CALL_N(v);
        for (unsigned i = self; i < n; i += p->threads)
            try_run(p, i, n, seen);
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
    pthread_cond_init(&p->finished, 0);
    atomic_init(&p->call, CALL(0, 0));
    atomic_init(&p->quit, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_asleep, 0);
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
    pthread_cond_destroy(&p->finished);
    pthread_mutex_destroy(&p->mu);
    free(p->th);
    free(p->who);
    free(p->slots);
    free(p);
}

void pool_run(void *ctx, model_task task, void *arg, unsigned n)
{
    Pool *p = ctx;
    if (n <= 1 || p->threads <= 1 || n > POOL_MAX_PARTS) {
        for (unsigned w = 0; w < n; w++)
            task(arg, w, n);
        return;
    }
    uint64_t gen = ++p->gen; /* from 1: 0 is the slots' and workers' "nothing yet" */
    p->task = task;
    p->arg = arg;
    atomic_store_explicit(&p->call, CALL(gen, n), memory_order_seq_cst); /* publishes task and arg */
    if (atomic_load_explicit(&p->sleepers, memory_order_seq_cst)) {
        pthread_mutex_lock(&p->mu); /* a sleeping worker checks the call word under this lock */
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    for (unsigned i = 0; i < n; i += p->threads)
        try_run(p, i, n, gen);
    for (unsigned i = 1; i < n; i++) {
        int spins = 0;
        if (i % p->threads == 0) /* the caller's own: done above */
            continue;
        while (atomic_load_explicit(&p->slots[i].done, memory_order_acquire) != gen) {
            /* a part its owner has not claimed yet is the caller's */
            if (spins == 0 && try_run(p, i, n, gen))
                break;
            if (spin_once(&spins))
                continue;
            pthread_mutex_lock(&p->mu);
            atomic_store_explicit(&p->caller_asleep, 1, memory_order_seq_cst);
            while (atomic_load_explicit(&p->slots[i].done, memory_order_seq_cst) != gen)
                pthread_cond_wait(&p->finished, &p->mu);
            atomic_store_explicit(&p->caller_asleep, 0, memory_order_relaxed);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

ModelParallel pool_parallel(Pool *p)
{
    ModelParallel mp = {0, 0, 1};
    if (p && p->threads > 1) {
        mp.run = pool_run;
        mp.ctx = p;
        mp.workers = p->threads;
    }
    return mp;
}
