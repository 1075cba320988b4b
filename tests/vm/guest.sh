#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pcpool integration tests, run INSIDE the guest (POSIX sh, busybox):
#   scripts/vm -- /pcpool/tests/guest.sh
#
# Loads and unloads the module ROUNDS times (default 3), each time with
# other module parameters, and each time runs pcpool-vmtest and two kill
# tests (a process SIGKILLed while holding many handles and channel blocks,
# and one SIGKILLed in the middle of a long in-kernel RUN), checking that
# debugfs shows nothing outstanding and no session open, and that rmmod
# succeeds; then the sub-test scripts, one check each.  A sub-test that
# exits 77 is counted and printed as skipped, not as passed.  Exits 1 when
# a check failed, 77 when every check was skipped, else 0; the last line is
# the summary.
#
# Environment: PCPOOL_KO (module, default /pcpool/pcpool.ko), PCPOOL_ROUNDS,
# PCPOOL_GTEST_ARGS (extra arguments for pcpool-vmtest, e.g. a filter).

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
ROUNDS=${PCPOOL_ROUNDS:-3}
GTEST_ARGS=${PCPOOL_GTEST_ARGS:-}
NAME=guest.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

# Parameters for round $1: the default, then explicit values.
round_params() {
	case $1 in
	1) echo "" ;;
	2) echo "session_max_pages=300000" ;;
	*) echo "chan_capacity=1000" ;;
	esac
}

# Wait up to $2 seconds for "ready" in file $1 while process $3 lives.
wait_ready() {
	n=0
	while [ "$n" -lt $(($2 * 10)) ]; do
		grep -q ready "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# SIGKILL $1 and reap it; true when it died of SIGKILL (status 137).
kill_and_reap() {
	kill -9 "$1"
	wait "$1"
	[ $? -eq 137 ]
}

# Handles for the holder: 50000 pages, or 1/16 of RAM on a small guest
# (the default session cap is 1/4 of RAM).
hold_blocks() {
	awk '/^MemTotal:/ { n = int($2 / 4 / 16); print (n < 50000 ? n : 50000) }' /proc/meminfo
}

# start_helper TEST WHAT SECONDS ARGS...: pcpool-vmtest ARGS in the
# background, output in $out, pid in $pid; false (and reaped) unless it
# says "ready" within SECONDS.
start_helper() {
	t=$1
	what=$2
	secs=$3
	shift 3
	out=$TMP/$what.out
	# Truncate here, not in the background child: wait_ready must not
	# see the previous round's "ready".
	: >"$out"
	pcpool-vmtest "$@" >"$out" 2>&1 &
	pid=$!
	if ! wait_ready "$out" "$secs" "$pid"; then
		fail "$t: $what did not get ready: $(cat "$out")"
		kill -9 "$pid" 2>/dev/null
		wait "$pid"
		return 1
	fi
}

kill_test_hold() {
	want=$(hold_blocks)
	start_helper "$1" holder 120 --hold "$want" || return
	held=$(awk '$1 == "kernel" { print $2 }' "$DBG/outstanding")
	if [ "${held:-0}" -ge "$want" ]; then
		ok "$1: holder holds $held pages ($(cat "$out"))"
	else
		fail "$1: holder holds ${held:-?} pages, want >= $want"
	fi
	if kill_and_reap "$pid"; then
		ok "$1: holder killed"
	else
		fail "$1: holder did not die of SIGKILL"
	fi
	check_clean "$1: after killing the holder"
}

kill_test_spin() {
	start_helper "$1" spinner 60 --spin || return
	# Proof that it is inside RUN: the kernel backend keeps allocating.
	a0=$(counter kernel allocs)
	sleep 1
	a1=$(counter kernel allocs)
	if [ "$a1" -gt "$a0" ]; then
		ok "$1: RUN in progress ($((a1 - a0)) allocs in 1s)"
	else
		fail "$1: RUN not running (allocs $a0 -> $a1): $(cat "$out")"
	fi
	if kill_and_reap "$pid"; then
		ok "$1: spinner killed mid-RUN"
	else
		fail "$1: spinner did not die of SIGKILL: $(cat "$out")"
	fi
	check_clean "$1: after killing the spinner"
}

round() {
	r="round $1"
	params=$(round_params "$1")
	# shellcheck disable=SC2086 # params is a word list on purpose
	if ! insmod "$KO" $params; then
		fail "$r: insmod $KO $params"
		return 1
	fi
	ok "$r: insmod ${params:-(defaults)}"
	if [ -c /dev/pcpool ] && [ -d "$DBG" ]; then
		ok "$r: /dev/pcpool and $DBG present"
	else
		fail "$r: /dev/pcpool or $DBG missing"
	fi
	check_clean "$r: after load"

	# shellcheck disable=SC2086 # GTEST_ARGS is a word list on purpose
	if pcpool-vmtest --gtest_color=no $GTEST_ARGS; then
		ok "$r: pcpool-vmtest"
	else
		fail "$r: pcpool-vmtest"
	fi
	check_clean "$r: after pcpool-vmtest"

	kill_test_hold "$r"
	kill_test_spin "$r"

	if rmmod pcpool; then
		ok "$r: rmmod"
	else
		fail "$r: rmmod"
		return 1
	fi
	if [ -e /dev/pcpool ] || [ -e "$DBG" ]; then
		fail "$r: /dev/pcpool or $DBG still there after rmmod"
	fi
	return 0
}

require_setup "$KO" pcpool-vmtest

i=1
while [ "$i" -le "$ROUNDS" ]; do
	echo "guest.sh: === round $i of $ROUNDS"
	round "$i" || break
	i=$((i + 1))
done

# sub_test SCRIPT WHAT: a script with its own load/unload, one check here:
# passed on exit 0, skipped on exit 77 (it could not run in this guest,
# e.g. one CPU), failed on anything else.
sub_test() {
	if [ ! -r "/pcpool/tests/$1" ]; then
		fail "$2: /pcpool/tests/$1 missing"
		return
	fi
	sh "/pcpool/tests/$1"
	rc=$?
	case $rc in
	0) ok "$2" ;;
	"$SKIP_EXIT") skip "$2" ;;
	*) fail "$2 (exit $rc)" ;;
	esac
}

# pcpbuddy: CPU offline/online in the middle of a cross-CPU run, exact
# accounting afterwards, every block back at unload.
sub_test pcpbuddy_vm.sh "pcpbuddy hotplug test"
# ... and the other way round: no front cache, remote frees under the lock.
export PCPOOL_PB_PARAMS="pcpbuddy_front_high=0 pcpbuddy_remote_free=lock"
sub_test pcpbuddy_vm.sh "pcpbuddy hotplug test ($PCPOOL_PB_PARAMS)"
unset PCPOOL_PB_PARAMS
# pcpu caches: channel charge of per-CPU objects; CPU offline/online under a
# cross-CPU run, exact accounting, every chunk back at unload.
sub_test pcpu_hotplug.sh "pcpu hotplug test"
# <backend>/reset zeroes event counters only.
sub_test reset_vm.sh "counter reset test"
# classic_high/classic_batch at load and live.
sub_test classic_vm.sh "classic tunables test"
sub_test vmap_vm.sh "vmap backends test"
# <backend>/pools and <backend>/drain of classic and pcpbuddy.
sub_test drain_vm.sh "drain and pools test"

finish "$ROUNDS load/unload rounds, "
