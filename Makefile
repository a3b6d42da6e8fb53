# efichat - top-level build. `make run` boots the chat, `make test` runs every test. V=1 shows commands.
# Parts owned by other folders live in mk/*.mk and are included at the end.

PY        ?= /usr/bin/python3
BUILD     ?= build
DATA      ?= ../shared/data/tinyshakespeare.txt
CC        ?= gcc
HOST_CC   ?= gcc

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Debian packages every target may need; `make deps` installs the missing ones (apt-get, via sudo when not root).
DEPS_PKGS := python3-jinja2 gcc clang make libc6-dev gnu-efi ovmf qemu-system-x86 qemu-utils mtools dosfstools gdisk libstb-dev \
             fonts-dejavu-core python3 python3-numpy python3-torch python3-matplotlib libopenblas0-pthread \
             tesseract-ocr tesseract-ocr-eng python3-sentencepiece nodejs
DEPS_STAMP := $(BUILD)/.deps-ok

# The core is built with the same numeric flags everywhere (host CLI, tests, UEFI): no fast-math, no FMA
# contraction, SSE2 baseline. AVX kernels are compiled per function and picked at run time.
CORE_FLAGS := -std=c11 -O2 -fno-math-errno -ffp-contract=off -fno-strict-aliasing -msse2 -fPIC
WARN       := -Wall -Wextra -Werror
HOST_CFLAGS := $(CORE_FLAGS) $(WARN) -g
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

CORE_SRCS := src/modelfile.c src/model.c src/modelq8.c src/parallel.c src/llama.c src/kernels.c src/q8.c src/q8att.c src/gelu.c src/quantize.c src/sampler.c src/ecmath.c
CORE_HDRS := $(wildcard src/*.h src/arch/*.h)
CORE_OBJS := $(CORE_SRCS:src/%.c=$(BUILD)/core/%.o)
CORE_SAN_OBJS := $(CORE_SRCS:src/%.c=$(BUILD)/core-san/%.o)

CLI := $(BUILD)/efichat-cli
POOL_SRCS := src/cli/pool.c src/cli/pool.h # the host's worker threads (CLI, bench, test_parallel)

.PHONY: all deps cli test test-build bench clean help
# Keep intermediate objects: make would otherwise delete them after the run, printing an rm line after the
# test runner's closing "N passed, N failed".
.SECONDARY:
all: cli

help:
	@echo "make run | run-serial | run-aarch64 | run-serial-aarch64 | test | fuzz | soak | bench [LLAMA2C=dir] | cli | cli-aarch64 | efi | efi-aarch64 | disk | sign | train | train-bin | deps | clean"

deps: $(DEPS_STAMP)
$(DEPS_STAMP): tools/deps.sh $(MAKEFILE_LIST)   # a package added to DEPS_PKGS is installed on the next make
	$(Q)sh tools/deps.sh $(DEPS_PKGS)
	$(Q)mkdir -p $(BUILD) && touch $@

$(BUILD)/core/%.o: src/%.c $(CORE_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -ffreestanding -c $< -o $@

$(BUILD)/core-san/%.o: src/%.c $(CORE_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -ffreestanding -c $< -o $@

cli: $(CLI)
$(CLI): src/cli/efichat_cli.c $(POOL_SRCS) $(CORE_OBJS) $(CORE_HDRS)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -pthread -Isrc src/cli/efichat_cli.c src/cli/pool.c $(CORE_OBJS) $(CLI_FORMATS) -lm -o $@

# ---- host unit tests: every tests/unit/test_*.c is one program, built with sanitizers
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
$(BUILD)/tests/%: tests/unit/%.c tests/unit/check.h $(CORE_SAN_OBJS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Isrc -Itests/unit $< $(CORE_SAN_OBJS) -lm -o $@

# test_parallel also needs the host thread pool; a second build runs it under ThreadSanitizer (the core compiled
# with it too, so a race on the model's buffers would show).
$(BUILD)/tests/test_parallel: tests/unit/test_parallel.c tests/unit/check.h $(POOL_SRCS) $(CORE_SAN_OBJS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -pthread -Isrc -Isrc/cli -Itests/unit $< src/cli/pool.c \
		$(CORE_SAN_OBJS) -lm -o $@
$(BUILD)/tests/test_parallel_tsan: tests/unit/test_parallel.c tests/unit/check.h $(POOL_SRCS) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -fsanitize=thread -pthread -Isrc -Isrc/cli -Itests/unit $< src/cli/pool.c \
		$(CORE_SRCS) -lm -o $@
UNIT_BINS += $(BUILD)/tests/test_parallel_tsan

# The Llama family's runner for tests/core/test_llama.py (a helper, not a test: the runner only starts test_*).
LLAMA_LOGITS := $(BUILD)/tests/llama-logits
$(LLAMA_LOGITS): tests/core/llama_logits.c $(CORE_SAN_OBJS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Isrc $< $(CORE_SAN_OBJS) -lm -o $@

# The chat templates' driver for tests/chat/test_template.py (a helper, like llama-logits).
TEMPLATE_TOOL := $(BUILD)/tests/template-tool
$(TEMPLATE_TOOL): tests/chat/template_tool.c src/chat/template.c src/chat/template.h
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Isrc $< src/chat/template.c -o $@

# Fragments add their own prerequisites to TEST_DEPS and their own programs/scripts to the runner's folders.
TEST_DEPS := $(CLI) $(UNIT_BINS) $(LLAMA_LOGITS) $(TEMPLATE_TOOL)

# ---- benchmarks (numbers are printed, never asserted)
BENCH_BIN := $(BUILD)/bench-decode
$(BENCH_BIN): tests/bench/bench_decode.c tests/bench/scalar_model.c tests/bench/scalar_model.h $(POOL_SRCS) $(CORE_OBJS) \
              $(CORE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -pthread -Isrc -Isrc/cli -Itests/bench tests/bench/bench_decode.c \
		tests/bench/scalar_model.c src/cli/pool.c $(CORE_OBJS) -lm -o $@
BENCH_PARTS := $(BUILD)/bench-parts
$(BENCH_PARTS): tests/bench/bench_parts.c $(POOL_SRCS) $(CORE_OBJS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -pthread -Isrc -Isrc/cli tests/bench/bench_parts.c src/cli/pool.c $(CORE_OBJS) -lm -o $@
BENCH_DEPS := $(BENCH_BIN) $(BENCH_PARTS) $(CLI)
# Each entry is one command (no spaces); fragments append theirs.
BENCH_RUN := tools/bench_core.sh

-include mk/*.mk

test-build: $(DEPS_STAMP) $(TEST_DEPS)
test: test-build
	$(Q)$(PY) tests/run_tests.py --build $(BUILD)

bench: $(DEPS_STAMP) $(BENCH_DEPS)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)for c in $(BENCH_RUN); do echo "== $$c"; $$c || exit 1; done

clean:
	rm -rf $(BUILD)
