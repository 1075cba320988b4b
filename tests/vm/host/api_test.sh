#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The in-kernel API VM test from the host: builds the client module
# (samples/pcpool_api_client) out of the source tree against pcpool's headers and
# Module.symvers, then boots the guest with it (tests/vm/api_vm.sh).  77
# where it cannot run: no module built, no kernel build tree.
set -u
top=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$top/scripts/lib.sh"
kdir=${KDIR:-$(pcpool_kdir)}
symvers=$top/kmod/Module.symvers
if [ ! -f "$top/kmod/pcpool.ko" ] || [ ! -f "$symvers" ]; then
	echo "api_test.sh: SKIP: build kmod first (make kmod)"
	exit 77
fi
if [ -z "$kdir" ] || [ ! -f "$kdir/Makefile" ]; then
	echo "api_test.sh: SKIP: no kernel build tree"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$top"/samples/pcpool_api_client/* "$work/"
if ! make -s -C "$kdir" M="$work" PCPOOL_TOP="$top" \
	KBUILD_EXTRA_SYMBOLS="$symvers" modules; then
	echo "api_test.sh: FAIL: client module build"
	exit 1
fi
exec "$top/scripts/vm" --smp 2 --timeout 600 --add "$work/pcpool_api_client.ko" \
	-- /pcpool/tests/api_vm.sh
