# mk/soak.mk - `make soak`: a long chat in QEMU (tools/soak.py; figures in docs/soak.md). Not part of `make test`:
# it runs for many minutes. SOAK_TURNS and SOAK_MAX_REPLY size it; a smaller max_reply keeps it short and the
# 256-byte context still overflows every turn or two.

SOAK_TURNS     ?= 200
SOAK_MAX_REPLY ?= 80

.PHONY: soak
soak: $(DISK_IMG) | $(DEPS_STAMP)
	$(Q)EFICHAT_BUILD=$(BUILD) $(PY) tools/soak.py --turns $(SOAK_TURNS) --max-reply $(SOAK_MAX_REPLY)
