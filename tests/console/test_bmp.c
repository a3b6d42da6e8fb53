/* test_bmp.c - the F10 screenshot encoder: the header read back field by field with a reader written here (not
 * bmp.c's), every pixel compared for odd widths (row padding) and a pitch wider than the width, the back buffer of
 * every screen format (the BMP must not depend on it), size limits, and shot names.
 * `test_bmp --write DIR` also writes sample BMPs for tests/console/test_bmp_pil.py, which decodes them with PIL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "gop/bmp.h"
#include "gop/fb.h"

/* The pattern both this test and test_bmp_pil.py compute on their own: every channel varies with x and y. */
static uint32_t pattern(uint32_t x, uint32_t y)
{
    uint32_t r = (x * 37 + y * 11) & 0xFF, g = ((x * 5) ^ (y * 3)) & 0xFF, b = (x + y * 7) & 0xFF;
    return r << 16 | g << 8 | b;
}

static uint32_t le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* An independent strict reader: every header field a bottom-up 24-bit BI_RGB BMP of w x h must have; 0 and the
 * first wrong field in `why` when one differs. */
static int header_ok(const uint8_t *b, size_t n, uint32_t w, uint32_t h, char *why, size_t why_n)
{
    uint32_t row = (w * 3 + 3) / 4 * 4;
    struct {
        const char *name;
        uint32_t got, want;
    } f[] = {
        {"magic", le(b, 2), 'B' | 'M' << 8},
        {"file size", le(b + 2, 4), (uint32_t)n},
        {"reserved", le(b + 6, 4), 0},
        {"pixel offset", le(b + 10, 4), 54},
        {"info size", le(b + 14, 4), 40},
        {"width", le(b + 18, 4), w},
        {"height", le(b + 22, 4), h},
        {"planes", le(b + 26, 2), 1},
        {"bits", le(b + 28, 2), 24},
        {"compression", le(b + 30, 4), 0},
        {"image size", le(b + 34, 4), row * h},
        {"colours used", le(b + 46, 4), 0},
        {"length", (uint32_t)n, 54 + row * h},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].got != f[i].want) {
            snprintf(why, why_n, "%s is %u, not %u", f[i].name, f[i].got, f[i].want);
            return 0;
        }
    return 1;
}

/* The pixel at (x, y) from the top left, as 0x00RRGGBB. */
static uint32_t pixel_at(const uint8_t *b, uint32_t w, uint32_t h, uint32_t x, uint32_t y)
{
    uint32_t row = (w * 3 + 3) / 4 * 4;
    const uint8_t *p = b + 54 + (size_t)(h - 1 - y) * row + x * 3;
    return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int padding_zero(const uint8_t *b, uint32_t w, uint32_t h)
{
    uint32_t row = (w * 3 + 3) / 4 * 4;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t i = w * 3; i < row; i++)
            if (b[54 + (size_t)y * row + i])
                return 0;
    return 1;
}

static uint8_t *encode_pattern(uint32_t w, uint32_t h, uint32_t pitch, size_t *n)
{
    uint32_t *px = calloc((size_t)pitch * h, sizeof *px);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < pitch; x++)
            px[(size_t)y * pitch + x] = x < w ? pattern(x, y) : 0xFFFFFF; /* beyond the width: must not show */
    size_t cap = bmp_size(w, h);
    uint8_t *out = malloc(cap);
    *n = bmp_encode(px, w, h, pitch, out, cap);
    free(px);
    return out;
}

static void test_patterns(void)
{
    static const uint32_t sizes[][3] = {{1, 1, 1}, {2, 3, 2}, {3, 2, 5}, {5, 4, 5}, {64, 17, 80}, {7, 9, 8}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t w = sizes[i][0], h = sizes[i][1], pitch = sizes[i][2];
        size_t n;
        uint8_t *b = encode_pattern(w, h, pitch, &n);
        char name[64], why[96] = "";
        snprintf(name, sizeof name, "bmp_header_%ux%u_pitch%u", w, h, pitch);
        check_case(n == bmp_size(w, h) && header_ok(b, n, w, h, why, sizeof why), name, "%s (n=%zu)", why, n);
        uint32_t bad = 0, bx = 0, by = 0;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                if (pixel_at(b, w, h, x, y) != pattern(x, y) && !bad++)
                    bx = x, by = y;
        snprintf(name, sizeof name, "bmp_pixels_%ux%u_pitch%u", w, h, pitch);
        check_case(bad == 0 && padding_zero(b, w, h), name, "%u pixels differ, first at (%u,%u), or padding not 0",
                   bad, bx, by);
        free(b);
    }
}

/* Whatever the screen's format, the back buffer holds 0x00RRGGBB, so the BMP shows what was drawn. */
static void test_every_format(void)
{
    enum { W = 24, H = 10, STRIDE = 32 };
    static uint32_t back[W * H];
    static uint8_t video[STRIDE * H * 4];
    static const struct {
        enum fb_format format;
        uint32_t masks[4];
        const char *name;
    } screens[] = {
        {FB_RGBX, {0, 0, 0, 0}, "rgb"},
        {FB_BGRX, {0, 0, 0, 0}, "bgr"},
        {FB_BITMASK, {0xF800, 0x07E0, 0x001F, 0}, "bitmask565"},
        {FB_BITMASK, {0x0000FF, 0x00FF00, 0xFF0000, 0}, "bitmask888"},
        {FB_BLT_ONLY, {0, 0, 0, 0}, "blt_only"},
    };
    for (size_t i = 0; i < sizeof screens / sizeof screens[0]; i++) {
        Fb fb;
        fb_init(&fb, W, H, back);
        fb_set_video(&fb, screens[i].format, video, STRIDE, screens[i].masks);
        fb_fill(&fb, 0, 0, W, H, 0x102030);
        fb_fill(&fb, 3, 2, 5, 4, 0xFF8000);
        fb_fill(&fb, 10, 5, 9, 3, 0x00C0FF);
        if (fb.video)
            fb_flush(&fb);
        uint8_t out[54 + W * 3 * H];
        size_t n = bmp_encode(fb.back, fb.width, fb.height, fb.width, out, sizeof out);
        uint32_t bad = 0;
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++) {
                uint32_t want = x >= 3 && x < 8 && y >= 2 && y < 6     ? 0xFF8000
                                : x >= 10 && x < 19 && y >= 5 && y < 8 ? 0x00C0FF
                                                                      : 0x102030;
                bad += n && pixel_at(out, W, H, x, y) != want;
            }
        char name[64];
        snprintf(name, sizeof name, "bmp_from_back_buffer_%s", screens[i].name);
        check_case(n == sizeof out && bad == 0, name, "n=%zu, %u pixels differ", n, bad);
    }
}

static void test_limits(void)
{
    uint32_t px = 0x123456;
    uint8_t out[58];
    check_case(bmp_size(0, 5) == 0 && bmp_size(5, 0) == 0 && bmp_size(1, 1) == 58 && bmp_size(3, 1) == 66,
               "bmp_size_small", "%zu %zu %zu %zu", bmp_size(0, 5), bmp_size(5, 0), bmp_size(1, 1), bmp_size(3, 1));
    check_case(bmp_size(65536, 65536) == 0 && bmp_size(0x80000000u, 1) == 0 && bmp_size(7680, 4320) != 0,
               "bmp_size_over_4GiB_refused", "65536^2 -> %zu", bmp_size(65536, 65536));
    check_case(bmp_encode(&px, 1, 1, 1, out, 57) == 0 && bmp_encode(&px, 1, 1, 1, out, 58) == 58 &&
                   out[54] == 0x56 && out[55] == 0x34 && out[56] == 0x12 && out[57] == 0,
               "bmp_encode_needs_room", "a short buffer was written to, or the pixel is wrong");
}

static void test_names(void)
{
    char name[24];
    size_t n1 = bmp_shot_name(1, name);
    int ok1 = n1 == 12 && strcmp(name, "shot0001.bmp") == 0;
    bmp_shot_name(9999, name);
    int ok2 = strcmp(name, "shot9999.bmp") == 0;
    bmp_shot_name(12345, name);
    int ok3 = strcmp(name, "shot12345.bmp") == 0;
    check_case(ok1 && ok2 && ok3, "bmp_shot_names", "last: %s", name);
}

/* Sample files for the PIL check: pattern images of several sizes, named WxH.bmp. */
static int write_samples(const char *dir)
{
    static const uint32_t sizes[][2] = {{1, 1}, {3, 2}, {5, 4}, {64, 17}, {321, 7}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n;
        uint8_t *b = encode_pattern(sizes[i][0], sizes[i][1], sizes[i][0] + 3, &n);
        char path[512];
        snprintf(path, sizeof path, "%s/%ux%u.bmp", dir, sizes[i][0], sizes[i][1]);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", path);
            free(b);
            return 1;
        }
        free(b);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0)
        return write_samples(argv[2]);
    test_patterns();
    test_every_format();
    test_limits();
    test_names();
    return check_exit();
}
