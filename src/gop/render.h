/* render.h - paints a cell grid into the back buffer with the font, redrawing only the cells that changed since
 * the last frame (it keeps its own copy of what is on screen) and queueing one dirty rectangle per changed run. */
#ifndef EFICHAT_RENDER_H
#define EFICHAT_RENDER_H

#include "fb.h"
#include "font.h"
#include "../chat/chatui.h"

typedef struct {
    Fb *fb;
    Font *font;
    uint32_t palette[PAL_COUNT]; /* 0x00RRGGBB */
    Grid shown;                  /* what the back buffer holds now; cells == NULL until the first frame */
    uint32_t x0, y0;             /* top-left pixel of the grid (the screen's spare pixels are split as margins) */
    int full;                    /* repaint everything next frame */
    uint32_t scroll_rows;        /* the top rows that scroll as one (the transcript); 0 = none */
    uint32_t scrolls;            /* frames drawn by shifting pixels up (tests watch this) */
} Renderer;

void render_init(Renderer *r, Fb *fb, Font *font);
/* The grid size that fits the screen with the current font. */
void render_grid_size(const Renderer *r, uint32_t *cols, uint32_t *rows);
/* Takes the memory for the shown-copy (cols*rows cells) and forces a full repaint (call after a size change). */
void render_reset(Renderer *r, Cell *shown_cells, uint32_t cols, uint32_t rows);
/* When the top `rows` rows moved up by a few rows since the last frame (new lines while streaming), the frame
 * shifts those pixels up in the back buffer instead of repainting every glyph. */
void render_set_scroll_region(Renderer *r, uint32_t rows);
/* Paints the differences between g and what is shown; the caller then calls fb_flush(). Returns cells painted. */
uint32_t render_frame(Renderer *r, const Grid *g);

#endif
