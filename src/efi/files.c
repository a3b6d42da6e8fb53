/* files.c - reading a file from the boot volume (see efisys.h). The volume is the one the loaded image came from
 * (LoadedImage->DeviceHandle), so a USB stick's files win over any other disk's. */
#include "efisys.h"

static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;

/* The root directory of the volume the image was loaded from. EFI_NOT_FOUND when that is no file system (loaded
 * from the network or a firmware volume). */
static EFI_STATUS open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root)
{
    EFI_LOADED_IMAGE *li;
    EFI_FILE_IO_INTERFACE *fs;
    EFI_STATUS st = g_bs->HandleProtocol(image, &loaded_image_guid, (void **)&li);
    if (EFI_ERROR(st))
        return st;
    if (EFI_ERROR(g_bs->HandleProtocol(li->DeviceHandle, &fs_guid, (void **)&fs)))
        return EFI_NOT_FOUND;
    return fs->OpenVolume(fs, root);
}

EFI_STATUS file_read_all(EFI_HANDLE image, const CHAR16 *path, size_t max_bytes, uint8_t **out, size_t *len)
{
    EFI_FILE_HANDLE root, file;
    *out = NULL;
    *len = 0;
    EFI_STATUS st = open_root(image, &root);
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

/* Opens path on the boot volume with File->Open's mode and attributes, and closes it again. */
static EFI_STATUS open_and_close(EFI_HANDLE image, const CHAR16 *path, UINT64 mode, UINT64 attributes)
{
    EFI_FILE_HANDLE root, file;
    EFI_STATUS st = open_root(image, &root);
    if (EFI_ERROR(st))
        return st;
    st = root->Open(root, &file, (CHAR16 *)path, mode, attributes);
    root->Close(root);
    if (EFI_ERROR(st))
        return st;
    return file->Close(file);
}

EFI_STATUS file_exists(EFI_HANDLE image, const CHAR16 *path)
{
    return open_and_close(image, path, EFI_FILE_MODE_READ, 0);
}

/* Opening an existing directory with CREATE just opens it. */
EFI_STATUS file_make_dir(EFI_HANDLE image, const CHAR16 *path)
{
    return open_and_close(image, path, EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE | EFI_FILE_MODE_CREATE,
                          EFI_FILE_DIRECTORY);
}

/* Empties an open file: SetInfo with size 0, else (firmware whose SetInfo refuses) delete it and create it again. */
static EFI_STATUS truncate(EFI_FILE_HANDLE root, const CHAR16 *path, EFI_FILE_HANDLE *file)
{
    union {
        EFI_FILE_INFO info;
        uint8_t raw[SIZE_OF_EFI_FILE_INFO + 512];
    } u;
    UINTN info_len = sizeof u;
    EFI_STATUS st = (*file)->GetInfo(*file, &file_info_guid, &info_len, &u.info);
    if (EFI_ERROR(st))
        return st;
    if (u.info.FileSize == 0)
        return EFI_SUCCESS;
    u.info.FileSize = 0;
    if (!EFI_ERROR((*file)->SetInfo(*file, &file_info_guid, info_len, &u.info)))
        return EFI_SUCCESS;
    st = (*file)->Delete(*file); /* closes the handle, even when it fails (EFI_WARN_DELETE_FAILURE) */
    *file = NULL;
    if (st != EFI_SUCCESS)
        return EFI_ACCESS_DENIED;
    return root->Open(root, file, (CHAR16 *)path, EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE | EFI_FILE_MODE_CREATE,
                      0);
}

EFI_STATUS file_write_all(EFI_HANDLE image, const CHAR16 *path, const void *data, size_t len, int replace)
{
    EFI_FILE_HANDLE root, file = NULL;
    EFI_STATUS st = open_root(image, &root);
    if (EFI_ERROR(st))
        return st;
    if (!replace && root->Open(root, &file, (CHAR16 *)path, EFI_FILE_MODE_READ, 0) == EFI_SUCCESS) {
        file->Close(file);
        root->Close(root);
        return EFI_ACCESS_DENIED;
    }
    st = root->Open(root, &file, (CHAR16 *)path, EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE | EFI_FILE_MODE_CREATE,
                    0);
    if (!EFI_ERROR(st))
        st = truncate(root, path, &file);
    root->Close(root);
    if (EFI_ERROR(st)) {
        if (file)
            file->Close(file);
        return st;
    }
    UINTN n = len;
    st = file->Write(file, &n, (void *)data);
    if (!EFI_ERROR(st) && n != len)
        st = EFI_VOLUME_FULL; /* FAT writes all or fails; a short write can only mean no room */
    EFI_STATUS flushed = file->Flush(file);
    if (!EFI_ERROR(st))
        st = flushed;
    EFI_STATUS closed = file->Close(file);
    return EFI_ERROR(st) ? st : closed;
}

const char *file_error_phrase(EFI_STATUS st)
{
    switch (st) {
    case EFI_WRITE_PROTECTED: return "the boot volume is read-only";
    case EFI_VOLUME_FULL: return "the boot volume is full";
    case EFI_NOT_FOUND: return "the app was not started from a file system";
    case EFI_ACCESS_DENIED: return "access denied";
    case EFI_NO_MEDIA: case EFI_MEDIA_CHANGED: return "the stick was removed";
    case EFI_DEVICE_ERROR: case EFI_VOLUME_CORRUPTED: return "the volume has a device error";
    default: return "the firmware refused";
    }
}

/* For readers that need more than file_read_all (src/efi/models.c lists a folder and reads in chunks). */
EFI_STATUS file_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root) { return open_root(image, root); }
