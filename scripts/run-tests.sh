#!/bin/sh
# The whole suite: unit tests of the shared core (cmocka), then the
# end-to-end tests that run the real binaries against real workloads
# (bats). Ends with bats' summary line.
set -eu
cd "$(dirname "$0")/.."
build=${MEMSCOPE_BUILD:-build}
failed=0
for t in "$build"/unit/test_*; do
	[ -x "$t" ] || continue
	echo "== unit: $(basename "$t")"
	"$t" || failed=1
done
if [ "$(id -u)" != 0 ]; then
	echo "end-to-end tests load BPF programs: run as root" >&2
	[ "${CI:-}" = true ] && exit 1
fi
# MEMSCOPE_E2E: the bats files or directories to run (default: all of them).
echo "== end-to-end"
# shellcheck disable=SC2086 # a list of paths, split on purpose
bats --timing ${MEMSCOPE_E2E:-tests/e2e} || failed=1
[ $failed = 0 ] || { echo "unit or end-to-end tests FAILED" >&2; exit 1; }
