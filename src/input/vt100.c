/* vt100.c - the serial terminal key decoder (see vt100.h). Freestanding.
 * Sequences: CSI = ESC '[' params final; SS3 = ESC 'O' final. xterm adds ";m" modifiers (m-1: 1 shift, 2 alt,
 * 4 ctrl); the Linux console sends F1-F5 as ESC '[' '[' A..E; rxvt sends Home/End as 7~/8~.
 * UTF-8 is decoded exactly as utf8_decode (src/chat/fmt.c) does: every byte that does not belong to a valid,
 * shortest-form, non-surrogate sequence up to U+10FFFF is one U+FFFD, so no byte sequence can smuggle in a control
 * key (overlong E0 80 8D is not Enter). */
#include "vt100.h"

void vt100_init(Vt100 *d)
{
    d->len = 0;
    d->esc_ms = 0;
    d->last_cr = 0;
    d->head = d->count = 0;
}

/* Queues one key; a byte completes at most VT100_MAX_KEYS of them, so the queue only fills when the caller feeds
 * bytes without taking keys (vt100.h), and then the newest key is dropped. */
static int emit(Vt100 *d, uint16_t scan, uint32_t cp, uint8_t mods)
{
    if (d->count == VT100_QUEUE)
        return 0;
    Key *k = &d->queue[(d->head + d->count++) % VT100_QUEUE];
    k->scan = scan;
    k->cp = cp;
    k->mods = mods;
    return 1;
}

static uint16_t tilde_key(uint32_t n)
{
    switch (n) {
    case 1: case 7: return KEY_HOME;
    case 2: return KEY_INSERT;
    case 3: return KEY_DELETE;
    case 4: case 8: return KEY_END;
    case 5: return KEY_PGUP;
    case 6: return KEY_PGDN;
    case 11: return KEY_F1;
    case 12: return KEY_F2;
    case 13: return KEY_F3;
    case 14: return KEY_F4;
    case 15: return KEY_F5;
    case 17: return KEY_F6;
    case 18: return KEY_F7;
    case 19: return KEY_F8;
    case 20: return KEY_F9;
    case 21: return KEY_F10;
    case 23: return KEY_F11;
    case 24: return KEY_F12;
    default: return KEY_NONE;
    }
}

static uint16_t final_key(uint8_t c)
{
    switch (c) {
    case 'A': return KEY_UP;
    case 'B': return KEY_DOWN;
    case 'C': return KEY_RIGHT;
    case 'D': return KEY_LEFT;
    case 'H': return KEY_HOME;
    case 'F': return KEY_END;
    case 'P': return KEY_F1;
    case 'Q': return KEY_F2;
    case 'R': return KEY_F3;
    case 'S': return KEY_F4;
    default: return KEY_NONE;
    }
}

/* Decodes a complete CSI/SS3 sequence in d->buf (ESC included). Unknown sequences give no key. */
static int finish_sequence(Vt100 *d)
{
    uint8_t *b = d->buf;
    uint32_t n = d->len;
    uint8_t fin = b[n - 1];
    d->len = 0;
    if (b[1] == 'O')
        return final_key(fin) ? emit(d, final_key(fin), 0, 0) : 0;
    if (n == 4 && b[2] == '[') /* Linux console F1-F5 */
        return (fin >= 'A' && fin <= 'E') ? emit(d, (uint16_t)(KEY_F1 + (fin - 'A')), 0, 0) : 0;
    uint32_t p[2] = {0, 0}, np = 0;
    for (uint32_t i = 2; i + 1 < n; i++) {
        if (b[i] >= '0' && b[i] <= '9') {
            if (np == 0)
                np = 1;
            if (np <= 2 && p[np - 1] < 1000)
                p[np - 1] = p[np - 1] * 10 + (b[i] - '0');
        } else if (b[i] == ';') {
            np = np == 0 ? 2 : np + 1;
        }
    }
    uint8_t mods = 0;
    if (np >= 2 && p[1] >= 2) {
        uint32_t m = p[1] - 1;
        mods = (uint8_t)(((m & 1) ? MOD_SHIFT : 0) | ((m & 2) ? MOD_ALT : 0) | ((m & 4) ? MOD_CTRL : 0));
    }
    uint16_t scan = fin == '~' ? tilde_key(p[0]) : final_key(fin);
    return scan ? emit(d, scan, 0, mods) : 0;
}

static uint32_t utf8_need(uint8_t lead)
{
    return lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
}

/* Whether byte i of a sequence led by `lead` can continue a valid one. The lead and the second byte fix the
 * value's range, so shortest form (E0 needs A0.., F0 needs 90..), no surrogates (ED needs ..9F) and the
 * U+10FFFF ceiling (F4 needs ..8F) are all decided by the second byte. */
static int utf8_continues(uint8_t lead, uint32_t i, uint8_t c)
{
    uint8_t lo = 0x80, hi = 0xBF;
    if (i == 1) {
        if (lead == 0xE0)
            lo = 0xA0;
        else if (lead == 0xED)
            hi = 0x9F;
        else if (lead == 0xF0)
            lo = 0x90;
        else if (lead == 0xF4)
            hi = 0x8F;
    }
    return c >= lo && c <= hi;
}

static void feed_byte(Vt100 *d, uint8_t c, uint64_t now_ms)
{
    int was_cr = d->last_cr;
    d->last_cr = 0;
    if (d->len > 0 && d->buf[0] == 0x1B) {
        if (d->len == 1) {
            if (c == '[' || c == 'O') {
                d->buf[d->len++] = c;
                return;
            }
            d->len = 0;
            if (c == 0x1B) { /* ESC ESC: the first was a lone Esc, the second waits */
                d->buf[d->len++] = c;
                d->esc_ms = now_ms;
                emit(d, KEY_ESC, 0, 0);
                return;
            }
            emit(d, KEY_NONE, c, MOD_ALT); /* Alt+key as terminals send it */
            return;
        }
        /* Linux console's ESC [ [ X */
        if (d->len == 2 && d->buf[1] == '[' && c == '[') {
            d->buf[d->len++] = c;
            return;
        }
        if (d->len < sizeof d->buf)
            d->buf[d->len++] = c;
        int final = (d->buf[1] == 'O' && d->len >= 3) || (d->len == 4 && d->buf[2] == '[') ||
                    (c >= 0x40 && c <= 0x7E);
        if (final)
            finish_sequence(d);
        else if (d->len == sizeof d->buf)
            d->len = 0; /* garbage: drop it */
        return;
    }
    if (d->len > 0) { /* inside a UTF-8 character */
        if (!utf8_continues(d->buf[0], d->len, c)) {
            /* as utf8_decode does: the lead and each continuation so far are one U+FFFD each, and c starts anew */
            for (uint32_t i = 0; i < d->len; i++)
                emit(d, KEY_NONE, 0xFFFD, 0);
            d->len = 0;
            feed_byte(d, c, now_ms);
            return;
        }
        d->buf[d->len++] = c;
        if (d->len < utf8_need(d->buf[0]))
            return;
        uint32_t cp = d->buf[0] & (d->len == 2 ? 0x1F : d->len == 3 ? 0x0F : 0x07);
        for (uint32_t i = 1; i < d->len; i++)
            cp = (cp << 6) | (d->buf[i] & 0x3F);
        d->len = 0;
        emit(d, KEY_NONE, cp, 0);
        return;
    }
    switch (c) {
    case 0x1B:
        d->buf[0] = c;
        d->len = 1;
        d->esc_ms = now_ms;
        return;
    case '\r':
        d->last_cr = 1;
        emit(d, KEY_NONE, '\r', 0);
        return;
    case '\n':
        if (!was_cr)
            emit(d, KEY_NONE, '\r', 0);
        return;
    case 0x7F: case 0x08:
        emit(d, KEY_NONE, 0x08, 0);
        return;
    default:
        break;
    }
    if (c >= 0xC2 && c <= 0xF4) { /* the leads utf8_decode accepts */
        d->buf[0] = c;
        d->len = 1;
    } else if (c >= 0x80) {
        emit(d, KEY_NONE, 0xFFFD, 0);
    } else if (c < 0x20 && c != '\t') {
        emit(d, KEY_NONE, c, MOD_CTRL); /* Ctrl+letter arrives as 0x01..0x1A */
    } else {
        emit(d, KEY_NONE, c, 0);
    }
}

int vt100_next(Vt100 *d, Key *out)
{
    if (d->count == 0)
        return 0;
    *out = d->queue[d->head];
    d->head = (d->head + 1) % VT100_QUEUE;
    d->count--;
    return 1;
}

int vt100_feed(Vt100 *d, uint8_t c, uint64_t now_ms, Key *out)
{
    feed_byte(d, c, now_ms);
    return vt100_next(d, out);
}

int vt100_tick(Vt100 *d, uint64_t now_ms, Key *out)
{
    if (vt100_next(d, out))
        return 1;
    if (d->len == 1 && d->buf[0] == 0x1B && now_ms - d->esc_ms >= VT100_ESC_MS) {
        d->len = 0;
        emit(d, KEY_ESC, 0, 0);
        return vt100_next(d, out);
    }
    return 0;
}
