# mk/disk.mk - the bootable disk image and QEMU: `make disk`, `make run`, `make run-serial`.
# The image is built without root or loop devices (tools/mkimage.sh: sgdisk + mtools); QEMU is started only through
# tools/qemu_run.sh, which the e2e tests (tests/e2e/) use too, so `make run` boots exactly what the tests boot.

EFI_APP   ?= $(BUILD)/efichat.efi
DISK_IMG  := $(BUILD)/efichat.img
DISK_MB   ?= 64
OVMF_CODE ?= /usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS ?= /usr/share/OVMF/OVMF_VARS_4M.fd
QEMU_ENV   = OVMF_CODE=$(OVMF_CODE) OVMF_VARS=$(OVMF_VARS) VARS_COPY=$(BUILD)/OVMF_VARS.fd

# QEMU's window (gtk/sdl) lives in qemu-system-gui, which deps.sh's --no-install-recommends would leave out.
DEPS_PKGS += qemu-system-gui

.PHONY: disk run run-serial

disk: $(DISK_IMG)

# The user README gets DOS line endings: whoever opens the stick on Windows reads it in Notepad.
$(BUILD)/disk/README.txt: disk/README.txt
	@mkdir -p $(dir $@)
	$(Q)sed 's/\r*$$/\r/' $< > $@

$(DISK_IMG): $(EFI_APP) $(BUILD)/disk/README.txt tools/mkimage.sh | $(DEPS_STAMP)
	@echo "  IMG     $@"
	$(Q)DISK_MB=$(DISK_MB) sh tools/mkimage.sh $@ $(EFI_APP) efichat/README.txt=$(BUILD)/disk/README.txt

# Window when a display is there, else the chat over serial in this terminal (tools/qemu_run.sh decides and says
# how to quit). run-serial always uses the terminal.
run: $(DISK_IMG)
	$(Q)$(QEMU_ENV) sh tools/qemu_run.sh $(DISK_IMG)

run-serial: $(DISK_IMG)
	$(Q)$(QEMU_ENV) MODE=serial sh tools/qemu_run.sh $(DISK_IMG)

TEST_DEPS += $(DISK_IMG)
