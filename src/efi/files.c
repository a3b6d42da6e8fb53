/* files.c - reading a file from the boot volume (see efisys.h). The volume is the one the loaded image came from
 * (LoadedImage->DeviceHandle), so a USB stick's files win over any other disk's. */
#include "efisys.h"

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;

EFI_STATUS file_read_all(EFI_HANDLE image, const CHAR16 *path, size_t max_bytes, uint8_t **out, size_t *len)
{
    EFI_LOADED_IMAGE *li;
    EFI_FILE_IO_INTERFACE *fs;
    EFI_FILE_HANDLE root, file;
    EFI_STATUS st;
    *out = NULL;
    *len = 0;
    st = g_bs->HandleProtocol(image, &loaded_image_guid, (void **)&li);
    if (EFI_ERROR(st))
        return st;
    st = g_bs->HandleProtocol(li->DeviceHandle, &fs_guid, (void **)&fs);
    if (EFI_ERROR(st))
        return EFI_NOT_FOUND; /* loaded from the network or a firmware volume: no files to look at */
    st = fs->OpenVolume(fs, &root);
    if (EFI_ERROR(st))
        return st;
    st = root->Open(root, &file, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
    root->Close(root);
    if (EFI_ERROR(st))
        return st;
    union {
        EFI_FILE_INFO info;
        uint8_t raw[SIZE_OF_EFI_FILE_INFO + 512];
    } u;
    UINTN info_len = sizeof u;
    st = file->GetInfo(file, &file_info_guid, &info_len, &u.info);
    if (!EFI_ERROR(st) && (u.info.Attribute & EFI_FILE_DIRECTORY))
        st = EFI_NOT_FOUND;
    if (!EFI_ERROR(st) && u.info.FileSize > max_bytes)
        st = EFI_BAD_BUFFER_SIZE; /* checked before anything is allocated or read */
    uint8_t *buf = NULL;
    if (!EFI_ERROR(st)) {
        buf = efi_alloc(u.info.FileSize ? u.info.FileSize : 1);
        st = buf ? EFI_SUCCESS : EFI_OUT_OF_RESOURCES;
    }
    UINTN got = EFI_ERROR(st) ? 0 : u.info.FileSize;
    if (!EFI_ERROR(st))
        st = file->Read(file, &got, buf);
    file->Close(file);
    if (EFI_ERROR(st)) {
        efi_free(buf);
        return st;
    }
    *out = buf;
    *len = got;
    return EFI_SUCCESS;
}
