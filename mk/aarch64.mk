# mk/aarch64.mk - the AArch64 builds: build/aarch64/efichat-cli, the host CLI cross-compiled (static, so qemu-user
# runs it without a sysroot), which tests/core/test_aarch64.py runs under qemu-aarch64 and compares bit for bit with
# the x86-64 CLI. The core gets exactly CORE_FLAGS less -msse2: -ffp-contract=off keeps every multiply and add
# apart (no fmadd/fmla), which is what makes NEON's sums the SSE2 ones.

AA64_CC    ?= aarch64-linux-gnu-gcc
AA64_OUT   := $(BUILD)/aarch64
AA64_CLI   := $(AA64_OUT)/efichat-cli
AA64_CORE_FLAGS := $(filter-out -msse2,$(CORE_FLAGS)) $(WARN)
AA64_CORE_OBJS := $(CORE_SRCS:src/%.c=$(AA64_OUT)/core/%.o)

# The cross compiler and qemu-user for the CLI; qemu-system-arm and AAVMF (EDK2 for AArch64) for the UEFI app.
DEPS_PKGS += gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user qemu-system-arm qemu-efi-aarch64

.PHONY: aarch64 cli-aarch64
aarch64: $(AA64_CLI)
cli-aarch64: $(AA64_CLI)

$(AA64_OUT)/.tools-ok:
	@command -v $(AA64_CC) >/dev/null || { echo "$(AA64_CC) is missing: run 'make deps' (gcc-aarch64-linux-gnu)"; exit 1; }
	@mkdir -p $(dir $@) && touch $@

$(AA64_OUT)/core/%.o: src/%.c $(CORE_HDRS) | $(AA64_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(AA64_CC) $(AA64_CORE_FLAGS) -g -ffreestanding -c $< -o $@

# The file readers (src/formats/) and the CLI's other pieces are compiled into it directly, from the lists
# mk/formats.mk keeps for the x86 build (read after this file, so only the recipe can use them): the .c files of
# CLI_FORMATS, and FORMATS_SRCS in place of its x86 objects.
$(AA64_CLI): src/cli/efichat_cli.c $(POOL_SRCS) $(AA64_CORE_OBJS) $(CORE_HDRS) \
             $(wildcard src/cli/*.c src/cli/*.h src/formats/*.c src/formats/*.h) | $(AA64_OUT)/.tools-ok
	@echo "  LD      $@"
	$(Q)$(AA64_CC) $(AA64_CORE_FLAGS) -g -static -pthread -Isrc src/cli/efichat_cli.c src/cli/pool.c $(AA64_CORE_OBJS) \
	    $(filter %.c,$(CLI_FORMATS)) $(FORMATS_SRCS) -lm -o $@

TEST_DEPS += $(AA64_CLI)

# The bits of the core's math over a sweep of inputs, from each CPU's build (tests/core/test_aarch64.py compares).
AA64_DUMP := $(AA64_OUT)/vec4-dump $(AA64_OUT)/vec4-dump-x86
$(AA64_OUT)/vec4-dump: tests/core/vec4_dump.c $(AA64_CORE_OBJS) $(CORE_HDRS) | $(AA64_OUT)/.tools-ok
	@echo "  LD      $@"
	$(Q)$(AA64_CC) $(AA64_CORE_FLAGS) -static -Isrc $< $(AA64_CORE_OBJS) -o $@
$(AA64_OUT)/vec4-dump-x86: tests/core/vec4_dump.c $(CORE_OBJS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Isrc $< $(CORE_OBJS) -o $@
TEST_DEPS += $(AA64_DUMP)

# The host unit tests (tests/unit/) cross-built for AArch64, the core with them, under UBSan in trap mode (it needs
# no runtime library, which a static cross build would lack); tests/core/test_aarch64.py runs them under qemu-user.
# test_sampler and test_sampler_big are left out: minutes under qemu-user (sampling statistics, 32k-token sorts); for
# scalar C the goldens already run.
AA64_UNIT_SLOW := tests/unit/test_sampler.c tests/unit/test_sampler_big.c
AA64_UNIT := $(patsubst tests/unit/%.c,$(AA64_OUT)/tests/%,$(filter-out $(AA64_UNIT_SLOW),$(wildcard tests/unit/test_*.c)))
AA64_SAN_FLAGS := -fsanitize=undefined -fsanitize-undefined-trap-on-error
AA64_CORE_SAN_OBJS := $(CORE_SRCS:src/%.c=$(AA64_OUT)/core-san/%.o)
$(AA64_OUT)/core-san/%.o: src/%.c $(CORE_HDRS) | $(AA64_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(AA64_CC) $(AA64_CORE_FLAGS) $(AA64_SAN_FLAGS) -g -ffreestanding -c $< -o $@
$(AA64_OUT)/tests/%: tests/unit/%.c tests/unit/check.h $(POOL_SRCS) $(AA64_CORE_SAN_OBJS) $(CORE_HDRS) \
                     | $(AA64_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(AA64_CC) $(AA64_CORE_FLAGS) $(AA64_SAN_FLAGS) -g -static -pthread -Isrc -Isrc/cli -Itests/unit $< \
	    src/cli/pool.c $(AA64_CORE_SAN_OBJS) -lm -o $@
TEST_DEPS += $(AA64_UNIT)

# The Llama family's test runner (tests/core/llama_logits.c), for test_aarch64's direct check against the numpy
# reference. A name without test_ so the pattern rule above does not claim it.
AA64_LLAMA_LOGITS := $(AA64_OUT)/tests/llama-logits
$(AA64_LLAMA_LOGITS): tests/core/llama_logits.c $(AA64_CORE_SAN_OBJS) $(CORE_HDRS) | $(AA64_OUT)/.tools-ok
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(AA64_CC) $(AA64_CORE_FLAGS) $(AA64_SAN_FLAGS) -g -static -Isrc $< $(AA64_CORE_SAN_OBJS) -lm -o $@
TEST_DEPS += $(AA64_LLAMA_LOGITS)
