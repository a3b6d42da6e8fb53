/* checkpoint.c - model files and training checkpoints for the trainer (see checkpoint.h). Little-endian hosts only
 * (the payload is the in-memory float array). */
#include "checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const void *data;
    size_t len;
} Chunk;

/* Writes the chunks to path.tmp, flushes it to disk, then renames it over path. */
static int write_atomic(const char *path, const Chunk *chunks, int n, char *err, int errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    int ok = 1;
    for (int i = 0; i < n && ok; i++)
        ok = fwrite(chunks[i].data, 1, chunks[i].len, f) == chunks[i].len;
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int ck_write_model(const char *path, const Gpt *m, const char *name, char *err, int errlen)
{
    ModelConfig c = m->cfg;
    c.version = MF_VERSION;
    c.dtype = MF_DTYPE_F32;
    c.payload_bytes = m->nparams * sizeof(float);
    c.payload_crc32 = mf_crc32(0, m->params, c.payload_bytes);
    memset(c.name, 0, sizeof c.name);
    snprintf(c.name, sizeof c.name, "%s", name);
    uint8_t header[MF_HEADER_BYTES];
    mf_header_encode(&c, header);
    Chunk chunks[2] = {{header, sizeof header}, {m->params, c.payload_bytes}};
    return write_atomic(path, chunks, 2, err, errlen);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* header layout: magic, version, header bytes, layers, heads, dim, ctx, hidden, batch, seq (u32 at 0..39),
 * step, rng, seed, nparams (u64 at 40..71), crc, total steps, best val, dropout (u32/f32 at 72..87), zero to 256.
 * The CRC covers the whole header (its own 4 bytes read as zero), then params, m and v. */
#define CK_CRC_AT 72

static uint32_t ck_crc(const uint8_t *h, const void *params, const void *m, const void *v, size_t n)
{
    uint8_t hz[CK_HEADER_BYTES];
    memcpy(hz, h, sizeof hz);
    memset(hz + CK_CRC_AT, 0, 4);
    uint32_t crc = mf_crc32(0, hz, sizeof hz);
    crc = mf_crc32(crc, params, n);
    crc = mf_crc32(crc, m, n);
    return mf_crc32(crc, v, n);
}

int ck_write(const char *path, const Gpt *m, const TrainState *st, char *err, int errlen)
{
    size_t n = m->nparams * sizeof(float);
    uint8_t h[CK_HEADER_BYTES] = {0};
    const ModelConfig *c = &m->cfg;
    uint32_t u[10] = {CK_MAGIC, CK_VERSION, CK_HEADER_BYTES, c->layers, c->heads, c->dim, c->ctx, c->hidden,
                      st->batch, st->seq};
    for (int i = 0; i < 10; i++)
        put32(h + 4 * i, u[i]);
    put64(h + 40, st->step);
    put64(h + 48, st->rng_state);
    put64(h + 56, st->seed);
    put64(h + 64, m->nparams);
    put32(h + 76, st->total_steps);
    memcpy(h + 80, &st->best_val, 4);
    memcpy(h + 84, &st->dropout, 4);
    put32(h + CK_CRC_AT, ck_crc(h, m->params, m->m, m->v, n));
    Chunk chunks[4] = {{h, sizeof h}, {m->params, n}, {m->m, n}, {m->v, n}};
    return write_atomic(path, chunks, 4, err, errlen);
}

int ck_read(const char *path, Gpt *m, TrainState *st, char *err, int errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open checkpoint %s: %s", path, strerror(errno));
        return -1;
    }
    uint8_t h[CK_HEADER_BYTES];
    size_t n = m->nparams * sizeof(float);
    int rc = -1;
    float *buf = NULL;
    if (fread(h, 1, sizeof h, f) != sizeof h || get32(h) != CK_MAGIC) {
        snprintf(err, errlen, "%s is not an efichat training checkpoint (bad magic or shorter than its header)", path);
        goto done;
    }
    if (get32(h + 4) == 1) {
        snprintf(err, errlen, "%s: checkpoint version 1 (its header is outside the CRC, so it cannot be trusted); "
                 "this trainer reads version %u: start afresh, or resume it with the trainer that wrote it", path,
                 CK_VERSION);
        goto done;
    }
    if (get32(h + 4) != CK_VERSION || get32(h + 8) != CK_HEADER_BYTES) {
        snprintf(err, errlen, "%s: checkpoint version %u, this trainer reads version %u; resume it with the trainer "
                 "that wrote it", path, get32(h + 4), CK_VERSION);
        goto done;
    }
    const ModelConfig *c = &m->cfg;
    uint32_t want[7] = {c->layers, c->heads, c->dim, c->ctx, c->hidden, st->batch, st->seq};
    static const char *names[7] = {"layers", "heads", "dim", "ctx", "hidden", "batch", "ctx (run)"};
    for (int i = 0; i < 7; i++) {
        if (get32(h + 12 + 4 * i) != want[i]) {
            snprintf(err, errlen, "%s was trained with %s %u but this run asks for %u: pass the checkpoint's "
                     "--layers/--heads/--dim/--ctx/--batch to resume it", path, names[i], get32(h + 12 + 4 * i),
                     want[i]);
            goto done;
        }
    }
    if (get64(h + 64) != m->nparams) {
        snprintf(err, errlen, "%s: parameter count %llu does not match the shape (%llu)", path,
                 (unsigned long long)get64(h + 64), (unsigned long long)m->nparams);
        goto done;
    }
    buf = malloc(3 * n + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading %s", path);
        goto done;
    }
    size_t got = fread(buf, 1, 3 * n + 1, f);
    if (got != 3 * n) {
        snprintf(err, errlen, "%s is %s: expected %zu payload bytes, found %zu%s", path,
                 got < 3 * n ? "truncated" : "too long", 3 * n, got, got > 3 * n ? " or more" : "");
        goto done;
    }
    const float *params = buf, *mom1 = buf + m->nparams, *mom2 = buf + 2 * m->nparams;
    if (ck_crc(h, params, mom1, mom2, n) != get32(h + CK_CRC_AT)) {
        snprintf(err, errlen, "%s is corrupt (CRC mismatch); use an older checkpoint or start afresh", path);
        goto done;
    }
    /* A valid CRC only says the file is as written: check that what it holds can be trained on. */
    float best, dropout;
    memcpy(&best, h + 80, 4);
    memcpy(&dropout, h + 84, 4);
    const char *bad = NULL;
    if (get64(h + 48) == 0)
        bad = "its RNG state is 0 (xorshift would draw the same batch forever)";
    else if (get64(h + 40) > 0x7fffffffull)
        bad = "its step is past what --steps allows";
    else if (get64(h + 56) > 0x7fffffffull)
        bad = "its seed is past what --seed allows";
    else if (!(best >= 0.0f)) /* also NaN */
        bad = "its best val is negative or NaN (a loss is >= 0; +inf before the first eval)";
    else if (!(dropout >= 0.0f && dropout < 1.0f))
        bad = "its dropout is outside [0, 1)";
    for (size_t i = 0; !bad && i < m->nparams; i++) {
        if (!isfinite(params[i]))
            bad = "a parameter is NaN or infinite";
        else if (!isfinite(mom1[i]) || !isfinite(mom2[i]) || mom2[i] < 0.0f)
            bad = "an AdamW moment is NaN, infinite or (second moment) negative";
    }
    if (bad) {
        snprintf(err, errlen, "%s cannot be resumed: %s; use an older checkpoint or start afresh", path, bad);
        goto done;
    }
    memcpy(m->params, params, n);
    memcpy(m->m, mom1, n);
    memcpy(m->v, mom2, n);
    st->step = get64(h + 40);
    st->rng_state = get64(h + 48);
    st->seed = get64(h + 56);
    st->total_steps = get32(h + 76);
    st->best_val = best;
    st->dropout = dropout;
    rc = 0;
done:
    free(buf);
    fclose(f);
    return rc;
}
