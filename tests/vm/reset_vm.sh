#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# <backend>/reset in the guest (POSIX sh, busybox), run by guest.sh or alone:
#   scripts/vm -- /pcpool/tests/reset_vm.sh
#
# For classic and pcpbuddy: a run makes the zone-lock counters non-zero;
# writing 1 to reset zeroes every event counter the backend prints, leaves
# its gauges (held blocks, free pages) and the common counters behind
# "outstanding" alone, and any other value is refused.  The counters count
# again after a reset, and unload is clean.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
NAME=reset_vm.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"
# Common counters ("outstanding" is derived from them) and gauges: all
# other keys are event counters and must read 0 after a reset, so one
# added later without a reset is caught here.
KEEP='^(allocs|frees|alloc_failures|pages_allocated|pages_freed'
KEEP="$KEEP|zone_blocks_held|zone_free_pages|zone_free_order_[0-9]+"
KEEP="$KEEP|classic_(pcp_pages|high|batch)"
KEEP="$KEEP|pcpbuddy_(pool_pages|blocks_owned|high|batch|reserve|remote_pages|remote_list|front_pages|front_high))\$"

ctr() { counter "$@"; }
bulk() {
	pcpool-bench --backend "$1" --workload bulk --order 0 --ops 20000 \
		>/dev/null
}

require_setup "$KO" pcpool-bench
insmod "$KO" || { echo "reset_vm.sh: FAIL: insmod"; exit 1; }

for b in classic pcpbuddy; do
	if [ ! -w "$DBG/$b/reset" ]; then
		fail "$b: no writable $DBG/$b/reset"
		continue
	fi
	# A bulk run leaves pages cached, so the gauges are non-zero too.
	if ! bulk "$b"; then
		fail "$b: bulk run"
		continue
	fi
	acq=$(ctr "$b" zone_lock_acquisitions)
	allocs=$(ctr "$b" allocs)
	held=$(ctr "$b" zone_blocks_held)
	if [ "${acq:-0}" -eq 0 ] || [ "${held:-0}" -eq 0 ]; then
		fail "$b: a run left zone_lock_acquisitions=$acq zone_blocks_held=$held"
		continue
	fi

	for bad in 0 2 x; do
		if echo "$bad" >"$DBG/$b/reset" 2>/dev/null; then
			fail "$b: reset accepted '$bad'"
		fi
	done
	if [ "$(ctr "$b" zone_lock_acquisitions)" -ne "$acq" ]; then
		fail "$b: a refused write changed the counters"
	fi

	echo 1 >"$DBG/$b/reset" || fail "$b: writing 1 to reset"
	nz=$(awk -v keep="$KEEP" '$1 !~ keep && $2 != 0 { print }' \
		"$DBG/$b/counters")
	if [ -n "$nz" ]; then
		fail "$b: not zeroed by reset: $(echo "$nz" | tr '\n' ' ')"
	else
		ok "$b: event counters zeroed"
	fi
	if [ "$(ctr "$b" zone_blocks_held)" -ne "$held" ] ||
		[ "$(ctr "$b" allocs)" -ne "$allocs" ]; then
		fail "$b: reset touched a gauge or a common counter"
	else
		ok "$b: gauges and common counters kept"
	fi

	bulk "$b" || fail "$b: bulk run after reset"
	n=$(awk -v keep="$KEEP" '$1 !~ keep && $2 != 0' "$DBG/$b/counters" |
		wc -l)
	if [ "$n" -gt 0 ]; then
		ok "$b: counts again after reset ($n event counters moved)"
	else
		fail "$b: no event counter moved in a run after reset"
	fi
done

# A backend without event counters of its own has no reset file.
if [ -e "$DBG/null/reset" ]; then
	fail "null has a reset file"
fi

rmmod pcpool || fail "rmmod"
finish ""
