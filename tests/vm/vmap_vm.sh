#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The vmap backends in the guest (POSIX sh, busybox), run by guest.sh or
# alone:
#   scripts/vm -- /pcpool/tests/vmap_vm.sh
#
# Every test_vmalloc workload on vmalloc, vmap-global and vmap-nodes with
# --check; the purge and pool counters move as the designs say; the
# kernel's shrink (drop_caches) empties vmap-nodes' pools; a run
# SIGKILLed in the middle of a RUN leaves nothing behind; unload is clean;
# the same workloads again VA only (vmap_map=0); the log has no warning.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
NAME=vmap_vm.sh
OPS=${PCPOOL_VMAP_OPS:-20000}
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

require_setup "$KO" pcpool-bench
# Only this script's log lines are judged; guest.sh reads the rest.
log0=$(dmesg | wc -l)
insmod "$KO" || { echo "$NAME: FAIL: insmod"; exit 1; }

for b in vmap-global vmap-nodes; do
	if [ -d "$DBG/$b" ]; then
		ok "$b loaded"
	else
		fail "$b: no $DBG/$b"
	fi
done

out=$TMP/vmap.out
for b in vmalloc vmap-global vmap-nodes; do
	for w in fix-size full-fit long-busy random-size fix-align; do
		if pcpool-bench --backend "$b" --workload "$w" --ops "$OPS" \
			--check --quiet >"$out" 2>&1; then
			ok "$b $w --check"
		else
			fail "$b $w: $(cat "$out")"
		fi
	done
	check_clean "$b: after every workload"
done

# vmap-global purges lazily, one TLB flush per batch.
echo 1 >"$DBG/vmap-global/reset"
pcpool-bench --backend vmap-global --workload fix-size --ops 60000 --quiet \
	>/dev/null 2>&1 || fail "vmap-global fix-size 60000"
batches=$(counter vmap-global purge_batches)
flushes=$(counter vmap-global tlb_flushes)
if [ "${batches:-0}" -gt 0 ] && [ "$flushes" = "$batches" ]; then
	ok "vmap-global: $batches purge batches, $flushes TLB flushes"
else
	fail "vmap-global: purge_batches=$batches tlb_flushes=$flushes"
fi

# vmap-nodes refills its pools from purged frees and hits them.
echo 1 >"$DBG/vmap-nodes/reset"
pcpool-bench --backend vmap-nodes --workload fix-size --ops 60000 --quiet \
	>/dev/null 2>&1 || fail "vmap-nodes fix-size 60000"
hits=$(counter vmap-nodes pool_hits_1)
if [ "${hits:-0}" -gt 0 ]; then
	ok "vmap-nodes: $hits pool hits of 1 page"
else
	fail "vmap-nodes: no pool hits: $(cat "$DBG/vmap-nodes/counters")"
fi

# The shrinker, through the kernel: drop_caches' slab pass scans every
# shrinker, and vmap-nodes' scan empties its pools into the free space.
pool0=$(counter vmap-nodes pool_pages)
shr0=$(counter vmap-nodes shrinks)
dec0=$(counter vmap-nodes decayed_pages)
if [ "${pool0:-0}" -eq 0 ]; then
	fail "vmap-nodes: pools empty before the shrink, nothing to test"
else
	echo 2 >/proc/sys/vm/drop_caches
	pool1=$(counter vmap-nodes pool_pages)
	shr1=$(counter vmap-nodes shrinks)
	dec1=$(counter vmap-nodes decayed_pages)
	if [ "$shr1" -gt "$shr0" ] && [ "$pool1" -eq 0 ] &&
		[ $((dec1 - dec0)) -ge "$pool0" ]; then
		ok "shrinker: $((shr1 - shr0)) scans, $pool0 pooled pages returned"
	else
		fail "shrinker: shrinks $shr0 -> $shr1, pool_pages $pool0 -> $pool1, decayed_pages $dec0 -> $dec1"
	fi
fi
if pcpool-bench --backend vmap-nodes --workload fix-size --ops "$OPS" \
	--check --quiet >"$out" 2>&1; then
	ok "vmap-nodes fix-size --check after the shrink"
else
	fail "vmap-nodes after the shrink: $(cat "$out")"
fi

# SIGKILL in the middle of a long RUN.
pcpool-bench --backend vmap-nodes --workload long-busy --ops 1000000000 \
	--quiet >"$out" 2>&1 &
pid=$!
sleep 3
a0=$(counter vmap-nodes allocs)
sleep 1
a1=$(counter vmap-nodes allocs)
if [ "${a1:-0}" -gt "${a0:-0}" ]; then
	ok "long-busy RUN in progress ($((a1 - a0)) allocs in 1s)"
else
	fail "long-busy RUN not running (allocs $a0 -> $a1): $(cat "$out")"
fi
kill -9 "$pid"
wait "$pid"
if [ $? -eq 137 ]; then
	ok "killed mid-RUN"
else
	fail "did not die of SIGKILL: $(cat "$out")"
fi
check_clean "after the kill"

if rmmod pcpool; then
	ok "rmmod"
else
	fail "rmmod"
fi

# VA only: no pages, the range mapped to one scratch page.
if insmod "$KO" vmap_map=0; then
	ok "insmod vmap_map=0"
	for b in vmap-global vmap-nodes; do
		m=$(counter "$b" map_pages)
		[ "$m" = 0 ] || fail "$b: map_pages=$m with vmap_map=0"
		for w in fix-size full-fit long-busy random-size fix-align; do
			if pcpool-bench --backend "$b" --workload "$w" \
				--ops "$OPS" --check --quiet >"$out" 2>&1; then
				ok "$b $w --check, VA only"
			else
				fail "$b $w VA only: $(cat "$out")"
			fi
		done
	done
	check_clean "VA only: after every workload"
	if rmmod pcpool; then
		ok "rmmod (VA only)"
	else
		fail "rmmod (VA only)"
	fi
else
	fail "insmod vmap_map=0"
fi
bad=$(dmesg | tail -n +$((log0 + 1)) |
	grep -E 'WARNING|BUG:|Call Trace|pcpool: .*(leak|outstanding)' | head -5)
if [ -n "$bad" ]; then
	fail "log: $bad"
else
	ok "log clean"
fi
finish "vmap: "
