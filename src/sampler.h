/* sampler.h - picks the next token from logits: temperature, top-k, top-p, with a seeded PRNG it owns.
 * Pure function of (logits, settings, rng state); no globals, no libc. Up to 256 tokens (the byte-level models) it
 * needs nothing more; a larger vocabulary (the Llama family) needs the caller's scratch, sampler_set_scratch(). */
#ifndef EFICHAT_SAMPLER_H
#define EFICHAT_SAMPLER_H

#include "platform.h"

typedef struct {
    float temperature; /* 0 = greedy argmax */
    uint32_t top_k;    /* 0 = off */
    float top_p;       /* 1 = off; -> 0 keeps only the most likely token */
    uint64_t rng;      /* xorshift64* state, never 0 */
    float probs[256];  /* scratch: probabilities of the candidates */
    uint32_t order[256];
    /* vocabularies above 256: caller memory of sampler_scratch_bytes(big_cap) */
    float *big_probs;     /* (big_cap) */
    uint32_t *big_order;  /* (big_cap) */
    uint32_t *big_tmp;    /* (big_cap) merge sort's other half */
    uint32_t big_cap;
} Sampler;

void sampler_init(Sampler *s, float temperature, uint32_t top_k, float top_p, uint64_t seed);
size_t sampler_scratch_bytes(uint32_t n);
/* Hands the sampler room for vocabularies of up to n tokens (mem: sampler_scratch_bytes(n), 4-byte aligned), after
 * sampler_init (which forgets it). */
void sampler_set_scratch(Sampler *s, void *mem, uint32_t n);
/* Returns the chosen token in [0, n). n <= 256, or <= the scratch's size; above both only the greedy choice is
 * possible and is what it returns. The same choices for any n whichever path runs: candidates in the order
 * (logit descending, lower index first among equals), the same sums in that order. */
int sampler_sample(Sampler *s, const float *logits, int n);
/* A uniform float in [0, 1) from the sampler's PRNG (24 random bits). */
float sampler_uniform(Sampler *s);

#endif
