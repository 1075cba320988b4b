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
# pcpool-bench reads PCPOOL_<OPTION> from the environment: not these.
unset PCPOOL_OPS PCPOOL_KO PCPOOL_GTEST_ARGS
NAME=harness_vmtest.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

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

require_setup "$KO" pcpool-bench pcpool-uring-vmtest
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
	for w in lifecycle sizes counter; do
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
# Channel and handle workloads: per-command means per block.
if grep -q '"basis": "call"' "$out"; then
	ok "all: per-command latency for channel and handle workloads"
else
	fail "all: no per-command latency"
fi
# Levels come as before/after; the zone counts what exit hands back.
# A delta or a rate would be a plain number, a level is {"before", "after"}.
if grep -q '"zone_free_pages": {' "$out" &&
	! grep -q '"zone_free_pages": -*[0-9]' "$out"; then
	ok "all: levels reported as gauges, not as deltas"
else
	fail "all: levels missing from gauges or present among the deltas"
fi
if grep -q '"backend": "classic"' "$out"; then
	if grep -q '"zone_freed_order_0"' "$out"; then
		ok "all: zone_freed_order_N counted"
	else
		fail "all: no zone_freed_order_N counters"
	fi
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
finish ""
