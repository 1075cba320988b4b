# SPDX-License-Identifier: GPL-2.0
#
# pcpool top-level targets.  tl;dr:
#   make run     build everything, boot the test kernel, run the default benchmark
#   make check   unit tests (incl. sanitizers) + integration tests in the VM
#
# KDIR picks the kernel build tree (default: newest /lib/modules/*/build).
# On a real machine: make KDIR=/lib/modules/$(uname -r)/build, then
# insmod kmod/pcpool.ko and run build/guest/pcpool-bench.

BUILD    ?= build
JOBS     ?= $(shell nproc)
KDIR     ?= $(shell bash -c '. scripts/lib.sh && pcpool_kdir')
CMAKE_FLAGS ?=
RESULTS  ?= results
BENCH_ARGS ?= --backend kernel,null --workload repeat,bulk,cross --order 0 --ops 200000

export KDIR

.PHONY: all setup kmod harness run check unit vmtest lint format clean

all: kmod harness

setup:
	scripts/setup

kmod:
	$(MAKE) -C kmod KDIR=$(KDIR)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

harness: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The main job: one VM boot, the module loaded, the default benchmark.
run: setup all
	@mkdir -p $(RESULTS)
	BUILD=$(abspath $(BUILD)) scripts/vm --out $(RESULTS)/vm -- \
		'insmod /pcpool/pcpool.ko && pcpool-bench $(BENCH_ARGS) --json /out/run.json && rmmod pcpool'
	@cp $(RESULTS)/vm/run.json $(RESULTS)/run-$$(date +%Y%m%d-%H%M%S).json
	@echo "results: $$(ls -t $(RESULTS)/run-*.json | head -n 1)"

# Unit tests (plain, ASan/UBSan, TSan) and the VM integration tests, all
# through one ctest run.
check: setup all
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

unit: harness
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE vm

vmtest: all
	ctest --test-dir $(BUILD) --output-on-failure -L vm

lint:
	scripts/setup --lint
	scripts/lint

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | grep -v '^include/uapi/')

clean:
	$(MAKE) -C kmod KDIR=$(KDIR) clean
	rm -rf $(BUILD)
