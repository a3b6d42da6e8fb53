/* efi_screen.c - GOP discovery, mode choice and the Fb connection (see efi_screen.h). */
#include "efi_screen.h"
#include "modes.h"
#include "../efi/efisys.h"

static EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;

#define MODES_MAX 128

static int gop_blt(void *ctx, const uint32_t *back, uint32_t back_width, FbRect r)
{
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = ctx;
    EFI_STATUS st = gop->Blt(gop, (EFI_GRAPHICS_OUTPUT_BLT_PIXEL *)back, EfiBltBufferToVideo, r.x, r.y, r.x, r.y,
                             r.w, r.h, (UINTN)back_width * sizeof(uint32_t));
    return EFI_ERROR(st) ? 1 : 0;
}

static EFI_GRAPHICS_OUTPUT_PROTOCOL *find_gop(void)
{
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
    /* The console-out handle's GOP is the screen the user looks at; on machines with several GPUs the first GOP
     * LocateProtocol finds can be a headless one. */
    if (g_st->ConsoleOutHandle &&
        !EFI_ERROR(g_bs->HandleProtocol(g_st->ConsoleOutHandle, &gop_guid, (void **)&gop)) && gop)
        return gop;
    gop = NULL;
    if (EFI_ERROR(g_bs->LocateProtocol(&gop_guid, NULL, (void **)&gop)))
        return NULL;
    return gop;
}

static void choose_mode(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop, uint32_t want_w, uint32_t want_h)
{
    ModeSize sizes[MODES_MAX];
    uint32_t n = gop->Mode->MaxMode < MODES_MAX ? gop->Mode->MaxMode : MODES_MAX;
    for (uint32_t i = 0; i < n; i++) {
        EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
        UINTN size;
        sizes[i].w = sizes[i].h = 0; /* a mode the firmware will not describe is never picked */
        if (!EFI_ERROR(gop->QueryMode(gop, i, &size, &info))) {
            sizes[i].w = info->HorizontalResolution;
            sizes[i].h = info->VerticalResolution;
            efi_free(info);
        }
    }
    uint32_t pick = modes_pick(sizes, n, gop->Mode->Mode, want_w, want_h);
    if (pick != gop->Mode->Mode)
        gop->SetMode(gop, pick); /* on failure the current mode stays, which is fine */
}

EFI_STATUS screen_open(Screen *s, uint32_t want_w, uint32_t want_h, int force_blt)
{
    s->gop = find_gop();
    if (!s->gop || !s->gop->Mode || !s->gop->Mode->Info)
        return EFI_UNSUPPORTED;
    choose_mode(s->gop, want_w, want_h);
    s->mode = s->gop->Mode->Mode;
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = s->gop->Mode->Info;
    uint32_t w = info->HorizontalResolution, h = info->VerticalResolution;
    uint32_t *back = efi_alloc((size_t)w * h * sizeof(uint32_t));
    if (!back)
        return EFI_OUT_OF_RESOURCES;
    fb_init(&s->fb, w, h, back);
    fb_set_blt(&s->fb, gop_blt, s->gop);
    uint32_t masks[4] = {info->PixelInformation.RedMask, info->PixelInformation.GreenMask,
                         info->PixelInformation.BlueMask, info->PixelInformation.ReservedMask};
    uint8_t *video = (uint8_t *)(uintptr_t)s->gop->Mode->FrameBufferBase;
    switch (info->PixelFormat) {
    case PixelRedGreenBlueReserved8BitPerColor:
        fb_set_video(&s->fb, FB_RGBX, video, info->PixelsPerScanLine, masks);
        s->format = "RGB";
        break;
    case PixelBlueGreenRedReserved8BitPerColor:
        fb_set_video(&s->fb, FB_BGRX, video, info->PixelsPerScanLine, masks);
        s->format = "BGR";
        break;
    case PixelBitMask:
        fb_set_video(&s->fb, FB_BITMASK, video, info->PixelsPerScanLine, masks);
        s->format = "bitmask";
        break;
    default:
        fb_set_video(&s->fb, FB_BLT_ONLY, NULL, 0, masks);
        s->format = "Blt-only";
        break;
    }
    /* Some firmware reports a framebuffer base of 0 for a mode it can only Blt to. */
    if (!video)
        s->fb.video = NULL;
    s->fb.use_blt = force_blt;
    return EFI_SUCCESS;
}

void screen_close(Screen *s)
{
    efi_free(s->fb.back);
    s->fb.back = NULL;
}
