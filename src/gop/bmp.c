/* bmp.c - the 24-bit BMP encoder (see bmp.h). Freestanding: no libc, no allocation. */
#include "bmp.h"

static uint8_t *put_le(uint8_t *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint64_t row_bytes(uint32_t w) { return ((uint64_t)w * 3 + 3) & ~(uint64_t)3; }

size_t bmp_size(uint32_t w, uint32_t h)
{
    if (w == 0 || h == 0 || w > 0x7FFFFFFF || h > 0x7FFFFFFF) /* width and height are signed in the header */
        return 0;
    uint64_t total = BMP_HEADER_BYTES + row_bytes(w) * h;
    return total > 0xFFFFFFFFull ? 0 : (size_t)total;
}

size_t bmp_encode(const uint32_t *pixels, uint32_t w, uint32_t h, uint32_t pitch, uint8_t *out, size_t cap)
{
    size_t total = bmp_size(w, h);
    if (total == 0 || cap < total || pitch < w)
        return 0;
    uint32_t image = (uint32_t)(total - BMP_HEADER_BYTES);
    uint8_t *p = out;
    /* BITMAPFILEHEADER: "BM", file size, two reserved words, offset of the pixels */
    *p++ = 'B';
    *p++ = 'M';
    p = put_le(p, (uint32_t)total, 4);
    p = put_le(p, 0, 4);
    p = put_le(p, BMP_HEADER_BYTES, 4);
    /* BITMAPINFOHEADER: its size, width, height (positive: bottom-up), 1 plane, 24 bits, BI_RGB, image bytes,
     * resolution x and y, palette colours used and important (none) */
    p = put_le(p, 40, 4);
    p = put_le(p, w, 4);
    p = put_le(p, h, 4);
    p = put_le(p, 1, 2);
    p = put_le(p, 24, 2);
    p = put_le(p, 0, 4);
    p = put_le(p, image, 4);
    p = put_le(p, 2835, 4);
    p = put_le(p, 2835, 4);
    p = put_le(p, 0, 4);
    p = put_le(p, 0, 4);
    uint32_t pad = (uint32_t)(row_bytes(w) - (uint64_t)w * 3);
    for (uint32_t y = h; y-- > 0;) { /* the last screen row first */
        const uint32_t *row = pixels + (size_t)y * pitch;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t v = row[x];
            *p++ = (uint8_t)v;         /* blue */
            *p++ = (uint8_t)(v >> 8);  /* green */
            *p++ = (uint8_t)(v >> 16); /* red */
        }
        for (uint32_t i = 0; i < pad; i++)
            *p++ = 0;
    }
    return total;
}

size_t bmp_shot_name(uint32_t n, char *name)
{
    char digits[10];
    int k = 0;
    do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (k < 4)
        digits[k++] = '0';
    size_t len = 0;
    for (const char *s = "shot"; *s; s++)
        name[len++] = *s;
    while (k > 0)
        name[len++] = digits[--k];
    for (const char *s = ".bmp"; *s; s++)
        name[len++] = *s;
    name[len] = 0;
    return len;
}
