/* layers.h - the trainer's layer kernels: each forward has a backward that undoes it. N = B*T rows, C channels,
 * OC/IC output/input widths, NH heads, V = 256. They allocate nothing: scratch comes from the caller. */
#ifndef EFICHAT_TRAINER_LAYERS_H
#define EFICHAT_TRAINER_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "dropout.h"
#include "gemm.h"

#define GPT_V 256

/* out (N, C) = wte[token] + wpe[position], N = b*t */
void encoder_forward(float *out, const uint8_t *inp, const float *wte, const float *wpe, int b, int t, int C);
void encoder_backward(float *dwte, float *dwpe, const float *dout, const uint8_t *inp, int b, int t, int C);

/* out (N, C) = (inp - mean) * rstd * w + bias, eps 1e-5, biased variance; mean and rstd (N) kept for backward */
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *bias,
                       int N, int C, int nthreads);
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                        const float *mean, const float *rstd, int N, int C, int nthreads);

/* out (N, OC) = [resid +] inp (N, IC) w (OC, IC)^T + bias */
void matmul_forward(const Gemm *g, float *out, const float *inp, const float *w, const float *bias,
                    const float *resid, int N, int IC, int OC);
/* dinp (N, IC) is overwritten; dw and dbias accumulate */
void matmul_backward(const Gemm *g, float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                     const float *w, int N, int IC, int OC, int nthreads);

/* inverted dropout over n floats: out = [resid +] out * factor, factor = 1/(1-p) for kept elements, 0 for dropped */
void dropout_forward(float *out, const float *resid, const DropMask *dm, size_t n, int nthreads);
/* in forward out was scaled by the mask, so dinp (n) = dout * factor; dinp may be dout (in place) */
void dropout_backward(float *dinp, const float *dout, const DropMask *dm, size_t n, int nthreads);

/* floats of scratch one thread needs for attention with head size hs and sequence length T */
size_t attention_scratch_floats(int hs, int T);
/* qkv (b, t, 3C) -> out (b, t, C), att (b, NH, t, t) softmax rows, zero above the diagonal. With a mask dm (else
 * NULL), out sums v under the dropped probabilities att * factor; att itself stays undropped for backward. */
void attention_forward(float *out, float *att, const float *qkv, float *scratch, size_t scratch_per_thread,
                       const DropMask *dm, int b, int t, int C, int NH, int nthreads);
/* dqkv (b, t, 3C) must be zero on entry; dm is the forward's mask (or NULL) */
void attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att, float *scratch,
                        size_t scratch_per_thread, const DropMask *dm, int b, int t, int C, int NH, int nthreads);

/* GELU, tanh approximation, elementwise over n floats; the backward scales dinout in place */
void gelu_forward(float *out, const float *inp, size_t n, int nthreads);
void gelu_backward(float *dinout, const float *inp, size_t n, int nthreads);

/* logits (N, V) become probabilities, losses (N) = -log p[target]; returns the mean loss */
float crossentropy_forward(float *losses, float *logits, const uint8_t *targets, int N, int nthreads);
/* probs (N, V) become d(mean loss)/d(logits), in place */
void crossentropy_backward(float *probs, const uint8_t *targets, int N, int nthreads);

#endif
