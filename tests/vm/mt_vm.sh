#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Migratetypes in the guest (POSIX sh, busybox), run alone:
#   scripts/vm --smp 2 -- /pcpool/tests/mt_vm.sh
#
# Mixed-type traffic (--mt-mix: unmovable, movable, movable, reclaimable in
# turn) on classic, pcpbuddy and the kernel's allocator, with --check:
#   - with room to grow, blocks are tagged per type and nothing falls back
#     into another type's partial block (zone_mt_fallbacks and
#     pcpbuddy_mt_fallbacks 0, blocks claimed for their type);
#   - with a zone too small for every pool's three types, the fallbacks
#     happen and are counted, and the accounting still balances.
# Then: nothing outstanding, unload clean.  Needs 2+ CPUs; skips (exit 77)
# with one.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
NAME=mt_vm.sh
OPS=${MT_OPS:-20000}
LIMIT=${MT_LIMIT:-2}
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

ncpu=$(awk -F- '{ print $NF + 1 }' /sys/devices/system/cpu/possible)
if [ "$ncpu" -lt 2 ]; then
	skip_all "needs 2+ CPUs, have $ncpu"
fi
require_setup "$KO" pcpool-bench

# verdict STATUS OK-TEXT FAIL-TEXT
verdict() {
	if [ "$1" -eq 0 ]; then ok "$2"; else fail "$3"; fi
}

# run TAG BACKEND WORKLOAD: one mixed-type run with --check.
run() {
	if pcpool-bench --backend "$2" --workload "$3" --order 0 --ops "$OPS" \
		--live 600 --threads 2 --mt-mix --check >"$TMP/mt_$1.out" 2>&1; then
		ok "$1: $2 $3 --mt-mix --check"
		return 0
	fi
	fail "$1: $2 $3: $(tail -n 3 "$TMP/mt_$1.out" | tr '\n' ' ')"
	return 1
}

# fallbacks BACKEND: the fallbacks its counters show.
fallbacks() {
	if [ "$1" = pcpbuddy ]; then
		counter pcpbuddy pcpbuddy_mt_fallbacks
	else
		counter classic zone_mt_fallbacks
	fi
}

insmod "$KO" || { echo "$NAME: FAIL: insmod"; exit 1; }
for b in classic pcpbuddy; do
	if run "$b-room" "$b" busy; then
		f=$(fallbacks "$b")
		[ "$f" = 0 ]
		verdict $? "$b: room to grow: no fallback into a partial block" \
			"$b: room to grow, yet $f fallbacks"
		[ "$(counter "$b" zone_mt_claims)" -gt 0 ] ||
			[ "$(counter "$b" pcpbuddy_blocks_claimed)" -gt 0 ]
		verdict $? "$b: blocks claimed for their type" "$b: no block claimed"
		echo "$NAME: $b room: zone_mt_fallbacks $(counter "$b" zone_mt_fallbacks) zone_mt_claims $(counter "$b" zone_mt_claims) blocks held $(counter "$b" zone_blocks_held)"
	fi
done
if run kernel kernel busy; then
	ok "kernel: the same gfp through alloc_pages()"
fi
check_clean "after the runs with room"
rmmod pcpool || fail "rmmod"

# A zone smaller than the pools' types need: fallbacks, counted.
insmod "$KO" zone_limit_blocks="$LIMIT" pcpbuddy_zone_limit_blocks="$LIMIT" ||
	{ fail "insmod limit $LIMIT"; finish ""; }
for b in classic pcpbuddy; do
	if run "$b-tight" "$b" churn; then
		f=$(fallbacks "$b")
		[ "$f" -gt 0 ]
		verdict $? "$b: at a $LIMIT-block limit: $f fallbacks counted" \
			"$b: at a $LIMIT-block limit no fallback counted"
		echo "$NAME: $b tight: fallbacks $f zone_mt_fallbacks $(counter "$b" zone_mt_fallbacks) zone_mt_claims $(counter "$b" zone_mt_claims) pcpbuddy_mt_retags $(counter "$b" pcpbuddy_mt_retags)"
	fi
done
check_clean "after the tight runs"
if rmmod pcpool; then
	ok "rmmod"
else
	fail "rmmod"
fi
finish ""
