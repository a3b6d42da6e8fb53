/* fmt.h - tiny freestanding text helpers for the console: bounded string building, fixed-point numbers, UTF-8.
 * No libc and no allocation: every writer truncates safely and keeps its buffer NUL-terminated. */
#ifndef EFICHAT_FMT_H
#define EFICHAT_FMT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t cap; /* bytes in buf, the NUL included */
    size_t len;
} Fmt;

void fmt_init(Fmt *f, char *buf, size_t cap);
void fmt_str(Fmt *f, const char *s);
void fmt_bytes(Fmt *f, const char *s, size_t n);
void fmt_char(Fmt *f, char c);
void fmt_u64(Fmt *f, uint64_t v);
/* v / 10^decimals with exactly `decimals` digits after the point: fmt_fixed(f, 80, 2) -> "0.80". */
void fmt_fixed(Fmt *f, uint64_t v, int decimals);

size_t fmt_strlen(const char *s);
int fmt_streq(const char *a, const char *b);
void fmt_copy(void *dst, const void *src, size_t n);
void fmt_zero(void *dst, size_t n);

/* Decodes one code point from s[0..n). Returns the bytes used: 0 when the sequence is incomplete (more bytes may
 * still arrive), otherwise 1..4; an invalid byte yields U+FFFD and uses 1 byte. */
size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);
/* Writes cp as UTF-8 into out (4 bytes room); returns the length. Surrogates and > U+10FFFF become U+FFFD. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* The byte a reply byte is sent to a terminal as: C0 controls other than \n and \t, and DEL, become '?', so a
 * model's output can never move the cursor, clear the screen or start an escape sequence. */
char fmt_terminal_byte(char c);

/* The code point a transcript byte sequence shows in one cell: tab -> space, other controls -> U+00B7. */
uint32_t text_display_cp(uint32_t cp);

#endif
