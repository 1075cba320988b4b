#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pcpbuddy on a NUMA guest (POSIX sh, busybox):
#   scripts/vm --smp 4 --numa 2 -- /pcpool/tests/numa_vm.sh
#
# Each pool's node (pcpbuddy/pools) is its CPU's node; cross and purger
# runs claim at least 99% of their blocks on the claiming CPU's node
# (pcpbuddy_claims_local / (local + remote)), and local + remote is every
# claim.  Each node has its own zone (pcpbuddy/zones: a line per node) and
# both are used.  classic, with a pageset per CPU per zone, serves at least
# 99% of cross and purger allocations from the allocating CPU's node
# (classic_numa_hit / (hit + miss)).  Then, on a zone of
# PCPOOL_NUMA_STEAL_LIMIT blocks, a purger run forces steals: they are
# split into same-node and other-node steals that add up to every steal,
# and the split is reported.  Skips (exit 77) on a guest with one node.

KO=${PCPOOL_KO:-/pcpool/pcpool.ko}
OPS=${PCPOOL_NUMA_OPS:-1000000}
LIMIT=${PCPOOL_NUMA_STEAL_LIMIT:-4}
NAME=numa_vm.sh
# shellcheck source=tests/vm/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

ctr() { counter pcpbuddy "$1"; }
# verdict STATUS OK-TEXT FAIL-TEXT
verdict() {
	if [ "$1" -eq 0 ]; then ok "$2"; else fail "$3"; fi
}

nodes=0
for n in /sys/devices/system/node/node[0-9]*; do
	[ -d "$n" ] && nodes=$((nodes + 1))
done
if [ "$nodes" -lt 2 ]; then
	skip_all "one NUMA node (scripts/vm --numa 2)"
fi
ncpu=$(awk -F- '{ print $NF + 1 }' /sys/devices/system/cpu/online)
require_setup "$KO" pcpool-bench
insmod "$KO" || { echo "$NAME: FAIL: insmod"; exit 1; }

# Every pool's node is its CPU's node.
bad=0
for n in /sys/devices/system/node/node[0-9]*; do
	nid=${n##*node}
	# shellcheck disable=SC2013 # a cpulist is one line of words
	for c in $(awk -F, '{ for (i = 1; i <= NF; i++) {
			split($i, r, "-"); hi = (r[2] == "") ? r[1] : r[2]
			for (c = r[1]; c <= hi; c++) print c } }' "$n/cpulist"); do
		got=$(awk -v c="$c" '$1 == c { print $2 }' "$DBG/pcpbuddy/pools")
		[ "$got" = "$nid" ] || bad=$((bad + 1))
	done
done
[ "$bad" = 0 ]
verdict $? "$nodes nodes, $ncpu CPUs: every pool on its CPU's node" "$bad pools on the wrong node"

# fresh_run BACKEND WORKLOAD: counters reset, one run; fails (status 1)
# with the run's last lines if it did not pass.
fresh_run() {
	out=$TMP/numa_$1_$2.out
	echo 1 >"$DBG/$1/reset"
	pcpool-bench --backend "$1" --workload "$2" --order 0 --ops "$OPS" \
		>"$out" 2>&1 && return 0
	fail "$1 $2 run: $(tail -n 3 "$out" | tr '\n' ' ')"
	return 1
}

# locality WORKLOAD
locality() {
	fresh_run pcpbuddy "$1" || return
	l=$(ctr pcpbuddy_claims_local)
	r=$(ctr pcpbuddy_claims_remote)
	c=$(ctr pcpbuddy_blocks_claimed)
	[ $((l + r)) = "$c" ] && [ "$c" -gt 0 ]
	verdict $? "$1: $c claims = $l local + $r remote" \
		"$1: claims $c, local $l + remote $r"
	# >= 99% local, in integers
	[ $((l * 100)) -ge $(((l + r) * 99)) ]
	verdict $? "$1: node-local claims $l of $((l + r))" \
		"$1: only $l of $((l + r)) claims node-local"
	echo "$NAME: $1: claims_local $l claims_remote $r steals_same_node $(ctr pcpbuddy_steals_same_node) steals_other_node $(ctr pcpbuddy_steals_other_node) ($ncpu CPUs, $nodes nodes)"
}
locality cross
locality purger

# zones BACKEND: one line per node, each node's zone locked and grown.
zones() {
	z=$(awk 'NR > 1' "$DBG/$1/zones" | wc -l)
	used=$(awk 'NR > 1 && $5 > 0 && $8 > 0' "$DBG/$1/zones" | wc -l)
	[ "$z" = "$nodes" ] && [ "$used" = "$nodes" ]
	verdict $? "$1: $z zones, each locked and grown" \
		"$1: $z zones for $nodes nodes, $used used: $(tr '\n' ';' <"$DBG/$1/zones")"
	echo "$NAME: $1 zones: $(awk 'NR > 1 { printf "node %s held %s locks %s; ", $1, $3, $5 }' "$DBG/$1/zones")"
}
zones pcpbuddy

# classic_locality WORKLOAD
classic_locality() {
	fresh_run classic "$1" || return
	h=$(counter classic classic_numa_hit)
	m=$(counter classic classic_numa_miss)
	[ $((h + m)) -gt 0 ] && [ $((h * 100)) -ge $(((h + m) * 99)) ]
	verdict $? "classic $1: node-local allocations $h of $((h + m))" \
		"classic $1: only $h of $((h + m)) allocations node-local"
}
classic_locality cross
classic_locality purger
zones classic
check_clean "after the locality runs"
rmmod pcpool || fail "rmmod"

# A zone too small for every pool: purger threads steal.
insmod "$KO" pcpbuddy_zone_limit_blocks="$LIMIT" || { fail "insmod limit $LIMIT"; finish ""; }
pcpool-bench --backend pcpbuddy --workload purger --order 0 --ops "$OPS" \
	>"$TMP/numa_steal.out" 2>&1
s=$(ctr pcpbuddy_steals_same_node)
o=$(ctr pcpbuddy_steals_other_node)
p3=$(ctr pcpbuddy_refill_phase3)
[ $((s + o)) = "$p3" ]
verdict $? "steals at a $LIMIT-block limit: $p3 = $s same node + $o other node" \
	"steals $p3 != same $s + other $o"
echo "$NAME: steal run: $(tail -n 2 "$TMP/numa_steal.out" | tr '\n' ' ')"
check_clean "after the steal run"
if rmmod pcpool; then
	ok "rmmod"
else
	fail "rmmod"
fi
finish ""
