/* shot.c - F10: the screen as a 24-bit BMP in \efichat\shots\ on the boot volume, numbered shot0001.bmp, ...
 * Encoded from the back buffer (src/gop/bmp.c), which holds exactly what was last sent to the screen in one format
 * whatever the screen's own, so video memory is never read. An existing file is never overwritten. */
#include "app.h"
#include "../chat/fmt.h"
#include "../gop/bmp.h"

#define SHOT_MAX 99999u

static void shot_failed(App *a, const char *why)
{
    char buf[160];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "screenshot not saved: ");
    fmt_str(&f, why);
    app_error(a, buf);
}

/* \efichat\shots\NAME as UTF-16 for the firmware and as text for the serial line. */
static void shot_path(uint32_t n, CHAR16 *wide, char *text, size_t text_n)
{
    char name[24];
    bmp_shot_name(n, name);
    Fmt f;
    fmt_init(&f, text, text_n);
    fmt_str(&f, "\\efichat\\shots\\");
    fmt_str(&f, name);
    size_t i = 0;
    for (; text[i]; i++)
        wide[i] = (CHAR16)(uint8_t)text[i];
    wide[i] = 0;
}

void shot_save(App *a)
{
    if (!a->graphics) {
        shot_failed(a, "there is no graphical screen (text console)");
        return;
    }
    Fb *fb = &a->screen.fb;
    size_t size = bmp_size(fb->width, fb->height);
    uint8_t *bmp = size ? efi_alloc(size) : NULL;
    if (!bmp) {
        shot_failed(a, "out of memory");
        return;
    }
    bmp_encode(fb->back, fb->width, fb->height, fb->width, bmp, size); /* before any message changes the screen */
    EFI_STATUS st = file_make_dir(a->image, L"\\efichat");
    if (!EFI_ERROR(st))
        st = file_make_dir(a->image, L"\\efichat\\shots");
    CHAR16 wide[48];
    char text[48];
    uint32_t n = a->shot_next ? a->shot_next : 1;
    /* The first free number: files from earlier boots stay. */
    while (!EFI_ERROR(st) && n <= SHOT_MAX) {
        shot_path(n, wide, text, sizeof text);
        EFI_STATUS there = file_exists(a->image, wide);
        if (there == EFI_NOT_FOUND)
            break;
        if (EFI_ERROR(there))
            st = there;
        n++;
    }
    if (!EFI_ERROR(st) && n > SHOT_MAX)
        st = EFI_VOLUME_FULL;
    if (!EFI_ERROR(st))
        st = file_write_all(a->image, wide, bmp, size, 0);
    efi_free(bmp);
    if (EFI_ERROR(st)) {
        shot_failed(a, n > SHOT_MAX ? "99999 screenshots are there already" : file_error_phrase(st));
        return;
    }
    a->shot_next = n + 1;
    mirror_line2("efichat: screenshot ", text);
    char line[80];
    Fmt f;
    fmt_init(&f, line, sizeof line);
    fmt_str(&f, "Screenshot saved: ");
    fmt_str(&f, text);
    app_info(a, TURN_INFO, line);
}
