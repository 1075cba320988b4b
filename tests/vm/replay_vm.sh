#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Replay of a shipped page-allocation trace (traces/, issue 16) in the guest,
# on the kernel, classic and pcpbuddy backends and the null floor in one
# pcpool-bench run with --check (counters balance, nothing outstanding):
#   scripts/vm --add traces/xz-smp2.pctrace -- /pcpool/tests/replay_vm.sh
# Then a corrupt copy (a free with no allocation) must be refused before
# anything runs. Skips (77) when no trace was added.

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
