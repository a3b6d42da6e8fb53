/* ecmath.c - expf, tanhf, sqrtf and memory helpers for the freestanding core.
 * Every function is a fixed sequence of IEEE single-precision operations (no FMA, no table that could differ), so a
 * host build and a UEFI build give the same bits. The vector forms are the definition; scalars run lane 0. */
#include "ecmath.h"

float ec_expf(float x) { return v4f_lane0(ec_expf4(v4f_set1(x))); }
float ec_tanhf(float x) { return v4f_lane0(ec_tanhf4(v4f_set1(x))); }
float ec_sqrtf(float x) { return ec_sqrt1(x); }

/* The compiler may turn these loops into calls to memcpy/memset, which a UEFI image may not have. */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *ec_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
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
