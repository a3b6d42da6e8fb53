/* pool.c - persistent worker threads for the core's ModelParallel (host only).
 * A call publishes the task, then bumps a generation counter; workers spin on that counter for a while (a token's
 * mat-vecs come tens of microseconds apart) and only then sleep on a condition variable. The caller runs worker 0's
 * share itself, then waits the same way for the others' count to reach zero. */
#define _POSIX_C_SOURCE 200809L
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdlib.h>

/* Waiting goes in three steps: POOL_PAUSE rounds of `pause` (~20 ns each: a few us, enough when every thread has
 * a core of its own), then sched_yield until POOL_SPIN rounds (a thread that shares its core with the one it waits
 * for lets it run: on a machine busy with other work a pure spin cost ~100 us per call, measured on 2 vCPUs with
 * a QEMU running), then sleep on the condition variable. */
#define POOL_PAUSE 200
#define POOL_SPIN 2000

/* One round of waiting; returns 0 when it is time to sleep instead. */
static int spin_once(int *spins)
{
    if (++*spins >= POOL_SPIN)
        return 0;
    if (*spins < POOL_PAUSE)
        __asm__ volatile("pause");
    else
        sched_yield();
    return 1;
}

typedef struct {
    Pool *pool;
    unsigned index; /* 1.. threads-1 */
    pthread_t th;
} Worker;

struct Pool {
    unsigned threads;
    Worker *w;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_uint gen;     /* bumped once per pool_run, after task/arg/n are written */
    atomic_uint pending; /* workers still inside the current call */
    atomic_int quit;
    model_task task;
    void *arg;
    unsigned n;
};

static void *worker_main(void *p_)
{
    Worker *me = p_;
    Pool *p = me->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&p->quit, memory_order_acquire)) {
            if (spin_once(&spins))
                continue;
            pthread_mutex_lock(&p->mu);
            while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen &&
                   !atomic_load_explicit(&p->quit, memory_order_acquire))
                pthread_cond_wait(&p->go, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load_explicit(&p->quit, memory_order_acquire))
            return 0;
        seen = g;
        if (me->index < p->n)
            p->task(p->arg, me->index, p->n);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu); /* the caller may be asleep: wake it under the lock it checks under */
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

Pool *pool_new(unsigned threads)
{
    Pool *p = threads >= 1 ? calloc(1, sizeof *p) : 0;
    if (p)
        p->w = calloc(threads, sizeof *p->w);
    if (!p || !p->w) {
        free(p);
        return 0;
    }
    p->threads = threads;
    pthread_mutex_init(&p->mu, 0);
    pthread_cond_init(&p->go, 0);
    pthread_cond_init(&p->done, 0);
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, 0);
    for (unsigned i = 1; i < threads; i++) {
        p->w[i].pool = p;
        p->w[i].index = i;
        if (pthread_create(&p->w[i].th, 0, worker_main, &p->w[i])) {
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
        pthread_join(p->w[i].th, 0);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->w);
    free(p);
}

void pool_run(void *ctx, model_task task, void *arg, unsigned n)
{
    Pool *p = ctx;
    if (n > p->threads)
        n = p->threads;
    if (n <= 1 || p->threads <= 1) {
        task(arg, 0, 1);
        return;
    }
    p->task = task;
    p->arg = arg;
    p->n = n;
    atomic_store_explicit(&p->pending, p->threads - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release); /* publishes task, arg, n, pending */
    pthread_mutex_lock(&p->mu); /* a worker past its spin checks gen under this lock before it sleeps */
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    task(arg, 0, n);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire)) {
        if (spin_once(&spins))
            continue;
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->pending, memory_order_acquire))
            pthread_cond_wait(&p->done, &p->mu);
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
