# mk/efi.mk - the UEFI console: `make efi` -> build/efichat.efi (x86-64 PE, gnu-efi from Debian), and its host
# tests (tests/console/). The core is compiled again for UEFI with exactly CORE_FLAGS plus the flags the firmware
# ABI needs (no red zone, 2-byte wchar_t, no stack protector), so a greedy reply in QEMU equals the host CLI's.

EFI_INC     ?= /usr/include/efi
EFI_LIBDIR  ?= /usr/lib
EFI_LDS     := $(EFI_LIBDIR)/elf_x86_64_efi.lds
EFI_CRT0    := $(EFI_LIBDIR)/crt0-efi-x86_64.o
EFI_FONT    ?= /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
EFI_APP     ?= $(BUILD)/efichat.efi
EFI_OUT     := $(BUILD)/efi

# The default model: the trained one when it is committed, else a random test model the UI labels as such. Either
# is a float (format version 1) master that stays the source of truth; the app embeds its int8 form (version 2,
# about 4x smaller), which `efichat-cli quantize` writes here at build time, the same bytes for the same master.
# EFI_MODEL=FILE embeds FILE as it is (either version).
ifneq ($(wildcard models/shakespeare.bin),)
EFI_MODEL_FLOAT ?= models/shakespeare.bin
EFI_RANDOM := 0
else
EFI_MODEL_FLOAT ?= $(EFI_OUT)/random-test-model.bin
EFI_RANDOM := 1
endif
EFI_MODEL ?= $(EFI_OUT)/embedded-model-int8.bin

EFI_ABI_FLAGS := -ffreestanding -fshort-wchar -mno-red-zone -fno-stack-protector -fno-stack-check
EFI_CORE_FLAGS := $(CORE_FLAGS) $(EFI_ABI_FLAGS) $(WARN)
EFI_CFLAGS := $(CORE_FLAGS) $(EFI_ABI_FLAGS) $(WARN) -DGNU_EFI_USE_MS_ABI -I$(EFI_INC) -I$(EFI_INC)/x86_64 \
              -DEFICHAT_EMBEDDED_RANDOM=$(EFI_RANDOM)

# Freestanding console code: built into the app and into the host tests.
CONSOLE_SRCS := src/chat/fmt.c src/chat/settings.c src/chat/transcript.c src/chat/lineedit.c src/chat/chatui.c \
                src/chat/convo.c src/input/vt100.c src/input/keymap.c src/gop/fb.c src/gop/font.c \
                src/gop/render.c src/gop/modes.c src/gop/bmp.c src/chat/report.c src/efi/config.c src/chat/template.c \
                src/chat/picker.c src/chat/cfgedit.c
CONSOLE_HDRS := $(wildcard src/chat/*.h src/input/*.h src/gop/*.h src/efi/*.h)
# Files that talk to the firmware.
EFI_SRCS := src/efi/entry.c src/efi/firmware.c src/efi/main.c src/efi/app.c src/efi/clock.c src/efi/mirror.c \
            src/efi/files.c src/efi/secureboot.c src/efi/report.c src/efi/shot.c src/efi/leave.c src/efi/memory.c \
            src/efi/mp.c src/efi/llama_app.c src/efi/models.c src/efi/modelpick.c \
            src/gop/efi_screen.c src/input/efi_input.c
# The Llama family's file readers, tokenizers and conversation: freestanding, compiled with the app's flags.
LLAMA_APP_SRCS := $(wildcard src/formats/*.c src/tokenizers/*.c) src/chat/llchat.c
EFI_SRCS += $(LLAMA_APP_SRCS)

EFI_OBJS := $(CONSOLE_SRCS:src/%.c=$(EFI_OUT)/%.o) $(EFI_SRCS:src/%.c=$(EFI_OUT)/%.o) \
            $(CORE_SRCS:src/%.c=$(EFI_OUT)/core/%.o) $(EFI_OUT)/efi/blobs.o

.PHONY: efi
efi: $(EFI_APP)

$(EFI_OUT)/.tools-ok:
	@test -f $(EFI_CRT0) -a -f $(EFI_LDS) -a -f $(EFI_INC)/efi.h || \
	    { echo "gnu-efi is missing: run 'make deps' (or apt-get install gnu-efi)"; exit 1; }
	@test -f $(EFI_FONT) || { echo "$(EFI_FONT) is missing: run 'make deps' (fonts-dejavu-core)"; exit 1; }
	@test -f /usr/include/stb/stb_truetype.h || { echo "stb_truetype.h is missing: run 'make deps' (libstb-dev)"; exit 1; }
	@mkdir -p $(dir $@) && touch $@

$(EFI_OUT)/core/%.o: src/%.c $(CORE_HDRS) | $(EFI_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(EFI_CORE_FLAGS) -c $< -o $@

$(EFI_OUT)/%.o: src/%.c $(CONSOLE_HDRS) $(CORE_HDRS) | $(EFI_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

# The entry point runs before SSE is known to be on (U-Boot leaves it off): no SSE register may appear in it.
$(EFI_OUT)/efi/entry.o: EFI_CFLAGS += -mgeneral-regs-only

$(EFI_OUT)/efi/blobs.o: src/efi/blobs.S $(EFI_FONT) $(EFI_MODEL) | $(EFI_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  AS      $@ ($(EFI_MODEL))"
	$(Q)$(CC) -c -DEFICHAT_FONT_FILE='"$(EFI_FONT)"' -DEFICHAT_MODEL_FILE='"$(EFI_MODEL)"' $< -o $@

$(EFI_OUT)/embedded-model-int8.bin: $(EFI_MODEL_FLOAT) $(CLI) $(EFI_OUT)/model-choice
	@mkdir -p $(dir $@)
	@echo "  QUANT   $@ ($(EFI_MODEL_FLOAT))"
	$(Q)$(CLI) quantize --in $(EFI_MODEL_FLOAT) --out $@

$(EFI_OUT)/random-test-model.bin: $(CLI)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)$(CLI) random-model --out $@ --dim 64 --layers 2 --heads 4 --ctx 256 --seed 7 --name random-test-model

$(EFI_OUT)/efichat.so: $(EFI_OBJS)
	@echo "  LD      $@"
	$(Q)ld -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic -L$(EFI_LIBDIR) $(EFI_CRT0) $(EFI_OBJS) \
	    -lefi -lgnuefi -o $@

# The link flags that keep the embedded model's define in sync: rebuild main.o when the choice changes.
$(EFI_OUT)/efi/main.o: $(EFI_OUT)/model-choice
EFI_CHOICE := $(EFI_MODEL) $(EFI_MODEL_FLOAT) $(EFI_RANDOM)
$(EFI_OUT)/model-choice: FORCE_EFI_CHOICE
	@mkdir -p $(dir $@)
	@echo "$(EFI_CHOICE)" | cmp -s - $@ || echo "$(EFI_CHOICE)" > $@
.PHONY: FORCE_EFI_CHOICE

# SBAT: the revocation metadata shim reads (https://github.com/rhboot/shim/blob/main/SBAT.md). Generation 1 is
# efichat's first; raise it (and say so in docs/secureboot.md) only to revoke every older efichat after a security
# bug. The version field is `git describe` of the commit (not --dirty: a test run that rewrites docs/screenshot.png
# must not change the binary under test), so the file (and the relink) changes only when the commit does.
EFICHAT_VERSION := $(shell git describe --always 2>/dev/null || echo unknown)
SBAT_URL ?= docs/secureboot.md
$(EFI_OUT)/sbat.csv: FORCE_EFI_CHOICE
	@mkdir -p $(dir $@)
	@printf 'sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\nefichat,1,efichat,efichat,%s,%s\n' \
	    '$(EFICHAT_VERSION)' '$(SBAT_URL)' > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@

$(EFI_OUT)/efichat-sbat.so: $(EFI_OUT)/efichat.so $(EFI_OUT)/sbat.csv tools/add_sbat.sh
	$(Q)sh tools/add_sbat.sh $< $(EFI_OUT)/sbat.csv $@

$(EFI_APP): $(EFI_OUT)/efichat-sbat.so
	@echo "  EFI     $@"
	$(Q)objcopy -j .text -j .sdata -j .data -j .rodata -j .dynamic -j .dynsym -j .rel -j .rela -j .rel.* \
	    -j .rela.* -j .reloc -j .sbat --target efi-app-x86_64 --subsystem=10 $< $@

# ---- host tests of the console code (memory framebuffer, no firmware)
CONSOLE_TESTS := $(patsubst tests/console/%.c,$(BUILD)/tests/%,$(wildcard tests/console/test_*.c))
$(BUILD)/tests/test_%: tests/console/test_%.c $(wildcard tests/console/*.h) $(CONSOLE_SRCS) $(CONSOLE_HDRS) tests/unit/check.h
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Isrc -Itests/unit -DEFICHAT_FONT_FILE='"$(EFI_FONT)"' \
	    $< $(CONSOLE_SRCS) -o $@

TEST_DEPS += $(EFI_APP) $(CONSOLE_TESTS)
