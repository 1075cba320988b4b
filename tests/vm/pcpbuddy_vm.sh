#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pcpbuddy in the guest (POSIX sh, busybox), run by guest.sh or alone:
#   scripts/vm --smp 2 -- /pcpool/tests/pcpbuddy_vm.sh
#
# Loads the module, runs a cross-CPU pcpbuddy workload and takes CPU 1
# offline and back online in the middle of it, then checks: the run exits
# 0, nothing outstanding, allocations = frees, held blocks = zone free +
# pool free pages exactly, the CPU's pool was emptied (dead_frees or an
# empty pool), a shrinker pass (drop_caches) empties every pool, and unload
# gives every block back (no leak report).  Needs 2+ CPUs; skips (exit 77,
# counted as skipped by guest.sh) with one.
# PCPOOL_PB_PARAMS: module parameters, e.g. pcpbuddy_remote_free=lock (the
# default is list: remote frees queued, checked absorbed by the shrinker)
# or pcpbuddy_front_high=0 (no front cache; the shrinker empties it too).

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
CPU1=/sys/devices/system/cpu/cpu1/online
OPS=${PCPOOL_PB_OPS:-400000}
NAME=pcpbuddy_vm.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

ctr() { counter pcpbuddy "$1"; }

if [ ! -w "$CPU1" ]; then
	skip_all "no hot-pluggable CPU 1"
fi
require_setup "$KO" pcpool-bench
# An out-of-range front cache size fails the load, with no WARN.
for bad in -2 1000000000; do
	if insmod "$KO" pcpbuddy_front_high=$bad 2>/dev/null; then
		fail "insmod took pcpbuddy_front_high=$bad"
		rmmod pcpool
	else
		ok "pcpbuddy_front_high=$bad refused"
	fi
done
# shellcheck disable=SC2086 # parameters are words
insmod "$KO" ${PCPOOL_PB_PARAMS:-} || { echo "pcpbuddy_vm.sh: FAIL: insmod"; exit 1; }
if [ ! -r "$DBG/pcpbuddy/counters" ]; then
	fail "no $DBG/pcpbuddy/counters"
	rmmod pcpool
	exit 1
fi

# A cross-CPU run (allocate on CPU 0, free on CPU 1) in the background.
pcpool-bench --backend pcpbuddy --workload cross --order 0 --ops "$OPS" \
	>"$TMP/pb_cross.out" 2>&1 &
pid=$!
# Wait until it is allocating, then unplug CPU 1 under it.
n=0
while [ "$(ctr pcpbuddy_allocs)" -lt 1000 ] && [ $n -lt 600 ]; do
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
	n=$((n + 1))
done
before=$(ctr pcpbuddy_allocs)
if echo 0 >"$CPU1"; then
	ok "CPU 1 offline after $before allocations"
else
	fail "could not offline CPU 1"
fi
sleep 1
if [ "$(cat "$CPU1")" = 0 ] && [ "$(awk '$1 == "pcpbuddy_pool_pages"' "$DBG/pcpbuddy/counters")" != "" ]; then
	ok "pcpbuddy counters readable with CPU 1 offline"
fi
echo 1 >"$CPU1" || fail "could not online CPU 1"
wait $pid
rc=$?
# The threads were pinned before CPU 1 went away; losing the pinning is a
# note in pcpool-bench's table, not an error, so the run must succeed.
if [ "$rc" -eq 0 ]; then
	ok "cross run across the hotplug: $(tail -n 3 "$TMP/pb_cross.out" | tr '\n' ' ')"
else
	fail "cross run across the hotplug exited $rc: $(tail -n 5 "$TMP/pb_cross.out" | tr '\n' ' ')"
fi
if [ "$(cat "$CPU1")" = 1 ]; then
	ok "CPU 1 back online"
else
	fail "CPU 1 not online"
fi

# A second cross run with both CPUs, to use the re-onlined CPU's pool.
if pcpool-bench --backend pcpbuddy --workload cross --order 0 --ops 50000 \
	>"$TMP/pb_cross2.out" 2>&1; then
	ok "cross run after online"
else
	fail "cross run after online: $(tail -n 5 "$TMP/pb_cross2.out")"
fi

left=$(awk '$1 == "pcpbuddy" { print $2 }' "$DBG/outstanding")
# verdict STATUS OK-TEXT FAIL-TEXT
verdict() {
	if [ "$1" -eq 0 ]; then ok "$2"; else fail "$3"; fi
}
[ "${left:-x}" = 0 ]
verdict $? "nothing outstanding" "outstanding: ${left:-?}"
a=$(ctr pcpbuddy_allocs)
f=$(ctr pcpbuddy_frees)
[ "$a" = "$f" ] && [ "$a" -gt 0 ]
verdict $? "allocs = frees = $a" "allocs $a frees $f"
lf=$(ctr pcpbuddy_local_frees)
rf=$(ctr pcpbuddy_remote_frees)
xf=$(ctr pcpbuddy_loose_frees)
df=$(ctr pcpbuddy_dead_frees)
if [ $((lf + rf + xf + df)) = "$f" ]; then
	ok "frees: local $lf remote $rf loose $xf dead $df"
else
	fail "local $lf + remote $rf + loose $xf + dead $df != frees $f"
fi
[ "$rf" -gt 0 ]
verdict $? "remote frees routed: $rf" "no remote frees"
list=$(ctr pcpbuddy_remote_list)
rq=$(ctr pcpbuddy_remote_queued)
if [ "$list" = 1 ]; then
	[ "$rq" -gt 0 ]
	verdict $? "remote frees queued on lists: $rq, absorbed $(ctr pcpbuddy_remote_absorbed)" \
		"list mode but nothing queued"
else
	[ "$rq" = 0 ]
	verdict $? "lock mode: nothing queued" "lock mode but $rq queued"
fi
fh=$(ctr pcpbuddy_front_high)
ff=$(ctr pcpbuddy_front_frees)
fa=$(ctr pcpbuddy_front_allocs)
if [ "$fh" -gt 0 ]; then
	[ "$ff" -gt 0 ] && [ "$fa" -gt 0 ]
	verdict $? "front cache of $fh: $ff frees, $fa allocations" \
		"front cache of $fh unused: $ff frees, $fa allocations"
else
	[ "$ff" = 0 ] && [ "$fa" = 0 ]
	verdict $? "front cache off: unused" "front cache off but $ff frees, $fa allocations"
fi

exact() {
	held=$(ctr zone_blocks_held)
	zfree=$(ctr zone_free_pages)
	pfree=$(ctr pcpbuddy_pool_pages)
	# the highest zone_free_order_N key is the block order
	bp=$((1 << $(awk '/^zone_free_order_/ { sub("zone_free_order_", "", $1); o = $1 }
		END { print o }' "$DBG/pcpbuddy/counters")))
	if [ $((held * bp)) = $((zfree + pfree)) ]; then
		ok "$1: held $held blocks = zone $zfree + pools $pfree pages"
	else
		fail "$1: held $held blocks x $bp != zone $zfree + pools $pfree"
	fi
}
exact "after the runs"

# The shrinker drains every pool and gives whole blocks back.
echo 2 >/proc/sys/vm/drop_caches
pfree=$(ctr pcpbuddy_pool_pages)
[ "$pfree" = 0 ]
verdict $? "shrinker emptied the pools" "pools hold $pfree pages after drop_caches"
rp=$(ctr pcpbuddy_remote_pages)
[ "$rp" = 0 ]
verdict $? "no pages left on remote-free lists" "$rp pages on remote-free lists"
fp=$(ctr pcpbuddy_front_pages)
[ "$fp" = 0 ]
verdict $? "no pages left in front caches" "$fp pages in front caches"
exact "after the shrinker"
echo "pcpbuddy_vm.sh: $(grep -E '^(pcpbuddy_(blocks|refill|steal|drain_all|recover|front)|zone_lock_acq)' "$DBG/pcpbuddy/counters" | tr '\n' ' ')"

if rmmod pcpool; then
	ok "rmmod"
else
	fail "rmmod"
fi
if dmesg | grep -qE 'pcpool: pcpbuddy: .*(leaked|left)'; then
	fail "unload: $(dmesg | grep -E 'pcpool: pcpbuddy:')"
else
	ok "unload returned every block"
fi

finish ""
