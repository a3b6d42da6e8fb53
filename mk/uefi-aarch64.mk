# mk/uefi-aarch64.mk - BOOTAA64.EFI, the UEFI app for AArch64: `make efi-aarch64` -> build/aarch64/efichat.efi.
# Read after efi.mk and disk.mk (the Makefile includes mk/*.mk in name order): it reuses their source lists and
# the embedded model, and mk/aarch64.mk's cross compiler and core flags.
# gnu-efi's AArch64 build, as Debian ships it for arm64: aarch64-linux-gnu-gcc and ld, gnu-efi's crt0 (which carries
# a hand-written PE header) and linker script, then objcopy -O binary. Chosen over clang + lld-link writing PE
# because it is the same toolchain, headers and library as the x86-64 app (mk/efi.mk). gnu-efi:arm64 cannot be
# installed beside gnu-efi (amd64): both own /usr/lib/libefi.a, so apt would remove the x86 one. `make deps`
# therefore unpacks the arm64 package into AA64_GNUEFI (tools/unpack_deb.sh) instead of installing it.
AA64_GNUEFI  ?= /usr/local/lib/efichat/gnu-efi-arm64
AA64_EFI_INC := $(AA64_GNUEFI)/usr/include/efi
AA64_EFI_LIB := $(AA64_GNUEFI)/usr/lib
AA64_LD      ?= aarch64-linux-gnu-ld
AA64_OBJCOPY ?= aarch64-linux-gnu-objcopy
AA64_EFI_OUT := $(AA64_OUT)/efi
AA64_EFI_APP := $(AA64_OUT)/efichat.efi

$(AA64_GNUEFI)/.unpacked: tools/unpack_deb.sh
	$(Q)sh tools/unpack_deb.sh gnu-efi:arm64 $(AA64_GNUEFI) && touch $@

# No -mno-red-zone (AArch64's ABI has no red zone) and no MS ABI (UEFI on AArch64 uses the standard AAPCS64).
# stb_truetype.h comes from libstb-dev under /usr/include, which the cross compiler does not search: -idirafter
# reaches it after the cross headers, so <stdint.h> and friends still come from the AArch64 side.
# -mno-outline-atomics: GCC would call libgcc's __aarch64_ldadd4_acq_rel (the app has no libgcc) for mp.c's atomics.
AA64_EFI_ABI_FLAGS := -ffreestanding -fshort-wchar -fno-stack-protector -fno-stack-check -mno-outline-atomics
AA64_EFI_CORE_FLAGS := $(AA64_CORE_FLAGS) $(AA64_EFI_ABI_FLAGS)
AA64_EFI_CFLAGS := $(AA64_EFI_CORE_FLAGS) -I$(AA64_EFI_INC) -I$(AA64_EFI_INC)/aarch64 -idirafter /usr/include \
                   -DEFICHAT_EMBEDDED_RANDOM=$(EFI_RANDOM)

AA64_EFI_OBJS := $(CONSOLE_SRCS:src/%.c=$(AA64_EFI_OUT)/%.o) $(EFI_SRCS:src/%.c=$(AA64_EFI_OUT)/%.o) \
                 $(CORE_SRCS:src/%.c=$(AA64_EFI_OUT)/core/%.o) $(AA64_EFI_OUT)/efi/blobs.o

.PHONY: efi-aarch64
efi-aarch64: $(AA64_EFI_APP)

$(AA64_EFI_OUT)/.tools-ok: | $(AA64_OUT)/.tools-ok
	@test -f $(AA64_EFI_LIB)/crt0-efi-aarch64.o -a -f $(AA64_EFI_INC)/aarch64/efibind.h || \
	    { echo "gnu-efi for arm64 is missing in $(AA64_GNUEFI): run 'make deps'"; exit 1; }
	@mkdir -p $(dir $@) && touch $@

$(AA64_EFI_OUT)/core/%.o: src/%.c $(CORE_HDRS) | $(AA64_EFI_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(AA64_CC) $(AA64_EFI_CORE_FLAGS) -c $< -o $@

$(AA64_EFI_OUT)/%.o: src/%.c $(CONSOLE_HDRS) $(CORE_HDRS) | $(AA64_EFI_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(AA64_CC) $(AA64_EFI_CFLAGS) -c $< -o $@

$(AA64_EFI_OUT)/efi/main.o: $(EFI_OUT)/model-choice

$(AA64_EFI_OUT)/efi/blobs.o: src/efi/blobs.S $(EFI_FONT) $(EFI_MODEL) | $(AA64_EFI_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  AS      $@ ($(EFI_MODEL))"
	$(Q)$(AA64_CC) -c -DEFICHAT_FONT_FILE='"$(EFI_FONT)"' -DEFICHAT_MODEL_FILE='"$(EFI_MODEL)"' $< -o $@

# EFI_SUBSYSTEM fills the subsystem field of crt0's PE header (10: EFI application).
$(AA64_EFI_OUT)/efichat.so: $(AA64_EFI_OBJS)
	@echo "  LD      $@"
	$(Q)$(AA64_LD) -nostdlib -znocombreloc --no-undefined --no-warn-rwx-segments -shared -Bsymbolic \
	    -T $(AA64_EFI_LIB)/elf_aarch64_efi.lds \
	    --defsym=EFI_SUBSYSTEM=0xa -L$(AA64_EFI_LIB) $(AA64_EFI_LIB)/crt0-efi-aarch64.o $(AA64_EFI_OBJS) \
	    -lefi -lgnuefi -o $@

# -O binary ends the file at the last byte of .data's contents, but crt0's header declares .data up to _edata (the
# linker script aligns it to 512): EDK II (AAVMF 2022.11) then refuses the image, "Unsupported", for raw data past
# the end of the file. truncate -s %512 pads the file to that size with zeros.
$(AA64_EFI_APP): $(AA64_EFI_OUT)/efichat.so
	@echo "  EFI     $@"
	$(Q)$(AA64_OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .rodata -j .rel -j .rela -j .rel.* -j .rela.* \
	    -j .reloc -O binary $< $@.tmp
	$(Q)truncate -s %512 $@.tmp && mv $@.tmp $@

# `make disk`: BOOTAA64.EFI beside BOOTX64.EFI, so one stick starts on x86-64 and AArch64 machines. It is efichat
# itself in both layouts: there is no shim for it yet (Debian's shim-signed:arm64 would have to be unpacked like
# gnu-efi), so an ARM machine starts it with Secure Boot off. ARM64=0 leaves it out (and needs no cross tools).
ARM64 ?= 1
ifeq ($(ARM64),1)
$(DEPS_STAMP): $(AA64_GNUEFI)/.unpacked   # make deps (and the first make test) unpack it too
DISK_ENV += AA64_APP=$(AA64_EFI_APP)
$(DISK_IMG): $(AA64_EFI_APP)
TEST_DEPS += $(AA64_EFI_APP)
else ifneq ($(ARM64),0)
$(error ARM64 must be 1 (BOOTAA64.EFI on the disk, the default) or 0 (x86-64 only), not '$(ARM64)')
endif
# The image is rebuilt when ARM64 changes, as disk-choice does for SHIM.
$(DISK_IMG): $(BUILD)/disk-arm64-choice
$(BUILD)/disk-arm64-choice: FORCE_DISK_CHOICE
	@mkdir -p $(dir $@)
	@echo "$(ARM64)" | cmp -s - $@ || echo "$(ARM64)" > $@

# The same image on AAVMF under qemu-system-aarch64 (tools/qemu_run.sh ARCH=aarch64), window or serial as `make run`.
.PHONY: run-aarch64 run-serial-aarch64
run-aarch64: $(DISK_IMG)
	$(Q)ARCH=aarch64 VARS_COPY=$(BUILD)/AAVMF_VARS.fd sh tools/qemu_run.sh $(DISK_IMG)
run-serial-aarch64: $(DISK_IMG)
	$(Q)ARCH=aarch64 MODE=serial VARS_COPY=$(BUILD)/AAVMF_VARS.fd sh tools/qemu_run.sh $(DISK_IMG)
