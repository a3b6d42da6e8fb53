/* fuzz_model.c - the model loader on any bytes, then a few tokens through every kernel of a model it accepts.
 * Promises checked: model_load never reads outside the image and rejects what it cannot run; an accepted model
 * feeds without a sanitizer report, its logits are finite or model_feed says they are not, and the AVX kernel
 * gives the scalar kernel's logits bit for bit. A fuzzer rarely guesses a CRC, so every input is also tried with
 * its payload size and CRC fields made right: that reaches the value checks and the forward pass. An int8 (version 2)
 * model runs the float kernels on its dequantised matrices and Q8 on the int8 ones, as the CLI and the app do. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "model.h"

#define FEED_MAX 40                  /* tokens fed: enough to overflow a small context (the slide) */
#define STATE_MAX (64u << 20)        /* run-state bytes worth running (a fuzzed header can ask for 512 MiB) */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Feeds a fixed prompt with `kernel`; returns the status and leaves the last logits in out (V floats). */
static ModelError feed(const Model *m, int kernel, float *out)
{
    size_t bytes = model_state_bytes(&m->cfg);
    void *mem = malloc(bytes);
    FUZZ_CHECK(mem != NULL);
    RunState s;
    model_state_init(&s, &m->cfg, mem, kernel);
    int32_t tokens[FEED_MAX];
    for (int i = 0; i < FEED_MAX; i++)
        tokens[i] = (int32_t)((i * 37 + 11) & 255);
    size_t n = m->cfg.ctx + 3 < FEED_MAX ? m->cfg.ctx + 3 : FEED_MAX;
    /* two calls: a prefill, then one token at a time past the end of the context */
    ModelError err = model_feed(m, &s, tokens, n / 2, NULL);
    for (size_t i = n / 2; err == MODEL_OK && i < n; i++)
        err = model_feed(m, &s, tokens + i, 1, NULL);
    FUZZ_CHECK(s.pos <= m->cfg.ctx);
    if (err == MODEL_OK)
        for (uint32_t v = 0; v < MF_VOCAB; v++)
            FUZZ_CHECK(isfinite(s.logits[v]));
    memcpy(out, s.logits, MF_VOCAB * sizeof(float));
    free(mem);
    return err;
}

static void run_model(Model *m)
{
    if (model_state_bytes(&m->cfg) > STATE_MAX || model_dequant_bytes(&m->cfg) > STATE_MAX)
        return;
    size_t dbytes = model_dequant_bytes(&m->cfg);
    void *dmem = dbytes ? malloc(dbytes) : NULL;
    FUZZ_CHECK(!dbytes || dmem != NULL);
    if (dbytes)
        model_dequantize(m, dmem);
    float scalar[MF_VOCAB], best[MF_VOCAB], q8[MF_VOCAB];
    ModelError e0 = feed(m, KERNEL_SCALAR_SSE2, scalar);
    int kernel = model_best_kernel();
    if (kernel != KERNEL_SCALAR_SSE2) {
        ModelError e1 = feed(m, kernel, best);
        FUZZ_CHECK(e1 == e0);
        FUZZ_CHECK(e0 != MODEL_OK || memcmp(scalar, best, sizeof scalar) == 0);
    }
    FUZZ_CHECK(e0 != MODEL_ERR_UNPREPARED);
    size_t qbytes = model_q8_bytes(&m->cfg);
    free(dmem); /* Q8 must not need the float copy: it reads an int8 model's values directly */
    for (int t = 0; dbytes && t < MF_TENSOR_COUNT; t++)
        if (m->wt.q[t])
            m->wt.w[t] = NULL;
    if (qbytes > STATE_MAX)
        return;
    void *qmem = malloc(qbytes ? qbytes : 1);
    FUZZ_CHECK(qmem != NULL);
    if (model_quantize(m, qmem))
        FUZZ_CHECK(feed(m, KERNEL_Q8, q8) != MODEL_ERR_UNPREPARED);
    m->q8 = NULL;
    free(qmem);
}

static void load(const uint8_t *bytes, size_t len)
{
    /* model_load wants a 4-byte aligned image, as the app and the CLI hand it */
    void *image = malloc(len ? len : 1);
    FUZZ_CHECK(image != NULL);
    memcpy(image, bytes, len);
    Model m;
    char msg[200];
    memset(msg, 'x', sizeof msg);
    ModelError err = model_load(&m, image, len, msg, sizeof msg);
    FUZZ_CHECK(err >= MODEL_OK && err < MODEL_ERR_COUNT);
    FUZZ_CHECK(memchr(msg, 0, sizeof msg) != NULL);
    FUZZ_CHECK(model_error_string(err) != NULL);
    if (err == MODEL_OK) {
        FUZZ_CHECK(len == MF_HEADER_BYTES + m.cfg.payload_bytes);
        run_model(&m);
    }
    free(image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    if (size <= MF_HEADER_BYTES)
        return 0;
    uint8_t *fixed = malloc(size);
    FUZZ_CHECK(fixed != NULL);
    memcpy(fixed, data, size);
    put64(fixed + 40, size - MF_HEADER_BYTES);
    put32(fixed + 48, mf_crc32(0, fixed + MF_HEADER_BYTES, size - MF_HEADER_BYTES));
    if (memcmp(fixed, data, MF_HEADER_BYTES) != 0)
        load(fixed, size);
    free(fixed);
    return 0;
}
