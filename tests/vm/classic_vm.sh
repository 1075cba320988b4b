#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# classic's high/batch tunables in the guest (POSIX sh, busybox), run by
# guest.sh or alone:
#   scripts/vm -- /pcpool/tests/classic_vm.sh
#
# Values given at load are applied and out-of-range ones fail the load
# cleanly; writes to /sys/module/pcpool/parameters/classic_{high,batch}
# take effect on the live pcp lists (refills bring at most batch pages) and
# bad writes get EINVAL without changing anything; unload is clean.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
PAR=/sys/module/pcpool/parameters
NAME=classic_vm.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

ctr() { counter classic "$1"; }
expect() { # key value what
	v=$(ctr "$1")
	if [ "$v" = "$2" ]; then
		ok "$3: $1=$v"
	else
		fail "$3: $1=$v, expected $2"
	fi
}

require_setup "$KO" pcpool-bench

# Larger than any zone limit: the load must fail, not crash or WARN.
if insmod "$KO" classic_high=2000000000 2>/dev/null; then
	fail "insmod accepted classic_high=2000000000"
	rmmod pcpool
else
	ok "insmod refused an out-of-range classic_high"
fi
if insmod "$KO" classic_batch=-1 2>/dev/null; then
	fail "insmod accepted classic_batch=-1"
	rmmod pcpool
else
	ok "insmod refused classic_batch=-1"
fi

insmod "$KO" classic_high=200 classic_batch=7 ||
	{ echo "classic_vm.sh: FAIL: insmod"; exit 1; }
expect classic_high 200 "load-time value"
expect classic_batch 7 "load-time value"
[ "$(cat $PAR/classic_batch)" = 7 ] || fail "parameter reads $(cat $PAR/classic_batch)"

for bad in 0 -5 2000000000 x; do
	if echo "$bad" >$PAR/classic_batch 2>/dev/null; then
		fail "classic_batch accepted '$bad' on a live classic"
	fi
done
expect classic_batch 7 "after refused writes"

echo 15 >$PAR/classic_batch || fail "writing classic_batch=15"
echo 120 >$PAR/classic_high || fail "writing classic_high=120"
expect classic_batch 15 "live write"
expect classic_high 120 "live write"

echo 1 >"$DBG/classic/reset"
pcpool-bench --backend classic --workload cross --order 0 --ops 20000 \
	>/dev/null || fail "cross run"
refills=$(ctr classic_refills)
pages=$(ctr classic_refill_pages)
drains=$(ctr classic_drains)
if [ "${refills:-0}" -gt 0 ] && [ "$pages" -le $((refills * 15)) ] &&
	[ "$pages" -ge $((refills * 8)) ]; then
	ok "refills bring at most batch=15 pages ($pages pages in $refills)"
else
	fail "refills: $pages pages in $refills refills with batch 15"
fi
# With high 120, 20000 frees on one CPU must have drained many times.
if [ "${drains:-0}" -ge 20 ]; then
	ok "high=120 drains ($drains drains)"
else
	fail "only $drains drains with high=120"
fi

rmmod pcpool || fail "rmmod"
if dmesg | grep -q -e 'pcpool: .*outstanding at unload' -e 'pcpool: .*leaked'; then
	fail "leak reported at unload"
fi
finish ""
