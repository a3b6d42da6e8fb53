/* efi_input.h - keys from the firmware: SimpleTextInputEx on the console-in handle (it reports Ctrl/Alt/Shift),
 * else SimpleTextInput (ConIn); and the serial port read directly through a VT100 decoder, next to them, when no
 * driver owns the port or we take it over (text console, or config `input=serial`). Every source gives the same
 * Key. A periodic timer lets the main loop wait for "a key or 50 ms", whichever comes first. */
#ifndef EFICHAT_EFI_INPUT_H
#define EFICHAT_EFI_INPUT_H

#include <efi.h>
#include "key.h"
#include "vt100.h"

enum input_source { INPUT_EX, INPUT_SIMPLE, INPUT_SERIAL };

typedef struct {
    EFI_SIMPLE_TEXT_INPUT_EX_PROTOCOL *ex;
    SIMPLE_INPUT_INTERFACE *in;
    EFI_SERIAL_IO_PROTOCOL *serial; /* read directly only when no console driver owns the port */
    Vt100 vt;
    EFI_EVENT timer;
    uint32_t source; /* enum input_source of the keyboard (ConIn) side */
    uint32_t delivered; /* 1 << enum input_source for each source a key has come from (for report.txt) */
} Input;

/* force: -1 auto, else an enum input_source to prefer (config `input=`). In auto mode a text console (no
 * screen) reads the serial port directly too, so function keys typed into a terminal arrive decoded. */
EFI_STATUS input_init(Input *in, int force, int text_console);
void input_close(Input *in);
/* Returns 1 and a key when one is waiting; never blocks. */
int input_poll(Input *in, Key *out);
/* Sleeps until a key may be there or the 50 ms timer ticks. */
void input_wait(Input *in);
const char *input_source_name(const Input *in);

#endif
