/* bmp.h - the back buffer (0x00RRGGBB pixels, see fb.h) as a 24-bit Windows BMP, for F10 screenshots. The back
 * buffer holds the same pixel values whatever the screen's format (RGB, BGR, bit masks, Blt-only), so one encoder
 * serves every screen. Freestanding: the caller hands the output buffer in; nothing is allocated or written. */
#ifndef EFICHAT_BMP_H
#define EFICHAT_BMP_H

#include <stddef.h>
#include <stdint.h>

#define BMP_HEADER_BYTES 54 /* BITMAPFILEHEADER (14) + BITMAPINFOHEADER (40) */

/* Bytes the BMP of a w x h image takes: the header, then rows of 3*w bytes padded to a multiple of 4.
 * 0 when w or h is 0 or the file would not fit the format's 32-bit size field. */
size_t bmp_size(uint32_t w, uint32_t h);

/* Writes the BMP of pixels (h rows of w pixels, `pitch` pixels apart) into out[0..cap); bottom-up rows, B G R
 * byte order, 2835 px/m (72 dpi). Returns the bytes written: bmp_size(w, h), or 0 when cap is smaller. */
size_t bmp_encode(const uint32_t *pixels, uint32_t w, uint32_t h, uint32_t pitch, uint8_t *out, size_t cap);

/* "shot0001.bmp" for n = 1 (4 digits, more when n > 9999) into name (at least 24 bytes); returns its length. */
size_t bmp_shot_name(uint32_t n, char *name);

#endif
