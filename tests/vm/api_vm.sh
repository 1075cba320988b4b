#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The in-kernel API in the guest (POSIX sh, busybox), run by
# tests/vm/host/api_test.sh with the client module added:
#   scripts/vm --smp 2 --add pcpool_api_client.ko -- /pcpool/tests/api_vm.sh
#
# Loads pcpool, then the client (samples/pcpool_api_client), whose load runs
# allocations and frees from process, softirq and hardirq context and
# fails if a check fails; checks debugfs api counts what it holds, that
# pcpool cannot be unloaded under it, that the counts return to 0 when it
# goes, then unloads pcpool with a clean log.  Skips (77) without the client.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
CLIENT=${PCPOOL_API_CLIENT:-/extra/pcpool_api_client.ko}
NAME=api_vm.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

[ -r "$CLIENT" ] || skip_all "no client module at $CLIENT"
require_setup "$KO"

api() { awk -v k="$1" '$1 == k { print $2 }' "$DBG/api"; }

for params in "" "api_pages=classic" "api_pages=kernel"; do
	what="api${params:+ ($params)}"
	# shellcheck disable=SC2086 # parameters are words
	insmod "$KO" $params || { fail "$what: insmod pcpool"; continue; }
	# classic: frees from interrupts are deferred, allocations there fail
	copt=""
	[ "$params" = api_pages=classic ] && copt=atomic_allocs=0
	# shellcheck disable=SC2086 # parameters are words
	if insmod "$CLIENT" $copt; then
		ok "$what: client loaded: $(dmesg | grep 'pcpool_api_client: process' | tail -n 1 | sed 's/.*pcpool_api_client: //')"
	else
		fail "$what: client load failed: $(dmesg | grep pcpool_api_client | tail -n 2 | tr '\n' ' ')"
		rmmod pcpool
		continue
	fi
	if [ "$(api pages)" = 8 ] && [ "$(api percpu)" = 1 ]; then
		ok "$what: api counts the client's 8 pages and 1 object"
	else
		fail "$what: api reads $(tr '\n' ' ' <"$DBG/api")"
	fi
	if rmmod pcpool 2>/dev/null; then
		fail "$what: pcpool unloaded under its client"
	else
		ok "$what: rmmod pcpool refused while the client is loaded"
	fi
	rmmod pcpool_api_client || fail "$what: rmmod client"
	if [ "$(api pages)" = 0 ] && [ "$(api percpu)" = 0 ]; then
		ok "$what: api counts back to 0"
	else
		fail "$what: after the client: $(tr '\n' ' ' <"$DBG/api")"
	fi
	check_clean "$what"
	rmmod pcpool || fail "$what: rmmod pcpool"
done
if dmesg | grep -E -q 'WARNING:|BUG:|Oops|pages left in the pools|outstanding at unload'; then
	fail "kernel log: $(dmesg | grep -E 'WARNING:|BUG:|Oops|pages left|outstanding at unload' | head -n 3 | tr '\n' ' ')"
else
	ok "no WARNING, BUG, Oops or leak in the kernel log"
fi
finish ""
