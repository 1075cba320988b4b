#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/scale --quick --smp 2 end to end: one boot, the JSON of each
# backend family, pcpool-scale's CSV and table.  Checks what the study
# wrote, never its timings.  Exit 77 where it cannot run (no QEMU, module,
# guest kernel or build).  Runs on the host (CTest), not in the guest.
set -uo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD:-$top/build}
skip() { echo "scale_test: SKIP: $*"; exit 77; }
fail() { echo "scale_test: FAIL: $*"; exit 1; }

command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
[ -f "$top/kmod/pcpool.ko" ] || skip "no kmod/pcpool.ko (make kmod)"
if [ ! -x "$build/bin/pcpool-scale" ] || [ ! -x "$build/guest/pcpool-bench" ]; then
	skip "no build in $build"
fi
rel=$(modinfo -F vermagic "$top/kmod/pcpool.ko" | awk '{ print $1 }')
[ -r "/boot/vmlinuz-$rel" ] || skip "no /boot/vmlinuz-$rel"

out=$(mktemp -d "${TMPDIR:-/tmp}/pcpool-scale-test.XXXXXX")
trap 'rm -rf "$out"' EXIT
BUILD=$build "$top/bench/scale" --quick --smp 2 --out "$out/r" >"$out/log" 2>&1
rc=$?
cat "$out/log"
[ "$rc" -eq 0 ] || fail "bench/scale exited $rc"
for f in page.json pcpu.json scale.csv usl.csv scale.txt guest.log; do
	[ -s "$out/r/$f" ] || fail "no $f"
done
# Every page backend and workload at 2 threads, the per-CPU ones too.
for b in kernel classic pcpbuddy null; do
	for w in repeat cross fanin purger exit; do
		grep -q "^$w,$b,2," "$out/r/scale.csv" || fail "no $w/$b at 2 threads in scale.csv"
	done
	grep -q "^repeat,$b,1," "$out/r/scale.csv" || fail "no repeat/$b at 1 thread"
done
grep -q '^lifecycle,pcpu-kernel,2,' "$out/r/scale.csv" || fail "no lifecycle/pcpu-kernel"
grep -q '^repeat,kernel,2,' "$out/r/usl.csv" || fail "no USL row for repeat/kernel"
grep -q 'growth' "$out/r/scale.txt" || fail "no table in scale.txt"
if command -v gnuplot >/dev/null; then
	[ -s "$out/r/scale-ns-per-op.png" ] || fail "no chart"
fi
echo "scale_test: PASS"
