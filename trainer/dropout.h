/* dropout.h - the trainer's dropout masks. Whether element i of one dropout site is kept is a pure function of
 * (seed, step, layer, site, i): splitmix64 indexed by i, never a stream. So a mask does not depend on the thread
 * count or on how the work is split, backward recomputes it instead of storing it, and a run resumed at step k
 * draws the same masks for steps >= k as the run that never stopped. No state lives here. */
#ifndef EFICHAT_TRAINER_DROPOUT_H
#define EFICHAT_TRAINER_DROPOUT_H

#include <stdint.h>

/* the four places nanoGPT drops; the embeddings use layer 0 */
enum {
    DROP_EMB = 0,        /* token + position embeddings, (B, T, C) */
    DROP_ATT = 1,        /* attention probabilities after the softmax, (B, NH, T, T) */
    DROP_ATT_RESID = 2,  /* the attention block's output projection, before the residual add, (B, T, C) */
    DROP_MLP_RESID = 3,  /* the MLP's output projection, before the residual add, (B, T, C) */
};

/* What one training forward drops: p = 0 means no dropout at all (the forward is then the plain one). */
typedef struct {
    float p;       /* drop probability, 0 <= p < 1 */
    uint64_t seed; /* the run's --seed */
    uint64_t step; /* the optimizer step this forward belongs to, from 1 */
} Dropout;

/* One site's mask at one step: element i is dropped iff the top 32 bits of drop_mix(key + i * golden) are below
 * threshold, and a kept element is multiplied by scale (inverted dropout: the expectation is unchanged). */
typedef struct {
    uint64_t key;
    uint32_t threshold; /* floor(p * 2^32): P(drop) = threshold / 2^32 */
    float scale;        /* 1 / (1 - p) */
} DropMask;

#define DROP_GOLDEN 0x9E3779B97F4A7C15ull

/* splitmix64's finaliser: a bijection on 64 bits in which every input bit flips about half of the output bits */
static inline uint64_t drop_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline DropMask dropmask_for(const Dropout *d, uint32_t layer, int site)
{
    uint64_t k = drop_mix(d->seed + DROP_GOLDEN);
    k = drop_mix(k + d->step * DROP_GOLDEN);
    k = drop_mix(k + ((uint64_t)layer * 4 + (uint64_t)site + 1) * DROP_GOLDEN);
    double thr = (double)d->p * 4294967296.0;
    DropMask m = {.key = k, .threshold = thr >= 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)thr,
                  .scale = 1.0f / (1.0f - d->p)};
    return m;
}

static inline int dropmask_keep(const DropMask *m, uint64_t i)
{
    return (uint32_t)(drop_mix(m->key + i * DROP_GOLDEN) >> 32) >= m->threshold;
}

/* what element i is multiplied by: scale when kept, 0 when dropped */
static inline float dropmask_factor(const DropMask *m, uint64_t i)
{
    return dropmask_keep(m, i) ? m->scale : 0.0f;
}

#endif
