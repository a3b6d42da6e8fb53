/* checkpoint.h - the trainer's files: the model file (via src/modelfile.c, never a second copy of the format) and
 * the training checkpoint (parameters, AdamW moments, step, RNG). Both are written to PATH.tmp and renamed, so an
 * interrupted run never leaves a broken file behind. */
#ifndef EFICHAT_TRAINER_CHECKPOINT_H
#define EFICHAT_TRAINER_CHECKPOINT_H

#include <stdint.h>

#include "gpt.h"

#define CK_MAGIC 0x4B434645u /* "EFCK" */
#define CK_VERSION 2u /* 2: the CRC covers the header too; 1 left step, RNG, seed and best val unchecked */
#define CK_HEADER_BYTES 256u

typedef struct {
    uint64_t step;      /* optimizer steps taken */
    uint64_t rng_state; /* the batch sampler's RNG after `step` batches */
    uint64_t seed;
    uint32_t batch, seq; /* B and T of the run */
    uint32_t total_steps;
    float best_val;     /* best periodic validation loss so far (for --out), +inf before the first eval */
    float dropout;      /* the run's --dropout; 0 writes the zero bytes checkpoints held there before it */
} TrainState;

/* Writes the model file (header + parameters) atomically. Returns 0, or -1 with a message in err. */
int ck_write_model(const char *path, const Gpt *m, const char *name, char *err, int errlen);
/* Writes the checkpoint atomically. Returns 0, or -1 with a message in err. */
int ck_write(const char *path, const Gpt *m, const TrainState *st, char *err, int errlen);
/* Reads a checkpoint into m (already built) and st, after checking magic, version, size, CRC (header and payload)
 * and that its shape matches m's config and st's batch/seq, then that its values can be trained on: a non-zero
 * RNG state, a step and seed the trainer's options allow, best val +inf or a finite loss >= 0, dropout in [0, 1),
 * finite parameters and moments, second moments >= 0. m is untouched on failure. Returns 0, or -1 with a message in
 * err. */
int ck_read(const char *path, Gpt *m, TrainState *st, char *err, int errlen);

#endif
