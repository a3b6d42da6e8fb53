/* gradcheck.h - finite-difference gradient check of the trainer (see gradcheck.c). */
#ifndef EFICHAT_TRAINER_GRADCHECK_H
#define EFICHAT_TRAINER_GRADCHECK_H

#include "gpt.h"

/* Prints "gradcheck TENSOR LAYER INDEX analytic A numeric N" lines; returns 0, or -1 when out of memory. Every
 * forward runs under the same dropout masks (drop, or NULL for none), so the loss stays a smooth function. */
int gradcheck_print(Gpt *m, const uint8_t *inp, const uint8_t *tgt, int b, int t, int per_tensor, float h,
                    uint64_t seed, const Dropout *drop);

#endif
