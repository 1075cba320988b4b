#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The per-CPU cache against the kernel's alloc_percpu(), in two VMs that
# differ only in their CPU count (default --smp 2 and --smp 8): for each
# workload and backend the in-kernel time per operation (PCPOOL_IOC_RUN,
# median of three runs, pinned to the first CPU), the speedup over
# pcpu-kernel in the same VM, and how the cost grows from the small VM to
# the big one.  The measuring code is pcpool-vmtest's PcpuVm.DISABLED_Bench.
#
#   bench/pcpu.sh                 # smp 2 and 8
#   bench/pcpu.sh 2 4 8           # any list of CPU counts; the first is the base
#
# Env: BUILD (CMake build dir with guest/pcpool-vmtest, default ./build), KO
# (module, default kmod/pcpool.ko), RESULTS (default ./results).  Build first.
# Timings are emulated (QEMU TCG): compare ratios within one run of this
# script, never absolute numbers across hosts.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- 2 8
export BUILD=${BUILD:-$top/build}
results=${RESULTS:-$top/results}
out=$results/pcpu-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

filter='--gtest_also_run_disabled_tests --gtest_filter=PcpuVm.DISABLED_Bench'
files=()
for smp in "$@"; do
	files+=("$out/smp$smp.txt")
	echo "bench/pcpu.sh: --smp $smp" >&2
	"$top/scripts/vm" --smp "$smp" --timeout 1200 --log "$out/guest-smp$smp.log" -- \
		"insmod /pcpool/pcpool.ko && pcpool-vmtest --gtest_color=no $filter && rmmod pcpool" |
		tee "$out/smp$smp.txt" | grep '^pcpubench' || {
		echo "bench/pcpu.sh: run with --smp $smp failed; see $out" >&2
		exit 1
	}
done

# One table: rows are workload/order/backend, columns ns/op per VM, the
# speedup over pcpu-kernel in each VM, and last/first growth.
awk -v list="$*" '
function field(name,    i, kv) {
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == name)
			return kv[2]
	}
	return ""
}
BEGIN { n = split(list, smps, " ") }
/^pcpubench/ {
	smp = FILENAME
	sub(/.*smp/, "", smp)
	sub(/\.txt$/, "", smp)
	key = field("workload") " order=" field("order") " batch=" field("batch")
	be = field("backend")
	v[key, be, smp] = field("ns_per_op")
	if (!(key in seen)) { seen[key] = 1; keys[++nk] = key }
	if (!(be in seenb)) { seenb[be] = 1; bes[++nb] = be }
}
END {
	printf "%-40s %-17s", "workload", "backend"
	for (i = 1; i <= n; i++) printf " %12s", "ns/op smp" smps[i]
	for (i = 1; i <= n; i++) printf " %11s", "x kern smp" smps[i]
	printf " %9s\n", "smp" smps[n] "/smp" smps[1]
	for (k = 1; k <= nk; k++) {
		for (b = 1; b <= nb; b++) {
			key = keys[k]; be = bes[b]
			if (!((key, be, smps[1]) in v)) continue
			printf "%-40s %-17s", key, be
			for (i = 1; i <= n; i++) printf " %12s", v[key, be, smps[i]]
			for (i = 1; i <= n; i++) {
				kern = v[key, "pcpu-kernel", smps[i]]
				mine = v[key, be, smps[i]]
				if (kern != "" && mine > 0)
					printf " %11.1f", kern / mine
				else
					printf " %11s", "-"
			}
			if (v[key, be, smps[1]] > 0 && v[key, be, smps[n]] != "")
				printf " %9.2f\n", v[key, be, smps[n]] / v[key, be, smps[1]]
			else
				printf " %9s\n", "-"
		}
	}
}' "${files[@]}" | tee "$out/summary.txt"
echo "bench/pcpu.sh: results in $out" >&2
