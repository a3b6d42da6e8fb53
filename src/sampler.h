/* sampler.h - picks the next byte from logits: temperature, top-k, top-p, with a seeded PRNG it owns.
 * Pure function of (logits, settings, rng state); no globals, no libc. */
#ifndef EFICHAT_SAMPLER_H
#define EFICHAT_SAMPLER_H

#include "platform.h"

typedef struct {
    float temperature; /* 0 = greedy argmax */
    uint32_t top_k;    /* 0 = off */
    float top_p;       /* 1 = off; -> 0 keeps only the most likely token */
    uint64_t rng;      /* xorshift64* state, never 0 */
    float probs[256];  /* scratch: probabilities of the candidates */
    uint16_t order[256];
} Sampler;

void sampler_init(Sampler *s, float temperature, uint32_t top_k, float top_p, uint64_t seed);
/* Returns the chosen token in [0, n). n <= 256. */
int sampler_sample(Sampler *s, const float *logits, int n);
/* A uniform float in [0, 1) from the sampler's PRNG (24 random bits). */
float sampler_uniform(Sampler *s);

#endif
