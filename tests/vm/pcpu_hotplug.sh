#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The per-CPU caches in the guest (POSIX sh, busybox), run by guest.sh or
# alone:
#   scripts/vm --smp 2 -- /pcpool/tests/pcpu_hotplug.sh
#
# 1. Channel charging: with a session cap of 2047 pages, a cross-CPU run of
#    2 KiB per-CPU objects through a channel must work (one object costs
#    ceil(2 KiB * possible CPUs / page) pages, not 2^11), and the counters
#    must say the same.
# 2. CPU hotplug: a pcpu-constructed cross-CPU run (allocate on CPU 0, free
#    on CPU 1) with CPU 1 taken offline and back online in the middle; the
#    dead CPU's magazines must reach the depot (cpu_dead_objs), nothing may
#    stay outstanding, allocs = frees, no object in use, a drain returns
#    every chunk and unload logs every chunk returned (and no leak).
# Needs 2+ CPUs; skips (exit 77, counted as skipped by guest.sh) with one.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
CPU1=/sys/devices/system/cpu/cpu1/online
OPS=${PCPOOL_PH_OPS:-400000}
NAME=pcpu_hotplug.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

ctr() { counter "$@"; }
outstanding() { awk -v b="$1" '$1 == b { print $2 }' "$DBG/outstanding"; }
verdict() {
	if [ "$1" -eq 0 ]; then ok "$2"; else fail "$3"; fi
}

load() {
	if grep -q '^pcpool ' /proc/modules; then
		rmmod pcpool || exit 1
	fi
	# shellcheck disable=SC2086 # parameters are words
	insmod "$KO" $1 || { echo "pcpu_hotplug.sh: FAIL: insmod $1"; exit 1; }
	if [ ! -r "$DBG/pcpu-constructed/counters" ]; then
		fail "no $DBG/pcpu-constructed/counters"
		rmmod pcpool
		exit 1
	fi
}

# Every cache's chunks went back at unload, none leaked.
unload_clean() {
	dmesg -c >/dev/null
	if rmmod pcpool; then
		ok "$1: rmmod"
	else
		fail "$1: rmmod"
		return
	fi
	lines=$(dmesg | grep 'pcpool: pcpu cache')
	bad=$(echo "$lines" | awk '/still allocated/ { print; next }
		/chunks obtained/ && $(NF - 4) != $(NF - 1) { print }')
	n=$(echo "$lines" | grep -c 'chunks obtained')
	if [ -z "$bad" ] && [ "$n" = 3 ]; then
		ok "$1: unload returned every chunk: $(echo "$lines" | tr '\n' ' ')"
	else
		fail "$1: unload: $lines"
	fi
}

if [ ! -w "$CPU1" ]; then
	skip_all "no hot-pluggable CPU 1"
fi
ncpus=$(awk -F- '{ print ($2 == "" ? 1 : $2 + 1) }' /sys/devices/system/cpu/possible)

# ---- 1. channels charge per-CPU objects by their bytes ----
load "chan_capacity=256 session_max_pages=2047"
per=$(( (2048 * ncpus + 4095) / 4096 ))
if pcpool-bench --backend pcpu-raw --workload cross --order 11 --ops 20000 \
	>"$TMP/ph_chan.out" 2>&1; then
	ok "2 KiB objects through a channel under a 2047-page cap"
else
	fail "channel run under the cap: $(tail -n 5 "$TMP/ph_chan.out" | tr '\n' ' ')"
fi
a=$(ctr pcpu-raw allocs)
pa=$(ctr pcpu-raw pages_allocated)
pf=$(ctr pcpu-raw pages_freed)
[ "${a:-0}" -gt 0 ] && [ "$pa" = $((a * per)) ] && [ "$pa" = "$pf" ]
verdict $? "charged $per page(s) per object: $a objects, $pa pages" \
	"allocs $a pages_allocated $pa pages_freed $pf, want $per per object"
[ "$(outstanding pcpu-raw)" = 0 ]
verdict $? "channel run: nothing outstanding" \
	"channel run: outstanding $(outstanding pcpu-raw)"
unload_clean "channels"

# ---- 2. CPU 1 goes away under a cross-CPU run ----
load ""
pcpool-bench --backend pcpu-constructed --workload cross --order 3 \
	--ops "$OPS" >"$TMP/ph_cross.out" 2>&1 &
pid=$!
n=0
while [ "$(ctr pcpu-constructed allocs)" -lt 5000 ] && [ $n -lt 600 ]; do
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
	n=$((n + 1))
done
before=$(ctr pcpu-constructed allocs)
if echo 0 >"$CPU1"; then
	ok "CPU 1 offline after $before allocations"
else
	fail "could not offline CPU 1"
fi
sleep 1
dead=$(ctr pcpu-constructed cpu_dead_objs)
[ "${dead:-0}" -gt 0 ]
verdict $? "CPU 1's magazines went to the depot: $dead objects" \
	"cpu_dead_objs ${dead:-?} with CPU 1 offline"
# The counts visit no offline CPU: readable, and magazines still exact.
awk 'NR > 1 && $1 == "pcpu-constructed" { s += $7 } END { exit s < 0 }' \
	"$DBG/pcpu/classes"
verdict $? "pcpu/classes readable with CPU 1 offline" "pcpu/classes"
echo 1 >"$CPU1" || fail "could not online CPU 1"
wait $pid
rc=$?
# pcpool-bench pins before CPU 1 goes: a thread that loses its CPU is noted
# in the table, not an error, so the run itself must succeed.
[ "$rc" -eq 0 ]
verdict $? "cross run across the hotplug: $(tail -n 3 "$TMP/ph_cross.out" | tr '\n' ' ')" \
	"cross run across the hotplug exited $rc: $(tail -n 5 "$TMP/ph_cross.out" | tr '\n' ' ')"
[ "$(cat "$CPU1")" = 1 ]
verdict $? "CPU 1 back online" "CPU 1 not online"

# Again with both CPUs, so the re-onlined CPU refills from the depot.
if pcpool-bench --backend pcpu-constructed --workload cross --order 3 \
	--ops 50000 >"$TMP/ph_cross2.out" 2>&1; then
	ok "cross run after online"
else
	fail "cross run after online: $(tail -n 5 "$TMP/ph_cross2.out" | tr '\n' ' ')"
fi

[ "$(outstanding pcpu-constructed)" = 0 ]
verdict $? "nothing outstanding" "outstanding: $(outstanding pcpu-constructed)"
a=$(ctr pcpu-constructed allocs)
f=$(ctr pcpu-constructed frees)
[ "$a" = "$f" ] && [ "$a" -gt 0 ]
verdict $? "allocs = frees = $a" "allocs $a frees $f"
pa=$(ctr pcpu-constructed pages_allocated)
pf=$(ctr pcpu-constructed pages_freed)
[ "$pa" = "$pf" ]
verdict $? "pages allocated = freed = $pa" "pages_allocated $pa pages_freed $pf"
inuse=$(awk 'NR > 1 { s += $8 } END { print s + 0 }' "$DBG/pcpu/classes")
[ "$inuse" = 0 ]
verdict $? "no object in use in any class" "$inuse objects in use"
bf=$(ctr pcpu-constructed bad_frees)
[ "$bf" = 0 ]
verdict $? "no bad frees" "bad_frees $bf"

# A drain gives every chunk back: what was obtained was returned.
echo 1 >"$DBG/pcpu/drain"
g=$(ctr pcpu-constructed chunk_grow)
s=$(ctr pcpu-constructed chunk_shrink)
c=$(ctr pcpu-constructed chunks)
[ "$g" = "$s" ] && [ "$c" = 0 ] && [ "$g" -gt 0 ]
verdict $? "drain returned every chunk: grow $g shrink $s" \
	"after drain: chunk_grow $g chunk_shrink $s chunks $c"
echo "pcpu_hotplug.sh: $(grep -E '^(alloc_(hits|depot|refill)|free_(hits|depot|flush)|cpu_dead_objs|mags_(allocated|freed)) ' \
	"$DBG/pcpu-constructed/counters" | tr '\n' ' ')"
unload_clean "hotplug"

finish ""
