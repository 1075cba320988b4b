# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared helpers for pcpool scripts.  Source it; it defines functions only.

pcpool_die() {
	echo "pcpool: $*" >&2
	exit 1
}

# Newest kernel build tree under /lib/modules (Debian's linux-headers-*),
# so no kernel version is ever hard-coded.
pcpool_kdir() {
	local d rel
	# Sort by kernel version, not by glob order.
	rel=$(for d in /lib/modules/*/build; do
		[ -e "$d/Makefile" ] && basename "$(dirname "$d")"
	done | sort -V | tail -n 1)
	[ -n "$rel" ] || return 1
	echo "/lib/modules/$rel/build"
}

# Kernel release a module was built for (first word of its vermagic).
pcpool_ko_release() {
	modinfo -F vermagic "$1" 2>/dev/null | awk '{ print $1 }'
}
