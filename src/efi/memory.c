/* memory.c - what the firmware's memory map says about memory: the total report.txt shows, and the free figure
 * that `memlog=1` prints after every reply so a long run (make soak) can tell a leak from a steady state.
 * Only reads the map; the buffer it needs is pool memory, freed before it returns. */
#include "efisys.h"
#include "../chat/fmt.h"

uint64_t memory_map_kib(int loader_too)
{
    UINTN size = 0, key, desc_size;
    UINT32 version;
    EFI_MEMORY_DESCRIPTOR *map = NULL;
    EFI_STATUS st = g_bs->GetMemoryMap(&size, map, &key, &desc_size, &version);
    if (st != EFI_BUFFER_TOO_SMALL)
        return 0;
    size += 4 * desc_size; /* the allocation below may split a region */
    map = efi_alloc(size);
    if (!map)
        return 0;
    uint64_t pages = 0;
    if (!EFI_ERROR(g_bs->GetMemoryMap(&size, map, &key, &desc_size, &version)))
        for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
            EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)((uint8_t *)map + off);
            if (d->Type == EfiConventionalMemory ||
                (loader_too && (d->Type == EfiLoaderData || d->Type == EfiLoaderCode)))
                pages += d->NumberOfPages;
        }
    efi_free(map);
    return pages * 4;
}

void memory_log_line(uint32_t ctx_slides)
{
    char buf[80];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: memory free_kib=");
    fmt_u64(&f, memory_map_kib(0));
    fmt_str(&f, " ctx_slides=");
    fmt_u64(&f, ctx_slides);
    mirror_line(buf);
}
