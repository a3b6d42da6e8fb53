/* fuzz_keys.c - the key path of the chat: a Key from any source (firmware keys can carry any scan code and any
 * 16-bit character; SimpleTextInputEx adds modifiers), key_action, then what app.c's handle_key does with it:
 * line editing, history, the sampling hotkeys, and on Enter the submit and convo_frame_user framing.
 * Each key is 4 bytes: scan, mods (low 3 bits; the next 5 bits are bits 16..20 of the character), character
 * low and high byte. Promises checked: the cursor and history stay in range, a submitted line is valid UTF-8
 * that never splits a character and fits its buffer, the framed message fits too, settings stay in range. */
#include <string.h>

#include "chat/convo.h"
#include "chat/fmt.h"
#include "chat/lineedit.h"
#include "fuzz.h"
#include "input/key.h"

#define MESSAGE_BYTES 2048 /* app.c's buffer for one submitted line */

static void check_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t used = utf8_decode((const uint8_t *)s + i, n - i, &cp);
        FUZZ_CHECK(used > 0); /* never a character cut short at the end */
        FUZZ_CHECK(!(cp == 0xFFFD && used == 1 && (uint8_t)s[i] >= 0x80)); /* never an invalid byte */
        i += used;
    }
}

static void submit(LineEdit *e, const Settings *s, uint32_t *tail_newlines, size_t cap)
{
    char text[MESSAGE_BYTES], framed[MESSAGE_BYTES + 64];
    uint32_t len = e->cur.len;
    size_t n = lineedit_submit(e, text, cap);
    FUZZ_CHECK(n < cap && strlen(text) == n);
    check_utf8(text, n);
    FUZZ_CHECK(e->cur.len == 0 && e->cursor == 0);
    FUZZ_CHECK(len == 0 || e->hist_count > 0);
    size_t fn = convo_frame_user(s, *tail_newlines, text, framed, sizeof framed);
    FUZZ_CHECK(fn < sizeof framed && strlen(framed) == fn);
    *tail_newlines = fn == 0 ? *tail_newlines : 2; /* as if the reply ended its speech */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static LineEdit e; /* 30 KB: too big for a fuzzer thread's stack habits */
    lineedit_init(&e);
    Settings s;
    settings_default(&s);
    uint32_t tail_newlines = 2;
    for (size_t i = 0; i + 4 <= size; i += 4) {
        Key k = {.scan = data[i], .mods = data[i + 1] & 7,
                 .cp = (uint32_t)data[i + 2] | (uint32_t)data[i + 3] << 8 | (uint32_t)(data[i + 1] >> 3) << 16};
        switch (key_action(&k)) {
        case ACT_CHAR: lineedit_insert(&e, k.cp == '\t' ? ' ' : k.cp); break;
        /* a short buffer now and then: truncation must not split a character either */
        case ACT_ENTER: submit(&e, &s, &tail_newlines, k.mods & MOD_SHIFT ? 1 + data[i + 2] % 16 : MESSAGE_BYTES);
            break;
        case ACT_BACKSPACE: lineedit_backspace(&e); break;
        case ACT_DELETE: lineedit_delete(&e); break;
        case ACT_LEFT: lineedit_left(&e); break;
        case ACT_RIGHT: lineedit_right(&e); break;
        case ACT_HOME: lineedit_home(&e); break;
        case ACT_END: lineedit_end(&e); break;
        case ACT_HIST_PREV: lineedit_history_prev(&e); break;
        case ACT_HIST_NEXT: lineedit_history_next(&e); break;
        case ACT_TEMP_DOWN: settings_temp_step(&s, -1); break;
        case ACT_TEMP_UP: settings_temp_step(&s, +1); break;
        case ACT_TOPK_DOWN: settings_top_k_step(&s, -1); break;
        case ACT_TOPK_UP: settings_top_k_step(&s, +1); break;
        case ACT_TOPP_DOWN: settings_top_p_step(&s, -1); break;
        case ACT_TOPP_UP: settings_top_p_step(&s, +1); break;
        case ACT_MODE: s.mode = s.mode == MODE_PLAY ? MODE_RAW : MODE_PLAY; break;
        case ACT_NEW_CHAT: tail_newlines = 2; break;
        default: break;
        }
        FUZZ_CHECK(e.cursor <= e.cur.len && e.cur.len <= LINE_MAX_CPS);
        FUZZ_CHECK(e.hist_count <= HISTORY_LINES && e.hist_pos <= e.hist_count);
        FUZZ_CHECK(e.draft.len <= LINE_MAX_CPS);
        FUZZ_CHECK(s.temp <= TEMP_MAX && s.top_k <= 256 && s.top_p >= TOP_P_MIN && s.top_p <= TOP_P_MAX);
    }
    submit(&e, &s, &tail_newlines, MESSAGE_BYTES);
    return 0;
}
