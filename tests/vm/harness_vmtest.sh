#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Harness integration tests, run INSIDE the guest (POSIX sh, busybox):
#   scripts/vm -- /pcpool/tests/harness_vmtest.sh
#
# Loads the module, then:
#  - pcpool-uring-vmtest: io_uring commands against ioctl, the RUN
#    workloads and histograms of the harness;
#  - pcpool-bench --check: every workload on every backend it applies to,
#    at 1 and 2 threads, with latency histograms, through ioctl and then
#    through io_uring; --check fails a run whose counters do not balance
#    or that leaves pages outstanding;
#  - the selection flags (--mask, --order pageblock, --repeat --shuffle);
# and checks that nothing is outstanding and rmmod works.  Exits 0 only
# when every check passed; the last line is the summary.
#
# Environment: PCPOOL_KO (module, default /pcpool/pcpool.ko), PCPOOL_OPS
# (operations per run, default 2000), PCPOOL_GTEST_ARGS.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
OPS=${PCPOOL_OPS:-2000}
GTEST_ARGS=${PCPOOL_GTEST_ARGS:-}
DBG=/sys/kernel/debug/pcpool
TMP=${TMPDIR:-/tmp}
# pcpool-bench reads PCPOOL_<OPTION> from the environment: not these.
unset PCPOOL_OPS PCPOOL_KO PCPOOL_GTEST_ARGS

passed=0
failed=0

ok() {
	echo "harness_vmtest.sh: ok: $*"
	passed=$((passed + 1))
}

fail() {
	echo "harness_vmtest.sh: FAIL: $*"
	failed=$((failed + 1))
}

check_clean() {
	left=$(awk '$2 != 0' "$DBG/outstanding")
	sessions=$(cat "$DBG/sessions")
	if [ -n "$left" ] || [ "$sessions" != 0 ]; then
		fail "$1: outstanding [$left] sessions $sessions"
		return 1
	fi
	ok "$1: nothing outstanding, no sessions"
}

# bench NAME ARGS...: pcpool-bench with --check, JSON kept for the checks
# below; passes when it exits 0 and no result carries an error.
bench() {
	name=$1
	shift
	out=$TMP/$name.json
	if pcpool-bench --check --quiet --json "$out" "$@"; then
		if grep -q '"error"' "$out"; then
			fail "$name: a run reports an error: $(grep '"error"' "$out" | head -n 3)"
		else
			ok "$name: $(grep -c '"name"' "$out") runs ($*)"
		fi
	else
		fail "$name: pcpool-bench $* exited $?"
	fi
	check_clean "$name"
}

# count_runs FILE PATTERN: results whose "name" matches PATTERN.
count_runs() {
	grep '"name"' "$1" | grep -c "$2"
}

if [ ! -r "$KO" ]; then
	echo "harness_vmtest.sh: no module at $KO"
	exit 1
fi
for b in pcpool-bench pcpool-uring-vmtest; do
	command -v "$b" >/dev/null || {
		echo "harness_vmtest.sh: $b not in PATH ($PATH)"
		exit 1
	}
done
if grep -q '^pcpool ' /proc/modules; then
	rmmod pcpool || exit 1
fi
if ! insmod "$KO"; then
	echo "harness_vmtest.sh: insmod $KO failed"
	exit 1
fi
ok "insmod"

# shellcheck disable=SC2086 # GTEST_ARGS is a word list on purpose
if pcpool-uring-vmtest --gtest_color=no $GTEST_ARGS; then
	ok "pcpool-uring-vmtest"
else
	fail "pcpool-uring-vmtest"
fi
check_clean "after pcpool-uring-vmtest"

# Every workload on every backend of the module, 1 and 2 threads.
bench all --workload all --threads 1,2 --ops "$OPS" --latency
out=$TMP/all.json
for w in repeat bulk busy churn cross fanin fanout purger exit rand overhead; do
	n=$(count_runs "$out" "/$w/")
	if [ "$n" -gt 0 ]; then
		ok "all: $w ran $n times"
	else
		fail "all: no $w run"
	fi
done
if grep -q '"backend": "vmalloc"' "$out"; then
	for w in random-size long-busy; do
		if [ "$(count_runs "$out" "vmalloc/$w/")" -gt 0 ]; then
			ok "all: vmalloc $w"
		else
			fail "all: no vmalloc $w run"
		fi
	done
fi
if grep -q '"backend": "pcpu-' "$out"; then
	for w in lifecycle sizes; do
		if [ "$(count_runs "$out" "pcpu-.*/$w/")" -gt 0 ]; then
			ok "all: per-CPU $w"
		else
			fail "all: no per-CPU $w run"
		fi
	done
fi
# Latency histograms came back for in-kernel workloads.
if grep -q '"p99"' "$out"; then
	ok "all: latency percentiles reported"
else
	fail "all: no latency percentiles"
fi

# The same through io_uring, for everything that is not overhead.
bench uring --submit uring --threads 2 --ops "$OPS" \
	--workload repeat,bulk,busy,churn,cross,fanin,fanout,purger,exit,rand
if [ "$(count_runs "$TMP/uring.json" 'submit:uring')" -gt 0 ]; then
	ok "uring: runs went through io_uring"
else
	fail "uring: no io_uring run"
fi

# test_vmalloc-style selection: the mask, pageblock order, repetitions.
bench mask --mask 0x103 --order 0,pageblock --ops 64 --repeat 2 --shuffle \
	--seed 3 --backend kernel,null
n=$(count_runs "$TMP/mask.json" '/')
# 2 backends x (repeat, bulk, exit x 2 freer counts) x 2 orders x 2 reps
if [ "$n" -eq 32 ]; then
	ok "mask: 32 runs"
else
	fail "mask: $n runs, want 32"
fi

if rmmod pcpool; then
	ok "rmmod"
else
	fail "rmmod"
fi
if dmesg | grep -q 'pcpool: .*outstanding at unload'; then
	fail "outstanding pages at unload: $(dmesg | grep 'outstanding at unload')"
fi

if [ "$failed" -eq 0 ]; then
	echo "harness_vmtest.sh: PASS: $passed checks passed"
	exit 0
fi
echo "harness_vmtest.sh: FAIL: $failed of $((passed + failed)) checks failed"
exit 1
