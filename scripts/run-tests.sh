#!/bin/sh
# The whole suite: unit tests of the shared core (cmocka), then the
# end-to-end tests that run the real binaries against real workloads
# (bats). Ends with bats' summary line.
# MEMSCOPE_SUITE=kernel: only the kernel-facing tests (bats tag "kernel":
# those that load and attach the programs and check them against the
# kernel), no unit tests; what the extra kernels of make test-vm run.
# MEMSCOPE_SUITE=guest: those and the suites tagged "guest", with the unit
# tests; what CI runs in the 6.1 guest.
set -eu
cd "$(dirname "$0")/.."
build=${MEMSCOPE_BUILD:-build}
suite=${MEMSCOPE_SUITE:-all}
case "$suite" in all|kernel|guest) ;; *) echo "MEMSCOPE_SUITE=$suite: all, kernel or guest" >&2; exit 1 ;; esac
failed=0
[ "$suite" = kernel ] || for t in "$build"/unit/test_*; do
	[ -x "$t" ] || continue
	echo "== unit: $(basename "$t")"
	"$t" || failed=1
done
if [ "$(id -u)" != 0 ]; then
	echo "end-to-end tests load BPF programs: run as root" >&2
	[ "${CI:-}" = true ] && exit 1
fi
# MEMSCOPE_E2E: the bats files or directories to run (default: all of them).
echo "== end-to-end ($suite)"
filter=
# guest: what the 6.1 guest runs in CI, the kernel-facing tests and the
# suites tagged "guest" (cgroup v2 alone, the real services), with the unit
# tests: every suite there would not fit CI's time beside the host's run.
case "$suite" in
kernel) filter="--filter-tags kernel" ;;
guest) filter="--filter-tags kernel --filter-tags guest" ;;
esac
# shellcheck disable=SC2086 # lists of words and paths, split on purpose
bats --timing $filter ${MEMSCOPE_E2E:-tests/e2e} || failed=1
[ $failed = 0 ] || { echo "unit or end-to-end tests FAILED" >&2; exit 1; }
