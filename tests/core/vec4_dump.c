/* vec4_dump.c - writes the bits the core's math computes over a sweep of inputs, so the x86-64 build and the AArch64
 * build (run under qemu-user) can be compared byte for byte by tests/core/test_aarch64.py.
 * Sections, each a run of uint32 words: expf, tanhf (scalar and all four vector lanes), sqrtf, round to int32,
 * min/max, horizontal sums, and kern_dot/kern_matmul/kern_attend on pseudo-random data of every small size. */
#include <stdio.h>
#include <string.h>
#include "ecmath.h"
#include "kernels.h"

static FILE *out;
static void put_f(float f) { fwrite(&f, 4, 1, out); }
static void put_i(int32_t i) { fwrite(&i, 4, 1, out); }
static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static uint32_t rng = 12345u;
static float rnd(void) /* [-2, 2), exact in float */
{
    rng = rng * 1664525u + 1013904223u;
    return (float)(int32_t)(rng >> 8) / (float)(1 << 22) - 2.0f;
}

/* Inputs: every 65521st bit pattern (all exponents, varied mantissas, both signs) and the edges by hand. */
static const float edges[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 0.625f, -0.625f, 9.5f,
                              88.72283935546875f, 88.7228469848632812f, -103.97208404541015625f, -103.972091674804688f,
                              -87.3365478515625f, 2147483520.0f, 2147483648.0f, -2147483648.0f, -2147483904.0f,
                              1e-45f, -1e-45f, 1.17549435e-38f, 3.4028235e38f, -3.4028235e38f};

static void sweep(void (*f)(float))
{
    for (uint64_t u = 0; u < (1ull << 32); u += 65521u)
        f(from_bits((uint32_t)u));
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        f(edges[i]);
    f(from_bits(0x7F800000u)), f(from_bits(0xFF800000u)), f(from_bits(0x7FC00001u)), f(from_bits(0xFFC12345u));
}

static void do_exp(float x) { put_f(ec_expf(x)); }
static void do_tanh(float x) { put_f(ec_tanhf(x)); }
/* The core takes square roots of positive numbers only; sqrt(negative) is a fresh NaN, and a fresh NaN's sign is the
 * one bit the two CPUs disagree on (x86's default NaN is 0xFFC00000, AArch64's 0x7FC00000): only |x| is swept. */
static void do_sqrt(float x) { put_f(ec_sqrtf(from_bits(bits(x) & 0x7FFFFFFFu))); }
static void do_round(float x) { put_i(ec_round_s32(x)); }
static void do_vec(float x) /* the four lanes see x, -x, x/2, x*3: each lane runs the same operations */
{
    float in[4] = {x, -x, x * 0.5f, x * 3.0f}, r[4];
    v4f_store(r, ec_expf4(v4f_load(in)));
    for (int j = 0; j < 4; j++)
        put_f(r[j]);
    v4f_store(r, ec_tanhf4(v4f_load(in)));
    for (int j = 0; j < 4; j++)
        put_f(r[j]);
    v4f a = v4f_load(in), b = v4f_set1(edges[bits(x) % 26u]); /* not (int)x: C leaves out-of-range conversions undefined */
    v4f_store(r, v4f_min(a, b));
    for (int j = 0; j < 4; j++)
        put_f(r[j]);
    v4f_store(r, v4f_max(a, b));
    for (int j = 0; j < 4; j++)
        put_f(r[j]);
    put_f(v4f_hsum(a));
}

int main(int argc, char **argv)
{
    if (argc != 2 || !(out = fopen(argv[1], "wb"))) {
        fprintf(stderr, "usage: vec4-dump OUT\n");
        return 2;
    }
    sweep(do_exp);
    sweep(do_tanh);
    sweep(do_sqrt);
    sweep(do_round);
    sweep(do_vec);
    /* +0 and -0 through min and max, both orders: SSE takes the second operand when they compare equal */
    float z[4] = {0.0f, -0.0f, 0.0f, -0.0f}, zr[4] = {-0.0f, 0.0f, 0.0f, -0.0f}, r[4];
    v4f_store(r, v4f_min(v4f_load(z), v4f_load(zr)));
    for (int j = 0; j < 4; j++)
        put_f(r[j]);
    v4f_store(r, v4f_max(v4f_load(z), v4f_load(zr)));
    for (int j = 0; j < 4; j++)
        put_f(r[j]);

    enum { M = 41 };
    static float a[M * M], b[M * M], bias[M], o[M * M], sc[M];
    for (int i = 0; i < M * M; i++)
        a[i] = rnd(), b[i] = rnd();
    for (int i = 0; i < M; i++)
        bias[i] = rnd();
    for (int n = 0; n <= M; n++) /* every tail length, both sides of 8 */
        put_f(kern_dot(0, a, b, n));
    for (int I = 1; I <= M; I += 5)
        for (int O = 1; O <= 17; O += 3) {
            kern_matmul(0, o, (size_t)O, a, b, bias, 2, I, O);
            for (int i = 0; i < 2 * O; i++)
                put_f(o[i]);
        }
    for (int hs = 1; hs <= 20; hs += 3)
        for (int len = 1; len <= M; len += 4) {
            kern_attend(0, o, a, b, b + 7, (size_t)hs + 3, hs, len, 0.35f, sc);
            for (int i = 0; i < hs; i++)
                put_f(o[i]);
        }
    return fclose(out) ? 1 : 0;
}
