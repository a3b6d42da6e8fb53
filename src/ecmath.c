/* ecmath.c - expf, tanhf, sqrtf and memory helpers for the freestanding core.
 * Every function is a fixed sequence of IEEE single-precision operations (no FMA, no table that could differ), so a
 * host build and a UEFI build give the same bits. The vector forms are the definition; scalars run lane 0. */
#include "ecmath.h"

float ec_expf(float x) { return v4f_lane0(ec_expf4(v4f_set1(x))); }
float ec_tanhf(float x) { return v4f_lane0(ec_tanhf4(v4f_set1(x))); }
float ec_sqrtf(float x) { return ec_sqrt1(x); }

static double nearest_d(double x) { return (double)ec_round_s64(x); } /* ties to even */

double ec_log_d(double x)
{
    union { double d; uint64_t u; } v = {x};
    int e = (int)((v.u >> 52) & 0x7FF) - 1023;
    v.u = (v.u & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull; /* m in [1, 2) */
    double m = v.d;
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    double t = (m - 1.0) / (m + 1.0), t2 = t * t, sum = 0.0; /* ln m = 2 atanh t, |t| < 0.172 */
    for (int k = 23; k >= 3; k -= 2)
        sum = (sum + 1.0 / k) * t2;
    return 2.0 * t * (1.0 + sum) + e * 0.6931471805599453;
}

double ec_exp_d(double x)
{
    double n = nearest_d(x * 1.4426950408889634);
    double r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10; /* |r| <= ln2/2 */
    double p = 1.0;
    for (int k = 14; k >= 1; k--)
        p = 1.0 + p * r / k;
    union { double d; uint64_t u; } two = {.u = (uint64_t)((int64_t)n + 1023) << 52};
    return p * two.d;
}

void ec_sincos_d(double x, double *s, double *c)
{
    double q = nearest_d(x * 0.6366197723675814); /* quadrant: x = q pi/2 + r, |r| <= pi/4 */
    double r = (x - q * 1.5707963267341256) - q * 6.077100506506192e-11;
    double r2 = r * r, sn = 1.0, cs = 1.0;
    for (int k = 17; k >= 3; k -= 2) /* Taylor: the first term left out is below 1e-19 at pi/4 */
        sn = 1.0 - sn * r2 / (k * (k - 1));
    for (int k = 18; k >= 2; k -= 2)
        cs = 1.0 - cs * r2 / (k * (k - 1));
    sn *= r;
    switch ((int64_t)q & 3) {
    case 0: *s = sn; *c = cs; break;
    case 1: *s = cs; *c = -sn; break;
    case 2: *s = -sn; *c = -cs; break;
    default: *s = -cs; *c = sn; break;
    }
}

/* The compiler may turn these loops into calls to memcpy/memset, which a UEFI image may not have. */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *ec_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (; n >= 8; n -= 8, d += 8, s += 8) { /* 8 bytes a move (any alignment): KV cache rows are copied per token */
        uint64_t v;
        __builtin_memcpy(&v, s, 8);
        __builtin_memcpy(d, &v, 8);
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *ec_memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

size_t ec_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

void ec_str_append(char *buf, size_t cap, const char *s)
{
    if (!buf || cap == 0)
        return;
    size_t n = ec_strlen(buf);
    while (*s && n + 1 < cap)
        buf[n++] = *s++;
    buf[n] = 0;
}

void ec_str_append_u64(char *buf, size_t cap, uint64_t v)
{
    char tmp[24];
    int i = 23;
    tmp[i] = 0;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    ec_str_append(buf, cap, tmp + i);
}
