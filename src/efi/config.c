/* config.c - the efichat.cfg parser (see config.h). Keys: temp, top_k, top_p, seed, font_px, user_name, mode,
 * max_reply, screen, input, blt, avx, keylog, q8, memlog, cores, template, model, picker_wait. Values are checked against the same
 * ranges the hotkeys keep; a bad line changes nothing. */
#include "config.h"
#include "../chat/template.h"

typedef struct {
    const char *p;
    size_t n;
} Span;

static Span trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    return (Span){p, n};
}

static int span_is(Span s, const char *word)
{
    size_t i = 0;
    for (; i < s.n; i++)
        if (!word[i] || word[i] != s.p[i])
            return 0;
    return word[i] == 0;
}

/* Unsigned integer, all digits, at most 18 of them. */
static int parse_uint(Span v, uint64_t *out)
{
    if (v.n == 0 || v.n > 18)
        return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return 0;
        x = x * 10 + (uint64_t)(v.p[i] - '0');
    }
    *out = x;
    return 1;
}

/* A decimal such as 0.8, .95, 1 or 1.00 in hundredths; more than two decimals is an error, not a rounding. */
static int parse_hundredths(Span v, uint32_t *out)
{
    uint64_t whole = 0, frac = 0;
    size_t i = 0, digits = 0, fdigits = 0;
    for (; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++, digits++)
        whole = whole * 10 + (uint64_t)(v.p[i] - '0');
    if (i < v.n && v.p[i] == '.') {
        for (i++; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++, fdigits++)
            frac = frac * 10 + (uint64_t)(v.p[i] - '0');
    }
    if (i != v.n || digits + fdigits == 0 || digits > 6 || fdigits > 2)
        return 0;
    if (fdigits == 1)
        frac *= 10;
    *out = (uint32_t)(whole * 100 + frac);
    return 1;
}

static void say(config_report_fn report, void *ctx, unsigned line, const char *what, Span key)
{
    char buf[96];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, what);
    fmt_str(&f, " '");
    fmt_bytes(&f, key.p, key.n > 32 ? 32 : key.n);
    fmt_str(&f, "'");
    if (report)
        report(ctx, line, buf);
}

static const char unknown_key[] = "unknown key";

/* Applies one key=value; returns 0 with a reason in *why when the value is rejected. */
static int apply(Settings *s, Span k, Span v, const char **why)
{
    uint64_t u;
    uint32_t h;
    if (span_is(k, "temp")) {
        if (!parse_hundredths(v, &h) || h > TEMP_MAX)
            return *why = "temp must be 0.00 to 2.00, got", 0;
        s->temp = h;
    } else if (span_is(k, "top_k")) {
        if (!parse_uint(v, &u) || u > 256)
            return *why = "top_k must be 0 to 256, got", 0;
        s->top_k = (uint32_t)u;
    } else if (span_is(k, "top_p")) {
        if (!parse_hundredths(v, &h) || h < TOP_P_MIN || h > TOP_P_MAX)
            return *why = "top_p must be 0.05 to 1.00, got", 0;
        s->top_p = h;
    } else if (span_is(k, "seed")) {
        if (!parse_uint(v, &u))
            return *why = "seed must be a whole number, got", 0;
        s->seed = u;
    } else if (span_is(k, "font_px")) {
        if (!parse_uint(v, &u) || (u != 0 && (u < FONT_PX_MIN || u > FONT_PX_MAX)))
            return *why = "font_px must be 0 (auto) or 10 to 96, got", 0;
        s->font_px = (uint32_t)u;
    } else if (span_is(k, "max_reply")) {
        if (!parse_uint(v, &u) || u < 1 || u > REPLY_MAX_LIMIT)
            return *why = "max_reply must be 1 to 4096, got", 0;
        s->max_reply = (uint32_t)u;
    } else if (span_is(k, "picker_wait")) {
        if (!parse_uint(v, &u) || u > 3600)
            return *why = "picker_wait must be 0 (wait for a key) or 1 to 3600 seconds, got", 0;
        s->picker_wait = (uint32_t)u;
    } else if (span_is(k, "cores")) {
        if (!parse_uint(v, &u) || u > 64)
            return *why = "cores must be 0 (all) or 1 to 64, got", 0;
        s->cores = (uint32_t)u;
    } else if (span_is(k, "template")) {
        int t = span_is(v, "auto") ? -1 : template_from_name(v.p, v.n);
        if (t < 0 && !span_is(v, "auto"))
            return *why = "template must be auto, chatml, llama2, zephyr or none, got", 0;
        s->chat_template = t;
    } else if (span_is(k, "mode")) {
        if (span_is(v, "play"))
            s->mode = MODE_PLAY;
        else if (span_is(v, "raw"))
            s->mode = MODE_RAW;
        else
            return *why = "mode must be play or raw, got", 0;
    } else if (span_is(k, "user_name")) {
        if (v.n == 0 || v.n >= SETTINGS_NAME_BYTES)
            return *why = "user_name must be 1 to 31 bytes, got", 0;
        for (size_t i = 0; i < v.n; i++)
            if ((uint8_t)v.p[i] < 0x20 || (uint8_t)v.p[i] == 0x7F || v.p[i] == ':') /* DEL is a control too */
                return *why = "user_name must not hold control characters or ':', got", 0;
        fmt_copy(s->user_name, v.p, v.n);
        s->user_name[v.n] = 0;
    } else if (span_is(k, "model")) {
        /* a file name in \efichat\models as the picker wrote it: no folders, no controls */
        if (v.n == 0 || v.n >= SETTINGS_MODEL_BYTES)
            return *why = "model must be a file name of 1 to 127 bytes, got", 0;
        for (size_t i = 0; i < v.n; i++)
            if ((uint8_t)v.p[i] < 0x20 || (uint8_t)v.p[i] == 0x7F || v.p[i] == '/' || v.p[i] == '\\' ||
                v.p[i] == ':')
                return *why = "model must be a file name in \\efichat\\models (no folders), got", 0;
        fmt_copy(s->model, v.p, v.n);
        s->model[v.n] = 0;
    } else if (span_is(k, "screen")) {
        size_t x = 0;
        while (x < v.n && v.p[x] != 'x')
            x++;
        uint64_t w, hh;
        if (x == v.n || !parse_uint((Span){v.p, x}, &w) || !parse_uint((Span){v.p + x + 1, v.n - x - 1}, &hh) ||
            w < 320 || hh < 200 || w > 16384 || hh > 16384)
            return *why = "screen must be WIDTHxHEIGHT such as 1024x768, got", 0;
        s->screen_w = (uint32_t)w;
        s->screen_h = (uint32_t)hh;
    } else if (span_is(k, "input")) {
        if (span_is(v, "auto"))
            s->input = -1;
        else if (span_is(v, "ex"))
            s->input = 0;
        else if (span_is(v, "simple"))
            s->input = 1;
        else if (span_is(v, "serial"))
            s->input = 2;
        else
            return *why = "input must be auto, ex, simple or serial, got", 0;
    } else if (span_is(k, "blt") || span_is(k, "avx") || span_is(k, "keylog") || span_is(k, "q8") ||
               span_is(k, "memlog")) {
        if (!parse_uint(v, &u) || u > 1)
            return *why = "blt, avx, keylog, q8 and memlog must be 0 or 1, got", 0;
        *(span_is(k, "blt")      ? &s->blt
          : span_is(k, "avx")    ? &s->avx
          : span_is(k, "q8")     ? &s->q8
          : span_is(k, "memlog") ? &s->memlog
                                 : &s->keylog) = (uint32_t)u;
    } else {
        return *why = unknown_key, 0;
    }
    return 1;
}

unsigned config_parse(const char *text, size_t len, Settings *s, config_report_fn report, void *ctx)
{
    unsigned problems = 0, line = 0;
    size_t i = 0;
    if (len > CONFIG_MAX_BYTES) {
        report(ctx, 0, "the file is larger than 64 KiB, so it is not a settings file");
        return 1;
    }
    /* A UTF-8 byte order mark from Windows editors is not part of the first key. */
    if (len >= 3 && (uint8_t)text[0] == 0xEF && (uint8_t)text[1] == 0xBB && (uint8_t)text[2] == 0xBF)
        i = 3;
    while (i < len) {
        size_t start = i;
        while (i < len && text[i] != '\n')
            i++;
        Span l = trim(text + start, i - start);
        i++;
        line++;
        if (l.n == 0 || l.p[0] == '#' || l.p[0] == ';')
            continue;
        size_t eq = 0;
        while (eq < l.n && l.p[eq] != '=')
            eq++;
        if (eq == l.n) {
            say(report, ctx, line, "expected key=value, got", l);
            problems++;
            continue;
        }
        Span k = trim(l.p, eq), v = trim(l.p + eq + 1, l.n - eq - 1);
        const char *why = "";
        if (!apply(s, k, v, &why)) {
            say(report, ctx, line, why, why == unknown_key ? k : v);
            problems++;
        }
    }
    return problems;
}
