#!/bin/sh
# qemu_run.sh IMAGE [EXTRA_QEMU_ARGS...] - boots a GPT disk image on OVMF (the one place that builds efichat's QEMU
# command line: `make run`, `make run-serial` and the e2e tests all come through here). Never writes to the OVMF files
# from Debian: the firmware code is a read-only pflash, the variable store a writable copy under build/.
#
# Environment (all optional):
#   MODE       window | serial | test   (default: window when $DISPLAY or $WAYLAND_DISPLAY is set, else serial)
#              window: a QEMU window, the serial mirror of the chat in this terminal;
#              serial: no window and no display device: the app's text console over serial in this terminal
#                      (monitor muxed in: Ctrl-A X quits);
#              test:   no window, no monitor, serial on stdin/stdout (for the e2e harness, which adds -qmp itself).
#   SECURE_BOOT  off | ms | snakeoil  (default off) - Debian's OVMF builds that enforce Secure Boot: ms has
#              Microsoft's keys (what a PC ships with: shim boots, efichat needs enrolling), snakeoil has Debian's
#              test key in db (an efichat signed with /usr/share/ovmf/PkKek-1-snakeoil.key boots). Both need SMM.
#   ARCH       x86_64 | aarch64  (default x86_64) - aarch64: qemu-system-aarch64 -M virt -cpu max (TCG) on AAVMF
#              (EDK II for ARM, qemu-efi-aarch64), which starts EFI/BOOT/BOOTAA64.EFI from the same image; a
#              ramfb screen (none in serial mode), the disk on virtio-blk, the keyboard on xHCI (virt has no PS/2);
#              SECURE_BOOT=off only, OVMF_CODE/OVMF_VARS name the AAVMF files
#   FIRMWARE   ovmf | uboot  (default ovmf) - uboot: U-Boot's own UEFI (u-boot-qemu's qemu-x86_64 u-boot.rom, or
#              UBOOT_ROM), no variable store and no Secure Boot; it starts only the plain image (SHIM=0), see
#              docs/hardware.md
#   CPU        a QEMU -cpu model (default: max under TCG, whose AVX2 the app's TCG-friendly Q8 path uses, ~2x
#              QEMU's own qemu64 (SSE2 only); host under KVM), e.g. qemu64
#   OVMF_CODE  firmware code   (default /usr/share/OVMF/OVMF_CODE_4M.fd, or the SECURE_BOOT one)
#   OVMF_VARS  variable store template (default /usr/share/OVMF/OVMF_VARS_4M.fd, or the SECURE_BOOT one)
#   VARS_COPY  writable copy of the variable store (default build/OVMF_VARS-$SECURE_BOOT.fd; made when missing or
#              FRESH_VARS=1)
#   DISK_BUS   sata | usb | nvme | virtio (default sata, on aarch64 virtio: the image as an AHCI hard disk; usb: as
#              a USB stick on xHCI; nvme: as an NVMe drive; virtio: virtio-blk)
#   KEYBOARD   both | usb | ps2  (default both; usb turns the PS/2 controller off, ps2 adds no USB keyboard)
#   SMP, MEM   (default 2, 512M)
#   ACCEL      kvm | tcg (default: KVM when it really runs OVMF, else TCG; the answer is cached in build/.accel)
#   SNAPSHOT=1 writes to the image go to a temporary file (the tests use it; the image stays as built)
#   READONLY=1 the disk is write-protected, as a stick with its lock switch on (needs DISK_BUS=usb: QEMU's IDE disk
#              cannot be read-only)
set -eu

[ $# -ge 1 ] || { echo "usage: $0 IMAGE [EXTRA_QEMU_ARGS...]" >&2; exit 2; }
img=$1; shift
qemu=${QEMU:-qemu-system-x86_64}
machine=q35
arch=${ARCH:-x86_64}
case $arch in
    x86_64) ;;
    aarch64)
        [ "${SECURE_BOOT:-off}" = off ] || { echo "$0: ARCH=aarch64 runs with SECURE_BOOT=off only" >&2; exit 2; }
        [ "${FIRMWARE:-ovmf}" = ovmf ] || { echo "$0: ARCH=aarch64 runs on AAVMF (FIRMWARE=ovmf) only" >&2; exit 2; }
        qemu=${QEMU:-qemu-system-aarch64}
        machine=virt
        # Debian's AAVMF files are already the 64 MiB that -M virt's two pflash banks must be.
        OVMF_CODE=${OVMF_CODE:-/usr/share/AAVMF/AAVMF_CODE.fd}
        OVMF_VARS=${OVMF_VARS:-/usr/share/AAVMF/AAVMF_VARS.fd}
        ACCEL=tcg    # an x86 host runs AArch64 only under TCG
        CPU=${CPU:-max}
        DISK_BUS=${DISK_BUS:-virtio}
        [ "${KEYBOARD:-both}" != ps2 ] || { echo "$0: -M virt has no PS/2 controller: KEYBOARD=usb" >&2; exit 2; }
        KEYBOARD=arm-usb ;;
    *) echo "$0: ARCH must be x86_64 or aarch64, not $arch" >&2; exit 2 ;;
esac
case ${SECURE_BOOT:-off} in
    off)      code=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
              vars=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd} ;;
    ms)       code=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.secboot.fd}
              vars=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.ms.fd} ;;
    snakeoil) code=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd}
              vars=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd} ;;
    *) echo "$0: SECURE_BOOT must be off, ms or snakeoil, not $SECURE_BOOT" >&2; exit 2 ;;
esac
# The Secure Boot builds keep their variables behind SMM: without smm=on and a secure pflash they stop at start.
[ "${SECURE_BOOT:-off}" = off ] || machine="q35,smm=on -global driver=cfi.pflash01,property=secure,value=on"
vars_copy=${VARS_COPY:-build/OVMF_VARS-${SECURE_BOOT:-off}.fd}
[ "$arch" = x86_64 ] || vars_copy=${VARS_COPY:-build/AAVMF_VARS.fd}
bus=${DISK_BUS:-sata}
kbd=${KEYBOARD:-both}
if [ -z "${MODE:-}" ]; then
    if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then MODE=window; else MODE=serial; fi
fi

if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "$0: $qemu not found (apt-get install qemu-system-x86, or qemu-system-arm for ARCH=aarch64)" >&2; exit 1
fi
for f in "$code" "$vars"; do
    [ -f "$f" ] || { echo "$0: no OVMF firmware at $f (apt-get install ovmf, or set OVMF_CODE/OVMF_VARS)" >&2; exit 1; }
done
[ -f "$img" ] || { echo "$0: no disk image at $img (make disk)" >&2; exit 1; }
if [ ! -f "$vars_copy" ] || [ "${FRESH_VARS:-0}" = 1 ]; then
    mkdir -p "$(dirname "$vars_copy")"
    cp "$vars" "$vars_copy"
    chmod u+w "$vars_copy"
fi

# Some hosts (nested or sandboxed virtualisation) offer a /dev/kvm that opens fine and then fails on OVMF's first
# x87 instruction ("KVM internal error. Suberror: 1", the VM paused for ever). So KVM is used only after a 2-second
# trial run of OVMF reports the VM still running; the verdict is kept in build/.accel (make clean forgets it).
probe_accel() {
    [ -w /dev/kvm ] || { echo tcg; return; }
    st=$( (sleep 2; echo "info status"; echo quit) | timeout 20 "$qemu" -accel kvm -machine q35 -m 128M \
          -display none -nodefaults -nic none -serial none -monitor stdio \
          -drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" \
          -drive "if=pflash,format=raw,unit=1,readonly=on,file=$vars" 2>/dev/null | tr -d '\r' | grep -a 'VM status')
    case $st in *running*) echo kvm ;; *) echo tcg ;; esac
}
accel=${ACCEL:-}
if [ -z "$accel" ]; then
    cache=$(dirname "$vars_copy")/.accel
    [ -f "$cache" ] || { mkdir -p "$(dirname "$cache")"; probe_accel > "$cache"; }
    accel=$(cat "$cache")
fi

# Under KVM the guest gets the host's CPU. Under TCG -cpu max offers AVX2, and the app's avx2-mullo Q8 path (picked
# by timing at start) decodes about twice as fast as on QEMU's default qemu64 (SSE2): docs/performance.md.
cpu="-cpu max"
[ "$accel" = kvm ] && cpu="-cpu host"
[ -n "${CPU:-}" ] && cpu="-cpu $CPU"
# shellcheck disable=SC2086
set -- -accel "$accel" $cpu -machine $machine -m "${MEM:-512M}" -smp "${SMP:-2}" -nic none "$@"
case ${FIRMWARE:-ovmf} in
    ovmf)  set -- "$@" -drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" \
                       -drive "if=pflash,format=raw,unit=1,file=$vars_copy" ;;
    uboot) rom=${UBOOT_ROM:-/usr/lib/u-boot/qemu-x86_64/u-boot.rom}
           [ -f "$rom" ] || { echo "$0: no U-Boot at $rom (apt-get install u-boot-qemu)" >&2; exit 1; }
           set -- "$@" -bios "$rom" ;;
    *) echo "$0: FIRMWARE must be ovmf or uboot, not $FIRMWARE" >&2; exit 2 ;;
esac

snap=""
[ "${SNAPSHOT:-0}" = 1 ] && snap=",snapshot=on"
[ "${READONLY:-0}" = 1 ] && snap="$snap,readonly=on"
set -- "$@" -device qemu-xhci,id=xhci -drive "if=none,id=disk0,format=raw,file=$img$snap"
case $bus in
    sata) set -- "$@" -device ide-hd,drive=disk0,bus=ide.0,bootindex=0 ;;
    usb)  set -- "$@" -device usb-storage,drive=disk0,bus=xhci.0,bootindex=0 ;;
    nvme) set -- "$@" -device nvme,drive=disk0,serial=efichat0,bootindex=0 ;;
    virtio) set -- "$@" -device virtio-blk-pci,drive=disk0,bootindex=0 ;;
    *) echo "$0: DISK_BUS must be sata, usb, nvme or virtio, not $bus" >&2; exit 2 ;;
esac
case $kbd in
    both) set -- "$@" -device usb-kbd,bus=xhci.0 ;;
    usb)  set -- "$@" -device usb-kbd,bus=xhci.0 -machine i8042=off ;;
    ps2)  ;;
    arm-usb) set -- "$@" -device usb-kbd,bus=xhci.0 ;;   # ARCH=aarch64: no i8042 to switch off
    *) echo "$0: KEYBOARD must be both, usb or ps2, not $kbd" >&2; exit 2 ;;
esac

case $MODE in
    window)
        echo "efichat: QEMU window opening; the chat is mirrored here. Quit: close the window (or Ctrl-C here)." >&2
        set -- "$@" -serial stdio ;;
    serial)
        # No display device at all: the app then runs its text console, which echoes what is typed and reads the
        # port itself, so the terminal's F-keys work (OVMF's terminal driver would deliver "ESC O R" as letters).
        # Not -nographic: that muxes the monitor into stdio only when no other monitor (e.g. -qmp) is given, and
        # Ctrl-A X must quit however the command line was extended.
        echo "efichat: chat over serial in this terminal. Quit QEMU: Ctrl-A then X." >&2
        set -- "$@" -vga none -display none -serial mon:stdio ;;
    test)
        set -- "$@" -display none -serial stdio -monitor none ;;
    *) echo "$0: MODE must be window, serial or test, not $MODE" >&2; exit 2 ;;
esac
# -M virt has no display unless one is given: ramfb, the simplest framebuffer AAVMF drives (ARM_SCREEN=none: none).
if [ "$arch" = aarch64 ] && [ "$MODE" != serial ] && [ "${ARM_SCREEN:-ramfb}" != none ]; then
    set -- "$@" -device "${ARM_SCREEN:-ramfb}"
fi
exec "$qemu" "$@"
