#!/bin/sh
# mkimage.sh OUT EFI_APP [ESP_PATH=HOST_FILE ...] - writes a GPT disk image with one EFI System Partition (FAT32)
# holding EFI_APP as EFI/BOOT/BOOTX64.EFI and any extra files (e.g. efichat/README.txt=disk/README.txt).
# With SHIM_EFI (and MM_EFI) set, the Secure Boot layout instead: shim as EFI/BOOT/BOOTX64.EFI, its MokManager as
# EFI/BOOT/mmx64.efi and EFI_APP as EFI/BOOT/grubx64.efi, the name shim starts. No fbx64.efi: on removable media
# shim would run that fallback loader instead of EFI_APP.
# Needs no root and no loop device: sgdisk writes the partition table, mtools formats and fills the partition in
# place through an "image@@offset" path. Never touches anything but OUT (written via OUT.tmp, then renamed).
# Environment: DISK_MB (image size in MiB, default 64; FAT32 needs at least 34), ESP_LABEL (default EFICHAT),
# AA64_APP (the AArch64 build, put beside the x86 one as EFI/BOOT/BOOTAA64.EFI, the name ARM firmware starts; no
# shim for it yet, so an ARM machine boots it with Secure Boot off).
set -eu

usage() { echo "usage: $0 OUT EFI_APP [ESP_PATH=HOST_FILE ...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
out=$1; app=$2; shift 2
size_mb=${DISK_MB:-64}
label=${ESP_LABEL:-EFICHAT}

for t in sgdisk mformat mmd mcopy; do
    command -v "$t" >/dev/null 2>&1 || { echo "$0: $t not found (apt-get install gdisk mtools)" >&2; exit 1; }
done
[ -f "$app" ] || { echo "$0: no EFI application at $app" >&2; exit 1; }
[ -z "${AA64_APP:-}" ] || [ -f "$AA64_APP" ] || { echo "$0: no AArch64 EFI application at $AA64_APP" >&2; exit 1; }
if [ -n "${SHIM_EFI:-}" ]; then
    for f in "$SHIM_EFI" "${MM_EFI:-}"; do
        [ -f "$f" ] || { echo "$0: no shim file '$f' (apt-get install shim-signed shim-helpers-amd64-signed)" >&2; exit 1; }
    done
fi
[ "$size_mb" -ge 34 ] || { echo "$0: DISK_MB=$size_mb is too small for FAT32 (34 MiB at least)" >&2; exit 1; }

tmp=$out.tmp
rm -f "$tmp"
truncate -s "${size_mb}M" "$tmp"

# The ESP starts at 1 MiB (sector 2048, aligned for flash media) and runs to the end minus the backup GPT.
sgdisk --clear --new=1:2048:0 --typecode=1:ef00 --change-name=1:"EFI System" "$tmp" >/dev/null
first=$(sgdisk --info=1 "$tmp" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
last=$(sgdisk --info=1 "$tmp" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
sectors=$((last - first + 1))
esp="$tmp@@$((first * 512))"

# mformat must be told the partition's size (-T): without it, it sizes the FAT for the whole image and OVMF refuses
# to mount the volume (it falls into its shell instead of booting). -F forces FAT32, the file system the UEFI spec names
# for system partitions, which every firmware reads (on USB sticks too). -H: the boot sector's "hidden sectors" is the partition's
# start, as on a disk partitioned by an OS (some firmware checks it). MTOOLS_SKIP_CHECK: no DOS geometry to check.
export MTOOLS_SKIP_CHECK=1
mformat -i "$esp" -F -T "$sectors" -H "$first" -h 64 -s 32 -v "$label" ::
mmd -i "$esp" ::/EFI ::/EFI/BOOT
if [ -n "${SHIM_EFI:-}" ]; then
    mcopy -i "$esp" "$SHIM_EFI" ::/EFI/BOOT/BOOTX64.EFI
    mcopy -i "$esp" "$MM_EFI" ::/EFI/BOOT/mmx64.efi
    mcopy -i "$esp" "$app" ::/EFI/BOOT/grubx64.efi
else
    mcopy -i "$esp" "$app" ::/EFI/BOOT/BOOTX64.EFI
fi
[ -z "${AA64_APP:-}" ] || mcopy -i "$esp" "$AA64_APP" ::/EFI/BOOT/BOOTAA64.EFI

for spec in "$@"; do
    dest=${spec%%=*}; src=${spec#*=}
    [ "$dest" != "$spec" ] || usage
    [ -f "$src" ] || { echo "$0: no file $src for $dest" >&2; exit 1; }
    # create every missing parent folder of dest, then copy (mcopy -o overwrites a file added earlier)
    dir=$(dirname "$dest"); path=""
    for part in $(echo "$dir" | tr '/' ' '); do
        [ "$part" = "." ] && continue
        path="$path/$part"
        mmd -i "$esp" "::$path" 2>/dev/null || true
    done
    mcopy -o -i "$esp" "$src" "::/$dest"
done

mv "$tmp" "$out"
