# SPDX-License-Identifier: GPL-2.0
#
# pcpool top-level targets.  tl;dr:
#   make run     build the module and the guest binaries, boot the test
#                kernel, run the default benchmark (page zeroing off)
#   make check   build everything: unit tests (incl. sanitizers) +
#                integration tests in the VM
#
# KDIR picks the kernel build tree (default: newest /lib/modules/*/build).
# On a real machine: make KDIR=/lib/modules/$(uname -r)/build, then
# insmod kmod/pcpool.ko and run build/guest/pcpool-bench.

BUILD    ?= build
JOBS     ?= $(shell nproc)
KDIR     ?= $(shell bash -c '. scripts/lib.sh && pcpool_kdir')
CMAKE_FLAGS ?=
RESULTS  ?= results
# Empty: bench/run's default matrix.
BENCH_ARGS ?=
# Empty: bench/run's default VM options (page zeroing off).
VM_ARGS  ?=

export KDIR

.PHONY: all setup kmod harness guest run check unit vmtest lint format clean plots samples

all: kmod harness samples

setup:
	scripts/setup

kmod:
	$(MAKE) -C kmod KDIR=$(KDIR)

# The in-kernel API's sample client (Documentation/api.rst), against the
# module's Module.symvers; tests/vm/host/api_test.sh builds its own copy.
samples: kmod
	$(MAKE) -C $(KDIR) M=$(CURDIR)/samples/pcpool_api_client \
		PCPOOL_TOP=$(CURDIR) KBUILD_EXTRA_SYMBOLS=$(CURDIR)/kmod/Module.symvers modules

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

harness: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Only what the guest runs: the test suites are make check's.
guest: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target pcpool-bench

# The main job: one VM boot, the module loaded, the default benchmark.
run: setup kmod guest
	RESULTS=$(abspath $(RESULTS)) BUILD=$(abspath $(BUILD)) bench/run $(VM_ARGS) -- $(BENCH_ARGS)

# Unit tests (plain, ASan/UBSan, TSan) and the VM integration tests, all
# through one ctest run.
check: setup all
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

unit: harness
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE vm

vmtest: all
	ctest --test-dir $(BUILD) --output-on-failure -L vm

# Charts (gnuplot) from one VM run of the plot sweep: scripts/plot.
PLOTS ?= $(RESULTS)/plots
plots: all
	BUILD=$(abspath $(BUILD)) scripts/plot --run --out $(abspath $(PLOTS))

lint:
	scripts/setup --lint
	scripts/lint

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | grep -v -e '^include/uapi/' -e '^kmod/')

clean:
	$(MAKE) -C kmod KDIR=$(KDIR) clean
	$(MAKE) -C $(KDIR) M=$(CURDIR)/samples/pcpool_api_client clean
	rm -rf $(BUILD)

# The scaling study (issue 13): one boot with SMP CPUs (default: the
# host's), threads 1..SMP, medians, USL fit, charts: bench/scale.
SMP ?= $(shell nproc)
SCALE_ARGS ?=
.PHONY: scale bundle
scale: setup all
	RESULTS=$(abspath $(RESULTS)) BUILD=$(abspath $(BUILD)) bench/scale --smp $(SMP) $(SCALE_ARGS)

# A tarball that runs the study on an x86-64 host without QEMU: bench/bundle.
BUNDLE ?= $(RESULTS)/pcpool-scale-bundle.tar.xz
bundle: all
	BUILD=$(abspath $(BUILD)) bench/bundle --out $(abspath $(BUNDLE))

# Instructions per op of the userspace cores under callgrind, threads
# 1..16 (issue 15): counts, not times, so they hold on a 2-core host.
INSTR_ARGS ?=
.PHONY: instr
instr: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target pcpool-core-bench
	RESULTS=$(abspath $(RESULTS)) BUILD=$(abspath $(BUILD)) bench/instr $(INSTR_ARGS)

# Page-allocation traces of real programs in the guest (issue 16): one boot,
# binary traces under traces/ for pcpool-bench --workload replay: bench/trace.
TRACE_ARGS ?=
.PHONY: trace pcpu-sizes
trace: setup kmod
	cmake --build $(BUILD) -j $(JOBS) --target pcpool-trace
	BUILD=$(abspath $(BUILD)) bench/trace $(TRACE_ARGS)

# The guest kernel's own per-CPU allocation sizes (issue 18): one boot with
# the percpu_alloc_percpu tracepoint on, writes traces/percpu-sizes-smp2.txt
# and kmod/pcpu_sizes_real.h (PCPU_SIZES's "real" mix): bench/pcpu-sizes.
PCPU_SIZES_ARGS ?=
pcpu-sizes: setup kmod
	bench/pcpu-sizes $(PCPU_SIZES_ARGS)
