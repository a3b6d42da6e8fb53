/* test_vt100.c - the serial key decoder and the key bindings: every sequence the console documents, split and
 * mixed input, the lone-Esc timeout, UTF-8 decoded exactly as utf8_decode does, and the actions that firmware key
 * forms map to. */
#include <string.h>
#include "check.h"
#include "chat/fmt.h"
#include "input/vt100.h"
#include "input/key.h"

/* Feeds s (n bytes) at time 0, taking every key after each byte as the serial poll does; collects up to 8 keys. */
static int decode(const char *s, size_t n, Key *keys)
{
    Vt100 d;
    vt100_init(&d);
    int k = 0;
    for (size_t i = 0; i < n && k < 8; i++) {
        k += vt100_feed(&d, (uint8_t)s[i], 0, &keys[k]);
        while (k < 8 && vt100_next(&d, &keys[k]))
            k++;
    }
    while (k < 8 && vt100_tick(&d, 1000, &keys[k]))
        k++;
    return k;
}

static void one(const char *name, const char *seq, uint16_t scan, uint32_t cp, uint8_t mods)
{
    Key k[8];
    int n = decode(seq, strlen(seq), k);
    check_case(n == 1 && k[0].scan == scan && k[0].cp == cp && k[0].mods == mods, name,
               "%d keys, scan %u cp %u mods %u", n, n ? k[0].scan : 0, n ? k[0].cp : 0, n ? k[0].mods : 0);
}

static void test_sequences(void)
{
    one("vt_up", "\x1b[A", KEY_UP, 0, 0);
    one("vt_down", "\x1b[B", KEY_DOWN, 0, 0);
    one("vt_right_ss3", "\x1bOC", KEY_RIGHT, 0, 0);
    one("vt_left", "\x1b[D", KEY_LEFT, 0, 0);
    one("vt_home_H", "\x1b[H", KEY_HOME, 0, 0);
    one("vt_end_F", "\x1b[F", KEY_END, 0, 0);
    one("vt_home_1tilde", "\x1b[1~", KEY_HOME, 0, 0);
    one("vt_end_4tilde", "\x1b[4~", KEY_END, 0, 0);
    one("vt_home_rxvt", "\x1b[7~", KEY_HOME, 0, 0);
    one("vt_insert", "\x1b[2~", KEY_INSERT, 0, 0);
    one("vt_delete", "\x1b[3~", KEY_DELETE, 0, 0);
    one("vt_pgup", "\x1b[5~", KEY_PGUP, 0, 0);
    one("vt_pgdn", "\x1b[6~", KEY_PGDN, 0, 0);
    one("vt_f1_ss3", "\x1bOP", KEY_F1, 0, 0);
    one("vt_f4_ss3", "\x1bOS", KEY_F4, 0, 0);
    one("vt_f1_tilde", "\x1b[11~", KEY_F1, 0, 0);
    one("vt_f5", "\x1b[15~", KEY_F5, 0, 0);
    one("vt_f6", "\x1b[17~", KEY_F6, 0, 0);
    one("vt_f8", "\x1b[19~", KEY_F8, 0, 0);
    one("vt_f10", "\x1b[21~", KEY_F10, 0, 0);
    one("vt_f12", "\x1b[24~", KEY_F12, 0, 0);
    one("vt_linux_f3", "\x1b[[C", KEY_F3, 0, 0);
    one("vt_ctrl_up", "\x1b[1;5A", KEY_UP, 0, MOD_CTRL);
    one("vt_shift_f5", "\x1b[15;2~", KEY_F5, 0, MOD_SHIFT);
    one("vt_alt_ctrl_pgup", "\x1b[5;7~", KEY_PGUP, 0, MOD_CTRL | MOD_ALT);
    one("vt_enter_cr", "\r", KEY_NONE, '\r', 0);
    one("vt_enter_lf", "\n", KEY_NONE, '\r', 0);
    one("vt_backspace_del", "\x7f", KEY_NONE, 0x08, 0);
    one("vt_backspace_bs", "\x08", KEY_NONE, 0x08, 0);
    one("vt_ctrl_l", "\x0c", KEY_NONE, 0x0c, MOD_CTRL);
    one("vt_alt_x", "\x1bx", KEY_NONE, 'x', MOD_ALT);
    one("vt_utf8_e_acute", "\xc3\xa9", KEY_NONE, 0xE9, 0);
    one("vt_utf8_euro", "\xe2\x82\xac", KEY_NONE, 0x20AC, 0);
    one("vt_lone_esc_after_timeout", "\x1b", KEY_ESC, 0, 0);
    one("vt_unknown_sequence_then_a", "\x1b[99~a", KEY_NONE, 'a', 0);
}

static void test_streams(void)
{
    Key k[8];
    int n = decode("a\r\nb", 4, k);
    check_case(n == 3 && k[0].cp == 'a' && k[1].cp == '\r' && k[2].cp == 'b', "vt_crlf_is_one_enter", "%d keys", n);
    n = decode("\x1b[A\x1bOPz", 7, k);
    check_case(n == 3 && k[0].scan == KEY_UP && k[1].scan == KEY_F1 && k[2].cp == 'z', "vt_back_to_back", "%d", n);
    /* a lone Esc is only reported once its timeout has passed */
    Vt100 d;
    vt100_init(&d);
    Key key;
    int early = vt100_feed(&d, 0x1b, 100, &key) + vt100_tick(&d, 100 + VT100_ESC_MS - 1, &key);
    int late = vt100_tick(&d, 100 + VT100_ESC_MS, &key);
    check_case(early == 0 && late == 1 && key.scan == KEY_ESC, "vt_esc_timeout", "early %d late %d", early, late);
    /* ESC ESC: the first is an Esc at once */
    n = decode("\x1b\x1b", 2, k);
    check_case(n == 2 && k[0].scan == KEY_ESC && k[1].scan == KEY_ESC, "vt_double_esc", "%d", n);
}

/* The code points utf8_decode finds in s[0..n), U+FFFD for each byte it rejects. */
static int reference(const uint8_t *s, size_t n, uint32_t *cps)
{
    int k = 0;
    for (size_t i = 0; i < n;) {
        size_t used = utf8_decode(s + i, n - i, &cps[k]);
        if (used == 0) { /* incomplete at the end: not reached, every input ends in 'A' */
            cps[k] = 0xFFFD;
            used = 1;
        }
        k++;
        i += used;
    }
    return k;
}

/* Decodes s (n bytes, ending in 'A') both ways; 1 when the keys are plain characters equal to utf8_decode's. */
static int same_as_utf8_decode(const uint8_t *s, size_t n, char *why, size_t why_len)
{
    Key keys[8];
    uint32_t want[8];
    int got = decode((const char *)s, n, keys), nwant = reference(s, n, want);
    int ok = got == nwant;
    for (int i = 0; ok && i < got; i++)
        ok = keys[i].scan == KEY_NONE && keys[i].mods == 0 && keys[i].cp == want[i];
    if (!ok) {
        int w = snprintf(why, why_len, "bytes");
        for (size_t i = 0; i < n && w > 0 && (size_t)w < why_len; i++)
            w += snprintf(why + w, why_len - (size_t)w, " %02X", s[i]);
        if (w > 0 && (size_t)w < why_len)
            w += snprintf(why + w, why_len - (size_t)w, ": decoder gave %d keys (first scan %u cp %X), "
                          "utf8_decode %d (first %X)", got, got ? keys[0].scan : 0, got ? keys[0].cp : 0,
                          nwant, nwant ? want[0] : 0);
    }
    return ok;
}

/* Every byte that can start, continue or break a UTF-8 sequence, plus 'A' (an ASCII byte that ends one). */
static const uint8_t utf8_classes[] = {
    'A', 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF,
    0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFE, 0xFF,
};

static void test_utf8_like_utf8_decode(void)
{
    /* the fuzzer's finds: overlong Enter and Esc, a surrogate, past U+10FFFF, overlong NUL */
    static const struct { const char *name, *bytes; } found[] = {
        {"vt_utf8_overlong_enter_rejected", "\xe0\x80\x8d"},
        {"vt_utf8_overlong_esc_rejected", "\xe0\x80\x9b"},
        {"vt_utf8_overlong_2byte_rejected", "\xc0\x8d"},
        {"vt_utf8_overlong_4byte_rejected", "\xf0\x80\x80\x8d"},
        {"vt_utf8_surrogate_rejected", "\xed\xa0\x80"},
        {"vt_utf8_above_10ffff_rejected", "\xf4\x90\x80\x80"},
        {"vt_utf8_cut_by_enter", "\xe2\x82\r"},
    };
    char why[200] = "";
    for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
        Key k[8];
        int n = decode(found[i].bytes, strlen(found[i].bytes), k), bad = 0;
        size_t len = strlen(found[i].bytes);
        int cut = found[i].bytes[len - 1] == '\r'; /* then all but the last key are U+FFFD, the last is Enter */
        for (int j = 0; j < n; j++)
            bad |= (cut && j == n - 1) ? !(k[j].scan == KEY_NONE && k[j].cp == '\r')
                                       : !(k[j].scan == KEY_NONE && k[j].cp == 0xFFFD && k[j].mods == 0);
        check_case(n == (int)len && !bad, found[i].name, "%d keys, first scan %u cp %X", n, n ? k[0].scan : 0,
                   n ? k[0].cp : 0);
    }

    /* 1 to 3 bytes: every byte from 0x80 up, and 'A'; then 'A' so nothing is left waiting */
    int ok = 1;
    uint8_t s[5];
    for (int len = 1; len <= 3 && ok; len++) {
        uint32_t total = 1;
        for (int i = 0; i < len; i++)
            total *= 129;
        for (uint32_t v = 0; v < total && ok; v++) {
            uint32_t r = v;
            for (int i = 0; i < len; i++, r /= 129)
                s[i] = r % 129 == 128 ? 'A' : (uint8_t)(0x80 + r % 129);
            s[len] = 'A';
            ok = same_as_utf8_decode(s, (size_t)len + 1, why, sizeof why);
        }
    }
    check_case(ok, "vt_utf8_every_1_to_3_byte_sequence_like_utf8_decode", "%s", why);

    /* 4 bytes: every combination of the byte classes */
    size_t nc = sizeof utf8_classes;
    ok = 1;
    for (size_t a = 0; a < nc && ok; a++)
        for (size_t b = 0; b < nc && ok; b++)
            for (size_t c = 0; c < nc && ok; c++)
                for (size_t e = 0; e < nc && ok; e++) {
                    s[0] = utf8_classes[a], s[1] = utf8_classes[b], s[2] = utf8_classes[c], s[3] = utf8_classes[e];
                    s[4] = 'A';
                    ok = same_as_utf8_decode(s, 5, why, sizeof why);
                }
    check_case(ok, "vt_utf8_every_4_byte_class_sequence_like_utf8_decode", "%s", why);

    /* every scalar value, encoded, comes back as itself */
    ok = 1;
    for (uint32_t cp = 0x80; cp <= 0x10FFFF && ok; cp++) {
        if (cp >= 0xD800 && cp < 0xE000)
            continue;
        char enc[5];
        size_t n = utf8_encode(cp, enc);
        enc[n] = 'A';
        ok = same_as_utf8_decode((const uint8_t *)enc, n + 1, why, sizeof why);
    }
    check_case(ok, "vt_utf8_every_scalar_value_round_trips", "%s", why);
}

static void act(const char *name, Key k, enum key_action want)
{
    enum key_action got = key_action(&k);
    check_case(got == want, name, "got %d want %d", got, want);
}

static void test_keymap(void)
{
    act("map_f2_temp_down", (Key){KEY_F2, 0, 0}, ACT_TEMP_DOWN);
    act("map_f3_temp_up", (Key){KEY_F3, 0, 0}, ACT_TEMP_UP);
    act("map_f4_topk_down", (Key){KEY_F4, 0, 0}, ACT_TOPK_DOWN);
    act("map_f5_topk_up", (Key){KEY_F5, 0, 0}, ACT_TOPK_UP);
    act("map_f6_topp_down", (Key){KEY_F6, 0, 0}, ACT_TOPP_DOWN);
    act("map_f7_topp_up", (Key){KEY_F7, 0, 0}, ACT_TOPP_UP);
    act("map_f8_mode", (Key){KEY_F8, 0, 0}, ACT_MODE);
    act("map_f1_help", (Key){KEY_F1, 0, 0}, ACT_HELP);
    act("map_esc_stop", (Key){KEY_ESC, 0, 0}, ACT_STOP);
    act("map_ctrl_l_folded", (Key){KEY_NONE, 0, 0x0C}, ACT_NEW_CHAT);
    act("map_ctrl_l_with_state", (Key){KEY_NONE, MOD_CTRL, 'l'}, ACT_NEW_CHAT);
    act("map_ctrl_equal", (Key){KEY_NONE, MOD_CTRL, '='}, ACT_FONT_UP);
    act("map_ctrl_plus", (Key){KEY_NONE, MOD_CTRL | MOD_SHIFT, '+'}, ACT_FONT_UP);
    act("map_ctrl_minus", (Key){KEY_NONE, MOD_CTRL, '-'}, ACT_FONT_DOWN);
    act("map_f12_font_up", (Key){KEY_F12, 0, 0}, ACT_FONT_UP);
    act("map_plain_equal_is_char", (Key){KEY_NONE, 0, '='}, ACT_CHAR);
    act("map_shift_a_is_char", (Key){KEY_NONE, MOD_SHIFT, 'A'}, ACT_CHAR);
    act("map_enter", (Key){KEY_NONE, 0, '\r'}, ACT_ENTER);
    act("map_backspace", (Key){KEY_NONE, 0, 0x08}, ACT_BACKSPACE);
    act("map_pgup", (Key){KEY_PGUP, 0, 0}, ACT_PGUP);
    act("map_up_history", (Key){KEY_UP, 0, 0}, ACT_HIST_PREV);
    act("map_other_ctrl_ignored", (Key){KEY_NONE, MOD_CTRL, 0x01}, ACT_NONE);
    act("map_f9_leave", (Key){KEY_F9, 0, 0}, ACT_LEAVE);
    act("map_ctrl_q_folded_leave", (Key){KEY_NONE, 0, 0x11}, ACT_LEAVE);
    act("map_ctrl_q_with_state_leave", (Key){KEY_NONE, MOD_CTRL, 'q'}, ACT_LEAVE);
    act("map_plain_q_is_char", (Key){KEY_NONE, MOD_SHIFT, 'Q'}, ACT_CHAR);
    act("map_f10_screenshot", (Key){KEY_F10, 0, 0}, ACT_SCREENSHOT);
}

int main(void)
{
    test_sequences();
    test_streams();
    test_utf8_like_utf8_decode();
    test_keymap();
    return check_exit();
}
