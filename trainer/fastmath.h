/* fastmath.h - exp and tanh that GCC vectorizes (plain arithmetic, no libm calls), for the trainer's softmax,
 * cross-entropy and GELU. expf: Cephes' range reduction and polynomial, within ~2 ulp of libm on [-87, 88];
 * tanhf via exp, absolute error below 1e-7. Never used by the inference core. */
#ifndef EFICHAT_TRAINER_FASTMATH_H
#define EFICHAT_TRAINER_FASTMATH_H

#include <stdint.h>
#include <string.h>

static inline float fm_expf(float x)
{
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

static inline float fm_tanhf(float x)
{
    float e = fm_expf(2.0f * x);
    return 1.0f - 2.0f / (e + 1.0f);
}

#endif
