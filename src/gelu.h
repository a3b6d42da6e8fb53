/* gelu.h - GELU for the model's MLP (gelu.c). */
#ifndef EFICHAT_GELU_H
#define EFICHAT_GELU_H

#include "platform.h"

/* h = GELU(h), tanh form, in place; avx2: 8 lanes at a time where AVX2 runs (element-wise: the same bits). */
void gelu_tanh(float *h, int n, int avx2);
/* Fills the Q8 kernel's table (model_gelu_q8) from gelu_tanh's numbers; model_quantize calls it. */
void gelu_q8_fill(void);

#endif
