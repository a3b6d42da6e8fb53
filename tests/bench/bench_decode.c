/* bench_decode - single-thread decode tokens/s of the core (best float kernel, SSE2, Q8) against the plain scalar
 * baseline, then the same decode with 1 and 2 threads of the host pool side by side, on the model files given,
 * measured in one run. Timings are printed, never asserted. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "scalar_model.h"
#include "pool.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Decodes the whole context token by token, again and again, for at least `secs`; best of 3 rounds. */
static double bench_core(const Model *m, int kernel, unsigned threads, double secs)
{
    RunState s;
    void *mem = malloc(model_state_bytes(&m->cfg)), *pmem = malloc(model_parallel_bytes(&m->cfg, threads));
    model_state_init(&s, &m->cfg, mem, kernel);
    Pool *p = threads > 1 ? pool_new(threads) : 0;
    ModelParallel mp = pool_parallel(p);
    model_state_set_parallel(&s, &m->cfg, &mp, pmem);
    double best = 0;
    for (int round = 0; round < 3; round++) {
        long n = 0;
        double t0 = now_s(), t;
        do {
            model_state_reset(&s);
            for (uint32_t i = 0; i < m->cfg.ctx; i++) {
                int32_t tok = (int32_t)((i * 31 + 7) & 127);
                model_feed(m, &s, &tok, 1, NULL);
            }
            n += m->cfg.ctx;
        } while ((t = now_s() - t0) < secs);
        best = n / t > best ? n / t : best;
    }
    pool_free(p);
    free(pmem);
    free(mem);
    return best;
}

static double bench_scalar(const Model *m, double secs)
{
    ScalarState *s = scalar_new(m);
    double best = 0;
    for (int round = 0; round < 3; round++) {
        long n = 0;
        double t0 = now_s(), t;
        do {
            scalar_reset(s);
            for (uint32_t i = 0; i < m->cfg.ctx; i++)
                scalar_step(s, (int)((i * 31 + 7) & 127));
            n += m->cfg.ctx;
        } while ((t = now_s() - t0) < secs);
        best = n / t > best ? n / t : best;
    }
    scalar_free(s);
    return best;
}

/* Loads a model file into 64-byte aligned memory; exits with a message on failure. */
static void *load(Model *m, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench-decode: cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    void *buf = aligned_alloc(64, ((size_t)len + 63) & ~(size_t)63);
    if (fread(buf, 1, (size_t)len, f) != (size_t)len)
        exit(2);
    fclose(f);
    char msg[160];
    if (model_load(m, buf, (size_t)len, msg, sizeof msg) != MODEL_OK) {
        fprintf(stderr, "bench-decode: %s: %s\n", path, msg);
        exit(2);
    }
    return buf;
}

static void label(char *out, size_t n, const Model *m)
{
    snprintf(out, n, "C%u L%u H%u T%u (%s)", m->cfg.dim, m->cfg.layers, m->cfg.heads, m->cfg.ctx,
             model_best_kernel() == KERNEL_AVX ? "avx" : "sse2");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-decode MODEL... (decode tokens/s, one thread, then 1 vs 2 threads)\n");
        return 2;
    }
    printf("decode tokens/s, one thread, averaged over every context fill 1..T (best of 3 rounds)\n");
    printf("%-26s %10s %10s %10s %10s %8s %8s %8s\n", "model", "core-best", "core-sse2", "core-q8", "scalar",
           "best/sc", "sse2/sc", "q8/sc");
    for (int i = 1; i < argc; i++) {
        Model m;
        void *buf = load(&m, argv[i]);
        double best = bench_core(&m, model_best_kernel(), 1, 0.7), sse = bench_core(&m, KERNEL_SCALAR_SSE2, 1, 0.7);
        double sc = bench_scalar(&m, 0.7);
        void *q8mem = malloc(model_q8_bytes(&m.cfg));
        double q8 = q8mem && model_quantize(&m, q8mem) ? bench_core(&m, KERNEL_Q8, 1, 0.7) : 0;
        char lb[64];
        label(lb, sizeof lb, &m);
        printf("%-26s %10.0f %10.0f %10.0f %10.0f %7.2fx %7.2fx %7.2fx\n", lb, best, sse, q8, sc, best / sc,
               sse / sc, q8 / sc);
        free(q8mem);
        free(buf);
    }
    /* threads: the pool's workers spin briefly then sleep, so a busy machine (another program on a core) shows
     * here as a smaller or even negative gain: say what else ran when quoting these */
    printf("\ndecode tokens/s by threads (same bits for any count), best of 3 rounds\n");
    printf("%-26s %10s %10s %8s %10s %10s %8s\n", "model", "best-1t", "best-2t", "2t/1t", "q8-1t", "q8-2t", "2t/1t");
    for (int i = 1; i < argc; i++) {
        Model m;
        void *buf = load(&m, argv[i]);
        double b1 = bench_core(&m, model_best_kernel(), 1, 0.7), b2 = bench_core(&m, model_best_kernel(), 2, 0.7);
        void *q8mem = malloc(model_q8_bytes(&m.cfg));
        int q8ok = q8mem && model_quantize(&m, q8mem);
        double q1 = q8ok ? bench_core(&m, KERNEL_Q8, 1, 0.7) : 0, q2 = q8ok ? bench_core(&m, KERNEL_Q8, 2, 0.7) : 0;
        char lb[64];
        label(lb, sizeof lb, &m);
        printf("%-26s %10.0f %10.0f %7.2fx %10.0f %10.0f %7.2fx\n", lb, b1, b2, b2 / b1, q1, q2, q1 > 0 ? q2 / q1 : 0);
        free(q8mem);
        free(buf);
    }
    return 0;
}
