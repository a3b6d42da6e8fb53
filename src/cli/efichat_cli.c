/* efichat-cli - the host front end of the core: generate, eval, bench, info, and two developer commands
 * (random-model writes a deterministic random-weights model for tests; logits dumps raw logits for parity tests).
 * Bad arguments or files: one line on stderr naming the problem, exit status 2. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "modelfile.h"
#include "q8.h"
#include "quantize.h"
#include "sampler.h"
#include "ecmath.h"
#include "pool.h"
#include "formats_info.h"
#include "cli.h"
#include "llama_cmds.h"

// ----------------------------------------------------------------------------
// small helpers

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("efichat-cli: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Reads a whole file into a 64-byte aligned buffer. */
/* Reads a whole regular file. Opened without blocking and checked with fstat first: a FIFO would otherwise wait
 * for a writer forever, and a directory reports a size of LONG_MAX through fseek/ftell. */
void *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        die("%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        die("%s: not a regular file", path);
    size_t n = (size_t)sb.st_size;
    void *buf = aligned_alloc(64, (n + 64) & ~(size_t)63);
    if (!buf)
        die("%s: out of memory for %zu bytes", path, n);
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("%s: read error%s", path, r == 0 ? " (the file shrank)" : "");
        got += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

/* argv after the command: --key value pairs only. Unknown keys are an error. */
void parse_opts(int argc, char **argv, Opt *opts, int nopts)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            die("unexpected argument '%s' (options look like --name value)", a);
        int found = 0;
        for (int j = 0; j < nopts; j++)
            if (strcmp(a + 2, opts[j].name) == 0) {
                if (i + 1 >= argc)
                    die("option %s needs a value", a);
                opts[j].value = argv[++i];
                opts[j].used = 1;
                found = 1;
                break;
            }
        if (!found)
            die("unknown option '%s'", a);
    }
}

const char *opt_str(Opt *o, int n, const char *name, const char *def)
{
    for (int i = 0; i < n; i++)
        if (strcmp(o[i].name, name) == 0 && o[i].used)
            return o[i].value;
    return def;
}

double opt_num(Opt *o, int n, const char *name, double def, double lo, double hi)
{
    const char *s = opt_str(o, n, name, 0);
    if (!s)
        return def;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        die("--%s: '%s' is not a number in [%g, %g]", name, s, lo, hi);
    return v;
}

typedef struct {
    Model m;
    void *file;
    RunState s;
    void *state_mem;
    void *q8_mem;
    void *dequant_mem; /* float copies of an int8 (version 2) file's matrices, for the float kernels */
    Pool *pool;        /* --threads N > 1: the workers, and their scratch in the run state */
    void *par_mem;
} Loaded;

static void load_model(Loaded *L, const char *path)
{
    if (!path)
        die("--model FILE is required");
    size_t len;
    L->file = read_file(path, &len);
    char msg[160];
    ModelError e = model_load(&L->m, L->file, len, msg, sizeof msg);
    if (e != MODEL_OK)
        die("%s: %s", path, msg);
    L->q8_mem = 0;
    L->dequant_mem = 0;
    L->pool = 0;
    L->par_mem = 0;
    L->state_mem = malloc(model_state_bytes(&L->m.cfg));
    if (!L->state_mem)
        die("out of memory for the run state");
    model_state_init(&L->s, &L->m.cfg, L->state_mem, model_best_kernel());
}

static void free_model(Loaded *L)
{
    free(L->file);
    free(L->state_mem);
    free(L->q8_mem);
    free(L->dequant_mem);
    pool_free(L->pool);
    free(L->par_mem);
}

/* --threads N: the core's mat-vecs and attention spread over N threads (the same bits as one thread). */
static void apply_threads(Loaded *L, unsigned n)
{
    if (n <= 1)
        return;
    L->pool = pool_new(n);
    L->par_mem = malloc(model_parallel_bytes(&L->m.cfg, n));
    if (!L->pool || !L->par_mem)
        die("--threads %u: cannot start the threads or allocate their scratch", n);
    ModelParallel mp = pool_parallel(L->pool);
    model_state_set_parallel(&L->s, &L->m.cfg, &mp, L->par_mem);
}

/* model_feed, stopping with one line when the logits are not finite (weights large enough to overflow). */
static void feed(Loaded *L, const int32_t *toks, size_t n, float *logits_all)
{
    ModelError e = model_feed(&L->m, &L->s, toks, n, logits_all);
    if (e != MODEL_OK)
        die("model %s: %s", L->m.cfg.name, model_error_string(e));
}

static void choose_kernel(Loaded *L, const char *kern);

/* --kernel: sse2, avx (where the CPU has it) or q8 (quantised copy of the matrices); absent: the fastest float one.
 * A float kernel on an int8 (version 2) file runs its dequantised matrices; q8 reads the int8 values directly. */
static void apply_kernel(Loaded *L, const char *kern)
{
    if (kern)
        choose_kernel(L, kern);
    size_t n = model_dequant_bytes(&L->m.cfg);
    if (L->s.kernel != KERNEL_Q8 && n) {
        if (!(L->dequant_mem = malloc(n)))
            die("out of memory for the float copy of the int8 matrices (%zu bytes)", n);
        model_dequantize(&L->m, L->dequant_mem);
    }
}

int q8_path_named(const char *suffix)
{
    int p = !*suffix ? q8_best_path() : !strcmp(suffix, "-" VEC4_NAME) ? Q8_PATH_SSE2
          : !strcmp(suffix, "-avx2") ? Q8_PATH_AVX2 : !strcmp(suffix, "-vnni") ? Q8_PATH_VNNI
          : !strcmp(suffix, "-dot") ? Q8_PATH_DOT : !strcmp(suffix, "-avx2m") ? Q8_PATH_AVX2M : -1;
    return p >= 0 && q8_path_available(p) ? p : -1;
}

static void choose_kernel(Loaded *L, const char *kern)
{
    if (!strcmp(kern, VEC4_NAME)) {
        L->s.kernel = KERNEL_SCALAR_SSE2;
    } else if (!strcmp(kern, "avx") && model_best_kernel() == KERNEL_AVX) {
        L->s.kernel = KERNEL_AVX;
    } else if (!strncmp(kern, "q8", 2) && q8_path_named(kern + 2) >= 0) {
        L->q8_mem = malloc(model_q8_bytes(&L->m.cfg));
        if (!L->q8_mem || !model_quantize(&L->m, L->q8_mem))
            die("--kernel q8: cannot quantise this model (out of memory, or wider than %u)", Q8_MAX_COLS);
        L->s.kernel = KERNEL_Q8;
        L->s.q8_path = q8_path_named(kern + 2);
    } else {
        die("--kernel: '%s' is not " VEC4_NAME ", avx, q8, q8-" VEC4_NAME ", q8-avx2, q8-vnni or q8-dot on a CPU that has it",
            kern);
    }
}

static const char *kernel_name(const RunState *s)
{
    static char q8[32];
    if (s->kernel != KERNEL_Q8)
        return s->kernel == KERNEL_AVX ? "avx" : VEC4_NAME;
    snprintf(q8, sizeof q8, "q8 (%s)", q8_path_name(s->q8_path));
    return q8;
}

static int32_t *bytes_to_tokens(const char *s, size_t n)
{
    int32_t *t = malloc((n ? n : 1) * sizeof *t);
    if (!t)
        die("out of memory");
    for (size_t i = 0; i < n; i++)
        t[i] = (uint8_t)s[i];
    return t;
}

// ----------------------------------------------------------------------------
// commands

/* 1 when the --model of argv names a file that is not an efichat model (GGUF, llama2.c): the Llama-family commands
 * take it. A missing or unreadable file is left to the efichat path, which says so. */
static int llama_family_model(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--model"))
            path = argv[i + 1];
    FILE *f = path ? fopen(path, "rb") : NULL;
    char magic[4] = {0};
    size_t got = f ? fread(magic, 1, 4, f) : 0;
    if (f)
        fclose(f);
    return got == 4 && memcmp(magic, "EFCM", 4) != 0;
}

static int cmd_generate(int argc, char **argv)
{
    if (llama_family_model(argc, argv))
        return cmd_llama_generate(argc, argv);
    Opt o[] = {{"model", 0, 0}, {"prompt", 0, 0}, {"max", 0, 0}, {"temp", 0, 0}, {"top-k", 0, 0}, {"top-p", 0, 0}, {"seed", 0, 0}, {"kernel", 0, 0}, {"threads", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *prompt = opt_str(o, no, "prompt", 0);
    if (!prompt)
        die("--prompt TEXT is required");
    int max = (int)opt_num(o, no, "max", 256, 0, 1e9);
    float temp = (float)opt_num(o, no, "temp", 0.8, 0, 10);
    uint32_t top_k = (uint32_t)opt_num(o, no, "top-k", 40, 0, 256);
    float top_p = (float)opt_num(o, no, "top-p", 0.95, 0, 1);
    uint64_t seed = (uint64_t)opt_num(o, no, "seed", 1337, 0, 1e18);
    Loaded L;
    load_model(&L, opt_str(o, no, "model", 0));
    apply_kernel(&L, opt_str(o, no, "kernel", 0));
    apply_threads(&L, (unsigned)opt_num(o, no, "threads", 1, 1, 256));
    Sampler smp;
    sampler_init(&smp, temp, top_k, top_p, seed);

    size_t n = strlen(prompt);
    int32_t *toks = bytes_to_tokens(n ? prompt : "\n", n ? n : 1);
    feed(&L, toks, n ? n : 1, 0);
    for (int i = 0; i < max; i++) {
        int32_t t = sampler_sample(&smp, L.s.logits, MF_VOCAB);
        putchar(t);
        fflush(stdout);
        feed(&L, &t, 1, 0);
    }
    free(toks);
    free_model(&L);
    return 0;
}

/* Cross-entropy of the model on a split, every predicted byte once, each with >= T/2 bytes of history except the
 * first T of the split (the first window scores all of its positions). */
static int cmd_eval(int argc, char **argv)
{
    Opt o[] = {{"model", 0, 0}, {"data", 0, 0}, {"split", 0, 0}, {"kernel", 0, 0}, {"threads", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *split = opt_str(o, no, "split", "val"), *data_path = opt_str(o, no, "data", 0);
    if (!data_path)
        die("--data FILE is required");
    if (strcmp(split, "val") && strcmp(split, "train") && strcmp(split, "all"))
        die("--split: '%s' is not val, train or all", split);
    Loaded L;
    load_model(&L, opt_str(o, no, "model", 0));
    apply_kernel(&L, opt_str(o, no, "kernel", 0));
    apply_threads(&L, (unsigned)opt_num(o, no, "threads", 1, 1, 256));
    size_t len;
    uint8_t *data = read_file(data_path, &len);
    size_t cut = (size_t)((uint64_t)len * 9 / 10), lo = 0, hi = len;
    if (!strcmp(split, "train"))
        hi = cut;
    else if (!strcmp(split, "val"))
        lo = cut;
    size_t N = hi - lo;
    if (N < 2)
        die("%s: the %s split has %zu bytes, need at least 2", data_path, split, N);
    const uint8_t *D = data + lo;

    size_t T = L.m.cfg.ctx, S = T - T / 2;
    int32_t *toks = malloc(T * sizeof *toks);
    float *logits = malloc(T * MF_VOCAB * sizeof *logits);
    if (!toks || !logits)
        die("out of memory");
    double total = 0;
    size_t scored = 0, next_target = 1; /* targets are positions 1..N-1 of the split */
    for (size_t s = 0; next_target < N; s += S) {
        size_t n = N - 1 - s < T ? N - 1 - s : T; /* inputs s..s+n-1 predict s+1..s+n */
        for (size_t i = 0; i < n; i++)
            toks[i] = D[s + i];
        model_state_reset(&L.s);
        feed(&L, toks, n, logits);
        for (size_t j = next_target; j <= s + n; j++) {
            const float *lg = logits + (j - 1 - s) * MF_VOCAB;
            double mx = lg[0], sum = 0;
            for (unsigned v = 1; v < MF_VOCAB; v++)
                mx = lg[v] > mx ? lg[v] : mx;
            for (unsigned v = 0; v < MF_VOCAB; v++)
                sum += exp(lg[v] - mx);
            total += (log(sum) + mx) - lg[D[j]];
            scored++;
        }
        next_target = s + n + 1;
    }
    printf("loss %.4f nats/byte over %zu bytes\n", total / (double)scored, scored);
    free(toks);
    free(logits);
    free(data);
    free_model(&L);
    return 0;
}

static int cmd_bench(int argc, char **argv)
{
    if (llama_family_model(argc, argv))
        return cmd_llama_bench(argc, argv);
    Opt o[] = {{"model", 0, 0}, {"seconds", 0, 0}, {"kernel", 0, 0}, {"threads", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    double secs = opt_num(o, no, "seconds", 1.0, 0.01, 600);
    Loaded L;
    load_model(&L, opt_str(o, no, "model", 0));
    apply_kernel(&L, opt_str(o, no, "kernel", 0));
    apply_threads(&L, (unsigned)opt_num(o, no, "threads", 1, 1, 256));
    size_t T = L.m.cfg.ctx;
    int32_t *toks = malloc(T * sizeof *toks);
    if (!toks)
        die("out of memory");
    for (size_t i = 0; i < T; i++)
        toks[i] = (int32_t)("To be, or not to be, that is the question: "[i % 44]);

    // prefill: the whole context in one call, repeated
    size_t done = 0;
    double t0 = now_s(), t;
    do {
        model_state_reset(&L.s);
        feed(&L, toks, T, 0);
        done += T;
    } while ((t = now_s() - t0) < secs);
    double prefill = done / t;

    // decode: one token at a time over the whole context (attention cost averaged over every fill level)
    done = 0;
    t0 = now_s();
    do {
        model_state_reset(&L.s);
        for (size_t i = 0; i < T; i++)
            feed(&L, toks + i, 1, 0);
        done += T;
    } while ((t = now_s() - t0) < secs);
    double decode = done / t;
    printf("model %s: dim %u layers %u heads %u ctx %u, kernel %s, threads %u\n", L.m.cfg.name, L.m.cfg.dim,
           L.m.cfg.layers, L.m.cfg.heads, L.m.cfg.ctx, kernel_name(&L.s), L.s.par.workers);
    printf("prefill %.0f tokens/s\ndecode %.0f tokens/s\n", prefill, decode);
    free(toks);
    free_model(&L);
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    Opt o[] = {{"model", 0, 0}};
    parse_opts(argc, argv, o, 1);
    const char *path = opt_str(o, 1, "model", 0);
    if (!path)
        die("--model FILE is required");
    size_t len;
    void *image = read_file(path, &len);
    char msg[300];
    int other = formats_info(stdout, image, len, msg, sizeof msg); /* GGUF and llama2.c files */
    free(image);
    if (other < 0)
        die("%s: %s", path, msg);
    if (other > 0)
        return 0;
    Loaded L;
    load_model(&L, path);
    const ModelConfig *c = &L.m.cfg;
    printf("name %s\nformat version %u, dtype %s\nvocab %u\nctx %u\ndim %u\nlayers %u\nheads %u (head size %u)\n"
           "hidden %u\nparameters %llu\n",
           c->name, c->version, c->dtype == MF_DTYPE_Q8 ? "int8 matrices" : "f32", c->vocab, c->ctx, c->dim, c->layers, c->heads, c->dim / c->heads, c->hidden,
           (unsigned long long)mf_param_count(c));
    free_model(&L);
    return 0;
}

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [-a, a] from 24 random bits: exact float arithmetic, so every build writes the same bytes. */
static float rng_uniform(uint64_t *x, float a)
{
    float u = (float)(rng_next(x) >> 40) * (1.0f / 16777216.0f);
    return (2.0f * u - 1.0f) * a;
}

static int cmd_random_model(int argc, char **argv)
{
    Opt o[] = {{"out", 0, 0}, {"dim", 0, 0}, {"layers", 0, 0}, {"heads", 0, 0}, {"ctx", 0, 0}, {"hidden", 0, 0}, {"seed", 0, 0}, {"name", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *out = opt_str(o, no, "out", 0);
    if (!out)
        die("--out FILE is required");
    ModelConfig c;
    memset(&c, 0, sizeof c);
    c.version = MF_VERSION;
    c.dtype = MF_DTYPE_F32;
    c.vocab = MF_VOCAB;
    c.dim = (uint32_t)opt_num(o, no, "dim", 64, 1, MF_MAX_DIM);
    c.layers = (uint32_t)opt_num(o, no, "layers", 2, 1, MF_MAX_LAYERS);
    c.heads = (uint32_t)opt_num(o, no, "heads", 4, 1, MF_MAX_DIM);
    c.ctx = (uint32_t)opt_num(o, no, "ctx", 64, 1, MF_MAX_CTX);
    c.hidden = (uint32_t)opt_num(o, no, "hidden", 4.0 * c.dim, 1, MF_MAX_HIDDEN);
    if (c.dim % c.heads)
        die("--heads %u does not divide --dim %u", c.heads, c.dim);
    uint64_t seed = (uint64_t)opt_num(o, no, "seed", 1, 1, 1e18);
    snprintf(c.name, sizeof c.name, "%s", opt_str(o, no, "name", "random-test-model"));
    uint64_t n = mf_param_count(&c);
    float *w = malloc(n * sizeof *w);
    if (!w)
        die("out of memory");
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull | 1;
    for (int t = 0; t < MF_TENSOR_COUNT; t++) {
        uint32_t nl = mf_is_per_layer(t) ? c.layers : 1;
        int is_norm_w = t == MF_LN1_W || t == MF_LN2_W || t == MF_LNF_W;
        int is_bias = t == MF_LN1_B || t == MF_LN2_B || t == MF_LNF_B || t == MF_QKV_B || t == MF_PROJ_B ||
                      t == MF_FC_B || t == MF_FCPROJ_B;
        uint32_t fan_in = (t == MF_FCPROJ_W) ? c.hidden : c.dim;
        float a = t == MF_WTE ? 0.3f : t == MF_WPE ? 1.0f : 3.0f / ec_sqrtf((float)fan_in);
        for (uint32_t l = 0; l < nl; l++) {
            float *p = w + mf_tensor_offset(&c, t, l);
            for (uint64_t i = 0; i < mf_tensor_numel(&c, t); i++)
                p[i] = is_norm_w ? 1.0f + rng_uniform(&rng, 0.2f) : is_bias ? rng_uniform(&rng, 0.1f)
                                                                             : rng_uniform(&rng, a);
        }
    }
    c.payload_bytes = n * 4;
    c.payload_crc32 = mf_crc32(0, w, (size_t)c.payload_bytes);
    uint8_t hdr[MF_HEADER_BYTES];
    mf_header_encode(&c, hdr);
    FILE *f = fopen(out, "wb");
    if (!f)
        die("%s: %s", out, strerror(errno));
    if (fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr || fwrite(w, 4, n, f) != n || fclose(f) != 0)
        die("%s: write error", out);
    free(w);
    return 0;
}

/* Writes the int8 (version 2) form of a float (version 1) model: same bytes for the same input, every time. */
static int cmd_quantize(int argc, char **argv)
{
    Opt o[] = {{"in", 0, 0}, {"out", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *in = opt_str(o, no, "in", 0), *out = opt_str(o, no, "out", 0);
    if (!in || !out)
        die("--in FILE and --out FILE are required");
    size_t len;
    void *file = read_file(in, &len);
    Model m;
    char msg[160];
    ModelError e = model_load(&m, file, len, msg, sizeof msg);
    if (e != MODEL_OK)
        die("%s: %s", in, msg);
    if (m.cfg.version != MF_VERSION)
        die("%s: already int8 (format version %u); quantize reads float (version 1) models", in, m.cfg.version);
    ModelConfig q = quantize_config(&m.cfg);
    size_t n = MF_HEADER_BYTES + (size_t)q.payload_bytes;
    uint8_t *img = malloc(n);
    if (!img)
        die("out of memory for %zu bytes", n);
    quantize_image(&m, img);
    FILE *f = fopen(out, "wb");
    if (!f)
        die("%s: %s", out, strerror(errno));
    if (fwrite(img, 1, n, f) != n || fclose(f) != 0)
        die("%s: write error", out);
    free(img);
    free(file);
    return 0;
}

/* Writes float32 logits (n, 256) for the bytes of --text: fed one token at a time (--mode step) or in one call. */
static int cmd_logits(int argc, char **argv)
{
    Opt o[] = {{"model", 0, 0}, {"text-file", 0, 0}, {"out", 0, 0}, {"mode", 0, 0}, {"kernel", 0, 0}, {"threads", 0, 0}};
    int no = sizeof o / sizeof o[0];
    parse_opts(argc, argv, o, no);
    const char *tf = opt_str(o, no, "text-file", 0), *out = opt_str(o, no, "out", 0);
    const char *mode = opt_str(o, no, "mode", "step");
    if (!tf || !out)
        die("--text-file FILE and --out FILE are required");
    Loaded L;
    load_model(&L, opt_str(o, no, "model", 0));
    apply_kernel(&L, opt_str(o, no, "kernel", 0));
    apply_threads(&L, (unsigned)opt_num(o, no, "threads", 1, 1, 256));
    size_t n;
    char *text = read_file(tf, &n);
    int32_t *toks = bytes_to_tokens(text, n);
    float *lg = malloc((n ? n : 1) * MF_VOCAB * sizeof *lg);
    if (!lg)
        die("out of memory");
    if (!strcmp(mode, "step")) {
        for (size_t i = 0; i < n; i++) {
            feed(&L, toks + i, 1, 0);
            memcpy(lg + i * MF_VOCAB, L.s.logits, MF_VOCAB * sizeof *lg);
        }
    } else if (!strcmp(mode, "batch")) {
        feed(&L, toks, n, lg);
    } else {
        die("--mode: '%s' is not step or batch", mode);
    }
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(lg, sizeof *lg, n * MF_VOCAB, f) != n * MF_VOCAB || fclose(f) != 0)
        die("%s: write error", out);
    free(lg);
    free(toks);
    free(text);
    free_model(&L);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
        const char *usage; /* the options after the command */
    } cmds[] = {
        {"generate", cmd_generate, "--model M --prompt TEXT [--max N] [--temp T] [--top-k K] [--top-p P] [--seed S]"
                                   " [--kernel sse2|avx|q8] [--threads N]\n  streams N bytes sampled after TEXT (a GGUF or llama2.c M: llama-generate,"
                                   " N tokens)"},
        {"eval", cmd_eval, "--model M --data FILE [--split val|train|all] [--kernel sse2|avx|q8] [--threads N]\n"
                           "  loss in nats/byte on the split (train: the first 90% of FILE, val: the rest)"},
        {"bench", cmd_bench, "--model M [--seconds S] [--kernel sse2|avx|q8] [--threads N]\n  prefill and decode tokens/s"
                             " (a GGUF or llama2.c M: llama-bench)"},
        {"info", cmd_info, "--model M\n  the model's header and parameter count (of a GGUF or llama2.c file: config "
                           "and tensors)"},
        {"quantize", cmd_quantize, "--in FLOAT.bin --out INT8.bin\n  writes the model with int8 matrices (format"
                                   " version 2, about 4x smaller)"},
        {"random-model", cmd_random_model, "--out FILE --dim C --layers L --heads NH --ctx T [--hidden H] [--seed S]"
                                           " [--name NAME]\n  writes a model with deterministic random weights"},
        {"logits", cmd_logits, "--model M --text-file FILE --out FILE [--mode step|batch] [--kernel sse2|avx|q8] [--threads N]\n"
                               "  writes float32 logits (bytes of FILE, 256) for parity tests"},
        {"llama-logits", cmd_llama_logits, "--model GGUF|LLAMA2C --tokens-file IDS --out FILE [--kernel sse2|avx|q8] [--ctx N] [--q8-from file|float] [--threads N]\n"
                                           "  float32 logits (ids, vocab) of a Llama-family file for token ids (int32)"},
        {"llama-bench", cmd_llama_bench, "--model GGUF|LLAMA2C [--kernel sse2|avx|q8] [--tokens N] [--threads N]\n"
                                         "  decode tokens/s of a Llama-family file, N tokens one at a time"},
        {"tokenize", cmd_tokenize, "--model F [--tokenizer T] --text-file X [--bos 0|1] [--special 0|1]\n"
                                   "  the token ids of X's bytes (the tokenizer of GGUF F, or T: tokenizer.bin or GGUF); --special 1:"
                                   " special tokens written in X (<|im_end|>) are those tokens"},
        {"chat", cmd_chat, "--model F [--tokenizer T] --script FILE [--template auto|chatml|llama2|zephyr|none]\n"
                           "  [--max N] [--temp T] [--top-k K] [--top-p P] [--seed S] [--ctx N] [--kernel q8|float|avx] [--ids 1]\n"
                           "  a conversation with a Llama-family file, one user message per line of FILE (the app's"
                           " code)"},
        {"llama-generate", cmd_llama_generate, "--model F [--tokenizer T] --prompt P [--max N] [--temp T] [--top-k K] [--top-p P] [--seed S] [--ctx N] [--kernel float|avx|q8]"
                                               " [--ids 1]\n  continuation of P by a Llama-family file (greedy unless"
                                               " --temp), up to EOS or end of turn"},
    };
    size_t ncmds = sizeof cmds / sizeof cmds[0];
    int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    if (argc < 2 || help) {
        FILE *out = help ? stdout : stderr;
        fprintf(out, "usage: efichat-cli COMMAND [options]   (efichat-cli COMMAND --help for one)\n");
        for (size_t i = 0; i < ncmds; i++)
            fprintf(out, "  %s %s\n", cmds[i].name, cmds[i].usage);
        return help ? 0 : 2;
    }
    for (size_t i = 0; i < ncmds; i++) {
        if (strcmp(argv[1], cmds[i].name))
            continue;
        for (int j = 2; j < argc; j++)
            if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
                printf("usage: efichat-cli %s %s\n", cmds[i].name, cmds[i].usage);
                return 0;
            }
        return cmds[i].fn(argc - 2, argv + 2);
    }
    die("unknown command '%s' (generate, eval, bench, info, quantize, random-model, logits, llama-logits, llama-bench,"
        " tokenize, llama-generate; --help lists them)",
        argv[1]);
    return 2;
}
