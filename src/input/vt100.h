/* vt100.h - turns bytes from a serial terminal (VT100/xterm/Linux console) into Keys: arrows, Home/End, PgUp/PgDn,
 * Insert/Delete, F1-F12 with modifiers, Ctrl+letter, Backspace as 0x7F or 0x08, Enter as CR, LF or CR LF, UTF-8.
 * A lone ESC is the Esc key once no sequence byte follows within VT100_ESC_MS. Pure state machine, no I/O. */
#ifndef EFICHAT_VT100_H
#define EFICHAT_VT100_H

#include <stdint.h>
#include "key.h"

#define VT100_ESC_MS 50
/* One byte can complete several keys: F0 90 80 'A' is U+FFFD three times, then 'A'. */
#define VT100_MAX_KEYS 4
#define VT100_QUEUE 8

typedef struct {
    uint8_t buf[16]; /* the escape sequence or UTF-8 character so far */
    uint32_t len;
    uint64_t esc_ms; /* when the pending ESC arrived */
    int last_cr;     /* the previous byte was CR: a following LF is the same Enter */
    Key queue[VT100_QUEUE]; /* keys completed but not yet taken, oldest at head */
    uint32_t head, count;
} Vt100;

void vt100_init(Vt100 *d);
/* Feeds one byte received at now_ms; returns 1 and fills *out with the oldest key not yet taken. A byte can
 * complete up to VT100_MAX_KEYS keys: take the others with vt100_next before feeding the next byte. */
int vt100_feed(Vt100 *d, uint8_t byte, uint64_t now_ms, Key *out);
/* Returns 1 with the oldest key a fed byte completed that was not yet taken. */
int vt100_next(Vt100 *d, Key *out);
/* Call when no byte is waiting: returns a key not yet taken, else the Esc key once a lone ESC has waited
 * VT100_ESC_MS. */
int vt100_tick(Vt100 *d, uint64_t now_ms, Key *out);

#endif
