/* pretok.c - the pre-tokenisation of byte-level BPE vocabularies (tokenizer.h, bpe.c): text cut into chunks that
 * BPE never merges across, by hand instead of a regex engine. The classes \p{L} (letter), \p{N} (number) and \s
 * (Unicode White_Space) come from unicode_classes.h, generated from Python's Unicode tables; invalid UTF-8 is one
 * byte of class other. The patterns it follows:
 *   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   qwen2:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|
 *           \s+(?!\S)|\s+
 *   llama3: as qwen2 with \p{N}{1,3}
 * No libc, no allocation. */
#include "tok_internal.h"
#include "unicode_classes.h"

enum { C_OTHER = TOK_CLASS_OTHER, C_LETTER = TOK_CLASS_LETTER, C_NUMBER = TOK_CLASS_NUMBER, C_SPACE = TOK_CLASS_SPACE };

static int cp_class(uint32_t c)
{
    if (c < 0x80) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return C_LETTER;
        if (c >= '0' && c <= '9')
            return C_NUMBER;
        return c == ' ' || (c >= '\t' && c <= '\r') ? C_SPACE : C_OTHER;
    }
    uint32_t lo = 0, hi = sizeof tok_unicode_ranges / sizeof tok_unicode_ranges[0];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c < tok_unicode_ranges[mid][0])
            hi = mid;
        else if (c > tok_unicode_ranges[mid][1])
            lo = mid + 1;
        else
            return (int)tok_unicode_ranges[mid][2];
    }
    return C_OTHER;
}

/* The character at text[i]: its codepoint and length. Invalid UTF-8 is one byte, classed C_OTHER (0xFFFD). */
static uint32_t next_cp(const uint8_t *s, size_t len, size_t i, uint32_t *cl)
{
    uint8_t c = s[i];
    uint32_t n = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
    if (n == 0 || i + n > len) {
        *cl = 1;
        return 0xFFFD;
    }
    uint32_t cp = n == 1 ? c : (uint32_t)c & (0x7Fu >> n);
    for (uint32_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80) {
            *cl = 1;
            return 0xFFFD;
        }
        cp = cp << 6 | (s[i + k] & 0x3Fu);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *cl = 1;
        return 0xFFFD;
    }
    *cl = n;
    return cp;
}

typedef struct {
    const uint8_t *s;
    size_t len;
} Text;

static int class_at(const Text *t, size_t i, size_t *next)
{
    uint32_t cl;
    uint32_t cp = next_cp(t->s, t->len, i, &cl);
    *next = i + cl;
    return cp_class(cp);
}

static int is_newline(const Text *t, size_t i)
{
    return i < t->len && (t->s[i] == '\r' || t->s[i] == '\n');
}

/* A run of characters of class `cls` from i (at most `max` of them); returns where it ends. */
static size_t run_of(const Text *t, size_t i, int cls, size_t max)
{
    size_t n = 0, next;
    while (i < t->len && n < max && class_at(t, i, &next) == cls) {
        i = next;
        n++;
    }
    return i;
}

/* ` ?[^\s\p{L}\p{N}]+` from i (the optional space already skipped by the caller) */
static size_t run_other(const Text *t, size_t i)
{
    return run_of(t, i, C_OTHER, (size_t)-1);
}

/* `'s|'t|'re|'ve|'m|'ll|'d` at i: the length, or 0. */
static size_t contraction(const Text *t, size_t i, int fold)
{
    if (t->s[i] != '\'' || i + 1 >= t->len)
        return 0;
    uint8_t a = t->s[i + 1], b = i + 2 < t->len ? t->s[i + 2] : 0;
    if (fold) {
        a = a >= 'A' && a <= 'Z' ? (uint8_t)(a + 32) : a;
        b = b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
    }
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return 3;
    return 0;
}

/* `\s+(?!\S)|\s+` from i, where a space character starts: the run, less its last character when a non-space
 * follows and the run is longer than one. */
static size_t whitespace(const Text *t, size_t i)
{
    size_t end = i, last = i, next;
    while (end < t->len && class_at(t, end, &next) == C_SPACE) {
        last = end;
        end = next;
    }
    if (end < t->len && last > i)
        return last;
    return end;
}

static size_t chunk_gpt2(const Text *t, size_t i)
{
    size_t n, next;
    if ((n = contraction(t, i, 0)))
        return i + n;
    size_t j = t->s[i] == ' ' && i + 1 < t->len ? i + 1 : i;
    int cls = class_at(t, j, &next);
    if (cls == C_LETTER || cls == C_NUMBER)
        return run_of(t, j, cls, (size_t)-1);
    if (cls == C_OTHER)
        return run_other(t, j);
    return whitespace(t, i);
}

static size_t chunk_qwen2(const Text *t, size_t i, size_t digits)
{
    size_t n, next, next2;
    if ((n = contraction(t, i, 1)))
        return i + n;
    int cls = class_at(t, i, &next);
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (cls == C_LETTER)
        return run_of(t, i, C_LETTER, (size_t)-1);
    if (cls != C_NUMBER && !is_newline(t, i) && next < t->len && class_at(t, next, &next2) == C_LETTER)
        return run_of(t, next, C_LETTER, (size_t)-1);
    /* \p{N} or \p{N}{1,3} */
    if (cls == C_NUMBER)
        return run_of(t, i, C_NUMBER, digits);
    /* ` ?[^\s\p{L}\p{N}]+[\r\n]*` */
    size_t j = t->s[i] == ' ' && i + 1 < t->len ? i + 1 : i;
    if (class_at(t, j, &next2) == C_OTHER) {
        size_t end = run_other(t, j);
        while (is_newline(t, end))
            end++;
        return end;
    }
    /* `\s*[\r\n]+`: the whitespace run up to its last newline, newlines after it included */
    size_t end = i, last_nl = 0, k;
    while (end < t->len && class_at(t, end, &k) == C_SPACE) {
        if (is_newline(t, end))
            last_nl = k;
        end = k;
    }
    if (last_nl)
        return last_nl;
    return whitespace(t, i);
}

size_t tok_pretok_next(uint32_t style, const uint8_t *s, size_t len, size_t i)
{
    Text t = {s, len};
    if (i >= len)
        return len;
    size_t end = style == TOK_PRE_GPT2 ? chunk_gpt2(&t, i) : chunk_qwen2(&t, i, style == TOK_PRE_LLAMA3 ? 3 : 1);
    return end > i ? end : i + 1; /* every chunk takes at least one byte */
}
