# mk/disk.mk - the bootable disk image and QEMU: `make disk`, `make run`, `make run-serial`.
# The image is built without root or loop devices (tools/mkimage.sh: sgdisk + mtools); QEMU is started only through
# tools/qemu_run.sh, which the e2e tests (tests/e2e/) use too, so `make run` boots exactly what the tests boot.

EFI_APP   ?= $(BUILD)/efichat.efi
DISK_IMG  := $(BUILD)/efichat.img
# MODELS="a.gguf stories15M.bin tokenizer.bin": files copied to \efichat\models\ on the stick (docs/models.md); the
# image then grows to hold them (their MiB + 48) unless DISK_MB says otherwise.
MODELS    ?=
$(foreach f,$(MODELS),$(if $(wildcard $(f)),,$(error MODELS: no file '$(f)')))
MODELS_MB := $(if $(strip $(MODELS)),$(shell du -cm -L $(MODELS) | tail -n 1 | cut -f 1),0)
DISK_MB   ?= $(shell n=$(MODELS_MB); echo $$(( n + 48 > 64 ? n + 48 : 64 )))
DISK_MODELS := $(foreach f,$(MODELS),efichat/models/$(notdir $(f))=$(f))
# SECURE_BOOT=ms boots on firmware with Microsoft's keys (the enrolment walk-through), snakeoil on Debian's test
# key; OVMF_CODE/OVMF_VARS override the firmware files (defaults in tools/qemu_run.sh). Each firmware keeps its
# own variable store under build/, so an enrolment made with `make run SECURE_BOOT=ms` is remembered.
SECURE_BOOT ?= off
QEMU_ENV   = SECURE_BOOT=$(SECURE_BOOT) VARS_COPY=$(BUILD)/OVMF_VARS-$(SECURE_BOOT).fd \
             $(if $(OVMF_CODE),OVMF_CODE=$(OVMF_CODE)) $(if $(OVMF_VARS),OVMF_VARS=$(OVMF_VARS))

# QEMU's window (gtk/sdl) lives in qemu-system-gui, which deps.sh's --no-install-recommends would leave out.
# Secure Boot: Debian's Microsoft-signed shim and MokManager, sbsign for `make sign`, openssl and pefile for the tests.
DEPS_PKGS += qemu-system-gui shim-signed shim-helpers-amd64-signed sbsigntool openssl python3-pefile python3-pil
# The firmware matrix (tests/e2e/test_matrix.py): U-Boot's own UEFI for x86_64.
DEPS_PKGS += u-boot-qemu

# ---- Secure Boot (docs/secureboot.md)
# SHIM=1 (default): shim first, efichat as grubx64.efi behind it, so a machine with Secure Boot on asks once to
# enrol efichat's hash (MokManager) and then boots it; with Secure Boot off shim starts efichat without a word.
# SHIM=0: efichat alone as BOOTX64.EFI (Secure Boot off, or your own keys in db).
# KEY=... CERT=...: the binary on the image is signed with your key (`make sign`); nothing is ever signed with a key
# of ours: whoever held a key shipped to every user could sign anything their machines would then run.
SHIM      ?= 1
SHIM_EFI  ?= /usr/lib/shim/shimx64.efi.signed
MM_EFI    ?= /usr/lib/shim/mmx64.efi.signed
SIGNED_APP := $(BUILD)/efichat.signed.efi

ifneq ($(KEY)$(CERT),)
ifeq ($(KEY),)
$(error KEY is missing: give both KEY=your.key and CERT=your.crt (PEM), or neither)
endif
ifeq ($(CERT),)
$(error CERT is missing: give both KEY=your.key and CERT=your.crt (PEM), or neither)
endif
DISK_APP := $(SIGNED_APP)
else
DISK_APP := $(EFI_APP)
endif

.PHONY: sign
sign:
	@test -n "$(KEY)" -a -n "$(CERT)" || { echo "usage: make sign KEY=db.key CERT=db.crt (PEM files; see docs/secureboot.md)"; exit 2; }
	$(Q)$(MAKE) --no-print-directory $(SIGNED_APP) KEY="$(KEY)" CERT="$(CERT)"

# Signed again whenever the app, the key or the certificate changes (the paths are remembered in sign-choice).
$(BUILD)/sign-choice: FORCE_DISK_CHOICE
	@mkdir -p $(dir $@)
	@echo "$(abspath $(KEY)) $(abspath $(CERT))" | cmp -s - $@ || echo "$(abspath $(KEY)) $(abspath $(CERT))" > $@
$(SIGNED_APP): $(EFI_APP) $(BUILD)/sign-choice $(KEY) $(CERT) | $(DEPS_STAMP)
	@echo "  SIGN    $@ ($(CERT))"
	$(Q)sbsign --key "$(KEY)" --cert "$(CERT)" --output $@.tmp $(EFI_APP) 2>$@.log || { cat $@.log; rm -f $@.tmp; exit 1; }
	$(Q)sbverify --cert "$(CERT)" $@.tmp >/dev/null 2>&1 || \
	    { echo "$@: the signature does not verify with $(CERT): is KEY the private key of CERT?"; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@

ifeq ($(SHIM),1)
DISK_ENV  := SHIM_EFI=$(SHIM_EFI) MM_EFI=$(MM_EFI)
DISK_EXTRA := efichat/ENROLL.txt=$(BUILD)/disk/ENROLL.txt
else ifeq ($(SHIM),0)
DISK_ENV  :=
DISK_EXTRA :=
else
$(error SHIM must be 1 (shim + MokManager, the default) or 0 (efichat alone), not '$(SHIM)')
endif

# The image is rebuilt when the layout changes (SHIM, signing), not only when a file does.
$(BUILD)/disk-choice: FORCE_DISK_CHOICE
	@mkdir -p $(dir $@)
	@echo "$(SHIM) $(DISK_APP) $(SHIM_EFI) $(MM_EFI) $(MODELS) $(DISK_MB)" | cmp -s - $@ || \
	    echo "$(SHIM) $(DISK_APP) $(SHIM_EFI) $(MM_EFI) $(MODELS) $(DISK_MB)" > $@
.PHONY: FORCE_DISK_CHOICE

.PHONY: disk run run-serial

disk: $(DISK_IMG)

# The user README gets DOS line endings: whoever opens the stick on Windows reads it in Notepad.
$(BUILD)/disk/%.txt: disk/%.txt
	@mkdir -p $(dir $@)
	$(Q)sed 's/\r*$$/\r/' $< > $@

$(DISK_IMG): $(DISK_APP) $(BUILD)/disk/README.txt $(BUILD)/disk/ENROLL.txt $(BUILD)/disk-choice tools/mkimage.sh \
             $(MODELS) | $(DEPS_STAMP)
	@echo "  IMG     $@ ($(if $(filter 1,$(SHIM)),shim + ,)$(notdir $(DISK_APP))$(if $(strip $(MODELS)), + $(notdir $(MODELS))), $(DISK_MB) MiB)"
	$(Q)$(DISK_ENV) DISK_MB=$(DISK_MB) sh tools/mkimage.sh $@ $(DISK_APP) efichat/README.txt=$(BUILD)/disk/README.txt \
	    $(DISK_EXTRA) $(DISK_MODELS)

# Window when a display is there, else the chat over serial in this terminal (tools/qemu_run.sh decides and says
# how to quit). run-serial always uses the terminal.
run: $(DISK_IMG)
	$(Q)$(QEMU_ENV) sh tools/qemu_run.sh $(DISK_IMG)

run-serial: $(DISK_IMG)
	$(Q)$(QEMU_ENV) MODE=serial sh tools/qemu_run.sh $(DISK_IMG)

TEST_DEPS += $(DISK_IMG)
