/* font.h - a monospaced TrueType font rasterised with stb_truetype at one pixel size, glyphs cached.
 * The font bytes are embedded at build time (we never parse a font we did not ship: stb_truetype is not safe on
 * untrusted files). All memory is one arena handed in by the caller: a glyph cache plus rasteriser scratch. */
#ifndef EFICHAT_FONT_H
#define EFICHAT_FONT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t cp;
    int16_t w, h;       /* coverage bitmap size */
    int16_t xoff, yoff; /* bitmap position relative to the cell's top-left corner */
    uint32_t offset;    /* of the bitmap in the cache arena */
} Glyph;

typedef struct FontImpl FontImpl;

typedef struct {
    FontImpl *impl;
    uint32_t px;             /* requested pixel height */
    uint32_t cell_w, cell_h; /* one character cell */
    uint32_t glyph_misses;   /* rasterisations since the last size change (tests watch the cache with it) */
} Font;

/* Sets the font up from ttf bytes (kept, not copied) and an arena of arena_bytes (1 MiB is plenty).
 * Returns 0 on success, -1 if the font cannot be parsed, -2 if the arena is too small. */
int font_init(Font *f, const uint8_t *ttf, size_t ttf_len, void *arena, size_t arena_bytes);
/* Chooses the pixel size (clamped to 8..128) and empties the glyph cache. */
void font_set_px(Font *f, uint32_t px);
/* The glyph of cp (a box for characters the font lacks); *alpha receives its coverage bitmap (pitch = w).
 * Never fails: when the cache is full it is emptied and filled again. */
const Glyph *font_glyph(Font *f, uint32_t cp, const uint8_t **alpha);

#endif
