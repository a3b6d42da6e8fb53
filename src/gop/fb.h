/* fb.h - the back buffer and how it reaches the screen. We draw only into `back` (0x00RRGGBB, which is also the
 * byte order of a UEFI Blt pixel), record dirty rectangles, and flush each one either with one Blt call (any
 * screen, including Blt-only ones without a framebuffer) or by converting into the framebuffer's own format
 * (RGB, BGR, or bit masks of 2, 3 or 4 bytes, with its own stride). Video memory is never read. No UEFI headers. */
#ifndef EFICHAT_FB_H
#define EFICHAT_FB_H

#include <stddef.h>
#include <stdint.h>

enum fb_format { FB_RGBX, FB_BGRX, FB_BITMASK, FB_BLT_ONLY };

#define FB_MAX_DIRTY 16

typedef struct {
    uint32_t x, y, w, h;
} FbRect;

/* Copies the back-buffer rectangle r to the screen (one firmware Blt); returns 0 on success. */
typedef int (*fb_blt_fn)(void *ctx, const uint32_t *back, uint32_t back_width, FbRect r);

typedef struct {
    uint32_t width, height;
    uint32_t *back;       /* (height, width) pixels 0x00RRGGBB */
    /* the screen */
    uint32_t format;      /* enum fb_format */
    uint32_t mask[3];     /* FB_BITMASK: red, green, blue masks */
    uint32_t bytes_pp;    /* FB_BITMASK: 2, 3 or 4; otherwise 4 */
    uint8_t *video;       /* framebuffer, NULL for Blt-only */
    uint32_t stride;      /* pixels per scan line of the framebuffer */
    fb_blt_fn blt;        /* used when video is NULL, or when use_blt is set */
    void *blt_ctx;
    int use_blt;
    /* the dirty queue */
    FbRect dirty[FB_MAX_DIRTY];
    uint32_t ndirty;
} Fb;

/* back must hold width*height pixels. For FB_BITMASK pass the three masks and the reserved mask (for the size). */
void fb_init(Fb *fb, uint32_t width, uint32_t height, uint32_t *back);
void fb_set_video(Fb *fb, enum fb_format format, uint8_t *video, uint32_t stride, const uint32_t masks[4]);
void fb_set_blt(Fb *fb, fb_blt_fn blt, void *ctx);

/* The pixel value v (0x00RRGGBB) in the framebuffer's format. */
uint32_t fb_convert(const Fb *fb, uint32_t v);
void fb_fill(Fb *fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t color);
/* Blends an 8-bit coverage bitmap (w, h, pitch) in colour fg over what the back buffer holds at (x, y),
 * clipped to the buffer. */
void fb_blend_alpha(Fb *fb, int x, int y, const uint8_t *alpha, int w, int h, int pitch, uint32_t fg);
uint32_t fb_mix(uint32_t bg, uint32_t fg, uint32_t a);
void fb_mark_dirty(Fb *fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
/* Sends every dirty rectangle to the screen, one Blt (or one conversion pass) each; returns 0 or the first error. */
int fb_flush(Fb *fb);

#endif
