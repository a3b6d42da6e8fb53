/* gradcheck.c - a finite-difference check of gpt_backward (train --gradcheck K): central differences of the loss
 * at K random parameters plus the largest-gradient one of every tensor and layer, printed one per line for
 * tests/trainer/test_gradcheck.py to judge. Never used during training. */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static void check_one(Gpt *m, const float *grads, const uint8_t *inp, const uint8_t *tgt, int b, int t,
                      const Dropout *drop, int tensor, uint32_t layer, uint64_t idx, float h)
{
    float *p = m->params + idx, saved = *p;
    *p = saved + h;
    double lp = gpt_forward(m, inp, tgt, b, t, drop);
    *p = saved - h;
    double lm = gpt_forward(m, inp, tgt, b, t, drop);
    *p = saved;
    printf("gradcheck %s %u %llu analytic %.9e numeric %.9e\n", mf_tensor_name(tensor), layer,
           (unsigned long long)(idx - mf_tensor_offset(&m->cfg, tensor, layer)), grads[idx], (lp - lm) / (2.0 * h));
}

int gradcheck_print(Gpt *m, const uint8_t *inp, const uint8_t *tgt, int b, int t, int per_tensor, float h,
                    uint64_t seed, const Dropout *drop)
{
    float *grads = malloc(m->nparams * sizeof(float));
    if (!grads)
        return -1;
    gpt_forward(m, inp, tgt, b, t, drop);
    gpt_backward(m, inp, tgt, b, t);
    memcpy(grads, m->grads, m->nparams * sizeof(float));
    Rng r;
    rng_seed(&r, seed);
    for (int tensor = 0; tensor < MF_TENSOR_COUNT; tensor++) {
        uint32_t copies = mf_is_per_layer(tensor) ? m->cfg.layers : 1;
        for (uint32_t l = 0; l < copies; l++) {
            uint64_t off = mf_tensor_offset(&m->cfg, tensor, l), n = mf_tensor_numel(&m->cfg, tensor), big = off;
            for (uint64_t i = off; i < off + n; i++)
                big = fabsf(grads[i]) > fabsf(grads[big]) ? i : big;
            check_one(m, grads, inp, tgt, b, t, drop, tensor, l, big, h);
            for (int k = 0; k < per_tensor; k++)
                check_one(m, grads, inp, tgt, b, t, drop, tensor, l, off + rng_below(&r, n), h);
        }
    }
    free(grads);
    return 0;
}
