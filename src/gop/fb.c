/* fb.c - back buffer drawing, pixel-format conversion and the dirty-rectangle flush (see fb.h). Freestanding. */
#include "fb.h"

void fb_init(Fb *fb, uint32_t width, uint32_t height, uint32_t *back)
{
    uint8_t *p = (uint8_t *)fb;
    for (size_t i = 0; i < sizeof *fb; i++)
        p[i] = 0;
    fb->width = width;
    fb->height = height;
    fb->back = back;
    fb->format = FB_BLT_ONLY;
    fb->bytes_pp = 4;
}

static uint32_t highest_bit(uint32_t m)
{
    uint32_t b = 0;
    while (m) {
        b++;
        m >>= 1;
    }
    return b;
}

void fb_set_video(Fb *fb, enum fb_format format, uint8_t *video, uint32_t stride, const uint32_t masks[4])
{
    fb->format = format;
    fb->video = format == FB_BLT_ONLY ? NULL : video;
    fb->stride = stride;
    fb->bytes_pp = 4;
    if (format == FB_BITMASK) {
        for (int i = 0; i < 3; i++)
            fb->mask[i] = masks[i];
        uint32_t bits = highest_bit(masks[0] | masks[1] | masks[2] | masks[3]);
        fb->bytes_pp = bits <= 16 ? 2 : bits <= 24 ? 3 : 4;
    }
}

void fb_set_blt(Fb *fb, fb_blt_fn blt, void *ctx)
{
    fb->blt = blt;
    fb->blt_ctx = ctx;
}

/* Puts an 8-bit channel value into the bits of mask, scaling to the mask's width. */
static uint32_t to_mask(uint32_t c8, uint32_t mask)
{
    if (!mask)
        return 0;
    uint32_t shift = 0, width = 0;
    while (!((mask >> shift) & 1))
        shift++;
    while (shift + width < 32 && ((mask >> (shift + width)) & 1))
        width++;
    uint32_t v = c8 >> (8 - (width < 8 ? width : 8)); /* narrower than 8 bits: keep the high bits */
    if (width > 8) /* wider: shift up and repeat the high bits so 0xFF stays full scale */
        v = c8 << (width - 8) | (width < 16 ? c8 >> (16 - width) : 0);
    return (v << shift) & mask;
}

uint32_t fb_convert(const Fb *fb, uint32_t v)
{
    uint32_t r = (v >> 16) & 0xFF, g = (v >> 8) & 0xFF, b = v & 0xFF;
    switch (fb->format) {
    case FB_RGBX: return r | g << 8 | b << 16; /* bytes R, G, B, x */
    case FB_BITMASK: return to_mask(r, fb->mask[0]) | to_mask(g, fb->mask[1]) | to_mask(b, fb->mask[2]);
    default: return v & 0xFFFFFF; /* BGRX and Blt pixels: bytes B, G, R, x */
    }
}

void fb_fill(Fb *fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t color)
{
    if (x >= fb->width || y >= fb->height)
        return;
    if (w > fb->width - x)
        w = fb->width - x;
    if (h > fb->height - y)
        h = fb->height - y;
    for (uint32_t j = 0; j < h; j++) {
        uint32_t *row = fb->back + (size_t)(y + j) * fb->width + x;
        for (uint32_t i = 0; i < w; i++)
            row[i] = color;
    }
}

uint32_t fb_mix(uint32_t bg, uint32_t fg, uint32_t a)
{
    uint32_t out = 0;
    for (int s = 0; s <= 16; s += 8) {
        uint32_t cb = (bg >> s) & 0xFF, cf = (fg >> s) & 0xFF;
        out |= ((cf * a + cb * (255 - a) + 127) / 255) << s;
    }
    return out;
}

void fb_blend_alpha(Fb *fb, int x, int y, const uint8_t *alpha, int w, int h, int pitch, uint32_t fg)
{
    for (int j = 0; j < h; j++) {
        int py = y + j;
        if (py < 0 || py >= (int)fb->height)
            continue;
        uint32_t *row = fb->back + (size_t)py * fb->width;
        for (int i = 0; i < w; i++) {
            int px = x + i;
            uint32_t a = alpha[j * pitch + i];
            if (px < 0 || px >= (int)fb->width || a == 0)
                continue;
            row[px] = a == 255 ? fg : fb_mix(row[px], fg, a);
        }
    }
}

static int touches(const FbRect *a, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    return x <= a->x + a->w && a->x <= x + w && y <= a->y + a->h && a->y <= y + h;
}

static void grow(FbRect *a, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    uint32_t x1 = a->x + a->w > x + w ? a->x + a->w : x + w;
    uint32_t y1 = a->y + a->h > y + h ? a->y + a->h : y + h;
    a->x = a->x < x ? a->x : x;
    a->y = a->y < y ? a->y : y;
    a->w = x1 - a->x;
    a->h = y1 - a->y;
}

void fb_mark_dirty(Fb *fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    if (x >= fb->width || y >= fb->height || w == 0 || h == 0)
        return;
    if (w > fb->width - x)
        w = fb->width - x;
    if (h > fb->height - y)
        h = fb->height - y;
    /* Overlapping or touching rectangles merge; a full queue collapses into its bounding box. */
    for (uint32_t i = 0; i < fb->ndirty; i++)
        if (touches(&fb->dirty[i], x, y, w, h)) {
            grow(&fb->dirty[i], x, y, w, h);
            return;
        }
    if (fb->ndirty == FB_MAX_DIRTY) {
        for (uint32_t i = 1; i < fb->ndirty; i++)
            grow(&fb->dirty[0], fb->dirty[i].x, fb->dirty[i].y, fb->dirty[i].w, fb->dirty[i].h);
        fb->ndirty = 1;
        grow(&fb->dirty[0], x, y, w, h);
        return;
    }
    fb->dirty[fb->ndirty++] = (FbRect){x, y, w, h};
}

static void write_rect(Fb *fb, FbRect r)
{
    for (uint32_t j = 0; j < r.h; j++) {
        const uint32_t *src = fb->back + (size_t)(r.y + j) * fb->width + r.x;
        uint8_t *dst = fb->video + ((size_t)(r.y + j) * fb->stride + r.x) * fb->bytes_pp;
        if (fb->format == FB_BGRX) {
            uint32_t *d = (uint32_t *)dst;
            for (uint32_t i = 0; i < r.w; i++)
                d[i] = src[i];
            continue;
        }
        for (uint32_t i = 0; i < r.w; i++) {
            uint32_t v = fb_convert(fb, src[i]);
            if (fb->bytes_pp == 4) {
                ((uint32_t *)dst)[i] = v;
            } else {
                for (uint32_t k = 0; k < fb->bytes_pp; k++)
                    dst[i * fb->bytes_pp + k] = (uint8_t)(v >> (8 * k));
            }
        }
    }
}

int fb_flush(Fb *fb)
{
    int err = 0;
    for (uint32_t i = 0; i < fb->ndirty; i++) {
        FbRect r = fb->dirty[i];
        if (fb->video && !fb->use_blt) {
            write_rect(fb, r);
        } else if (fb->blt) {
            int e = fb->blt(fb->blt_ctx, fb->back, fb->width, r);
            if (e && !err)
                err = e;
        }
    }
    fb->ndirty = 0;
    return err;
}
