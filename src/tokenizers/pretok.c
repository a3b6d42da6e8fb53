/* pretok.c - the pre-tokenisation of byte-level BPE vocabularies (tokenizer.h, bpe.c): text cut into chunks that
 * BPE never merges across, by hand instead of a regex engine. Exact for ASCII; for other characters the classes
 * \p{L} (letter), \p{N} (number) and \s come from a small range table (below) that covers the common scripts, so an
 * unusual letter may count as punctuation (documented in docs/models.md). The patterns it follows:
 *   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   qwen2:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|
 *           \s+(?!\S)|\s+
 *   llama3: as qwen2 with \p{N}{1,3}
 * No libc, no allocation. */
#include "tok_internal.h"

enum { C_OTHER = 0, C_LETTER = 1, C_NUMBER = 2, C_SPACE = 3 };

/* Non-ASCII ranges (first, last, class), sorted; codepoints outside every range are C_OTHER (punctuation, symbols,
 * marks, emoji). Letters: Latin-1 and Latin Extended, IPA, Greek, Cyrillic, Armenian, Hebrew, Arabic, Devanagari,
 * Thai, Georgian, Hangul, Kana, CJK ideographs, fullwidth Latin, ligatures, letterlike and mathematical
 * alphanumeric symbols (the few ∇/∂ among them counted as letters too); numbers: their digits, superscripts,
 * fractions, Roman numerals, circled digits. */
static const uint32_t ranges[][3] = {
    {0x0085, 0x0085, C_SPACE},  {0x00A0, 0x00A0, C_SPACE},  {0x00AA, 0x00AA, C_LETTER}, {0x00B2, 0x00B3, C_NUMBER},
    {0x00B5, 0x00B5, C_LETTER}, {0x00B9, 0x00B9, C_NUMBER}, {0x00BA, 0x00BA, C_LETTER}, {0x00BC, 0x00BE, C_NUMBER},
    {0x00C0, 0x00D6, C_LETTER}, {0x00D8, 0x00F6, C_LETTER}, {0x00F8, 0x02C1, C_LETTER}, {0x02C6, 0x02D1, C_LETTER},
    {0x02E0, 0x02E4, C_LETTER}, {0x0370, 0x0374, C_LETTER}, {0x0376, 0x037D, C_LETTER}, {0x037F, 0x037F, C_LETTER},
    {0x0386, 0x0386, C_LETTER}, {0x0388, 0x03F5, C_LETTER}, {0x03F7, 0x0481, C_LETTER}, {0x048A, 0x052F, C_LETTER},
    {0x0531, 0x0556, C_LETTER}, {0x0560, 0x0588, C_LETTER}, {0x05D0, 0x05EA, C_LETTER}, {0x05EF, 0x05F2, C_LETTER},
    {0x0620, 0x064A, C_LETTER}, {0x0660, 0x0669, C_NUMBER}, {0x066E, 0x066F, C_LETTER}, {0x0671, 0x06D3, C_LETTER},
    {0x06F0, 0x06F9, C_NUMBER}, {0x0904, 0x0939, C_LETTER}, {0x0966, 0x096F, C_NUMBER}, {0x0E01, 0x0E30, C_LETTER},
    {0x0E50, 0x0E59, C_NUMBER}, {0x10A0, 0x10FF, C_LETTER}, {0x1100, 0x11FF, C_LETTER}, {0x1680, 0x1680, C_SPACE},
    {0x1E00, 0x1FBC, C_LETTER}, {0x2000, 0x200A, C_SPACE},  {0x2028, 0x2029, C_SPACE},  {0x202F, 0x202F, C_SPACE},
    {0x205F, 0x205F, C_SPACE},  {0x2070, 0x2070, C_NUMBER}, {0x2071, 0x2071, C_LETTER}, {0x2074, 0x2079, C_NUMBER},
    {0x207F, 0x207F, C_LETTER}, {0x2080, 0x2089, C_NUMBER}, {0x2102, 0x2102, C_LETTER}, {0x2107, 0x2107, C_LETTER},
    {0x210A, 0x2113, C_LETTER}, {0x2115, 0x2115, C_LETTER}, {0x2119, 0x211D, C_LETTER}, {0x2124, 0x2124, C_LETTER},
    {0x2126, 0x2126, C_LETTER}, {0x2128, 0x2128, C_LETTER}, {0x212A, 0x212D, C_LETTER}, {0x212F, 0x2139, C_LETTER},
    {0x213C, 0x213F, C_LETTER}, {0x2145, 0x2149, C_LETTER}, {0x214E, 0x214E, C_LETTER}, {0x2150, 0x2182, C_NUMBER},
    {0x2183, 0x2184, C_LETTER}, {0x2185, 0x2189, C_NUMBER}, {0x2460, 0x249B, C_NUMBER}, {0x24EA, 0x24FF, C_NUMBER},
    {0x3000, 0x3000, C_SPACE},  {0x3005, 0x3006, C_LETTER}, {0x3007, 0x3007, C_NUMBER}, {0x3041, 0x3096, C_LETTER},
    {0x309D, 0x309F, C_LETTER}, {0x30A1, 0x30FA, C_LETTER}, {0x30FC, 0x30FF, C_LETTER}, {0x3400, 0x4DBF, C_LETTER},
    {0x4E00, 0x9FFF, C_LETTER}, {0xAC00, 0xD7A3, C_LETTER}, {0xF900, 0xFAFF, C_LETTER}, {0xFB00, 0xFB06, C_LETTER},
    {0xFEFF, 0xFEFF, C_SPACE},  {0xFF10, 0xFF19, C_NUMBER}, {0xFF21, 0xFF3A, C_LETTER}, {0xFF41, 0xFF5A, C_LETTER},
    {0xFF66, 0xFF9D, C_LETTER}, {0x1D400, 0x1D7CB, C_LETTER}, {0x1D7CE, 0x1D7FF, C_NUMBER},
    {0x20000, 0x2FA1F, C_LETTER},
};

static int cp_class(uint32_t c)
{
    if (c < 0x80) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return C_LETTER;
        if (c >= '0' && c <= '9')
            return C_NUMBER;
        return c == ' ' || (c >= '\t' && c <= '\r') ? C_SPACE : C_OTHER;
    }
    uint32_t lo = 0, hi = sizeof ranges / sizeof ranges[0];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c < ranges[mid][0])
            hi = mid;
        else if (c > ranges[mid][1])
            lo = mid + 1;
        else
            return (int)ranges[mid][2];
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
