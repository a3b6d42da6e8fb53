# fuzz.mk - libFuzzer harnesses (tests/fuzz/fuzz_*.c) for the parsers that take bytes from outside: the model
# file, efichat.cfg, the serial port, keys, the transcript and the trainer's checkpoint. docs/fuzzing.md says more.
# `make test` replays each committed corpus through its harness with gcc and the sanitizers (build/tests/
# test_fuzz_*); `make fuzz` builds the harnesses with clang's libFuzzer and runs each for FUZZ_SECONDS.

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := model config vt100 keys transcript checkpoint gguf llama2c
FUZZ_CC      ?= clang

# What each harness links, and the flags its code is built with everywhere else.
FUZZ_SRC_model      := $(CORE_SRCS)
FUZZ_SRC_config     := $(CONSOLE_SRCS)
FUZZ_SRC_vt100      := $(CONSOLE_SRCS)
FUZZ_SRC_keys       := $(CONSOLE_SRCS)
FUZZ_SRC_transcript := $(CONSOLE_SRCS)
FUZZ_SRC_checkpoint := trainer/checkpoint.c trainer/gpt.c trainer/layers.c trainer/gemm.c src/modelfile.c
FUZZ_HDR_model      := $(CORE_HDRS)
FUZZ_HDR_config     := $(CONSOLE_HDRS)
FUZZ_HDR_vt100      := $(CONSOLE_HDRS)
FUZZ_HDR_keys       := $(CONSOLE_HDRS)
FUZZ_HDR_transcript := $(CONSOLE_HDRS)
FUZZ_HDR_checkpoint := $(wildcard trainer/*.h) src/modelfile.h src/platform.h
FUZZ_FLAGS_core     := $(CORE_FLAGS) $(WARN) -g -Isrc -Itests/fuzz
FUZZ_FLAGS_trainer  := -std=gnu11 -O2 -march=native -fopenmp $(WARN) -g -Isrc -Itrainer -Itests/fuzz
FUZZ_FLAGS_model      := $(FUZZ_FLAGS_core)
FUZZ_FLAGS_config     := $(FUZZ_FLAGS_core)
FUZZ_FLAGS_vt100      := $(FUZZ_FLAGS_core)
FUZZ_FLAGS_keys       := $(FUZZ_FLAGS_core)
FUZZ_FLAGS_transcript := $(FUZZ_FLAGS_core)
FUZZ_FLAGS_checkpoint := $(FUZZ_FLAGS_trainer)
# the file readers of src/formats/ (GGUF and llama2.c), with the core helpers they use
FUZZ_SRC_gguf       := $(filter-out src/formats/llama_weights.c src/formats/llama_open.c,$(wildcard src/formats/*.c)) \
                       src/ecmath.c
FUZZ_SRC_llama2c    := src/formats/llama2c.c src/ecmath.c
FUZZ_HDR_gguf       := $(wildcard src/formats/*.h) $(CORE_HDRS)
FUZZ_HDR_llama2c    := src/formats/llama2c.h $(CORE_HDRS)
FUZZ_FLAGS_gguf     := $(FUZZ_FLAGS_core)
FUZZ_FLAGS_llama2c  := $(FUZZ_FLAGS_core)
# clang 14 warns about the GCC-only optimize attribute in ecmath.c (it only stops GCC turning loops into memcpy)
# and, under ASan, that it could not vectorise the trainer's `omp parallel for simd` loops: neither is a defect.
FUZZ_LIBFUZZER_FLAGS  := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
                         -Wno-unknown-attributes -Wno-pass-failed

# One replay program (gcc, for make test) and one fuzzer (clang) per target.
define FUZZ_RULES
$(BUILD)/tests/test_fuzz_$(1): tests/fuzz/replay.c tests/fuzz/fuzz_$(1).c tests/fuzz/fuzz.h $(FUZZ_SRC_$(1)) $(FUZZ_HDR_$(1))
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(Q)$(HOST_CC) $(FUZZ_FLAGS_$(1)) $(SAN_FLAGS) -DFUZZ_TARGET='"$(1)"' -DFUZZ_CORPUS='"tests/fuzz/corpus/$(1)"' \
	    tests/fuzz/replay.c tests/fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1)) -lm -o $$@

$(BUILD)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c tests/fuzz/fuzz.h $(FUZZ_SRC_$(1)) $(FUZZ_HDR_$(1)) | $(BUILD)/fuzz/.clang-ok
	@echo "  FUZZ-LD $$@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS_$(1)) $(FUZZ_LIBFUZZER_FLAGS) tests/fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1)) -lm -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULES,$(t))))

$(BUILD)/fuzz/.clang-ok:
	@command -v $(FUZZ_CC) >/dev/null || { echo "$(FUZZ_CC) is missing: run 'make deps' (clang)"; exit 1; }
	@mkdir -p $(dir $@) && touch $@

FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
# One target after another (on one core each), so the figures do not depend on what else the machine runs.
fuzz: fuzz-build
	$(Q)sh tools/fuzz.sh $(FUZZ_SECONDS) $(BUILD)/fuzz $(FUZZ_TARGETS)

TEST_DEPS += $(FUZZ_TARGETS:%=$(BUILD)/tests/test_fuzz_%)
