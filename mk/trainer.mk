# trainer.mk - the pure-C trainer (build/train), the default model (make train) and the trainer's tests/bench.
# The trainer is host-only, so it uses -O3 -march=native -fopenmp rather than the core's portable numeric flags.

TRAIN_BIN    := $(BUILD)/train
TRAIN_SRCS   := trainer/train.c trainer/gpt.c trainer/layers.c trainer/gemm.c trainer/checkpoint.c trainer/gradcheck.c \
                src/modelfile.c
TRAIN_HDRS   := $(wildcard trainer/*.h) src/modelfile.h src/platform.h
TRAIN_CFLAGS := -std=gnu11 -O3 -march=native -fopenmp -fno-math-errno $(WARN)

# The default model: see docs/training.md for the figures this command produced. Passive OpenMP waiting keeps
# the run polite (and faster) when the cores are shared; resume with `make train RESUME=build/shakespeare.ckpt`.
RESUME     ?=
TRAIN_ARGS ?= --layers 5 --heads 4 --dim 256 --hidden 896 --ctx 256 --batch 16 --steps 9000 --lr 1.5e-3 --warmup 100 \
              --dropout 0.2 --keep final --eval-every 250 --sample-every 1000 --name shakespeare-5L256 --threads 2

.PHONY: train-bin train
train-bin: $(TRAIN_BIN)
$(TRAIN_BIN): $(TRAIN_SRCS) $(TRAIN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) $(TRAIN_CFLAGS) $(TRAIN_SRCS) -lm -o $@

train: $(TRAIN_BIN)
	@test -f $(DATA) || { echo "no data at $(DATA): download tinyshakespeare.txt (see docs/training.md)"; exit 1; }
	@mkdir -p models
	OMP_WAIT_POLICY=passive $(TRAIN_BIN) --data $(DATA) --out models/shakespeare.bin $(TRAIN_ARGS) \
	    --checkpoint $(BUILD)/shakespeare.ckpt --csv $(BUILD)/shakespeare.csv $(if $(RESUME),--resume $(RESUME))

# the GEMM on its own, with sanitizers (tests/run_tests.py finds build/tests/test_*)
$(BUILD)/tests/test_trainer_gemm: tests/trainer/test_gemm.c trainer/gemm.c trainer/gemm.h tests/unit/check.h
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) -std=gnu11 -O2 -march=native -fopenmp $(WARN) $(SAN_FLAGS) -Itrainer -Itests/unit \
	    tests/trainer/test_gemm.c trainer/gemm.c -lm -o $@

# exp/tanh with UBSan's float-cast-overflow check too (not part of -fsanitize=undefined): NaN must never reach an int
$(BUILD)/tests/test_trainer_fastmath: tests/trainer/test_fastmath.c trainer/fastmath.h tests/unit/check.h
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOST_CC) -std=gnu11 -O2 -march=native $(WARN) $(SAN_FLAGS) -fsanitize=float-cast-overflow -Itrainer \
	    -Itests/unit tests/trainer/test_fastmath.c -lm -o $@

TEST_DEPS  += $(TRAIN_BIN) $(BUILD)/tests/test_trainer_gemm $(BUILD)/tests/test_trainer_fastmath
BENCH_DEPS += $(TRAIN_BIN)
BENCH_RUN  += tools/bench_train.sh
