/* fmt.c - bounded string building and UTF-8 for the console (see fmt.h). Freestanding: no libc. */
#include "fmt.h"

void fmt_init(Fmt *f, char *buf, size_t cap)
{
    f->buf = buf;
    f->cap = cap;
    f->len = 0;
    if (cap)
        buf[0] = 0;
}

void fmt_bytes(Fmt *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n && f->len + 1 < f->cap; i++)
        f->buf[f->len++] = s[i];
    if (f->cap)
        f->buf[f->len] = 0;
}

void fmt_str(Fmt *f, const char *s) { fmt_bytes(f, s, fmt_strlen(s)); }
void fmt_char(Fmt *f, char c) { fmt_bytes(f, &c, 1); }

void fmt_u64(Fmt *f, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        fmt_char(f, tmp[--n]);
}

void fmt_fixed(Fmt *f, uint64_t v, int decimals)
{
    uint64_t scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    fmt_u64(f, v / scale);
    if (decimals <= 0)
        return;
    fmt_char(f, '.');
    uint64_t frac = v % scale;
    for (uint64_t s = scale / 10; s; s /= 10) {
        fmt_char(f, (char)('0' + frac / s));
        frac %= s;
    }
}

size_t fmt_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int fmt_streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void fmt_copy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
}

void fmt_zero(void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = 0;
}

size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    uint8_t b = s[0];
    size_t need;
    uint32_t c, min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xC2 && b < 0xE0) {
        need = 2, c = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b < 0xF0) {
        need = 3, c = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b < 0xF5) {
        need = 4, c = b & 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= n)
            return 0; /* incomplete: wait for more bytes */
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = c;
    return need;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
        cp = 0xFFFD;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

char fmt_terminal_byte(char c)
{
    uint8_t b = (uint8_t)c;
    return ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7F) ? '?' : c;
}

uint32_t text_display_cp(uint32_t cp)
{
    if (cp == '\t')
        return ' ';
    if (cp < 0x20 || cp == 0x7F)
        return 0xB7;
    return cp;
}
