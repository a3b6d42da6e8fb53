/* test_parallel - the core's work split over workers gives the same bits as one worker: kern_matmul and q8_matmul
 * cut into row ranges at every possible point (not only at the 8-row blocks the model uses), and whole models of
 * awkward shapes (head size 12, row counts no thread count divides) fed past their context with 1-4 threads of the
 * host pool, for every kernel, one token at a time and in batches; the pool itself runs every part of every call
 * exactly once, whoever runs it (more threads than cores, so owners are often not running and parts are taken by
 * the caller), for part counts below, at and above the thread count, and a call in phases keeps its barriers
 * when threads sleep in a part. Also built with -fsanitize=thread. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "check.h"
#include "kernels.h"
#include "model.h"
#include "pool.h"
#include "q8.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(float a) /* uniform in (-a, a), xorshift */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((float)(rng >> 40) / (float)(1u << 24) * 2.0f - 1.0f) * a;
}

static float *rand_floats(size_t n, float a)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand(a);
    return p;
}

/* out computed as rows [0, cut) then [cut, O) equals out computed whole, for every cut. */
static void matmul_split_cases(void)
{
    enum { N = 3, I = 37, O = 29 };
    float *in = rand_floats(N * I, 1.0f), *w = rand_floats(O * I, 0.5f), *bias = rand_floats(O, 0.1f);
    float whole[N * O], part[N * O];
    for (int kernel = 0; kernel <= (kern_cpu_has_avx() ? 1 : 0); kernel++)
        for (int n = 1; n <= N; n += N - 1) {
            kern_matmul(kernel, whole, O, in, w, bias, n, I, O);
            int bad = -1;
            for (int cut = 0; cut <= O; cut++) {
                kern_matmul(kernel, part, O, in, w, bias, n, I, cut);
                kern_matmul(kernel, part + cut, O, in, w + (size_t)cut * I, bias + cut, n, I, O - cut);
                if (memcmp(whole, part, (size_t)n * O * sizeof(float)))
                    bad = cut;
            }
            char name[64];
            snprintf(name, sizeof name, "matmul_rows_split_anywhere_%s_n%d", kernel ? "avx" : "sse2", n);
            check_case(bad < 0, name, "split at row %d differs", bad);
        }

    QMatrix q;
    void *qmem = aligned_alloc(64, (q8_matrix_bytes(O, I) + 63) & ~(size_t)63);
    q8_matrix_build(&q, w, O, I, qmem);
    void *xq = aligned_alloc(64, (q8_scratch_bytes(I, N) + 63) & ~(size_t)63);
    for (int path = 0; path < Q8_PATH_COUNT; path++) {
        if (!q8_path_available(path))
            continue;
        q8_matmul(whole, O, in, &q, 0, O, bias, N, xq, path);
        int bad = -1;
        for (uint32_t cut = 0; cut <= O; cut++) {
            q8_matmul(part, O, in, &q, 0, cut, bias, N, xq, path);
            q8_matmul(part, O, in, &q, cut, O, bias, N, xq, path);
            if (memcmp(whole, part, sizeof whole))
                bad = (int)cut;
        }
        char name[64];
        snprintf(name, sizeof name, "q8_rows_split_anywhere_%s", q8_path_name(path));
        check_case(bad < 0, name, "split at row %d differs", bad);

        /* q8.h's definition written out plainly (lrintf: nearest, ties to even, like cvtss2si): every path must
         * give exactly these bits */
        int off = -1;
        for (int n = 0; n < N; n++) {
            const float *x = in + (size_t)n * I;
            float m = 0.0f;
            for (int c = 0; c < I; c++)
                m = fabsf(x[c]) > m ? fabsf(x[c]) : m;
            float inv = 127.0f / m, sx = m / 127.0f;
            for (int r = 0; r < O; r++) {
                int32_t acc = 0;
                for (int c = 0; c < I; c++)
                    acc += (int32_t)q.w[(size_t)r * q.stride + c] * (int32_t)lrintf(x[c] * inv);
                float y = (float)acc * q.scale[r] * sx + bias[r];
                if (memcmp(&y, &whole[n * O + r], 4))
                    off = n * O + r;
            }
        }
        snprintf(name, sizeof name, "q8_equals_plain_definition_%s", q8_path_name(path));
        check_case(off < 0, name, "output %d differs", off);

        /* a NaN or an infinity in an input row makes all of that row's outputs NaN, never finite garbage */
        float *bad_in = malloc(N * I * sizeof *bad_in);
        memcpy(bad_in, in, N * I * sizeof *bad_in);
        bad_in[3] = INFINITY;
        bad_in[I + 36] = NAN; /* in the scalar tail of row 1 */
        q8_matmul(part, O, bad_in, &q, 0, O, bias, N, xq, path);
        int nan_rows = 0;
        for (int n = 0; n < N; n++) {
            int all = 1;
            for (int r = 0; r < O; r++)
                all &= isnan(part[n * O + r]);
            nan_rows |= all << n;
        }
        snprintf(name, sizeof name, "q8_nonfinite_input_gives_nan_%s", q8_path_name(path));
        check_case(nan_rows == 3, name, "rows all NaN: mask %d (want rows 0 and 1 only)", nan_rows);
        free(bad_in);
    }
    free(xq);
    free(qmem);
    free(in);
    free(w);
    free(bias);
}

/* Every weight and activation at +-127 (the int8 range's ends): sums near the largest each path's narrow steps
 * hold (2 * 127 * 127 in an int16 pair for SSE2 and AVX2-mullo, in vpmaddubsw's saturating pair for AVX2), in rows
 * whose signs agree (one huge sum), alternate, or follow the input (the sum of all |products|). Every path must give
 * the exact integer total. */
static void q8_extreme_cases(void)
{
    enum { I = 300, O = 12 }; /* the four patterns three times: AVX2's 8-row block and a 4-row one */
    static float w[O * I], in[I], out[O];
    for (int c = 0; c < I; c++)
        in[c] = (c % 3) ? 2.0f : -2.0f;
    for (int r = 0; r < O; r++)
        for (int c = 0; c < I; c++)
            w[r * I + c] = r % 4 == 0 ? 1.0f : r % 4 == 1 ? -1.0f : r % 4 == 2 ? ((c & 1) ? 1.0f : -1.0f) : in[c] * 0.5f;
    QMatrix q;
    void *qmem = aligned_alloc(64, (q8_matrix_bytes(O, I) + 63) & ~(size_t)63);
    void *xq = aligned_alloc(64, (q8_scratch_bytes(I, 1) + 63) & ~(size_t)63);
    q8_matrix_build(&q, w, O, I, qmem);
    for (int path = 0; path < Q8_PATH_COUNT; path++) {
        if (!q8_path_available(path))
            continue;
        q8_matmul(out, O, in, &q, 0, O, 0, 1, xq, path);
        int off = -1;
        for (int r = 0; r < O; r++) {
            int32_t acc = 0;
            for (int c = 0; c < I; c++)
                acc += (int32_t)q.w[(size_t)r * q.stride + c] * (in[c] > 0 ? 127 : -127);
            float y = (float)acc * q.scale[r] * (2.0f / 127.0f);
            if (memcmp(&y, &out[r], 4))
                off = r;
        }
        char name[64];
        snprintf(name, sizeof name, "q8_extreme_values_exact_%s", q8_path_name(path));
        check_case(off < 0, name, "row %d differs", off);
    }
    free(xq);
    free(qmem);
}

/* A float (version 1) model image with random weights, 64-byte aligned. */
static uint8_t *random_image(ModelConfig *c, size_t *len)
{
    uint64_t n = mf_param_count(c);
    c->payload_bytes = n * 4;
    *len = MF_HEADER_BYTES + (size_t)n * 4;
    uint8_t *img = aligned_alloc(64, (*len + 63) & ~(size_t)63);
    float *w = (float *)(void *)(img + MF_HEADER_BYTES);
    for (uint64_t i = 0; i < n; i++)
        w[i] = frand(0.5f);
    for (int t = 0; t < MF_TENSOR_COUNT; t++) /* norms near 1 so activations keep their size */
        if (t == MF_LN1_W || t == MF_LN2_W || t == MF_LNF_W)
            for (uint32_t l = 0; l < (mf_is_per_layer(t) ? c->layers : 1); l++)
                for (uint64_t i = 0; i < mf_tensor_numel(c, t); i++)
                    w[mf_tensor_offset(c, t, l) + i] += 1.0f;
    c->payload_crc32 = mf_crc32(0, w, (size_t)c->payload_bytes);
    mf_header_encode(c, img);
    return img;
}

/* Logits of every token fed (step: one at a time; batch: all in one call), with `threads` workers. */
static float *run_model(const Model *m, int kernel, unsigned threads, const int32_t *toks, size_t n, int batch)
{
    RunState s;
    void *mem = malloc(model_state_bytes(&m->cfg)), *pmem = malloc(model_parallel_bytes(&m->cfg, threads));
    float *lg = malloc(n * MF_VOCAB * sizeof *lg);
    model_state_init(&s, &m->cfg, mem, kernel);
    Pool *p = threads > 1 ? pool_new(threads) : 0;
    ModelParallel mp = pool_parallel(p);
    model_state_set_parallel(&s, &m->cfg, &mp, pmem);
    if (batch) {
        model_feed(m, &s, toks, n, lg);
    } else {
        for (size_t i = 0; i < n; i++) {
            model_feed(m, &s, toks + i, 1, 0);
            memcpy(lg + i * MF_VOCAB, s.logits, MF_VOCAB * sizeof *lg);
        }
    }
    pool_free(p);
    free(pmem);
    free(mem);
    return lg;
}

static void model_cases(uint32_t dim, uint32_t heads, uint32_t hidden, uint32_t ctx)
{
    ModelConfig c;
    memset(&c, 0, sizeof c);
    c.version = MF_VERSION;
    c.dtype = MF_DTYPE_F32;
    c.vocab = MF_VOCAB;
    c.dim = dim;
    c.heads = heads;
    c.hidden = hidden;
    c.ctx = ctx;
    c.layers = 2;
    strcpy(c.name, "parallel-test");
    size_t len;
    uint8_t *img = random_image(&c, &len);
    Model m;
    char msg[160];
    check_case(model_load(&m, img, len, msg, sizeof msg) == MODEL_OK, "parallel_model_loads", "%s", msg);
    void *qmem = malloc(model_q8_bytes(&m.cfg));
    model_quantize(&m, qmem);
    size_t n = (size_t)ctx * 5 / 2; /* two context overflows */
    int32_t *toks = malloc(n * sizeof *toks);
    for (size_t i = 0; i < n; i++)
        toks[i] = (int32_t)((i * 37 + 11) & 255);
    const char *kname[] = {"sse2", "avx", "q8"};
    for (int kernel = 0; kernel <= KERNEL_Q8; kernel++) {
        if (kernel == KERNEL_AVX && !kern_cpu_has_avx())
            continue;
        for (int batch = 0; batch <= 1; batch++) {
            float *one = run_model(&m, kernel, 1, toks, n, batch);
            for (unsigned t = 2; t <= 4; t++) {
                float *many = run_model(&m, kernel, t, toks, n, batch);
                size_t first = n;
                for (size_t i = 0; i < n * MF_VOCAB && first == n; i++)
                    if (memcmp(one + i, many + i, sizeof *one))
                        first = i / MF_VOCAB;
                char name[96];
                snprintf(name, sizeof name, "logits_bitwise_%s_%s_C%u_hs%u_threads%u_vs_1", kname[kernel],
                         batch ? "batch" : "step", dim, dim / heads, t);
                check_case(first == n, name, "first differing position %zu of %zu", first, n);
                free(many);
            }
            free(one);
        }
    }
    free(toks);
    free(qmem);
    free(img);
}

/* Each part of a call adds its number to its own counter and bumps the call's total; the caller checks both after
 * every call, so a part run twice, never, or after pool_run returned is seen at once. */
typedef struct {
    atomic_uint runs[POOL_MAX_PARTS + 2];
    unsigned n;
    unsigned work; /* a little arithmetic per part, so parts overlap */
    atomic_uint bad;
} PoolProbe;

static void probe_task(void *arg, unsigned w, unsigned n)
{
    PoolProbe *pr = arg;
    volatile unsigned x = w;
    for (unsigned i = 0; i < pr->work; i++)
        x = x * 1103515245u + 12345u;
    if (n != pr->n || w >= n)
        atomic_fetch_add(&pr->bad, 1);
    atomic_fetch_add(&pr->runs[w], 1);
}

static void pool_cases(void)
{
    static PoolProbe pr;
    for (unsigned threads = 2; threads <= 5; threads++) {
        Pool *p = pool_new(threads);
        check_case(p != NULL, "pool_new", "threads %u", threads);
        if (!p)
            continue;
        unsigned ns[] = {1, 2, threads - 1, threads, threads + 1, 2 * threads + 1, POOL_MAX_PARTS, POOL_MAX_PARTS + 2};
        int bad_call = -1;
        unsigned bad_n = 0, calls = 0;
        for (unsigned k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            unsigned n = ns[k], reps = n > 16 ? 200 : 3000;
            for (unsigned r = 0; r < reps && bad_call < 0; r++, calls++) {
                pr.n = n;
                pr.work = (r % 7) * 40; /* 0: parts shorter than a hand-off */
                for (unsigned w = 0; w < n; w++)
                    atomic_store(&pr.runs[w], 0);
                pool_run(p, probe_task, &pr, n);
                for (unsigned w = 0; w < n; w++)
                    if (atomic_load(&pr.runs[w]) != 1)
                        bad_call = (int)calls, bad_n = n;
            }
        }
        char name[64];
        snprintf(name, sizeof name, "pool_every_part_once_threads%u", threads);
        check_case(bad_call < 0 && atomic_load(&pr.bad) == 0, name,
                   "call %d (n %u): a part ran other than once; %u bad args", bad_call, bad_n, atomic_load(&pr.bad));
        pool_free(p);
    }
}

/* A call in phases: each part of phase k counts itself in phase k's total when it ends, and checks at its start
 * that phase k - 1's total is complete (the barrier) and phase k + 1's still empty; the caller checks that every
 * part of every phase ran exactly once. A part now and then sleeps (a thread the OS took away): the others then
 * run its later parts, which the counts must not notice. Every other call names phase inputs (ModelPhaseInputs)
 * in memory that is no longer mapped, as a late thread's copy may: asking for them must never fault or hang. */
#define PH_MAX 1100
#define PH_PARTS 20
typedef struct {
    atomic_uint runs[PH_MAX][PH_PARTS];
    atomic_uint ended[PH_MAX + 1];
    unsigned n, phases, sleep_every, calls;
    atomic_uint bad;
} PhaseProbe;

static void phase_probe_task(void *arg, unsigned k, unsigned w, unsigned n)
{
    PhaseProbe *pr = arg;
    if (n != pr->n || w >= n || k >= pr->phases || (k && atomic_load(&pr->ended[k - 1]) != n) ||
        atomic_load(&pr->ended[k + 1]) != 0)
        atomic_fetch_add(&pr->bad, 1);
    if (pr->sleep_every && (k * 31 + w * 7 + pr->calls) % pr->sleep_every == 0)
        nanosleep(&(struct timespec){0, 200000}, 0); /* 0.2 ms */
    atomic_fetch_add(&pr->runs[k][w], 1);
    atomic_fetch_add(&pr->ended[k], 1);
}

static void pool_phase_cases(void)
{
    static PhaseProbe pr;
    /* three inputs in 64 KiB that were mapped and are not any more, and a null one */
    size_t span = 65536;
    char *unmapped = mmap(0, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check_case(unmapped != MAP_FAILED && munmap(unmapped, span) == 0, "pool_phases_unmapped_inputs_made", "mmap");
    ModelPhaseInputs gone = {{unmapped, unmapped + 4096, 0}, {(uint32_t)span, 8192, 4096}, 3};
    for (unsigned threads = 2; threads <= 4; threads++) {
        Pool *p = pool_new(threads);
        check_case(p != NULL, "pool_new", "threads %u", threads);
        if (!p)
            continue;
        /* 1027 phases: more than one call's worth (POOL_MAX_PHASES), split into two */
        unsigned shapes[][3] = {{2, 1, 0}, {threads, 17, 0}, {threads, 17, 5}, {threads + 1, 33, 0},
                                {2 * threads + 1, 9, 3}, {PH_PARTS, 5, 0}, {threads, 1027, 0}, {3, 1027, 97}};
        int bad_shape = -1;
        for (unsigned k = 0; k < sizeof shapes / sizeof shapes[0] && bad_shape < 0; k++) {
            unsigned reps = shapes[k][1] > 100 ? 3 : 300;
            for (unsigned r = 0; r < reps && bad_shape < 0; r++) {
                pr.n = shapes[k][0];
                pr.phases = shapes[k][1];
                pr.sleep_every = shapes[k][2];
                pr.calls++;
                for (unsigned ph = 0; ph <= pr.phases; ph++) {
                    atomic_store(&pr.ended[ph], 0);
                    for (unsigned w = 0; ph < pr.phases && w < pr.n; w++)
                        atomic_store(&pr.runs[ph][w], 0);
                }
                pool_run_phases(p, phase_probe_task, &pr, pr.n, pr.phases, r % 2 ? &gone : 0);
                for (unsigned ph = 0; ph < pr.phases; ph++)
                    for (unsigned w = 0; w < pr.n; w++)
                        if (atomic_load(&pr.runs[ph][w]) != 1)
                            bad_shape = (int)k;
            }
        }
        char name[64];
        snprintf(name, sizeof name, "pool_phases_barrier_threads%u", threads);
        check_case(bad_shape < 0 && atomic_load(&pr.bad) == 0, name,
                   "shape %d: a part ran other than once; %u parts saw a phase not ended or begun early", bad_shape,
                   atomic_load(&pr.bad));
        pool_free(p);
    }
}

int main(void)
{
    pool_cases();
    pool_phase_cases();
    matmul_split_cases();
    q8_extreme_cases();
    model_cases(36, 3, 100, 20); /* head size 12; qkv 108, hidden 100 rows: no thread count divides them */
    model_cases(40, 5, 90, 9);   /* head size 8, 5 heads: heads split unevenly; GELU pads a tail */
    return check_exit();
}
