/* scalar_model.h - a plain scalar forward pass of the efichat model (libm, simple loops, KV cache), built only
 * for `make bench` as the baseline the optimised core is measured against. */
#ifndef EFICHAT_SCALAR_MODEL_H
#define EFICHAT_SCALAR_MODEL_H
#include "model.h"

typedef struct ScalarState ScalarState;
ScalarState *scalar_new(const Model *m);
void scalar_free(ScalarState *s);
void scalar_reset(ScalarState *s);
/* Feeds one token at the next position (no overflow handling: the bench stays inside the context). */
const float *scalar_step(ScalarState *s, int token);
#endif
