#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/bundle, then the bundle alone: unpacked into an empty directory and
# run with a clean environment (env -i PATH=/usr/bin:/bin), ./run-scale
# --quick --smp 2 --native must leave the study's results, and the native
# pass's, in ./results/.  Checks
# structure and exit codes, never timings.  Exit 77 where the bundle cannot
# be built here.  Runs on the host (CTest).
set -uo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD:-$top/build}
skip() { echo "bundle_test: SKIP: $*"; exit 77; }
fail() { echo "bundle_test: FAIL: $*"; exit 1; }

command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
command -v xz >/dev/null || skip "no xz"
[ -f "$top/kmod/pcpool.ko" ] || skip "no kmod/pcpool.ko (make kmod)"
if [ ! -x "$build/bin/pcpool-scale" ] || [ ! -x "$build/guest/pcpool-bench" ] ||
	[ ! -x "$build/bin/pcpool-core-bench" ] || [ ! -x "$build/bin/pcpool-pcpu-bench" ]; then
	skip "no build in $build"
fi
rel=$(modinfo -F vermagic "$top/kmod/pcpool.ko" | awk '{ print $1 }')
[ -r "/boot/vmlinuz-$rel" ] || skip "no /boot/vmlinuz-$rel"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcpool-bundle-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
BUILD=$build "$top/bench/bundle" --out "$tmp/bundle.tar.xz" || fail "bench/bundle failed"
mkdir "$tmp/run"
tar -C "$tmp/run" -xJf "$tmp/bundle.tar.xz" || fail "cannot unpack"
b=$tmp/run/pcpool-scale
for f in run-scale bin/qemu-system-x86_64 lib/ld-linux-x86-64.so.2 boot/vmlinuz \
	boot/initrd.gz share/qemu/bios-256k.bin bin/pcpool-scale bin/pcpool-core-bench \
	bin/pcpool-pcpu-bench bench/native; do
	[ -e "$b/$f" ] || fail "bundle lacks $f"
done
[ -e "$b/lib/qemu/accel-tcg-x86_64.so" ] || echo "bundle_test: note: no TCG module (built into this qemu?)"
(cd "$b" && env -i PATH=/usr/bin:/bin TMPDIR="$tmp" ./run-scale --quick --smp 2 --native) >"$tmp/log" 2>&1
rc=$?
cat "$tmp/log"
[ "$rc" -eq 0 ] || fail "run-scale exited $rc"
r=""
for d in "$b"/results/scale-*; do
	[ -d "$d" ] && r=$d
done
[ -n "$r" ] || fail "no results/scale-* in the bundle directory"
for f in page.json pcpu.json scale.csv usl.csv; do
	[ -s "$r/$f" ] || fail "no $f"
done
grep -q '^repeat,kernel,2,' "$r/scale.csv" || fail "no repeat/kernel at 2 threads"
for f in host.txt core.json pcpu.json native.txt; do
	[ -s "$r/native/$f" ] || fail "no native/$f"
done
grep -q '^null repeat ' "$r/native/native.txt" || fail "no null repeat in native.txt"
grep -q '^constructed lifecycle ' "$r/native/native.txt" || fail "no constructed lifecycle in native.txt"
echo "bundle_test: PASS"
