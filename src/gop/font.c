/* font.c - stb_truetype behind a small glyph cache (see font.h). This is the one file that compiles stb_truetype;
 * every STBTT_* hook is defined here so it never reaches for libc: malloc/free go to a scratch arena through
 * stb's userdata pointer, the math comes from the few helpers below. */
#include "font.h"

#include <stdint.h>

/* ---- freestanding replacements for what stb_truetype asks of libc and libm */
typedef struct {
    uint8_t *base;
    size_t cap, used;
} Scratch;

static void *scratch_alloc(size_t n, void *u)
{
    Scratch *s = u;
    size_t at = (s->used + 15) & ~(size_t)15;
    if (at + n > s->cap)
        return NULL; /* stb_truetype checks: the glyph is drawn as empty */
    s->used = at + n;
    return s->base + at;
}

static double fc_floor(double x)
{
    double t = (double)(int64_t)x;
    return t > x ? t - 1 : t;
}
static double fc_ceil(double x)
{
    double t = (double)(int64_t)x;
    return t < x ? t + 1 : t;
}
static double fc_fabs(double x) { return x < 0 ? -x : x; }
static double fc_sqrt(double x)
{
    double r;
#if defined(__aarch64__)
    __asm__("fsqrt %d0, %d1" : "=w"(r) : "w"(x));
#else
    __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(x));
#endif
    return r;
}
static double fc_fmod(double x, double y) { return x - y * (double)(int64_t)(x / y); }
/* pow, cos and acos serve only stb's SDF and cubic-curve code paths, which efichat does not call; rough versions
 * keep the link freestanding without pretending to be libm. */
static double fc_pow(double x, double y)
{
    double r = 1;
    for (int i = 0; i < (int)y; i++)
        r *= x;
    return r;
}
static double fc_cos(double x)
{
    x = fc_fmod(x, 6.283185307179586);
    double x2 = x * x;
    return 1 - x2 / 2 + x2 * x2 / 24 - x2 * x2 * x2 / 720;
}
static double fc_acos(double x) { return 1.5707963267948966 - x - x * x * x / 6; }
static size_t fc_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
static void *fc_memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dd = d;
    const uint8_t *ss = s;
    while (n--)
        *dd++ = *ss++;
    return d;
}
static void *fc_memset(void *d, int c, size_t n)
{
    uint8_t *dd = d;
    while (n--)
        *dd++ = (uint8_t)c;
    return d;
}

#define STBTT_STATIC
#define STB_TRUETYPE_IMPLEMENTATION
#define STBTT_ifloor(x) ((int)fc_floor(x))
#define STBTT_iceil(x) ((int)fc_ceil(x))
#define STBTT_sqrt(x) fc_sqrt(x)
#define STBTT_pow(x, y) fc_pow(x, y)
#define STBTT_fmod(x, y) fc_fmod(x, y)
#define STBTT_cos(x) fc_cos(x)
#define STBTT_acos(x) fc_acos(x)
#define STBTT_fabs(x) fc_fabs(x)
#define STBTT_malloc(x, u) scratch_alloc(x, u)
#define STBTT_free(x, u) ((void)(x), (void)(u))
#define STBTT_assert(x) ((void)0)
#define STBTT_strlen(x) fc_strlen(x)
#define STBTT_memcpy fc_memcpy
#define STBTT_memset fc_memset
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <stb/stb_truetype.h>
#pragma GCC diagnostic pop

/* ---- the glyph cache: open addressing on the code point, bitmaps bump-allocated behind it */
#define CACHE_SLOTS 1024 /* power of two */
#define SCRATCH_BYTES (256 * 1024)

struct FontImpl {
    stbtt_fontinfo info;
    Scratch scratch;
    float scale;
    int baseline; /* pixels from the cell top to the baseline */
    Glyph slots[CACHE_SLOTS];
    uint32_t used_slots;
    uint8_t *bitmaps;
    size_t bitmap_cap, bitmap_used;
};

int font_init(Font *f, const uint8_t *ttf, size_t ttf_len, void *arena, size_t arena_bytes)
{
    uintptr_t p = ((uintptr_t)arena + 15) & ~(uintptr_t)15;
    size_t need = sizeof(FontImpl) + SCRATCH_BYTES + 64 * 1024;
    f->impl = NULL;
    if (arena_bytes < need + (p - (uintptr_t)arena))
        return -2;
    FontImpl *fi = (FontImpl *)p;
    fc_memset(fi, 0, sizeof *fi);
    /* stb_truetype trusts the table directory; check that much ourselves so a wrong blob fails cleanly. */
    int off = ttf_len >= 12 ? stbtt_GetFontOffsetForIndex(ttf, 0) : -1;
    if (off < 0 || (size_t)off + 12 > ttf_len ||
        (size_t)off + 12 + 16 * (size_t)(ttf[off + 4] << 8 | ttf[off + 5]) > ttf_len ||
        !stbtt_InitFont(&fi->info, ttf, off))
        return -1;
    fi->info.userdata = &fi->scratch;
    fi->scratch.base = (uint8_t *)(p + sizeof(FontImpl));
    fi->scratch.cap = SCRATCH_BYTES;
    fi->bitmaps = fi->scratch.base + SCRATCH_BYTES;
    fi->bitmap_cap = arena_bytes - (p - (uintptr_t)arena) - sizeof(FontImpl) - SCRATCH_BYTES;
    f->impl = fi;
    font_set_px(f, 16);
    return 0;
}

static void cache_reset(FontImpl *fi)
{
    for (uint32_t i = 0; i < CACHE_SLOTS; i++)
        fi->slots[i].cp = UINT32_MAX;
    fi->used_slots = 0;
    fi->bitmap_used = 0;
}

void font_set_px(Font *f, uint32_t px)
{
    FontImpl *fi = f->impl;
    px = px < 8 ? 8 : px > 128 ? 128 : px;
    f->px = px;
    fi->scale = stbtt_ScaleForPixelHeight(&fi->info, (float)px);
    int ascent, descent, gap, advance, lsb;
    stbtt_GetFontVMetrics(&fi->info, &ascent, &descent, &gap);
    stbtt_GetCodepointHMetrics(&fi->info, 'M', &advance, &lsb);
    fi->baseline = (int)fc_ceil(ascent * fi->scale);
    f->cell_h = (uint32_t)(fi->baseline + (int)fc_ceil(-descent * fi->scale) + (int)(gap * fi->scale + 0.5f));
    f->cell_w = (uint32_t)(advance * fi->scale + 0.5f);
    if (f->cell_w == 0)
        f->cell_w = 1;
    f->glyph_misses = 0;
    cache_reset(fi);
}

/* Rasterises cp into the bitmap arena; the glyph stays empty (w = h = 0) if there is no room. */
static void rasterise(Font *f, Glyph *g, uint32_t cp)
{
    FontImpl *fi = f->impl;
    int index = stbtt_FindGlyphIndex(&fi->info, (int)cp);
    if (index == 0 && cp != ' ')
        index = stbtt_FindGlyphIndex(&fi->info, 0xFFFD); /* the font lacks it: show the replacement box */
    int x0, y0, x1, y1;
    stbtt_GetGlyphBitmapBox(&fi->info, index, fi->scale, fi->scale, &x0, &y0, &x1, &y1);
    int w = x1 - x0, h = y1 - y0;
    g->cp = cp;
    g->w = g->h = 0;
    g->xoff = (int16_t)x0;
    g->yoff = (int16_t)(fi->baseline + y0);
    if (w <= 0 || h <= 0 || w > 512 || h > 512 || fi->bitmap_used + (size_t)w * h > fi->bitmap_cap)
        return;
    g->offset = (uint32_t)fi->bitmap_used;
    fi->scratch.used = 0;
    stbtt_MakeGlyphBitmap(&fi->info, fi->bitmaps + fi->bitmap_used, w, h, w, fi->scale, fi->scale, index);
    fi->bitmap_used += (size_t)w * h;
    g->w = (int16_t)w;
    g->h = (int16_t)h;
    f->glyph_misses++;
}

const Glyph *font_glyph(Font *f, uint32_t cp, const uint8_t **alpha)
{
    FontImpl *fi = f->impl;
    uint32_t i = (cp * 2654435761u) & (CACHE_SLOTS - 1);
    while (fi->slots[i].cp != UINT32_MAX && fi->slots[i].cp != cp)
        i = (i + 1) & (CACHE_SLOTS - 1);
    Glyph *g = &fi->slots[i];
    if (g->cp != cp) {
        /* Keep the table at most 3/4 full and make room for a large glyph: start over when either runs out. */
        if (fi->used_slots * 4 >= CACHE_SLOTS * 3 || fi->bitmap_used + 128 * 128 > fi->bitmap_cap) {
            cache_reset(fi);
            return font_glyph(f, cp, alpha);
        }
        fi->used_slots++;
        rasterise(f, g, cp);
    }
    *alpha = fi->bitmaps + g->offset;
    return g;
}
