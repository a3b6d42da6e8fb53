# mk/formats.mk - the file readers of src/formats/ (GGUF, llama2.c, ggml dequantisers) and their host tests
# (tests/formats/). They are freestanding core code; until a family runs their models they are built here only:
# with the sanitizers into build/tests/formats-tool (what tests/formats/*.py drive), and with exactly the core's
# flags into build/formats/*.o, whose undefined symbols tests/formats/test_freestanding.py checks.

FORMATS_SRCS := $(wildcard src/formats/*.c)
FORMATS_HDRS := $(wildcard src/formats/*.h)
FORMATS_TOOL := $(BUILD)/tests/formats-tool
FORMATS_OBJS := $(FORMATS_SRCS:src/formats/%.c=$(BUILD)/formats/%.o)

$(FORMATS_TOOL): tests/formats/formats_tool.c $(FORMATS_SRCS) $(FORMATS_HDRS) $(CORE_SAN_OBJS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Isrc $< $(FORMATS_SRCS) $(CORE_SAN_OBJS) -lm -o $@

$(BUILD)/formats/%.o: src/formats/%.c $(FORMATS_HDRS) $(CORE_HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -ffreestanding -c $< -o $@

# `efichat-cli info` describes GGUF and llama2.c files (src/cli/formats_info.c); the Makefile's link line adds
# $(CLI_FORMATS).
CLI_FORMATS := src/cli/formats_info.c $(FORMATS_OBJS)
$(CLI): src/cli/formats_info.c src/cli/formats_info.h $(FORMATS_OBJS) \
        $(FORMATS_HDRS)

.PHONY: formats
formats: $(FORMATS_TOOL) $(FORMATS_OBJS)
TEST_DEPS += $(FORMATS_TOOL) $(FORMATS_OBJS)
