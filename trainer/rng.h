/* rng.h - the trainer's random numbers: xorshift64* seeded through splitmix64. The whole state is one u64, so a
 * checkpoint stores it and a resumed run draws the same numbers. */
#ifndef EFICHAT_TRAINER_RNG_H
#define EFICHAT_TRAINER_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t s;
} Rng;

static inline void rng_seed(Rng *r, uint64_t seed)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    r->s = (z ^ (z >> 31)) | 1;
}

static inline uint64_t rng_u64(Rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

/* uniform in [0, 1) with 24 bits */
static inline float rng_uniform(Rng *r)
{
    return (float)(rng_u64(r) >> 40) / 16777216.0f;
}

static inline uint64_t rng_below(Rng *r, uint64_t n)
{
    return rng_u64(r) % n;
}

/* standard normal by Box-Muller (one value per call, the second is dropped to keep the state simple) */
static inline float rng_normal(Rng *r)
{
    double u1 = ((rng_u64(r) >> 11) + 1.0) / 9007199254740993.0, u2 = (rng_u64(r) >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

#endif
