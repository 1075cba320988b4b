#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# <backend>/pools and <backend>/drain of classic and pcpbuddy in the guest
# (POSIX sh, busybox), run by guest.sh or alone:
#   scripts/vm --smp 2 -- /pcpool/tests/drain_vm.sh
#
# After a cross-CPU run leaves pages cached per CPU: pools has one line per
# possible CPU and its pages add up to the backend's pool counter; a write
# of 1 to drain empties every pool, visiting exactly the CPUs that held
# pages and skipping the rest (read back from drain); a second drain skips
# every CPU; other values are refused; unload is clean.  Needs 2+ CPUs;
# skips (exit 77) with one.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
NAME=drain_vm.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

# possible CPUs, "0" or "0-N": the pools files have a line for each
ncpu=$(awk -F- '{ print $NF + 1 }' /sys/devices/system/cpu/possible)
if [ "$ncpu" -lt 2 ]; then
	skip_all "needs 2+ CPUs, have $ncpu"
fi
require_setup "$KO" pcpool-bench
insmod "$KO" || { echo "$NAME: FAIL: insmod"; exit 1; }

# drain_field BACKEND KEY: a value of the last drain's line.
drain_field() {
	awk -v k="$2" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' \
		"$DBG/$1/drain"
}

# pools_sum BACKEND COLUMN: the column summed over every CPU's line.
pools_sum() {
	awk -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) n = i; next }
		{ s += $n } END { print s + 0 }' "$DBG/$1/pools"
}

# busy_cpus BACKEND: CPUs whose pool holds pages or queued remote frees.
busy_cpus() {
	awk 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		{ r = ("remote_chunks" in h) ? $h["remote_chunks"] : 0
		  if ($h["pages"] > 0 || r > 0) n++ }
		END { print n + 0 }' "$DBG/$1/pools"
}

# check BACKEND POOL-COUNTER
check() {
	b=$1
	if [ ! -r "$DBG/$b/pools" ] || [ ! -w "$DBG/$b/drain" ]; then
		fail "$b: no pools or drain file"
		return
	fi
	if ! pcpool-bench --backend "$b" --workload cross --order 0 --ops 20000 \
		>"$TMP/drain_$b.out" 2>&1; then
		fail "$b: cross run: $(tail -n 3 "$TMP/drain_$b.out" | tr '\n' ' ')"
		return
	fi
	rows=$(($(wc -l <"$DBG/$b/pools") - 1))
	[ "$rows" = "$ncpu" ]
	verdict $? "$b: pools has $rows CPU lines" "$b: pools has $rows lines for $ncpu CPUs"
	pages=$(pools_sum "$b" pages)
	if [ "$b" = pcpbuddy ]; then
		remote=$(pools_sum "$b" remote_pages)
		owned=$(pools_sum "$b" owned_blocks)
		[ "$owned" = "$(counter "$b" pcpbuddy_blocks_owned)" ]
		verdict $? "$b: owned blocks over CPUs = counter = $owned" \
			"$b: owned blocks over CPUs $owned, counter $(counter "$b" pcpbuddy_blocks_owned)"
	else
		remote=0
	fi
	[ $((pages + remote)) = "$(counter "$b" "$2")" ] && [ "$pages" -gt 0 ]
	verdict $? "$b: pools hold $pages pages + $remote queued = $2" \
		"$b: pools hold $pages + $remote, $2 $(counter "$b" "$2")"
	busy=$(busy_cpus "$b")
	echo 1 >"$DBG/$b/drain"
	v=$(drain_field "$b" visited)
	s=$(drain_field "$b" skipped)
	p=$(drain_field "$b" pages)
	echo "$NAME: $b drain: $(cat "$DBG/$b/drain") (CPUs holding pages before: $busy of $ncpu)"
	[ "$v" = "$busy" ] && [ $((v + s)) = "$ncpu" ] && [ "$p" = $((pages + remote)) ]
	verdict $? "$b: drain visited $v, skipped $s, moved $p pages" \
		"$b: drain visited $v skipped $s pages $p; expected $busy of $ncpu, $((pages + remote)) pages"
	[ "$(pools_sum "$b" pages)" = 0 ] && [ "$(counter "$b" "$2")" = 0 ]
	verdict $? "$b: every pool empty after drain" "$b: pools hold $(pools_sum "$b" pages) after drain"
	echo 1 >"$DBG/$b/drain"
	[ "$(drain_field "$b" visited)" = 0 ] && [ "$(drain_field "$b" skipped)" = "$ncpu" ]
	verdict $? "$b: second drain skipped all $ncpu CPUs" "$b: second drain: $(cat "$DBG/$b/drain")"
	if echo 2 >"$DBG/$b/drain" 2>/dev/null; then
		fail "$b: drain took 2"
	else
		ok "$b: drain refused 2"
	fi
}

# verdict STATUS OK-TEXT FAIL-TEXT
verdict() {
	if [ "$1" -eq 0 ]; then ok "$2"; else fail "$3"; fi
}

check classic classic_pcp_pages
check pcpbuddy pcpbuddy_pool_pages
check_clean "after the drains"
if rmmod pcpool; then
	ok "rmmod"
else
	fail "rmmod"
fi
finish ""
