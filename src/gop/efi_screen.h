/* efi_screen.h - finds the Graphics Output Protocol, picks a mode and connects it to an Fb (see fb.h). */
#ifndef EFICHAT_EFI_SCREEN_H
#define EFICHAT_EFI_SCREEN_H

#include <efi.h>
#include "fb.h"

typedef struct {
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
    Fb fb;
    uint32_t mode;        /* GOP mode number in use */
    const char *format;   /* "BGR", "RGB", "bitmask", "Blt-only": for the log */
} Screen;

/* EFI_UNSUPPORTED when there is no GOP at all (the caller falls back to a text console). want_w/h = 0: auto.
 * force_blt flushes through Blt() even when a framebuffer is there. */
EFI_STATUS screen_open(Screen *s, uint32_t want_w, uint32_t want_h, int force_blt);
void screen_close(Screen *s);

#endif
