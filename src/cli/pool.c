/* pool.c - persistent worker threads for the core's ModelParallel (host only).
 * A call publishes its parts in one atomic word (generation, part count, next part); the caller and every worker
 * claim parts from it until none is left, so a worker the OS has not scheduled yet costs nothing: the caller does
 * its part as well (the core's parts give the same bits whoever runs them). Workers wait for a new generation with
 * a few microseconds of `pause`, then sched_yield, then a condition variable. */
#define _POSIX_C_SOURCE 200809L
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* POOL_PAUSE rounds of `pause` (~20 ns each: a few us, enough when every thread has a core of its own), then
 * sched_yield until POOL_SPIN rounds (a thread sharing its core with the one it waits for lets it run), then sleep.
 * Measured on this 2-vCPU machine while a QEMU run held one core: a pure 80 us spin made a call cost ~100-190 us. */
#define POOL_PAUSE 200
#define POOL_SPIN 2000

/* The claim word: generation (bits 32-63), parts in this call (16-31), next unclaimed part (0-15). */
#define CLAIM(gen, n, next) (((uint64_t)(gen) << 32) | ((uint64_t)(n) << 16) | (uint64_t)(next))
#define CLAIM_GEN(v) ((uint32_t)((v) >> 32))
#define CLAIM_N(v) ((unsigned)((v) >> 16) & 0xffffu)
#define CLAIM_NEXT(v) ((unsigned)(v) & 0xffffu)

struct Pool {
    unsigned threads;
    pthread_t *th; /* threads - 1 workers; the caller of pool_run is the other one */
    pthread_mutex_t mu;
    pthread_cond_t go, finished;
    _Atomic uint64_t claim; /* written once per call, after task and arg */
    atomic_uint done;       /* parts of this call that have returned */
    atomic_int quit;
    uint32_t gen;           /* the caller's generation counter */
    model_task task;
    void *arg;
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

/* Claims and runs parts of generation `gen` until none is left. task and arg are read only after a claim
 * succeeded: the caller cannot start the next call (and rewrite them) while a claimed part has not returned. */
static void run_parts(Pool *p, uint32_t gen)
{
    uint64_t v = atomic_load_explicit(&p->claim, memory_order_acquire);
    while (CLAIM_GEN(v) == gen && CLAIM_NEXT(v) < CLAIM_N(v)) {
        if (!atomic_compare_exchange_weak_explicit(&p->claim, &v, v + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue; /* v was reloaded */
        unsigned n = CLAIM_N(v);
        p->task(p->arg, CLAIM_NEXT(v), n);
        if (atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel) + 1 == n) {
            pthread_mutex_lock(&p->mu); /* the caller may be asleep: wake it under the lock it checks under */
            pthread_cond_signal(&p->finished);
            pthread_mutex_unlock(&p->mu);
        }
        v = atomic_load_explicit(&p->claim, memory_order_acquire);
    }
}

static void *worker_main(void *p_)
{
    Pool *p = p_;
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        int spins = 0;
        while ((g = CLAIM_GEN(atomic_load_explicit(&p->claim, memory_order_acquire))) == seen &&
               !atomic_load_explicit(&p->quit, memory_order_acquire)) {
            if (spin_once(&spins))
                continue;
            pthread_mutex_lock(&p->mu);
            while (CLAIM_GEN(atomic_load_explicit(&p->claim, memory_order_acquire)) == seen &&
                   !atomic_load_explicit(&p->quit, memory_order_acquire))
                pthread_cond_wait(&p->go, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load_explicit(&p->quit, memory_order_acquire))
            return 0;
        seen = g;
        run_parts(p, g);
    }
}

Pool *pool_new(unsigned threads)
{
    Pool *p = threads >= 1 && threads <= 0xffffu ? calloc(1, sizeof *p) : 0;
    if (p)
        p->th = calloc(threads, sizeof *p->th);
    if (!p || !p->th) {
        free(p);
        return 0;
    }
    p->threads = threads;
    pthread_mutex_init(&p->mu, 0);
    pthread_cond_init(&p->go, 0);
    pthread_cond_init(&p->finished, 0);
    atomic_init(&p->claim, CLAIM(0, 0, 0));
    atomic_init(&p->done, 0);
    atomic_init(&p->quit, 0);
    for (unsigned i = 1; i < threads; i++)
        if (pthread_create(&p->th[i], 0, worker_main, p)) {
            p->threads = i; /* only workers 1..i-1 exist */
            pool_free(p);
            return 0;
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
    free(p);
}

void pool_run(void *ctx, model_task task, void *arg, unsigned n)
{
    Pool *p = ctx;
    if (n <= 1 || p->threads <= 1 || n > 0xffffu) {
        for (unsigned w = 0; w < n; w++)
            task(arg, w, n);
        return;
    }
    if (++p->gen == 0) /* 0 is the workers' "nothing seen yet" */
        p->gen = 1;
    uint32_t gen = p->gen;
    p->task = task;
    p->arg = arg;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->claim, CLAIM(gen, n, 0), memory_order_release); /* publishes task, arg, done */
    pthread_mutex_lock(&p->mu); /* a worker past its spin checks the claim word under this lock before it sleeps */
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    run_parts(p, gen);
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) != n) { /* parts claimed by workers, still running */
        if (spin_once(&spins))
            continue;
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->done, memory_order_acquire) != n)
            pthread_cond_wait(&p->finished, &p->mu);
        pthread_mutex_unlock(&p->mu);
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
