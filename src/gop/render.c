/* render.c - cell grid to pixels (see render.h). Freestanding. */
#include "render.h"

static const uint32_t default_palette[PAL_COUNT] = {
    [PAL_BG] = 0x101418,        [PAL_USER] = 0x8CC8FF,      [PAL_MODEL] = 0xF0E6C8,
    [PAL_INFO] = 0x8A949E,      [PAL_ERROR] = 0xFF6E6E,     [PAL_INPUT_BG] = 0x1C232B,
    [PAL_INPUT] = 0xFFFFFF,     [PAL_PROMPT] = 0x7FD67F,    [PAL_CURSOR_BG] = 0xD0D0D0,
    [PAL_STATUS_BG] = 0x2E4A66, [PAL_STATUS] = 0xE8EEF4,    [PAL_HELP_BG] = 0x33302A,
    [PAL_HELP] = 0xFFF2D0,      [PAL_WARN] = 0xFFB040,
};

void render_init(Renderer *r, Fb *fb, Font *font)
{
    r->fb = fb;
    r->font = font;
    for (int i = 0; i < PAL_COUNT; i++)
        r->palette[i] = default_palette[i];
    r->shown = (Grid){0, 0, NULL};
    r->x0 = r->y0 = 0;
    r->full = 1;
    r->scroll_rows = 0;
    r->scrolls = 0;
}

void render_set_scroll_region(Renderer *r, uint32_t rows) { r->scroll_rows = rows; }

void render_grid_size(const Renderer *r, uint32_t *cols, uint32_t *rows)
{
    *cols = r->fb->width / r->font->cell_w;
    *rows = r->fb->height / r->font->cell_h;
}

void render_reset(Renderer *r, Cell *shown_cells, uint32_t cols, uint32_t rows)
{
    r->shown = (Grid){cols, rows, shown_cells};
    r->x0 = (r->fb->width - cols * r->font->cell_w) / 2;
    r->y0 = (r->fb->height - rows * r->font->cell_h) / 2;
    r->full = 1;
}

/* The pixels a cell's background covers: its cell, stretched over the screen's spare pixels where the cell lies
 * on the grid's left, right or bottom edge, so the input line and status bar run edge to edge (a 3840x2160 panel
 * leaves some 13 px beside and below the grid). The top margin keeps the transcript's background. */
static void cell_rect(const Renderer *r, uint32_t cx, uint32_t cy, uint32_t *x, uint32_t *y, uint32_t *w, uint32_t *h)
{
    const Font *f = r->font;
    *x = r->x0 + cx * f->cell_w;
    *y = r->y0 + cy * f->cell_h;
    *w = f->cell_w;
    *h = f->cell_h;
    if (cx == 0) {
        *w += *x;
        *x = 0;
    }
    if (cx + 1 == r->shown.cols)
        *w = r->fb->width - *x;
    if (cy + 1 == r->shown.rows)
        *h = r->fb->height - *y;
}

static void paint_cell(Renderer *r, uint32_t cx, uint32_t cy, Cell c)
{
    Font *f = r->font;
    uint32_t px = r->x0 + cx * f->cell_w, py = r->y0 + cy * f->cell_h;
    uint32_t bx, by, bw, bh;
    cell_rect(r, cx, cy, &bx, &by, &bw, &bh);
    fb_fill(r->fb, bx, by, bw, bh, r->palette[c.bg]);
    if (c.cp == ' ' || c.cp == 0)
        return;
    const uint8_t *alpha;
    const Glyph *g = font_glyph(f, c.cp, &alpha);
    /* Clip the glyph to its cell so a wide or tall glyph never bleeds into a neighbour left unpainted. */
    int x = g->xoff, y = g->yoff, w = g->w, h = g->h, skip_x = 0, skip_y = 0;
    if (x < 0)
        skip_x = -x, x = 0;
    if (y < 0)
        skip_y = -y, y = 0;
    if (x + (w - skip_x) > (int)f->cell_w)
        w = (int)f->cell_w - x + skip_x;
    if (y + (h - skip_y) > (int)f->cell_h)
        h = (int)f->cell_h - y + skip_y;
    if (w <= skip_x || h <= skip_y)
        return;
    fb_blend_alpha(r->fb, (int)px + x, (int)py + y, alpha + skip_y * g->w + skip_x, w - skip_x, h - skip_y, g->w,
                   r->palette[c.fg]);
}

static int same(Cell a, Cell b) { return a.cp == b.cp && a.fg == b.fg && a.bg == b.bg; }

static int row_same(const Renderer *r, const Grid *g, uint32_t gy, uint32_t sy)
{
    for (uint32_t x = 0; x < g->cols; x++)
        if (!same(g->cells[gy * g->cols + x], r->shown.cells[sy * r->shown.cols + x]))
            return 0;
    return 1;
}

#define SCROLL_MAX 8

/* If the scroll region's rows moved up by k (1..SCROLL_MAX) rows and that saves repainting, shift the pixels and
 * the shown copy up by k rows; the bottom k rows are then repainted by the normal diff. */
static void try_scroll(Renderer *r, const Grid *g)
{
    uint32_t rows = r->scroll_rows;
    if (r->full || rows < 2 || g->cols != r->shown.cols || rows > g->rows || rows > r->shown.rows)
        return;
    uint32_t changed = 0;
    for (uint32_t y = 0; y < rows; y++)
        changed += !row_same(r, g, y, y);
    for (uint32_t k = 1; k <= SCROLL_MAX && k < rows && k < changed; k++) {
        uint32_t y = 0;
        while (y + k < rows && row_same(r, g, y, y + k))
            y++;
        if (y + k < rows)
            continue;
        Fb *fb = r->fb;
        uint32_t ch = r->font->cell_h, top = r->y0, span = (rows - k) * ch;
        for (uint32_t py = 0; py < span; py++) {
            uint32_t *dst = fb->back + (size_t)(top + py) * fb->width, *src = dst + (size_t)k * ch * fb->width;
            for (uint32_t x = 0; x < fb->width; x++)
                dst[x] = src[x];
        }
        for (uint32_t sy = 0; sy + k < rows; sy++)
            for (uint32_t x = 0; x < g->cols; x++)
                r->shown.cells[sy * r->shown.cols + x] = r->shown.cells[(sy + k) * r->shown.cols + x];
        fb_mark_dirty(fb, 0, top, fb->width, span);
        r->scrolls++;
        return;
    }
}

uint32_t render_frame(Renderer *r, const Grid *g)
{
    uint32_t painted = 0;
    if (r->full) {
        /* margins around the grid */
        fb_fill(r->fb, 0, 0, r->fb->width, r->fb->height, r->palette[PAL_BG]);
        fb_mark_dirty(r->fb, 0, 0, r->fb->width, r->fb->height);
    }
    try_scroll(r, g);
    for (uint32_t y = 0; y < g->rows && y < r->shown.rows; y++) {
        uint32_t lo = UINT32_MAX, hi = 0;
        for (uint32_t x = 0; x < g->cols && x < r->shown.cols; x++) {
            Cell c = g->cells[y * g->cols + x];
            Cell *old = &r->shown.cells[y * r->shown.cols + x];
            if (!r->full && same(c, *old))
                continue;
            paint_cell(r, x, y, c);
            *old = c;
            painted++;
            if (lo == UINT32_MAX)
                lo = x;
            hi = x;
        }
        if (lo != UINT32_MAX && !r->full) {
            uint32_t x0, y0, w0, h0, x1, y1, w1, h1;
            cell_rect(r, lo, y, &x0, &y0, &w0, &h0);
            cell_rect(r, hi, y, &x1, &y1, &w1, &h1);
            fb_mark_dirty(r->fb, x0, y0, x1 + w1 - x0, h0);
        }
    }
    r->full = 0;
    return painted;
}
