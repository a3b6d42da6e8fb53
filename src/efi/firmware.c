/* firmware.c - what every UEFI file of efichat shares (see efisys.h): the system table, boot services and pool
 * memory. Set once by efi_main (entry.c) before anything else runs; main.c only wires the app together. */
#include "efisys.h"

EFI_SYSTEM_TABLE *g_st;
EFI_BOOT_SERVICES *g_bs;

void firmware_init(EFI_SYSTEM_TABLE *st)
{
    g_st = st;
    g_bs = st->BootServices;
}

void *efi_alloc(size_t bytes)
{
    void *p = NULL;
    if (EFI_ERROR(g_bs->AllocatePool(EfiLoaderData, bytes, &p)))
        return NULL;
    return p;
}

void efi_free(void *p)
{
    if (p)
        g_bs->FreePool(p);
}
