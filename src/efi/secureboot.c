/* secureboot.c - what the firmware says about Secure Boot: the global SecureBoot and SetupMode variables, and
 * whether shim started us (shim keeps its SHIM_LOCK protocol installed while its second stage runs). Only reads;
 * never writes a variable, so a locked-down laptop is left exactly as it was. */
#include "efisys.h"

static EFI_GUID global_guid = EFI_GLOBAL_VARIABLE;
/* SHIM_LOCK_GUID from shim's shim.h (a protocol GUID is an interface fact, not code). */
static EFI_GUID shim_lock_guid = {0x605dab50, 0xe046, 0x4300, {0xab, 0xb6, 0x3d, 0xd8, 0x10, 0xdd, 0x8b, 0x23}};

/* A one-byte global variable; 0 when it is missing or not one byte (firmware without Secure Boot, e.g. U-Boot
 * built without it, has no SecureBoot variable at all). */
static int read_flag(CHAR16 *name, uint8_t *value)
{
    UINT32 attr;
    UINTN size = 1;
    *value = 0;
    EFI_STATUS st = g_st->RuntimeServices->GetVariable(name, &global_guid, &attr, &size, value);
    return !EFI_ERROR(st) && size == 1;
}

void secureboot_query(SecureBootInfo *sb)
{
    uint8_t v;
    sb->known = read_flag(L"SecureBoot", &v);
    sb->on = sb->known && v == 1;
    sb->setup_mode = read_flag(L"SetupMode", &v) && v == 1;
    void *iface = NULL;
    sb->shim = !EFI_ERROR(g_bs->LocateProtocol(&shim_lock_guid, NULL, &iface)) && iface != NULL;
}

const char *secureboot_describe(const SecureBootInfo *sb)
{
    if (sb->on)
        return sb->shim ? "on, started by shim" : "on";
    if (sb->setup_mode)
        return sb->shim ? "off (setup mode), started by shim" : "off (setup mode: no platform key)";
    if (!sb->known)
        return "off (no SecureBoot variable)";
    return sb->shim ? "off, started by shim" : "off";
}
