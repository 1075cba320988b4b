#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The vmap targets of issue 12 in one command: vmalloc, vmap-global and
# vmap-nodes side by side in one VM run on 2 vCPUs, test_vmalloc's
# run_test_mask=7 (fix-size, full-fit, long-busy), two threads; then the
# two vmap backends again with vmap_map=0 (VA only), and for each mode:
#   vmap-nodes global-lock acquisitions per 1000 ops <= 1/10 of vmap-global
#   vmap-nodes ns/op <= vmap-global ns/op
#
#   bench/vmap.sh                     # defaults
#   OPS=50000 REPEAT=5 bench/vmap.sh
#
# The guest boots with init_on_alloc=0, as bench/pcpbuddy.sh does.  Timings
# are emulated (TCG): compare within one run only; the median of REPEAT
# runs is used.  Build first: make -C kmod, and the CMake build in $BUILD.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ops=${OPS:-20000}
repeat=${REPEAT:-3}
results=${RESULTS:-$top/results}
out=$results/vmap-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
export BUILD=${BUILD:-$top/build}

bench="pcpool-bench --order 0 --threads 2 --ops $ops --repeat $repeat --workload fix-size,full-fit,long-busy"
# Mapped (each area backed by its own pages) beside the kernel's vmalloc,
# then VA only (vmap_map=0: the VA manager alone) in the same boot.
cmd="insmod /pcpool/pcpool.ko && $bench --backend vmalloc,vmap-global,vmap-nodes --json /out/results.json && rmmod pcpool"
cmd="$cmd && insmod /pcpool/pcpool.ko vmap_map=0 && $bench --backend vmap-global,vmap-nodes --json /out/results-va.json && rmmod pcpool"
"$top/scripts/vm" --smp 2 --append init_on_alloc=0 --out "$out" \
	--log "$out/guest.log" -- "$cmd" | tee "$out/table.txt"

python3 - "$out/results.json" "$out/results-va.json" <<'PY'
import json, statistics, sys

keys = ("glock_acquired", "glock_contended", "glock_hold_ns", "free_lock_acquired",
        "free_lock_hold_ns", "drain_lock_hold_ns", "search_steps", "purge_batches",
        "tlb_flushes", "pool_hits_1", "pool_misses_1", "pool_hits_128",
        "pool_misses_128", "decay_events")
workloads = ("fix-size", "full-fit", "long-busy")


def report(path, title, backends):
    doc = json.load(open(path))
    vals = {}
    for r in doc["results"]:
        if r.get("ns_per_op") is None:
            continue
        key = (r["backend"], r["workload"])
        vals.setdefault(key + ("ns",), []).append(r["ns_per_op"])
        per = r.get("counters_per_1000_ops") or {}
        for k in keys:
            if per.get(k) is not None:
                vals.setdefault(key + (k,), []).append(per[k])

    def med(b, w, k):
        v = vals.get((b, w, k))
        return statistics.median(v) if v else float("nan")

    print(f"\n== {title}")
    print("medians over the repeats, ns/op:")
    for w in workloads:
        print(f"  {w:<10}" + "".join(f"  {b} {med(b, w, 'ns'):10.1f}" for b in backends))
    print("medians, per 1000 ops (vmap-global | vmap-nodes):")
    for k in keys:
        print(f"  {k:<18}" + "".join(
            f"  {w} {med('vmap-global', w, k):10.2f} | {med('vmap-nodes', w, k):10.2f}"
            for w in workloads))
    print("targets (mask 7 = the three workloads, medians):")
    for w in workloads:
        g, n = med("vmap-global", w, "glock_acquired"), med("vmap-nodes", w, "glock_acquired")
        r = n / g if g else float("nan")
        print(f"  {w:<10} glock/1000 ops nodes/global {r:7.4f}  target <= 0.1  "
              f"{'met' if r <= 0.1 else 'MISSED'}")
        gn, nn = med("vmap-global", w, "ns"), med("vmap-nodes", w, "ns")
        print(f"  {w:<10} ns/op nodes/global {nn / gn:7.3f}  target <= 1  "
              f"{'met' if nn <= gn else 'MISSED'}")


report(sys.argv[1], "mapped (vmap_map=1)", ("vmalloc", "vmap-global", "vmap-nodes"))
report(sys.argv[2], "VA only (vmap_map=0)", ("vmap-global", "vmap-nodes"))
PY
echo "results: $out" >&2
