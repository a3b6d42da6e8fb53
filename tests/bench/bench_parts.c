/* bench_parts.c - where a two-thread decode step's time goes (make bench; printed, never asserted).
 * A token is one call of phases (per layer: q/k/v with attention, the output projection, the MLP's two matrices;
 * then the head); each phase is timed part by part: once with the two parts one after another on the caller, once
 * with both on the pool at the same time. Two parts that take longer side by side than one after another lose time
 * to each other (shared cache lines); the rest of a phase's time (from the later end of the phase before to the
 * later end of its own) is the barrier. Also the round trip of one cache line between two threads, which every
 * barrier pays. Usage: bench-parts MODEL [ROUNDS]. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model.h"
#include "q8.h"
#include "pool.h"

#define MAX_CALLS 256

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

typedef struct {
    int serial;          /* parts one after another on the caller instead of on the pool */
    double start[MAX_CALLS][2], end[MAX_CALLS][2]; /* this token's parts 0 and 1 of each phase, ns */
    double t_call;       /* when the token's call began */
    double part[MAX_CALLS][2], total[MAX_CALLS];
    unsigned long n[MAX_CALLS];
    Pool *pool;
} Timing;
static Timing tm;

typedef struct {
    model_phase_task task;
    void *arg;
} Wrapped;

static void timed_part(void *arg, unsigned k, unsigned w, unsigned nw)
{
    const Wrapped *x = arg;
    double t0 = now_ns();
    x->task(x->arg, k, w, nw);
    if (w < 2 && k < MAX_CALLS)
        tm.start[k][w] = t0, tm.end[k][w] = now_ns();
}

/* A phase's time: from the end of the phase before (the later of its two parts) to the later end of its own. */
static void timed_phases(void *ctx, model_phase_task task, void *arg, unsigned n, unsigned phases,
                         const ModelPhaseInputs *in)
{
    Wrapped x = {task, arg};
    tm.t_call = now_ns();
    if (tm.serial)
        for (unsigned k = 0; k < phases; k++)
            for (unsigned w = 0; w < n; w++)
                timed_part(&x, k, w, n);
    else
        pool_run_phases(ctx, timed_part, &x, n, phases, in);
    double before = tm.t_call;
    for (unsigned k = 0; k < phases && k < MAX_CALLS; k++) {
        double last = tm.end[k][0] > tm.end[k][1] ? tm.end[k][0] : tm.end[k][1];
        tm.part[k][0] += tm.end[k][0] - tm.start[k][0];
        tm.part[k][1] += tm.end[k][1] - tm.start[k][1];
        tm.total[k] += last - before;
        tm.n[k]++;
        before = last;
    }
}

/* Decodes `rounds` times 255 tokens from an empty context; returns tokens/s. */
static double run(const Model *m, RunState *s, int rounds)
{
    int32_t tok = 'e';
    double t0 = now_ns();
    for (int r = 0; r < rounds; r++) {
        model_state_reset(s);
        for (int i = 0; i < 255; i++) {
            if (model_feed(m, s, &tok, 1, 0) != MODEL_OK)
                exit(1);
            tok = 'a' + (i * 7) % 26;
        }
    }
    return rounds * 255 / ((now_ns() - t0) * 1e-9);
}

static _Atomic long ping, pong;
static void *ponger(void *arg)
{
    long n = *(long *)arg;
    for (long i = 1; i <= n; i++) {
        while (atomic_load_explicit(&ping, memory_order_acquire) != i)
            ;
        atomic_store_explicit(&pong, i, memory_order_release);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-parts MODEL [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 8;
    FILE *f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END) || ftell(f) <= 0)
        return fprintf(stderr, "bench-parts: cannot read %s\n", argv[1]), 2;
    size_t len = (size_t)ftell(f);
    rewind(f);
    void *bytes = aligned_alloc(64, (len + 63) & ~(size_t)63);
    Model m;
    char msg[160];
    if (!bytes || fread(bytes, 1, len, f) != len || model_load(&m, bytes, len, msg, sizeof msg) != MODEL_OK)
        return fprintf(stderr, "bench-parts: %s: not a model\n", argv[1]), 2;
    fclose(f);
    void *q8 = malloc(model_q8_bytes(&m.cfg)), *mem = malloc(model_state_bytes(&m.cfg));
    void *pm = malloc(model_parallel_bytes(&m.cfg, 2));
    tm.pool = pool_new(2);
    if (!q8 || !mem || !pm || !tm.pool || !model_quantize(&m, q8))
        return fprintf(stderr, "bench-parts: out of memory\n"), 2;
    RunState s;
    model_state_init(&s, &m.cfg, mem, KERNEL_Q8);
    ModelParallel par = pool_parallel(tm.pool);
    par.run_phases = timed_phases;
    model_state_set_parallel(&s, &m.cfg, &par, pm);

    static const char *const kinds[5] = {"q/k/v + attention", "output projection", "MLP up + GELU", "MLP down",
                                          "head"};
    double part[2][5][2] = {{{0}}}, call[2][5] = {{0}}, tps[2];
    for (int mode = 0; mode < 2; mode++) { /* 0: one after another, 1: side by side */
        tm.serial = !mode;
        run(&m, &s, 1); /* warm-up */
        for (int i = 0; i < MAX_CALLS; i++)
            tm.part[i][0] = tm.part[i][1] = tm.total[i] = 0, tm.n[i] = 0;
        tps[mode] = run(&m, &s, rounds);
        unsigned L = m.cfg.layers, cnt[5] = {0};
        for (unsigned i = 0; i <= 4 * L && i < MAX_CALLS; i++) {
            int k = i == 4 * L ? 4 : (int)(i % 4);
            if (!tm.n[i])
                continue;
            part[mode][k][0] += tm.part[i][0] / tm.n[i];
            part[mode][k][1] += tm.part[i][1] / tm.n[i];
            call[mode][k] += tm.total[i] / tm.n[i];
            cnt[k]++;
        }
        for (int k = 0; k < 5; k++)
            if (cnt[k])
                part[mode][k][0] /= cnt[k], part[mode][k][1] /= cnt[k], call[mode][k] /= cnt[k];
    }
    RunState one; /* the same decode on one worker: what two threads are measured against */
    void *mem1 = malloc(model_state_bytes(&m.cfg));
    if (!mem1)
        return fprintf(stderr, "bench-parts: out of memory\n"), 2;
    model_state_init(&one, &m.cfg, mem1, KERNEL_Q8);
    one.q8_path = s.q8_path;
    run(&m, &one, 1);
    double tps1 = run(&m, &one, rounds);
    printf("Q8 (%s path) decode, two parts per phase, microseconds per phase (average over layers and %d x 255"
           " tokens)\n", q8_path_name(s.q8_path), rounds);
    printf("%-20s %10s %10s %10s | %10s %10s %10s\n", "phase", "part 0", "part 1", "phase", "part 0", "part 1",
           "phase");
    printf("%-20s %32s | %32s\n", "", "one after another, one thread", "side by side, two threads");
    for (int k = 0; k < 5; k++)
        printf("%-20s %10.2f %10.2f %10.2f | %10.2f %10.2f %10.2f\n", kinds[k], part[0][k][0] / 1e3,
               part[0][k][1] / 1e3, call[0][k] / 1e3, part[1][k][0] / 1e3, part[1][k][1] / 1e3, call[1][k] / 1e3);
    printf("tokens/s: %.0f one worker, %.0f two parts one after another, %.0f side by side (%.2fx one worker)\n",
           tps1, tps[0], tps[1], tps[1] / tps1);

    long n = 200000;
    pthread_t t;
    if (pthread_create(&t, 0, ponger, &n) == 0) {
        double t0 = now_ns();
        for (long i = 1; i <= n; i++) {
            atomic_store_explicit(&ping, i, memory_order_release);
            while (atomic_load_explicit(&pong, memory_order_acquire) != i)
                ;
        }
        printf("one cache line there and back between two threads: %.0f ns\n", (now_ns() - t0) / n);
        pthread_join(t, 0);
    }
    pool_free(tm.pool);
    free(mem1);
    return 0;
}
