/* keymap.c - the chat's key bindings in one place. Ctrl+L arrives either as the control character 0x0C
 * (EDK2's PS/2 and USB keyboard drivers and terminals fold Ctrl+letter that way) or as 'l' with MOD_CTRL
 * (SimpleTextInputEx on other firmware); both work. Ctrl+= / Ctrl+- need the shift state that only
 * SimpleTextInputEx reports, so F11/F12 do the same for the other sources. Ctrl+Q (0x11, or 'q' with MOD_CTRL)
 * and F9 both ask to leave: terminals with XON/XOFF flow control swallow Ctrl+Q. */
#include "key.h"

enum key_action key_action(const Key *k)
{
    switch (k->scan) {
    case KEY_UP: return ACT_HIST_PREV;
    case KEY_DOWN: return ACT_HIST_NEXT;
    case KEY_LEFT: return ACT_LEFT;
    case KEY_RIGHT: return ACT_RIGHT;
    case KEY_HOME: return ACT_HOME;
    case KEY_END: return ACT_END;
    case KEY_DELETE: return ACT_DELETE;
    case KEY_PGUP: return ACT_PGUP;
    case KEY_PGDN: return ACT_PGDN;
    case KEY_ESC: return ACT_STOP;
    case KEY_F1: return ACT_HELP;
    case KEY_F2: return ACT_TEMP_DOWN;
    case KEY_F3: return ACT_TEMP_UP;
    case KEY_F4: return ACT_TOPK_DOWN;
    case KEY_F5: return ACT_TOPK_UP;
    case KEY_F6: return ACT_TOPP_DOWN;
    case KEY_F7: return ACT_TOPP_UP;
    case KEY_F8: return ACT_MODE;
    case KEY_F9: return ACT_LEAVE;
    case KEY_F10: return ACT_SCREENSHOT;
    case KEY_F11: return ACT_FONT_DOWN;
    case KEY_F12: return ACT_FONT_UP;
    default: break;
    }
    if (k->scan != KEY_NONE)
        return ACT_NONE;
    uint32_t c = k->cp;
    if (k->mods & MOD_CTRL) {
        if (c == '=' || c == '+')
            return ACT_FONT_UP;
        if (c == '-' || c == '_')
            return ACT_FONT_DOWN;
        if (c == 'l' || c == 'L')
            return ACT_NEW_CHAT;
        if (c == 'q' || c == 'Q')
            return ACT_LEAVE;
    }
    switch (c) {
    case '\r': case '\n': return ACT_ENTER;
    case 0x08: case 0x7F: return ACT_BACKSPACE;
    case 0x0C: return ACT_NEW_CHAT;
    case 0x11: return ACT_LEAVE;
    case 0x1B: return ACT_STOP;
    case '\t': return ACT_CHAR;
    default: break;
    }
    if (c < 0x20 || (k->mods & (MOD_CTRL | MOD_ALT)))
        return ACT_NONE;
    return c ? ACT_CHAR : ACT_NONE;
}
