/* fuzz_checkpoint.c - the trainer's checkpoint reader on any file, for a fixed tiny run (1 layer, dim 1, ctx 2,
 * hidden 1, batch 1): ck_read reads a path, so each input is written to an in-memory file (memfd) first.
 * As for the model, every input is also tried with its CRC made right, which reaches the checks of the values.
 * Promises checked: a rejected file leaves the model untouched and says why; an accepted one holds only values
 * a run can resume from (finite parameters and moments, second moments >= 0, RNG state not 0, best val >= 0,
 * dropout in [0, 1)). */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fuzz.h"

static Gpt model; /* built once: gpt_build allocates activations too */
static int memfd = -1;
static char path[64];

static void setup(void)
{
    ModelConfig cfg = {.version = MF_VERSION, .vocab = MF_VOCAB, .ctx = 2, .dim = 1, .layers = 1, .heads = 1,
                       .hidden = 1};
    char err[256];
    FUZZ_CHECK(gpt_build(&model, &cfg, 1, 2, 1, err, sizeof err) == 0);
    memfd = memfd_create("fuzz-checkpoint", 0);
    FUZZ_CHECK(memfd >= 0);
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
}

static void read_checkpoint(const uint8_t *bytes, size_t len)
{
    FUZZ_CHECK(ftruncate(memfd, 0) == 0);
    FUZZ_CHECK(pwrite(memfd, bytes, len, 0) == (ssize_t)len);
    size_t n = model.nparams * sizeof(float);
    memset(model.params, 0, n);
    TrainState st = {.batch = 1, .seq = 2};
    char err[512];
    err[0] = 0;
    if (ck_read(path, &model, &st, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != 0 && memchr(err, 0, sizeof err) != NULL);
        for (size_t i = 0; i < model.nparams; i++)
            FUZZ_CHECK(model.params[i] == 0.0f);
        return;
    }
    FUZZ_CHECK(st.rng_state != 0 && st.best_val >= 0.0f && st.dropout >= 0.0f && st.dropout < 1.0f);
    for (size_t i = 0; i < model.nparams; i++)
        FUZZ_CHECK(isfinite(model.params[i]) && isfinite(model.m[i]) && isfinite(model.v[i]) && model.v[i] >= 0.0f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memfd < 0)
        setup();
    read_checkpoint(data, size);
    if (size < CK_HEADER_BYTES)
        return 0;
    /* the CRC at byte 72 covers the header (with those 4 bytes as zero), then everything after it */
    uint8_t *fixed = malloc(size);
    FUZZ_CHECK(fixed != NULL);
    memcpy(fixed, data, size);
    memset(fixed + 72, 0, 4);
    uint32_t crc = mf_crc32(mf_crc32(0, fixed, CK_HEADER_BYTES), fixed + CK_HEADER_BYTES, size - CK_HEADER_BYTES);
    memcpy(fixed + 72, &crc, 4);
    if (memcmp(fixed, data, CK_HEADER_BYTES) != 0)
        read_checkpoint(fixed, size);
    free(fixed);
    return 0;
}
