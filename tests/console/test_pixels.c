/* test_pixels.c - the pixel side against memory framebuffers: every pixel format (RGB, BGR, 16/24/32-bit masks,
 * Blt-only), stride, dirty-rectangle merging, alpha blending, real glyphs from the embedded font, the glyph cache,
 * repainting only changed cells, and the screen-mode choice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "gop/fb.h"
#include "gop/font.h"
#include "gop/render.h"
#include "gop/modes.h"

#define W 64
#define H 32
static uint32_t back[W * H];

/* A memory "video" with a wider stride than the width, to catch code that assumes stride == width. */
#define STRIDE 80
static uint8_t video[STRIDE * H * 4];

static void test_formats(void)
{
    Fb fb;
    uint32_t none[4] = {0, 0, 0, 0};
    fb_init(&fb, W, H, back);
    fb_fill(&fb, 0, 0, W, H, 0x123456);
    fb_mark_dirty(&fb, 3, 2, 5, 4);

    memset(video, 0, sizeof video);
    fb_set_video(&fb, FB_BGRX, video, STRIDE, none);
    fb_flush(&fb);
    uint8_t *p = video + (2 * STRIDE + 3) * 4;
    check_case(p[0] == 0x56 && p[1] == 0x34 && p[2] == 0x12, "fb_bgr_bytes", "%02x %02x %02x", p[0], p[1], p[2]);
    check_case(video[(2 * STRIDE + 8) * 4] == 0 && video[(6 * STRIDE + 3) * 4] == 0 &&
                   video[(5 * STRIDE + 7) * 4] == 0x56,
               "fb_flush_only_dirty_rect_with_stride", "outside the rectangle was written or inside was not");

    memset(video, 0, sizeof video);
    fb_set_video(&fb, FB_RGBX, video, STRIDE, none);
    fb_mark_dirty(&fb, 0, 0, 1, 1);
    fb_flush(&fb);
    check_case(video[0] == 0x12 && video[1] == 0x34 && video[2] == 0x56, "fb_rgb_bytes", "%02x %02x %02x",
               video[0], video[1], video[2]);

    uint32_t m565[4] = {0xF800, 0x07E0, 0x001F, 0};
    memset(video, 0, sizeof video);
    fb_set_video(&fb, FB_BITMASK, video, STRIDE, m565);
    fb_fill(&fb, 0, 0, 2, 1, 0xFF8000);
    fb_mark_dirty(&fb, 0, 0, 2, 1);
    fb_flush(&fb);
    uint16_t v = (uint16_t)(video[0] | video[1] << 8), v1 = (uint16_t)(video[2] | video[3] << 8);
    check_case(fb.bytes_pp == 2 && v == ((0x1F << 11) | (0x20 << 5)) && v1 == v, "fb_bitmask_565",
               "bpp %u pixel %04x next %04x", fb.bytes_pp, v, v1);

    uint32_t m888[4] = {0x0000FF, 0x00FF00, 0xFF0000, 0}; /* 24-bit, red in the low byte */
    memset(video, 0, sizeof video);
    fb_set_video(&fb, FB_BITMASK, video, STRIDE, m888);
    fb_fill(&fb, 0, 0, 2, 1, 0x112233);
    fb_mark_dirty(&fb, 0, 0, 2, 1);
    fb_flush(&fb);
    check_case(fb.bytes_pp == 3 && video[0] == 0x11 && video[1] == 0x22 && video[2] == 0x33 && video[3] == 0x11,
               "fb_bitmask_24bit", "bpp %u %02x %02x %02x %02x", fb.bytes_pp, video[0], video[1], video[2], video[3]);

    uint32_t m10[4] = {0x3FF00000, 0x000FFC00, 0x000003FF, 0xC0000000}; /* 10 bits per channel */
    fb_set_video(&fb, FB_BITMASK, video, STRIDE, m10);
    uint32_t c = fb_convert(&fb, 0xFF0080);
    check_case(c == (0x3FFu << 20 | 0x202u), "fb_bitmask_10bit_scales", "%08x", c);
}

static FbRect blts[8];
static int nblt;
static uint32_t blt_copy[W * H];

static int fake_blt(void *ctx, const uint32_t *src, uint32_t src_w, FbRect r)
{
    (void)ctx;
    if (nblt < 8)
        blts[nblt] = r;
    nblt++;
    for (uint32_t y = r.y; y < r.y + r.h; y++)
        for (uint32_t x = r.x; x < r.x + r.w; x++)
            blt_copy[y * W + x] = src[y * src_w + x];
    return 0;
}

static void test_blt_and_dirty(void)
{
    Fb fb;
    uint32_t none[4] = {0};
    fb_init(&fb, W, H, back);
    fb_set_video(&fb, FB_BLT_ONLY, NULL, 0, none);
    fb_set_blt(&fb, fake_blt, NULL);
    fb_fill(&fb, 0, 0, W, H, 0xABCDEF);
    nblt = 0;
    fb_mark_dirty(&fb, 0, 0, 10, 4);
    fb_mark_dirty(&fb, 0, 4, 10, 4);   /* touches the first: merged */
    fb_mark_dirty(&fb, 40, 20, 4, 4);  /* apart: its own Blt */
    fb_flush(&fb);
    check_case(nblt == 2 && blts[0].h == 8 && blts[1].x == 40, "fb_blt_only_one_blt_per_rect", "%d blts", nblt);
    check_case(blt_copy[7 * W + 9] == 0xABCDEF && blt_copy[21 * W + 41] == 0xABCDEF && blt_copy[30 * W] == 0,
               "fb_blt_copies_the_rects", "wrong pixels");
    nblt = 0;
    for (uint32_t i = 0; i < 40; i++)
        fb_mark_dirty(&fb, (i % 8) * 8, (i / 8) * 6, 2, 2);
    fb_flush(&fb);
    check_case(nblt <= FB_MAX_DIRTY, "fb_dirty_queue_bounded", "%d blts", nblt);
    fb_flush(&fb);
    check_case(nblt <= FB_MAX_DIRTY, "fb_flush_empties_queue", "%d", nblt);
    /* a framebuffer screen can still be told to use Blt */
    fb_set_video(&fb, FB_BGRX, video, STRIDE, none);
    fb.use_blt = 1;
    nblt = 0;
    fb_mark_dirty(&fb, 1, 1, 1, 1);
    fb_flush(&fb);
    check_case(nblt == 1, "fb_force_blt", "%d", nblt);
}

static void test_blend(void)
{
    check_case(fb_mix(0x000000, 0xFFFFFF, 0) == 0 && fb_mix(0x000000, 0xFFFFFF, 255) == 0xFFFFFF &&
                   fb_mix(0x000000, 0xFFFFFF, 128) == 0x808080 && fb_mix(0x204060, 0x204060, 77) == 0x204060,
               "blend_endpoints_and_middle", "%06x", fb_mix(0, 0xFFFFFF, 128));
    Fb fb;
    fb_init(&fb, W, H, back);
    fb_fill(&fb, 0, 0, W, H, 0x000000);
    uint8_t a[4] = {0, 255, 128, 255};
    fb_blend_alpha(&fb, -1, 0, a, 2, 2, 2, 0xFF0000); /* clipped on the left */
    check_case(back[0] == 0xFF0000 && back[W] == 0xFF0000 && back[1] == 0, "blend_clips_left_edge", "%06x %06x",
               back[0], back[W]);
    fb_blend_alpha(&fb, W - 1, H - 1, a, 2, 2, 2, 0x00FF00); /* clipped right and bottom: must not write past */
    check_case(back[W * H - 1] == 0, "blend_clips_bottom_right", "%06x", back[W * H - 1]);
}

static uint8_t *read_font(size_t *len)
{
    FILE *f = fopen(EFICHAT_FONT_FILE, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    if (fread(b, 1, *len, f) != *len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static void test_font_and_render(void)
{
    size_t len = 0;
    uint8_t *ttf = read_font(&len);
    check_case(ttf != NULL, "font_file_present", "%s missing (fonts-dejavu-core)", EFICHAT_FONT_FILE);
    if (!ttf)
        return;
    static uint8_t arena[2 << 20];
    Font font;
    uint8_t junk[64] = {0};
    check_case(font_init(&font, junk, sizeof junk, arena, sizeof arena) == -1, "font_rejects_garbage", "accepted");
    check_case(font_init(&font, ttf, len, arena, 1000) == -2, "font_small_arena", "accepted");
    check_case(font_init(&font, ttf, len, arena, sizeof arena) == 0, "font_init", "failed");
    font_set_px(&font, 20);
    check_case(font.cell_w >= 10 && font.cell_w <= 14 && font.cell_h >= 20 && font.cell_h <= 26, "font_cell_size",
               "%ux%u", font.cell_w, font.cell_h);
    const uint8_t *alpha;
    const Glyph *g = font_glyph(&font, 'M', &alpha);
    int full = 0, partial = 0;
    for (int i = 0; i < g->w * g->h; i++) {
        full += alpha[i] == 255;
        partial += alpha[i] > 0 && alpha[i] < 255;
    }
    check_case(g->w > 4 && g->h > 8 && full > 10 && partial > 4, "font_glyph_antialiased", "%dx%d full %d part %d",
               g->w, g->h, full, partial);
    uint32_t misses = font.glyph_misses;
    font_glyph(&font, 'M', &alpha);
    check_case(font.glyph_misses == misses, "font_glyph_cached", "%u -> %u", misses, font.glyph_misses);
    g = font_glyph(&font, 0x10FFFD, &alpha); /* not in the font: the replacement glyph, not nothing */
    check_case(g->w > 0 && g->h > 0, "font_missing_glyph_box", "%dx%d", g->w, g->h);
    for (uint32_t cp = 0x4E00; cp < 0x4E00 + 3000; cp++) /* overflow the cache: it starts over, never fails */
        font_glyph(&font, cp, &alpha);
    g = font_glyph(&font, 'A', &alpha);
    check_case(g->cp == 'A' && g->w > 0, "font_cache_overflow_recovers", "cp %u", g->cp);

    /* render a grid into a 4x2-cell screen, in the real font */
    font_set_px(&font, 16);
    uint32_t sw = font.cell_w * 4 + 3, sh = font.cell_h * 2 + 1;
    uint32_t *bb = calloc((size_t)sw * sh, 4);
    Fb fb;
    fb_init(&fb, sw, sh, bb);
    Renderer r;
    render_init(&r, &fb, &font);
    uint32_t cols, rows;
    render_grid_size(&r, &cols, &rows);
    check_case(cols == 4 && rows == 2, "render_grid_fits_screen", "%ux%u", cols, rows);
    Cell shown[8], cells[8];
    for (int i = 0; i < 8; i++)
        cells[i] = (Cell){' ', PAL_MODEL, PAL_BG};
    cells[0].cp = 'H';
    cells[5] = (Cell){'i', PAL_USER, PAL_STATUS_BG};
    Grid grid = {4, 2, cells};
    render_reset(&r, shown, 4, 2);
    uint32_t painted = render_frame(&r, &grid);
    check_case(painted == 8 && fb.ndirty == 1 && fb.dirty[0].w == sw && fb.dirty[0].h == sh, "render_first_frame_full",
               "%u cells, %u rects", painted, fb.ndirty);
    /* the 'H' cell holds the model colour fully somewhere, and blends at its edges */
    int fg = 0, mixed = 0;
    for (uint32_t y = r.y0; y < r.y0 + font.cell_h; y++)
        for (uint32_t x = r.x0; x < r.x0 + font.cell_w; x++) {
            uint32_t v = bb[y * sw + x];
            fg += v == r.palette[PAL_MODEL];
            mixed += v != r.palette[PAL_MODEL] && v != r.palette[PAL_BG];
        }
    check_case(fg > 5 && mixed > 5, "render_glyph_pixels", "fg %d mixed %d", fg, mixed);
    uint32_t cell5 = bb[(r.y0 + font.cell_h) * sw + r.x0 + font.cell_w]; /* top-left pixel of cell (1,1) */
    check_case(cell5 == r.palette[PAL_STATUS_BG], "render_cell_background", "%06x", cell5);
    fb.ndirty = 0;
    painted = render_frame(&r, &grid);
    check_case(painted == 0 && fb.ndirty == 0, "render_unchanged_paints_nothing", "%u cells", painted);
    cells[2].cp = 'x';
    painted = render_frame(&r, &grid);
    check_case(painted == 1 && fb.ndirty == 1 && fb.dirty[0].x == r.x0 + 2 * font.cell_w &&
                   fb.dirty[0].w == font.cell_w && fb.dirty[0].h == font.cell_h,
               "render_one_cell_one_rect", "%u cells, rect %ux%u", painted, fb.dirty[0].w, fb.dirty[0].h);
    /* spare pixels: the bottom row's and the edge columns' backgrounds reach the screen's edges */
    uint32_t last = bb[(size_t)sw * sh - 1], below_left = bb[(size_t)(sh - 1) * sw];
    check_case(r.x0 + 4 * font.cell_w < sw && r.y0 + 2 * font.cell_h < sh && last == r.palette[PAL_BG] &&
                   below_left == r.palette[PAL_BG], "render_edges_bottom_row_background", "%06x %06x", last,
               below_left);
    for (int i = 4; i < 8; i++)
        cells[i].bg = PAL_STATUS_BG;
    fb.ndirty = 0;
    render_frame(&r, &grid);
    last = bb[(size_t)sw * sh - 1];
    below_left = bb[(size_t)(sh - 1) * sw];
    uint32_t right_of_row0 = bb[(size_t)r.y0 * sw + sw - 1];
    check_case(last == r.palette[PAL_STATUS_BG] && below_left == r.palette[PAL_STATUS_BG] &&
                   right_of_row0 == r.palette[PAL_BG] && fb.ndirty == 1 && fb.dirty[0].x == 0 &&
                   fb.dirty[0].w == sw && fb.dirty[0].y + fb.dirty[0].h == sh,
               "render_edges_status_row_reaches_edges", "%06x %06x %06x, %u rects", last, below_left,
               right_of_row0, fb.ndirty);
    free(bb);

    /* scrolling: the transcript rows moved up by one; the shifted frame equals a fresh paint of the new grid */
    uint32_t cw = 6, chh = 4; /* 6 cols, 4 rows: 3 transcript rows + 1 status row */
    sw = font.cell_w * cw;
    sh = font.cell_h * chh;
    uint32_t *b1 = calloc((size_t)sw * sh, 4), *b2 = calloc((size_t)sw * sh, 4);
    Fb f1, f2;
    fb_init(&f1, sw, sh, b1);
    fb_init(&f2, sw, sh, b2);
    Renderer r1, r2;
    render_init(&r1, &f1, &font);
    render_init(&r2, &f2, &font);
    Cell s1[24], s2[24], c1[24], c2[24];
    const char *before[4] = {"abc", "def", "ghi", "stat"}, *after[4] = {"def", "ghi", "jkl", "stat"};
    for (uint32_t y = 0; y < chh; y++)
        for (uint32_t x = 0; x < cw; x++) {
            c1[y * cw + x] = (Cell){x < strlen(before[y]) ? (uint8_t)before[y][x] : ' ', PAL_MODEL, PAL_BG};
            c2[y * cw + x] = (Cell){x < strlen(after[y]) ? (uint8_t)after[y][x] : ' ', PAL_MODEL, PAL_BG};
        }
    Grid g1 = {cw, chh, c1}, g2 = {cw, chh, c2};
    render_reset(&r1, s1, cw, chh);
    render_set_scroll_region(&r1, 3);
    render_frame(&r1, &g1);
    f1.ndirty = 0;
    painted = render_frame(&r1, &g2);
    render_reset(&r2, s2, cw, chh);
    render_frame(&r2, &g2);
    check_case(r1.scrolls == 1 && painted == 3, "render_scroll_shifts_pixels", "scrolls %u painted %u", r1.scrolls,
               painted);
    check_case(!memcmp(b1, b2, (size_t)sw * sh * 4), "render_scroll_equals_full_paint", "pixels differ");
    free(b1);
    free(b2);
    free(ttf);
}

static void test_modes(void)
{
    ModeSize m[] = {{640, 480}, {800, 600}, {1024, 768}, {1280, 800}, {1920, 1080}, {2560, 1600}};
    uint32_t n = sizeof m / sizeof m[0];
    check_case(modes_pick(m, n, 3, 0, 0) == 3, "modes_keep_current_if_big_enough", "%u", modes_pick(m, n, 3, 0, 0));
    check_case(modes_pick(m, n, 0, 0, 0) == 4, "modes_best_up_to_1080p", "%u", modes_pick(m, n, 0, 0, 0));
    check_case(modes_pick(m, n, 3, 800, 600) == 1, "modes_config_override", "%u", modes_pick(m, n, 3, 800, 600));
    check_case(modes_pick(m, n, 0, 333, 333) == 4, "modes_override_missing_falls_back", "%u",
               modes_pick(m, n, 0, 333, 333));
    ModeSize only[] = {{640, 480}};
    check_case(modes_pick(only, 1, 0, 0, 0) == 0, "modes_single_small_mode", "%u", modes_pick(only, 1, 0, 0, 0));
}

int main(void)
{
    test_formats();
    test_blt_and_dirty();
    test_blend();
    test_font_and_render();
    test_modes();
    return check_exit();
}
