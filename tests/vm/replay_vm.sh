#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Replay of a shipped page-allocation trace (traces/, issue 16) in the guest,
# on the kernel, classic and pcpbuddy backends and the null floor in one
# pcpool-bench run with --check (counters balance, nothing outstanding):
#   scripts/vm --add traces/xz-smp2.pctrace -- /pcpool/tests/replay_vm.sh
# Then a corrupt copy (a free with no allocation) must be refused before
# anything runs.  With /extra/pcpool-trace: a short trace captured here and
# now (shells filling memory and exiting, a sort) replayed on kernel,
# classic and pcpbuddy with --check; and churn/rand with --frag.  Every
# zone-backend run must carry a frag report.  Skips (77) when no trace was
# added.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
NAME=replay_vm.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

trace=""
for f in /extra/*.pctrace; do
	[ -r "$f" ] && trace=$f && break
done
[ -n "$trace" ] || skip_all "no trace in /extra (scripts/vm --add traces/NAME.pctrace)"
require_setup "$KO" pcpool-bench
insmod "$KO" || { echo "$NAME: FAIL: insmod"; exit 1; }

if pcpool-bench --backend kernel,null,classic,pcpbuddy --workload replay --trace "$trace" \
	--check --json "$TMP/replay.json" >"$TMP/replay.out" 2>&1; then
	ok "replay of $trace on kernel, null, classic, pcpbuddy with --check"
else
	fail "replay of $trace"
fi
cat "$TMP/replay.out"
n=$(grep -c '"workload": "replay"' "$TMP/replay.json" 2>/dev/null || echo 0)
if [ "$n" -eq 4 ]; then
	ok "4 replay runs in the JSON"
else
	fail "$n replay runs in the JSON"
fi

# frag_count FILE: zone views (as found + drained) in a JSON result file.
frag_count() {
	grep -c '"free_blocks"' "$1" 2>/dev/null || echo 0
}
n=$(frag_count "$TMP/replay.json")
if [ "$n" -eq 4 ] && grep -q '"buddyinfo"' "$TMP/replay.json"; then
	ok "frag reports: classic and pcpbuddy (zone view and drained), kernel's buddyinfo"
else
	fail "$n zone frag views in the replay JSON, or no buddyinfo"
fi

# A fresh capture: the kernel's kmem page events around real programs.
if [ -x /extra/pcpool-trace ]; then
	T=/sys/kernel/tracing
	mount -t tracefs nodev $T 2>/dev/null || true
	[ -w $T/tracing_on ] || T=/sys/kernel/debug/tracing
	if [ -w $T/events/kmem/mm_page_alloc/enable ]; then
		echo 0 >$T/tracing_on
		echo 4096 >$T/buffer_size_kb
		for e in mm_page_alloc mm_page_free mm_page_free_batched; do
			echo 1 >$T/events/kmem/$e/enable
		done
		echo >$T/trace
		echo 1 >$T/tracing_on
		for _ in 1 2 3 4; do
			sh -c 'v=$(head -c 500000 /dev/zero | tr "\0" a); : "$v"' &
		done
		seq 1 100000 | sort -r >/dev/null
		wait
		echo 0 >$T/tracing_on
		cat $T/trace >"$TMP/fresh.txt"
		for e in mm_page_alloc mm_page_free mm_page_free_batched; do
			echo 0 >$T/events/kmem/$e/enable
		done
		if /extra/pcpool-trace convert "$TMP/fresh.txt" "$TMP/fresh.pctrace" >"$TMP/conv.out" 2>&1; then
			ok "captured a fresh trace: $(tr '\n' ' ' <"$TMP/conv.out")"
		else
			fail "pcpool-trace convert: $(cat "$TMP/conv.out")"
		fi
		if pcpool-bench --backend kernel,classic,pcpbuddy --workload replay \
			--trace "$TMP/fresh.pctrace" --check --json "$TMP/fresh.json" \
			>"$TMP/fresh.out" 2>&1; then
			ok "fresh trace replayed on kernel, classic, pcpbuddy with --check"
		else
			fail "fresh trace replay"
		fi
		cat "$TMP/fresh.out"
		n=$(frag_count "$TMP/fresh.json")
		if [ "$n" -eq 4 ]; then
			ok "fresh replay: 4 zone frag views"
		else
			fail "fresh replay: $n zone frag views"
		fi
	else
		skip "no kmem tracepoints in tracefs: no fresh capture"
	fi
else
	fail "no /extra/pcpool-trace (the test passes --add build/bin/pcpool-trace)"
fi

# Fragmentation with the live set held: churn (in the kernel, RUN_FRAG)
# and rand (between its phases).
if pcpool-bench --backend classic,pcpbuddy --workload churn,rand --ops 20000 --frag \
	--check --json "$TMP/frag.json" >"$TMP/frag.out" 2>&1; then
	ok "churn and rand with --frag and --check"
else
	fail "churn, rand with --frag"
fi
cat "$TMP/frag.out"
n=$(frag_count "$TMP/frag.json")
if [ "$n" -eq 8 ]; then
	ok "churn, rand: 8 zone frag views"
else
	fail "churn, rand: $n zone frag views"
fi

# Event 1 turned into a free of a pfn nobody allocated: bits byte of the
# second event set to "free", its pfn changed.
cp "$trace" "$TMP/bad.pctrace"
a0=$(counter null allocs)
printf '\377' | dd of="$TMP/bad.pctrace" bs=1 seek=48 conv=notrunc 2>/dev/null
printf '\001' | dd of="$TMP/bad.pctrace" bs=1 seek=63 conv=notrunc 2>/dev/null
if pcpool-bench --backend null --workload replay --trace "$TMP/bad.pctrace" \
	>"$TMP/bad.out" 2>&1; then
	fail "a corrupt trace was replayed"
elif grep -q "not allocated" "$TMP/bad.out"; then
	ok "a corrupt trace is refused: $(cat "$TMP/bad.out")"
else
	fail "corrupt trace: $(cat "$TMP/bad.out")"
fi
if [ "$(counter null allocs)" = "$a0" ]; then
	ok "nothing replayed from it"
else
	fail "null allocations moved: $a0 -> $(counter null allocs)"
fi

rmmod pcpool || fail "rmmod"
finish "replay: "
