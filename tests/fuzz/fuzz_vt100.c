/* fuzz_vt100.c - the serial decoder on any byte stream, with gaps in time. The first 8 bytes are a bit mask:
 * bit i set means a pause longer than VT100_ESC_MS after byte i (a lone ESC then becomes the Esc key).
 * Promises checked: every key is a known scan code or a character utf8_decode would accept (never a surrogate,
 * never past U+10FFFF), a byte completes at most VT100_MAX_KEYS keys and vt100_next drains them all, and a
 * long pause at the end flushes whatever was pending. */
#include <string.h>

#include "chat/fmt.h"
#include "fuzz.h"
#include "input/vt100.h"

static void check_key(const Key *k)
{
    FUZZ_CHECK(k->mods <= (MOD_SHIFT | MOD_ALT | MOD_CTRL));
    if (k->scan != KEY_NONE) {
        FUZZ_CHECK(k->scan <= KEY_ESC);
        return;
    }
    FUZZ_CHECK(k->cp < 0x110000 && !(k->cp >= 0xD800 && k->cp <= 0xDFFF));
    /* the character round-trips through the app's own UTF-8 helpers */
    char u[4];
    uint32_t back;
    size_t n = utf8_encode(k->cp, u);
    FUZZ_CHECK(utf8_decode((const uint8_t *)u, n, &back) == n && back == k->cp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t pauses = 0;
    if (size >= 8) {
        memcpy(&pauses, data, 8);
        data += 8, size -= 8;
    }
    Vt100 d;
    vt100_init(&d);
    uint64_t now = 1000;
    Key k;
    for (size_t i = 0; i < size; i++) {
        int got = vt100_feed(&d, data[i], now, &k);
        int taken = 0;
        while (got) {
            check_key(&k);
            FUZZ_CHECK(++taken <= VT100_MAX_KEYS);
            got = vt100_next(&d, &k);
        }
        FUZZ_CHECK(d.count == 0 && d.len <= sizeof d.buf);
        now += 1;
        if (i < 64 && (pauses >> i & 1)) {
            now += VT100_ESC_MS + 1;
            for (int t = 0; vt100_tick(&d, now, &k); t++) {
                FUZZ_CHECK(t < VT100_QUEUE);
                check_key(&k);
                }
        }
    }
    /* the stream ends: after a long pause at most the pending sequence's keys come out, then nothing */
    now += 1000;
    for (int t = 0; vt100_tick(&d, now, &k); t++) {
        FUZZ_CHECK(t < VT100_QUEUE);
        check_key(&k);
    }
    FUZZ_CHECK(!vt100_tick(&d, now + 1000, &k));
    return 0;
}
