#!/usr/bin/env bats
# Robustness: what a hostile or broken environment does to the tools
# (issue 16). Each test was written against the defect it guards.

load helpers

teardown() {
	[ -n "${TRACER:-}" ] && kill -INT "$TRACER" 2>/dev/null && wait "$TRACER" 2>/dev/null
	[ -n "${BG_PID:-}" ] && kill -9 "$BG_PID" 2>/dev/null
	cleanup_scratch
	true
}

@test "harden: make CFLAGS=... keeps the project's own flags" {
	local b="$BATS_TEST_TMPDIR/b"
	run make -C "$ROOT" -s BUILD="$b" CFLAGS="-O1" "$b/memdiag"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -x "$b/memdiag" ]
	run "$b/memdiag" --snapshot "$ROOT/tests/fixtures/memstat/v2_pod" --json
	[ "$status" -eq 0 ]
}
