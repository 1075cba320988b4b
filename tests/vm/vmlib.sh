# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the guest test scripts (guest.sh, harness_vmtest.sh), POSIX
# sh for busybox.  Source it after setting NAME (the prefix of every line):
#   NAME=guest.sh; . "$(dirname "$0")/vmlib.sh"
# It sets DBG and TMP and counts checks in $passed, $failed and $skipped.
# Exit status, as liburing's tests and CTest's SKIP_RETURN_CODE have it:
# 0 passed, 1 failed, 77 (SKIP_EXIT) skipped: nothing could be checked.
# shellcheck shell=sh

DBG=/sys/kernel/debug/pcpool
# shellcheck disable=SC2034 # used by the scripts that source this
TMP=${TMPDIR:-/tmp}
passed=0
failed=0
skipped=0
SKIP_EXIT=77

ok() {
	echo "$NAME: ok: $*"
	passed=$((passed + 1))
}

fail() {
	echo "$NAME: FAIL: $*"
	failed=$((failed + 1))
}

# A check that could not run here (e.g. a sub-test that exited 77): counted
# on its own, never as passed.
skip() {
	echo "$NAME: SKIP: $*"
	skipped=$((skipped + 1))
}

# skip_all WHY: the whole script cannot run here; exit 77 before any check.
skip_all() {
	echo "$NAME: SKIP: $*"
	exit "$SKIP_EXIT"
}

# Nothing outstanding in any backend and no session open.
check_clean() {
	left=$(awk '$2 != 0' "$DBG/outstanding")
	sessions=$(cat "$DBG/sessions")
	if [ -n "$left" ] || [ "$sessions" != 0 ]; then
		fail "$1: outstanding [$left] sessions $sessions"
		return 1
	fi
	ok "$1: nothing outstanding, no sessions"
}

# counter BACKEND KEY: the key's value in BACKEND's debugfs counters.
counter() {
	awk -v k="$2" '$1 == k { print $2 }' "$DBG/$1/counters"
}

# require_setup KO BINARY...: exit 1 unless the module is readable and the
# binaries are in PATH; unload a module left loaded by someone else.
require_setup() {
	if [ ! -r "$1" ]; then
		echo "$NAME: no module at $1"
		exit 1
	fi
	shift
	for b in "$@"; do
		if ! command -v "$b" >/dev/null; then
			echo "$NAME: $b not in PATH ($PATH)"
			exit 1
		fi
	done
	if grep -q '^pcpool ' /proc/modules; then
		echo "$NAME: pcpool already loaded; unloading it first"
		rmmod pcpool || exit 1
	fi
}

# finish WHAT: the leak check of the last unload, then the summary line;
# exits 1 when a check failed, 77 when every check was skipped, else 0
# (skipped checks are reported in the summary, not counted as passed).
finish() {
	# The module reports leaks at unload with pr_err rather than a WARNING.
	if dmesg | grep -q 'pcpool: .*outstanding at unload'; then
		fail "module reported outstanding pages at unload: $(dmesg | grep 'outstanding at unload')"
	fi
	if [ "$skipped" -gt 0 ]; then
		nskip=", $skipped skipped"
	else
		nskip=""
	fi
	if [ "$failed" -gt 0 ]; then
		echo "$NAME: FAIL: $failed of $((passed + failed)) checks failed$nskip"
		exit 1
	fi
	if [ "$passed" -eq 0 ] && [ "$skipped" -gt 0 ]; then
		echo "$NAME: SKIP: $1$skipped checks skipped, none ran"
		exit "$SKIP_EXIT"
	fi
	echo "$NAME: PASS: $1$passed checks passed$nskip"
	exit 0
}
