/* key.h - one key press from any source (SimpleTextInputEx, SimpleTextInput, serial VT100), and what the chat
 * does with it. Scan codes are UEFI's own numbers so firmware keys need no translation. */
#ifndef EFICHAT_KEY_H
#define EFICHAT_KEY_H

#include <stdint.h>

enum key_scan {
    KEY_NONE = 0x00, KEY_UP = 0x01, KEY_DOWN = 0x02, KEY_RIGHT = 0x03, KEY_LEFT = 0x04, KEY_HOME = 0x05,
    KEY_END = 0x06, KEY_INSERT = 0x07, KEY_DELETE = 0x08, KEY_PGUP = 0x09, KEY_PGDN = 0x0A,
    KEY_F1 = 0x0B, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6, KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12,
    KEY_ESC = 0x17,
};

enum key_mod { MOD_SHIFT = 1, MOD_ALT = 2, MOD_CTRL = 4 };

typedef struct {
    uint16_t scan; /* enum key_scan, KEY_NONE for a character */
    uint8_t mods;  /* enum key_mod, when the source knows them */
    uint32_t cp;   /* the character: '\r' Enter, 0x08 Backspace, 0x01..0x1A Ctrl+letter */
} Key;

enum key_action {
    ACT_NONE, ACT_CHAR, ACT_ENTER, ACT_BACKSPACE, ACT_DELETE, ACT_LEFT, ACT_RIGHT, ACT_HOME, ACT_END,
    ACT_HIST_PREV, ACT_HIST_NEXT, ACT_PGUP, ACT_PGDN, ACT_STOP, ACT_HELP,
    ACT_TEMP_DOWN, ACT_TEMP_UP, ACT_TOPK_DOWN, ACT_TOPK_UP, ACT_TOPP_DOWN, ACT_TOPP_UP, ACT_MODE,
    ACT_NEW_CHAT, ACT_FONT_UP, ACT_FONT_DOWN, ACT_LEAVE, ACT_SCREENSHOT,
};

/* The chat's key bindings (docs/console.md lists them). For ACT_CHAR the character is key->cp. */
enum key_action key_action(const Key *k);

#endif
