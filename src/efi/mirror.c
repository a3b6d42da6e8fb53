/* mirror.c - the serial mirror (see efisys.h). */
#include "efisys.h"

static EFI_GUID serial_guid = EFI_SERIAL_IO_PROTOCOL_GUID;
static EFI_SERIAL_IO_PROTOCOL *serial;
static int use_conout, conout_adds_cr, line_start = 1;

/* U-Boot's ConOut turns every "\n" into "\r\n" itself (EDK II's passes it through), so our "\r\n" reached the
 * terminal as "\r\r\n". Its system table names it: FirmwareVendor "Das U-Boot". */
static int firmware_is_uboot(void)
{
    static const CHAR16 uboot[] = L"Das U-Boot";
    const CHAR16 *v = g_st->FirmwareVendor;
    if (!v)
        return 0;
    for (size_t i = 0; uboot[i]; i++)
        if (v[i] != uboot[i])
            return 0;
    return 1;
}

void mirror_init(int text_console)
{
    use_conout = text_console;
    conout_adds_cr = firmware_is_uboot();
    serial = NULL;
    if (!text_console)
        g_bs->LocateProtocol(&serial_guid, NULL, (void **)&serial); /* none: the mirror is silent */
}

static void conout_bytes(const char *s, size_t n)
{
    CHAR16 buf[130];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '\n' && !conout_adds_cr)
            buf[k++] = '\r';
        /* UTF-8 continuation bytes are dropped and lead bytes shown as '?': ConOut fonts rarely have more. */
        if (c < 0x80)
            buf[k++] = c;
        else if (c >= 0xC0)
            buf[k++] = '?';
        if (k >= 126 || i + 1 == n) {
            buf[k] = 0;
            g_st->ConOut->OutputString(g_st->ConOut, buf);
            k = 0;
        }
    }
}

static void serial_bytes(const char *s, size_t n)
{
    char buf[128];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            buf[k++] = '\r';
        buf[k++] = s[i];
        if (k >= 126 || i + 1 == n) {
            UINTN len = k;
            serial->Write(serial, &len, buf);
            k = 0;
        }
    }
}

void mirror_bytes(const char *s, size_t n)
{
    if (n == 0)
        return;
    line_start = s[n - 1] == '\n';
    if (use_conout)
        conout_bytes(s, n);
    else if (serial)
        serial_bytes(s, n);
}

void mirror_str(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    mirror_bytes(s, n);
}

int mirror_at_line_start(void) { return line_start; }

void mirror_line(const char *s) { mirror_line2(s, ""); }

void mirror_line2(const char *head, const char *text)
{
    if (!line_start)
        mirror_bytes("\n", 1);
    mirror_str(head);
    mirror_str(text);
    mirror_bytes("\n", 1);
}
