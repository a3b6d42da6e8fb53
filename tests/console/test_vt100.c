/* test_vt100.c - the serial key decoder and the key bindings: every sequence the console documents, split and
 * mixed input, the lone-Esc timeout, and the actions that firmware key forms map to. */
#include <string.h>
#include "check.h"
#include "input/vt100.h"
#include "input/key.h"

/* Feeds s (n bytes) at time 0; collects up to 8 keys. */
static int decode(const char *s, size_t n, Key *keys)
{
    Vt100 d;
    vt100_init(&d);
    int k = 0;
    for (size_t i = 0; i < n && k < 8; i++)
        k += vt100_feed(&d, (uint8_t)s[i], 0, &keys[k]);
    if (k < 8)
        k += vt100_tick(&d, 1000, &keys[k]);
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
}

int main(void)
{
    test_sequences();
    test_streams();
    test_keymap();
    return check_exit();
}
