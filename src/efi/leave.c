/* leave.c - leaving efichat: F9 (or Ctrl+Q) asks "power off / restart / back" on screen and on serial, and the
 * next key answers: P powers off, R restarts (ResetSystem: EfiResetShutdown / EfiResetCold), anything else goes
 * back to the chat. The question takes only the next key, so a stray F9 costs one key press. */
#include "app.h"

void leave_ask(App *a)
{
    a->leaving = 1;
    app_info(a, TURN_INFO, "Leave efichat? P: power off, R: restart, any other key: back to the chat.");
    if (a->graphics) /* the text console printed the line already */
        mirror_line("efichat: leave? p=power off r=restart other=back");
}

void leave_answer(App *a, const Key *k)
{
    a->leaving = 0;
    uint32_t c = k->scan == KEY_NONE ? k->cp : 0;
    if (c == 'p' || c == 'P' || c == 'r' || c == 'R') {
        int off = c == 'p' || c == 'P';
        mirror_line(off ? "efichat: power off" : "efichat: restart");
        g_st->RuntimeServices->ResetSystem(off ? EfiResetShutdown : EfiResetCold, EFI_SUCCESS, 0, NULL);
        /* ResetSystem does not return; firmware that does anyway has refused. */
        app_error(a, off ? "the firmware did not power off" : "the firmware did not restart");
        return;
    }
    app_info(a, TURN_INFO, "Back to the chat.");
    if (a->graphics)
        mirror_line("efichat: leave cancelled");
}
