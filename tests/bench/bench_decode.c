/* bench_decode - single-thread decode tokens/s of the core (float AVX and SSE2, every Q8 path) against the plain scalar
 * baseline, then the same decode with 1 and 2 threads of the host pool side by side, on the model files given,
 * measured in one run. Timings are printed, never asserted. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "q8.h"
#include "scalar_model.h"
#include "pool.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Decodes the whole context token by token, again and again, for at least `secs`; best of 3 rounds. */
static double bench_core(const Model *m, int kernel, unsigned threads, int q8_path, double secs)
{
    RunState s;
    void *mem = malloc(model_state_bytes(&m->cfg)), *pmem = malloc(model_parallel_bytes(&m->cfg, threads));
    model_state_init(&s, &m->cfg, mem, kernel);
    s.q8_path = q8_path;
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
    printf("decode tokens/s, one thread, averaged over every context fill 1..T (best of 3 rounds); q8 paths give the\n"
           "same bits as each other, the float kernels the same bits as each other (0: this CPU lacks the path)\n");
    printf("%-18s %9s %9s %9s %9s %9s %9s %9s\n", "model", "float-avx", "float-sse", "q8-sse2", "q8-avx2", "q8-vnni",
           "scalar", "best/sc");
    for (int i = 1; i < argc; i++) {
        Model m;
        void *buf = load(&m, argv[i]);
        int avx = model_best_kernel() == KERNEL_AVX;
        double fa = avx ? bench_core(&m, KERNEL_AVX, 1, Q8_PATH_SSE2, 0.7) : 0;
        double fs = bench_core(&m, KERNEL_SCALAR_SSE2, 1, Q8_PATH_SSE2, 0.7);
        double sc = bench_scalar(&m, 0.7);
        double q[3] = {0, 0, 0};
        void *q8mem = malloc(model_q8_bytes(&m.cfg));
        if (q8mem && model_quantize(&m, q8mem))
            for (int path = 0; path < 3; path++) /* the x86 paths; AArch64 runs its NEON path as "sse2" here */
                q[path] = q8_path_available(path) ? bench_core(&m, KERNEL_Q8, 1, path, 0.7) : 0;
        double best = fa > fs ? fa : fs;
        const char *best_name = fa > fs ? "float-avx" : "float-sse";
        for (int path = 0; path < 3; path++)
            if (q[path] > best) {
                best = q[path];
                best_name = path == 2 ? "q8-vnni" : path == 1 ? "q8-avx2" : "q8-sse2";
            }
        printf("C%-3u L%u H%u T%-6u %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %8.2fx\n", m.cfg.dim, m.cfg.layers,
               m.cfg.heads, m.cfg.ctx, fa, fs, q[0], q[1], q[2], sc, best / sc);
        fprintf(stderr, "fastest C%u %.0f %s\n", m.cfg.dim, best, best_name); /* for tools/bench_llama2c.sh */
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
        int qp = q8_best_path();
        double b1 = bench_core(&m, model_best_kernel(), 1, qp, 0.7), b2 = bench_core(&m, model_best_kernel(), 2, qp, 0.7);
        void *q8mem = malloc(model_q8_bytes(&m.cfg));
        int q8ok = q8mem && model_quantize(&m, q8mem);
        double q1 = q8ok ? bench_core(&m, KERNEL_Q8, 1, qp, 0.7) : 0, q2 = q8ok ? bench_core(&m, KERNEL_Q8, 2, qp, 0.7) : 0;
        char lb[64];
        label(lb, sizeof lb, &m);
        printf("%-26s %10.0f %10.0f %7.2fx %10.0f %10.0f %7.2fx\n", lb, b1, b2, b2 / b1, q1, q2, q1 > 0 ? q2 / q1 : 0);
        free(q8mem);
        free(buf);
    }
    return 0;
}
