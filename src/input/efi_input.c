/* efi_input.c - the firmware key sources (see efi_input.h). Quirks handled:
 * - Firmware that offers SimpleTextInputEx but never signals WaitForKeyEx (seen on some Apple and older AMI
 *   machines): we never rely on the event alone; input_wait() also wakes on a 50 ms timer and input_poll() asks
 *   ReadKeyStrokeEx every time.
 * - "Partial" keys (EFI_KEY_STATE_EXPOSED firmware reports a bare Shift/Ctrl press as a key with neither scan code
 *   nor character): skipped.
 * - EDK2's keyboard drivers fold Ctrl+letter into 0x01..0x1A; keymap.c accepts both forms.
 * - The serial port is normally owned by the firmware's terminal driver (OVMF's TerminalDxe opens SerialIo
 *   BY_DRIVER and feeds ConIn from it). Reading it as well would steal half the bytes, so the port is read
 *   directly only when no driver holds it, or when the config asks for it (then the terminal driver is
 *   disconnected first). */
#include "efi_input.h"
#include "../efi/efisys.h"

static EFI_GUID ex_guid = EFI_SIMPLE_TEXT_INPUT_EX_PROTOCOL_GUID;
static EFI_GUID serial_guid = EFI_SERIAL_IO_PROTOCOL_GUID;

/* Returns the first SerialIo handle, or NULL. */
static EFI_HANDLE serial_handle(void)
{
    EFI_HANDLE *handles = NULL;
    UINTN n = 0;
    if (EFI_ERROR(g_bs->LocateHandleBuffer(ByProtocol, &serial_guid, NULL, &n, &handles)) || n == 0)
        return NULL;
    EFI_HANDLE h = handles[0];
    efi_free(handles);
    return h;
}

static int owned_by_driver(EFI_HANDLE h)
{
    EFI_OPEN_PROTOCOL_INFORMATION_ENTRY *entries = NULL;
    UINTN n = 0;
    int owned = 0;
    if (EFI_ERROR(g_bs->OpenProtocolInformation(h, &serial_guid, &entries, &n)))
        return 0;
    for (UINTN i = 0; i < n; i++)
        if (entries[i].Attributes & EFI_OPEN_PROTOCOL_BY_DRIVER)
            owned = 1;
    efi_free(entries);
    return owned;
}

static void open_serial(Input *in, int force)
{
    EFI_HANDLE h = serial_handle();
    if (!h)
        return;
    if (owned_by_driver(h)) {
        if (!force)
            return;
        g_bs->DisconnectController(h, NULL, NULL);
    }
    g_bs->HandleProtocol(h, &serial_guid, (void **)&in->serial);
}

EFI_STATUS input_init(Input *in, int force, int text_console)
{
    in->ex = NULL;
    in->in = g_st->ConIn;
    in->serial = NULL;
    in->delivered = 0;
    vt100_init(&in->vt);
    if ((force == -1 || force == INPUT_EX) && g_st->ConsoleInHandle)
        g_bs->HandleProtocol(g_st->ConsoleInHandle, &ex_guid, (void **)&in->ex);
    /* With a screen the terminal driver may keep the port (its keys reach ConIn); a text console takes it over
     * so that F-keys, which OVMF's terminal driver does not decode in its default mode, work too. */
    open_serial(in, force == INPUT_SERIAL || (force == -1 && text_console));
    if (force == INPUT_SERIAL && in->serial)
        in->ex = NULL, in->in = NULL; /* the serial path alone, as asked */
    in->source = in->ex ? INPUT_EX : in->in ? INPUT_SIMPLE : INPUT_SERIAL;
    EFI_STATUS st = g_bs->CreateEvent(EVT_TIMER, 0, NULL, NULL, &in->timer);
    if (EFI_ERROR(st))
        return st;
    return g_bs->SetTimer(in->timer, TimerPeriodic, 50 * 10000); /* 100 ns units */
}

void input_close(Input *in)
{
    if (in->timer)
        g_bs->CloseEvent(in->timer);
    in->timer = NULL;
}

static uint8_t shift_mods(UINT32 state)
{
    if (!(state & EFI_SHIFT_STATE_VALID))
        return 0;
    uint8_t m = 0;
    if (state & (EFI_LEFT_SHIFT_PRESSED | EFI_RIGHT_SHIFT_PRESSED))
        m |= MOD_SHIFT;
    if (state & (EFI_LEFT_CONTROL_PRESSED | EFI_RIGHT_CONTROL_PRESSED))
        m |= MOD_CTRL;
    if (state & (EFI_LEFT_ALT_PRESSED | EFI_RIGHT_ALT_PRESSED))
        m |= MOD_ALT;
    return m;
}

static int poll_serial(Input *in, Key *out)
{
    for (int budget = 0; budget < 64; budget++) {
        if (vt100_next(&in->vt, out)) /* a key the last byte completed besides the one it returned */
            return 1;
        UINT32 control = 0;
        if (EFI_ERROR(in->serial->GetControl(in->serial, &control)) || (control & EFI_SERIAL_INPUT_BUFFER_EMPTY))
            break;
        uint8_t b;
        UINTN n = 1;
        EFI_STATUS st = in->serial->Read(in->serial, &n, &b);
        if (EFI_ERROR(st) || n != 1)
            break;
        if (vt100_feed(&in->vt, b, clock_ms(), out))
            return 1;
    }
    return vt100_tick(&in->vt, clock_ms(), out);
}

int input_poll(Input *in, Key *out)
{
    if (in->ex) {
        EFI_KEY_DATA kd;
        while (!EFI_ERROR(in->ex->ReadKeyStrokeEx(in->ex, &kd))) {
            if (kd.Key.ScanCode == 0 && kd.Key.UnicodeChar == 0)
                continue; /* a partial key */
            out->scan = kd.Key.ScanCode;
            out->cp = kd.Key.UnicodeChar;
            out->mods = shift_mods(kd.KeyState.KeyShiftState);
            in->delivered |= 1u << INPUT_EX;
            return 1;
        }
    } else if (in->in) {
        EFI_INPUT_KEY k;
        while (!EFI_ERROR(in->in->ReadKeyStroke(in->in, &k))) {
            if (k.ScanCode == 0 && k.UnicodeChar == 0)
                continue;
            out->scan = k.ScanCode;
            out->cp = k.UnicodeChar;
            out->mods = 0;
            in->delivered |= 1u << INPUT_SIMPLE;
            return 1;
        }
    }
    if (!in->serial || !poll_serial(in, out))
        return 0;
    in->delivered |= 1u << INPUT_SERIAL;
    return 1;
}

void input_wait(Input *in)
{
    EFI_EVENT events[2];
    UINTN n = 0, index;
    if (in->ex)
        events[n++] = in->ex->WaitForKeyEx;
    else if (in->in)
        events[n++] = in->in->WaitForKey;
    events[n++] = in->timer;
    g_bs->WaitForEvent(n, events, &index);
}

const char *input_source_name(const Input *in)
{
    if (in->serial)
        return in->ex ? "SimpleTextInputEx + serial (VT100)" : in->in ? "SimpleTextInput + serial (VT100)"
                                                             : "serial (VT100)";
    return in->ex ? "SimpleTextInputEx" : "SimpleTextInput";
}
