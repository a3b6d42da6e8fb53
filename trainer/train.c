/* train.c - `build/train`: trains the efichat GPT on a byte file (train = first 90%, val = the rest, as
 * `efichat-cli eval`; with --select-frac the end of train is held out for model selection and val is scored once)
 * with AdamW, warm-up + cosine, clipping, periodic eval/samples/checkpoints, a progress line and a CSV log.
 * Everything is checked before any output file is touched; errors exit with status 1. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "gradcheck.h"
#include "gpt.h"
#include "rng.h"

typedef struct {
    const char *data, *out, *checkpoint, *resume, *csv, *dump, *name;
    int layers, heads, dim, ctx, hidden, batch, steps, stop_at, warmup, threads;
    int eval_every, eval_batches, sample_every, sample_len, ckpt_every, log_every, gradcheck;
    int keep_final; /* --keep final: --out is the last step's model; periodic evals are only logged */
    float lr, min_lr_frac, wd, beta1, beta2, eps, clip, temp, dropout, select_frac;
    uint64_t seed;
} Args;

/* The file's three parts, in order. With --select-frac 0 there is no selection slice (nfit == ntrain) and the
 * periodic evaluation and --out's choice use val, as they always did. */
typedef struct {
    uint8_t *bytes;
    size_t len;
    size_t nfit;   /* batches come from bytes[0, nfit): the only bytes ever trained on */
    size_t ntrain; /* the selection slice is bytes[nfit, ntrain), val is bytes[ntrain, len) */
} Data;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "train: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// ----------------------------------------------------------------------------------------------------------------
// command line

static void usage(void)
{
    printf("usage: train --data FILE --out MODEL [options]\n"
           "  model:  --layers L (4) --heads H (4) --dim C (256) --ctx T (256) --hidden HD (4C) --name NAME\n"
           "  run:    --batch B (16) --steps N (5000) --lr LR (1e-3) --min-lr-frac F (0.1) --warmup W (100)\n"
           "          --wd WD (0.1) --beta1 (0.9) --beta2 (0.95) --clip G (1.0) --seed S (1337) --threads N (all)\n"
           "          --dropout P (0: off; 0 <= P < 1, on the embeddings, attention and residual branches while\n"
           "          training, never in eval or samples)\n"
           "          --select-frac F (0: off; 0 <= F < 1: the last floor(F * train bytes) of the train split are\n"
           "          never trained on; periodic eval and --out's choice use them, and val is scored once, at the\n"
           "          last step, on the --out model)\n"
           "          --keep best|final (best: --out is the model of the best periodic eval; final: the model of\n"
           "          the last step, a fixed step count, and periodic evals only draw the loss curve)\n"
           "  output: --eval-every K (250) --eval-batches K (8) --sample-every K (500) --sample-len N (200)\n"
           "          --temp X (0.8) --log-every K (10) --csv FILE --checkpoint FILE --ckpt-every K (eval-every)\n"
           "          --resume FILE --stop-at N (stop after step N, schedule still planned for --steps)\n"
           "          --dump FILE (parity dump for tools/train_parity.py)\n"
           "          --gradcheck K (print finite-difference checks of K random parameters per tensor, then exit)\n"
           "--out holds the model with the best periodic validation (or, with --select-frac, selection) loss,\n"
           "and the final model when no eval ran or with --keep final.\n"
           "Split: train = first floor(0.9 N) bytes, val = the rest.\n");
}

static long parse_int(const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        die("%s wants an integer in %ld..%ld, got '%s'", opt, lo, hi, s);
    return v;
}

static float parse_float(const char *opt, const char *s, float lo, float hi)
{
    char *end;
    float v = strtof(s, &end);
    if (*end || end == s || !(v >= lo && v <= hi))
        die("%s wants a number in %g..%g, got '%s'", opt, lo, hi, s);
    return v;
}

static void parse_args(Args *a, int argc, char **argv)
{
    *a = (Args){.layers = 4, .heads = 4, .dim = 256, .ctx = 256, .hidden = 0, .batch = 16, .steps = 5000,
                .stop_at = 0, .warmup = 100, .threads = omp_get_max_threads(), .eval_every = 250,
                .eval_batches = 8, .sample_every = 500, .sample_len = 200, .ckpt_every = 0, .log_every = 10,
                .lr = 1e-3f, .min_lr_frac = 0.1f, .wd = 0.1f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f,
                .clip = 1.0f, .temp = 0.8f, .seed = 1337, .name = NULL};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage();
            exit(0);
        }
        if (i + 1 >= argc)
            die("%s needs a value (see --help)", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--data")) a->data = v;
        else if (!strcmp(o, "--out")) a->out = v;
        else if (!strcmp(o, "--checkpoint")) a->checkpoint = v;
        else if (!strcmp(o, "--resume")) a->resume = v;
        else if (!strcmp(o, "--csv")) a->csv = v;
        else if (!strcmp(o, "--dump")) a->dump = v;
        else if (!strcmp(o, "--name")) a->name = v;
        else if (!strcmp(o, "--layers")) a->layers = parse_int(o, v, 1, MF_MAX_LAYERS);
        else if (!strcmp(o, "--heads")) a->heads = parse_int(o, v, 1, MF_MAX_DIM);
        else if (!strcmp(o, "--dim")) a->dim = parse_int(o, v, 1, MF_MAX_DIM);
        else if (!strcmp(o, "--ctx")) a->ctx = parse_int(o, v, 1, MF_MAX_CTX);
        else if (!strcmp(o, "--hidden")) a->hidden = parse_int(o, v, 1, MF_MAX_HIDDEN);
        else if (!strcmp(o, "--batch")) a->batch = parse_int(o, v, 1, 4096);
        else if (!strcmp(o, "--steps")) a->steps = parse_int(o, v, 1, 100000000);
        else if (!strcmp(o, "--stop-at")) a->stop_at = parse_int(o, v, 1, 100000000);
        else if (!strcmp(o, "--warmup")) a->warmup = parse_int(o, v, 0, 100000000);
        else if (!strcmp(o, "--threads")) a->threads = parse_int(o, v, 1, 256);
        else if (!strcmp(o, "--eval-every")) a->eval_every = parse_int(o, v, 0, 100000000);
        else if (!strcmp(o, "--eval-batches")) a->eval_batches = parse_int(o, v, 1, 100000);
        else if (!strcmp(o, "--sample-every")) a->sample_every = parse_int(o, v, 0, 100000000);
        else if (!strcmp(o, "--sample-len")) a->sample_len = parse_int(o, v, 1, 100000);
        else if (!strcmp(o, "--ckpt-every")) a->ckpt_every = parse_int(o, v, 1, 100000000);
        else if (!strcmp(o, "--log-every")) a->log_every = parse_int(o, v, 1, 100000000);
        else if (!strcmp(o, "--gradcheck")) a->gradcheck = parse_int(o, v, 1, 100000);
        else if (!strcmp(o, "--lr")) a->lr = parse_float(o, v, 0.0f, 10.0f);
        else if (!strcmp(o, "--min-lr-frac")) a->min_lr_frac = parse_float(o, v, 0.0f, 1.0f);
        else if (!strcmp(o, "--wd")) a->wd = parse_float(o, v, 0.0f, 10.0f);
        else if (!strcmp(o, "--beta1")) a->beta1 = parse_float(o, v, 0.0f, 0.9999999f);
        else if (!strcmp(o, "--beta2")) a->beta2 = parse_float(o, v, 0.0f, 0.9999999f);
        else if (!strcmp(o, "--clip")) a->clip = parse_float(o, v, 0.0f, 1e9f);
        else if (!strcmp(o, "--temp")) a->temp = parse_float(o, v, 0.0f, 100.0f);
        else if (!strcmp(o, "--dropout")) {
            a->dropout = parse_float(o, v, 0.0f, 1.0f);
            if (a->dropout >= 1.0f)
                die("--dropout wants a probability in [0, 1) (1 would drop everything), got '%s'", v);
        }
        else if (!strcmp(o, "--select-frac")) {
            a->select_frac = parse_float(o, v, 0.0f, 1.0f);
            if (a->select_frac >= 1.0f)
                die("--select-frac wants a fraction of the train split in [0, 1) (1 would leave nothing to train "
                    "on), got '%s'", v);
        }
        else if (!strcmp(o, "--keep")) {
            if (strcmp(v, "best") && strcmp(v, "final"))
                die("--keep wants best or final, got '%s'", v);
            a->keep_final = !strcmp(v, "final");
        }
        else if (!strcmp(o, "--seed")) a->seed = (uint64_t)parse_int(o, v, 0, 0x7fffffffL);
        else die("unknown option %s (see --help)", o);
    }
    if (!a->data)
        die("--data FILE is required (the default corpus is ../shared/data/tinyshakespeare.txt)");
    if (!a->out && !a->dump && !a->gradcheck)
        die("--out MODEL is required");
    if (a->hidden == 0)
        a->hidden = 4 * a->dim;
    if (a->ckpt_every == 0)
        a->ckpt_every = a->eval_every > 0 ? a->eval_every : 1000;
    if (a->stop_at == 0 || a->stop_at > a->steps)
        a->stop_at = a->steps;
}

/* Reads the whole file; needs room for one training window and one validation window, and with a selection slice
 * (the last floor(select_frac * ntrain) train bytes) one window there too. */
static void load_data(Data *d, const char *path, int T, float select_frac)
{
    /* Opened without blocking so that a FIFO fails the regular-file check instead of waiting for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        die("cannot open data file %s: %s (get tinyshakespeare.txt as docs/training.md says)", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        die("data file %s is not a regular file", path);
    FILE *f = fdopen(fd, "rb");
    if (!f)
        die("cannot open data file %s: %s", path, strerror(errno));
    long len = (long)sb.st_size;
    if (len == 0)
        die("data file %s is empty", path);
    d->bytes = malloc((size_t)len);
    if (!d->bytes || fread(d->bytes, 1, (size_t)len, f) != (size_t)len)
        die("cannot read data file %s", path);
    fclose(f);
    d->len = (size_t)len;
    d->ntrain = d->len * 9 / 10;
    if (d->ntrain < (size_t)T + 1 || d->len - d->ntrain < (size_t)T + 1)
        die("data file %s is too short: %zu bytes give %zu train and %zu val bytes, each split needs at least "
            "ctx+1 = %d (use a longer file or a smaller --ctx)", path, d->len, d->ntrain, d->len - d->ntrain, T + 1);
    size_t nsel = (size_t)((double)select_frac * (double)d->ntrain);
    d->nfit = d->ntrain - nsel;
    if (select_frac > 0.0f && (nsel < (size_t)T + 1 || d->nfit < (size_t)T + 1))
        die("--select-frac %g of the %zu train bytes of %s leaves %zu bytes to train on and %zu to select on; each "
            "needs at least ctx+1 = %d (change --select-frac, use a longer file or a smaller --ctx)", select_frac,
            d->ntrain, path, d->nfit, nsel, T + 1);
}

// ----------------------------------------------------------------------------------------------------------------
// batches, eval, samples

/* B random windows of the bytes trained on: inputs (B, T) and targets shifted by one; a window starting at off
 * reads bytes [off, off + T], so off < nfit - T keeps the selection slice and val out of every batch */
static void next_batch(Rng *r, const Data *d, uint8_t *inp, uint8_t *tgt, int B, int T)
{
    for (int b = 0; b < B; b++) {
        size_t off = (size_t)rng_below(r, d->nfit - (size_t)T);
        memcpy(inp + (size_t)b * T, d->bytes + off, (size_t)T);
        memcpy(tgt + (size_t)b * T, d->bytes + off + 1, (size_t)T);
    }
}

/* Mean loss over non-overlapping windows of bytes[lo, hi): all of them when max_batches <= 0, else that many
 * batches of windows spread evenly over the part. */
static float evaluate(Gpt *m, const uint8_t *bytes, size_t lo, size_t hi, uint8_t *inp, uint8_t *tgt,
                      int max_batches)
{
    int B = m->B, T = m->T;
    size_t nwin = (hi - lo - 1) / T;
    size_t use = max_batches > 0 && (size_t)max_batches * B < nwin ? (size_t)max_batches * B : nwin;
    double total = 0.0;
    size_t done = 0;
    while (done < use) {
        int b = use - done < (size_t)B ? (int)(use - done) : B;
        for (int i = 0; i < b; i++) {
            size_t w = (done + i) * nwin / use;
            const uint8_t *src = bytes + lo + w * T;
            memcpy(inp + (size_t)i * T, src, (size_t)T);
            memcpy(tgt + (size_t)i * T, src + 1, (size_t)T);
        }
        total += (double)gpt_forward(m, inp, tgt, b, T, NULL) * b; /* no dropout in evaluation */
        done += b;
    }
    return (float)(total / use);
}

/* Writes `len` sampled bytes after a newline to stdout, with a sampler RNG of its own (training stays exact). */
static void sample_text(Gpt *m, uint8_t *buf, int len, float temp, uint64_t seed)
{
    Rng r;
    rng_seed(&r, seed);
    int T = m->T, n = 1;
    buf[0] = '\n';
    for (int i = 0; i < len; i++) {
        int start = n > T ? n - T : 0, t = n - start;
        gpt_forward(m, buf + start, NULL, 1, t, NULL);
        const float *l = m->logits + (size_t)(t - 1) * 256;
        int next = 0;
        if (temp <= 0.0f) {
            for (int v = 1; v < 256; v++)
                next = l[v] > l[next] ? v : next;
        } else {
            float mx = l[0], p[256], sum = 0.0f;
            for (int v = 1; v < 256; v++)
                mx = l[v] > mx ? l[v] : mx;
            for (int v = 0; v < 256; v++)
                sum += p[v] = expf((l[v] - mx) / temp);
            float u = rng_uniform(&r) * sum, acc = 0.0f;
            next = 255;
            for (int v = 0; v < 256; v++)
                if ((acc += p[v]) > u) {
                    next = v;
                    break;
                }
        }
        buf[n++] = (uint8_t)next;
        if (n == 2 * T) { /* keep the buffer bounded: slide the last T bytes down */
            memmove(buf, buf + T, (size_t)T);
            n = T;
        }
        putchar(next);
    }
    putchar('\n');
    fflush(stdout);
}

static float lr_at(const Args *a, int step) /* step counts from 1 */
{
    if (step <= a->warmup)
        return a->lr * step / (a->warmup > 0 ? a->warmup : 1);
    float min_lr = a->lr * a->min_lr_frac;
    float frac = (float)(step - a->warmup) / (float)(a->steps - a->warmup > 0 ? a->steps - a->warmup : 1);
    frac = frac > 1.0f ? 1.0f : frac;
    return min_lr + 0.5f * (a->lr - min_lr) * (1.0f + cosf(3.14159265358979f * frac));
}

// ----------------------------------------------------------------------------------------------------------------
// parity dump (tools/train_parity.py reads it): a header of 9 u32 (B, T, L, NH, C, HD, steps, nparams, dropout as
// f32 bits), the initial parameters, the first step's logits and gradients, then per step the batch, loss, lr, norm
// and, with dropout, the step's masks; the final parameters last

static void dump_floats(FILE *f, const float *p, size_t n)
{
    if (fwrite(p, sizeof(float), n, f) != n)
        die("cannot write the dump");
}

/* One site's mask as n bytes, 1 kept and 0 dropped, from the dropout.h calls the forward makes. */
static void dump_mask(FILE *f, const Dropout *drop, uint32_t layer, int site, uint64_t n)
{
    DropMask dm = dropmask_for(drop, layer, site);
    uint8_t buf[4096];
    for (uint64_t i0 = 0; i0 < n; i0 += sizeof buf) {
        size_t k = n - i0 < sizeof buf ? (size_t)(n - i0) : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = (uint8_t)dropmask_keep(&dm, i0 + i);
        if (fwrite(buf, 1, k, f) != k)
            die("cannot write the dump");
    }
}

/* A step's masks: the embeddings (B, T, C), then per layer attention (B, NH, T, T), the attention branch (B, T, C)
 * and the MLP branch (B, T, C). */
static void dump_masks(FILE *f, const Dropout *drop, const ModelConfig *c, int B, int T)
{
    uint64_t btc = (uint64_t)B * T * c->dim;
    dump_mask(f, drop, 0, DROP_EMB, btc);
    for (uint32_t l = 0; l < c->layers; l++) {
        dump_mask(f, drop, l, DROP_ATT, (uint64_t)B * c->heads * T * T);
        dump_mask(f, drop, l, DROP_ATT_RESID, btc);
        dump_mask(f, drop, l, DROP_MLP_RESID, btc);
    }
}

// ----------------------------------------------------------------------------------------------------------------

int main(int argc, char **argv)
{
    Args a;
    parse_args(&a, argc, argv);
    char err[512], name[64];
    ModelConfig cfg = {.version = MF_VERSION, .dtype = MF_DTYPE_F32, .vocab = 256, .ctx = (uint32_t)a.ctx,
                       .dim = (uint32_t)a.dim, .layers = (uint32_t)a.layers, .heads = (uint32_t)a.heads,
                       .hidden = (uint32_t)a.hidden};
    snprintf(name, sizeof name, "%s", a.name ? a.name : "efichat");
    Gpt m;
    if (gpt_build(&m, &cfg, a.batch, a.ctx, a.threads, err, sizeof err) != 0)
        die("%s", err);
    Data d;
    load_data(&d, a.data, a.ctx, a.select_frac);
    int sel = a.select_frac > 0.0f; /* periodic eval and --out's choice on the selection slice, val once */
    TrainState st = {.step = 0, .seed = a.seed, .batch = (uint32_t)a.batch, .seq = (uint32_t)a.ctx,
                     .total_steps = (uint32_t)a.steps, .best_val = INFINITY, .dropout = a.dropout,
                     .select_frac = a.select_frac};
    Rng rng;
    rng_seed(&rng, a.seed ^ 0xDA7A5EEDull);
    if (a.resume) {
        if (ck_read(a.resume, &m, &st, err, sizeof err) != 0)
            die("%s", err);
        if (st.total_steps != (uint32_t)a.steps)
            fprintf(stderr, "train: note: checkpoint planned %u steps, this run plans %d (the schedule changes)\n",
                    st.total_steps, a.steps);
        st.total_steps = (uint32_t)a.steps;
        if (st.dropout != a.dropout)
            fprintf(stderr, "train: note: checkpoint trained with --dropout %g, this run uses %g\n", st.dropout,
                    a.dropout);
        st.dropout = a.dropout;
        /* another slice would train on bytes the run selected by, or select by bytes it trained on */
        if (st.select_frac != a.select_frac)
            die("%s held out --select-frac %g, this run asks for %g: resume with --select-frac %g", a.resume,
                st.select_frac, a.select_frac, st.select_frac);
        rng.s = st.rng_state;
        if (st.step >= (uint64_t)a.stop_at)
            die("%s is already at step %llu of %d: nothing to do", a.resume, (unsigned long long)st.step, a.stop_at);
    } else {
        gpt_init_params(&m, a.seed);
    }
    /* With a selection slice the --out model is scored on val at the end, so it is kept in memory: best holds it
     * (read back from --out on resume) and hold the current parameters while it is scored. */
    float *best = NULL, *hold = NULL;
    if (sel && !a.gradcheck && !a.keep_final) {
        best = malloc(m.nparams * sizeof(float));
        hold = malloc(m.nparams * sizeof(float));
        if (!best || !hold)
            die("out of memory");
        if (a.resume && a.out && isfinite(st.best_val) && ck_read_model(a.out, &m, best, err, sizeof err) != 0)
            die("%s (the model of %s's best selection loss %g, scored on val at the end; pass the --out of the "
                "run that wrote the checkpoint)", err, a.resume, st.best_val);
    }
    if (a.gradcheck) {
        uint8_t *gi = malloc((size_t)a.batch * a.ctx), *gt = malloc((size_t)a.batch * a.ctx);
        if (!gi || !gt)
            die("out of memory");
        next_batch(&rng, &d, gi, gt, a.batch, a.ctx);
        Dropout gdrop = {.p = a.dropout, .seed = st.seed, .step = st.step + 1};
        if (gradcheck_print(&m, gi, gt, a.batch, a.ctx, a.gradcheck, 1e-2f, a.seed, &gdrop) != 0)
            die("out of memory");
        free(gi);
        free(gt);
        gpt_free(&m);
        free(d.bytes);
        return 0;
    }
    FILE *csv = NULL, *dump = NULL;
    if (a.csv) {
        int fresh = !a.resume || access(a.csv, F_OK) != 0;
        csv = fopen(a.csv, a.resume ? "a" : "w");
        if (!csv)
            die("cannot write %s: %s", a.csv, strerror(errno));
        if (fresh)
            fprintf(csv, sel ? "step,train_loss,select_loss,val_loss,lr,tokens_per_s\n"
                             : "step,train_loss,val_loss,lr,tokens_per_s\n");
    }
    if (a.dump) {
        dump = fopen(a.dump, "wb");
        if (!dump)
            die("cannot write %s: %s", a.dump, strerror(errno));
        uint32_t h[9] = {(uint32_t)a.batch, (uint32_t)a.ctx, (uint32_t)a.layers, (uint32_t)a.heads,
                         (uint32_t)a.dim, (uint32_t)a.hidden, (uint32_t)(a.stop_at - st.step), (uint32_t)m.nparams};
        memcpy(&h[8], &a.dropout, 4);
        if (fwrite(h, sizeof h, 1, dump) != 1)
            die("cannot write the dump");
        dump_floats(dump, m.params, m.nparams);
    }

    size_t BT = (size_t)a.batch * a.ctx;
    uint8_t *inp = malloc(BT), *tgt = malloc(BT), *sbuf = malloc(2 * (size_t)a.ctx + 1);
    if (!inp || !tgt || !sbuf)
        die("out of memory");
    int tty = isatty(fileno(stdout));
    char dropout_note[32] = "";
    if (a.dropout > 0.0f)
        snprintf(dropout_note, sizeof dropout_note, ", dropout %g", a.dropout);
    char split_note[96] = "";
    if (sel)
        snprintf(split_note, sizeof split_note, ", %zu select (--select-frac %g)", d.ntrain - d.nfit,
                 a.select_frac);
    printf("train: %s: %zu bytes (%zu train%s, %zu val); model L%d H%d C%d T%d hidden %d = %llu parameters; "
           "batch %d, %d steps, lr %g, %d threads%s%s\n",
           a.data, d.len, d.nfit, split_note, d.len - d.ntrain, a.layers, a.heads, a.dim, a.ctx, a.hidden,
           (unsigned long long)m.nparams, a.batch, a.steps, a.lr, a.threads, dropout_note,
           a.resume ? " (resumed)" : "");
    fflush(stdout);
    float last_val = NAN, val_once = NAN, loss = 0.0f; /* last_val: the last periodic eval, on select or val */
    double t_train = 0.0, tok_rate = 0.0, t_start = now_s();
    int timed_steps = 0;
    while (st.step < (uint64_t)a.stop_at) {
        int step = (int)st.step + 1;
        /* the masks are a function of (seed, step): a resumed run redraws exactly the ones it would have */
        Dropout drop = {.p = a.dropout, .seed = st.seed, .step = (uint64_t)step};
        next_batch(&rng, &d, inp, tgt, a.batch, a.ctx);
        double t0 = now_s();
        if (dump && st.step == 0) { /* the raw logits, before the loss turns them into probabilities */
            gpt_forward(&m, inp, NULL, a.batch, a.ctx, &drop);
            dump_floats(dump, m.logits, BT * 256);
        }
        loss = gpt_forward(&m, inp, tgt, a.batch, a.ctx, &drop);
        gpt_backward(&m, inp, tgt, a.batch, a.ctx);
        if (dump && st.step == 0)
            dump_floats(dump, m.grads, m.nparams);
        float lr = lr_at(&a, step);
        float norm = gpt_clip_grads(&m, a.clip);
        gpt_adamw(&m, lr, a.beta1, a.beta2, a.eps, a.wd, step);
        double dt = now_s() - t0;
        st.step = (uint64_t)step;
        st.rng_state = rng.s;
        if (dump) {
            float rec[3] = {loss, lr, norm};
            if (fwrite(inp, 1, BT, dump) != BT || fwrite(tgt, 1, BT, dump) != BT)
                die("cannot write the dump");
            dump_floats(dump, rec, 3);
            if (a.dropout > 0.0f)
                dump_masks(dump, &drop, &cfg, a.batch, a.ctx);
        }
        if (step > 2 || a.stop_at <= 2) { /* the first steps warm caches and page in buffers */
            t_train += dt;
            timed_steps++;
        }
        double inst = BT / dt;
        tok_rate = tok_rate == 0.0 ? inst : 0.9 * tok_rate + 0.1 * inst;
        int evaled = 0;
        if (a.eval_every > 0 && (step % a.eval_every == 0 || step == a.stop_at)) {
            if (sel)
                last_val = evaluate(&m, d.bytes, d.nfit, d.ntrain, inp, tgt, a.eval_batches);
            else
                last_val = evaluate(&m, d.bytes, d.ntrain, d.len, inp, tgt, a.eval_batches);
            evaled = 1;
            if (last_val < st.best_val && a.out) {
                st.best_val = last_val;
                if (!a.keep_final && ck_write_model(a.out, &m, name, err, sizeof err) != 0)
                    die("%s", err);
                if (best)
                    memcpy(best, m.params, m.nparams * sizeof(float));
            }
        }
        /* The only look at val: once, at the schedule's last step (not at a --stop-at before it), on every val
         * window, with the model --out holds (the final one when no eval chose another). */
        if (sel && step == a.steps) {
            int swap = best && isfinite(st.best_val);
            if (swap) {
                memcpy(hold, m.params, m.nparams * sizeof(float));
                memcpy(m.params, best, m.nparams * sizeof(float));
            }
            val_once = evaluate(&m, d.bytes, d.ntrain, d.len, inp, tgt, 0);
            if (swap)
                memcpy(m.params, hold, m.nparams * sizeof(float));
        }
        double eta = (a.stop_at - step) * (BT / (tok_rate > 0 ? tok_rate : 1));
        char line[256];
        char val[16] = "-";
        if (!isnan(last_val))
            snprintf(val, sizeof val, "%.4f", last_val);
        snprintf(line, sizeof line, "step %d/%d  loss %.4f  %s %s  lr %.2e  norm %.2f  %.0f tok/s  ETA %dm%02ds",
                 step, a.steps, loss, sel ? "select" : "val", val, lr, norm, tok_rate, (int)(eta / 60), (int)eta % 60);
        if (tty)
            printf("\r%s\033[K%s", line, evaled ? "\n" : "");
        else if (step % a.log_every == 0 || evaled || step == a.stop_at)
            printf("%s\n", line);
        if (!isnan(val_once))
            printf("%sval %.4f: the --out model (%s) on all %zu windows of %d bytes of the val split, scored once\n",
                   tty && !evaled ? "\n" : "", val_once,
                   best && isfinite(st.best_val) ? "best select loss"
                   : a.keep_final ? "the final model: --keep final" : "the final model: no eval chose one",
                   (d.len - d.ntrain - 1) / a.ctx, a.ctx);
        fflush(stdout);
        if (csv && sel && (step % a.log_every == 0 || evaled || step == a.stop_at)) {
            char sv[32] = "", vv[32] = "";
            if (evaled)
                snprintf(sv, sizeof sv, "%.6f", last_val);
            if (!isnan(val_once))
                snprintf(vv, sizeof vv, "%.6f", val_once);
            fprintf(csv, "%d,%.6f,%s,%s,%.6e,%.1f\n", step, loss, sv, vv, lr, tok_rate);
            fflush(csv);
        } else if (csv && (step % a.log_every == 0 || evaled || step == a.stop_at)) {
            if (evaled)
                fprintf(csv, "%d,%.6f,%.6f,%.6e,%.1f\n", step, loss, last_val, lr, tok_rate);
            else
                fprintf(csv, "%d,%.6f,,%.6e,%.1f\n", step, loss, lr, tok_rate);
            fflush(csv);
        }
        if (a.sample_every > 0 && step % a.sample_every == 0) {
            if (tty)
                printf("\n");
            printf("--- sample at step %d (temperature %.2f):\n", step, a.temp);
            sample_text(&m, sbuf, a.sample_len, a.temp, a.seed + (uint64_t)step);
            printf("---\n");
        }
        if (a.checkpoint && (step % a.ckpt_every == 0 || step == a.stop_at))
            if (ck_write(a.checkpoint, &m, &st, err, sizeof err) != 0)
                die("%s", err);
    }
    if (tty)
        printf("\n");
    if (a.out && (a.eval_every == 0 || !isfinite(st.best_val) || a.keep_final))
        if (ck_write_model(a.out, &m, name, err, sizeof err) != 0)
            die("%s", err);
    if (dump) {
        dump_floats(dump, m.params, m.nparams);
        fclose(dump);
    }
    if (csv)
        fclose(csv);
    double speed = timed_steps ? timed_steps * (double)BT / t_train : 0.0;
    if (sel) {
        char vv[64];
        if (isnan(val_once))
            snprintf(vv, sizeof vv, "not scored (it is, once, at step %d)", a.steps);
        else
            snprintf(vv, sizeof vv, "%.4f", val_once);
        printf("done: step %llu, train loss %.4f, best select %.4f, val %s, %.1f tokens/s (mean over %d timed "
               "steps), wall %.1f s\n", (unsigned long long)st.step, loss, st.best_val, vv, speed, timed_steps,
               now_s() - t_start);
    } else {
        printf("done: step %llu, train loss %.4f, best val %.4f%s, %.1f tokens/s (mean over %d timed steps), "
               "wall %.1f s\n", (unsigned long long)st.step, loss, st.best_val,
               a.keep_final ? " (logged only: --out is the final model)" : "", speed, timed_steps,
               now_s() - t_start);
    }
    free(inp);
    free(tgt);
    free(sbuf);
    free(best);
    free(hold);
    free(d.bytes);
    gpt_free(&m);
    return 0;
}
