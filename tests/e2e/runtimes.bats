#!/usr/bin/env bats
# Script frames of every CPython version users run: pyenv's upstream
# builds 3.8-3.13 (libpython shared) and Debian's python3.11 (libpython in
# the executable), each named down to the line that runs: the allocating
# line of the innermost frame, the calling line of its caller. The script
# says what it keeps; the tools' figures are checked against it.

bats_require_minimum_version 1.5.0
load helpers
load realworld

PYENV="${PYENV_ROOT:-/root/.pyenv}/versions"
SRC="$ROOT/tests/workloads"

setup() { services_setup; }
teardown() { services_teardown; }

# python_bin X.Y | debian: the interpreter into PY. A missing one is a
# failure under CI=true (CI machines have pyenv's builds), else a skip.
python_bin() {
	if [ "$1" = debian ]; then
		PY=/usr/bin/python3.11
	else
		PY=$(ls -d "$PYENV/$1".*/bin/"python$1" 2>/dev/null | tail -1)
	fi
	[ -n "$PY" ] && [ -x "$PY" ] && return 0
	if [ "${CI:-}" = true ]; then
		echo "CPython $1 missing under $PYENV (CI=true: failing instead of skipping)" >&2
		return 1
	fi
	skip "CPython $1 missing"
}

# The line of a workload that carries a marker comment.
marked_line() { grep -n -m1 -F "# $1" "$SRC/$2" | cut -d: -f1; }

# leak_lines VERSION ARGS...: memleak-trace ARGS -- the script under that
# version; its final report into R, the bytes it says it kept into KEPT.
leak_lines() {
	local v="$1"; shift
	python_bin "$v"
	"$B/memleak-trace" "$@" --json -- "$PY" "$SRC/leak_lines.py" 200 ${NOCHURN:+nochurn} \
		> "$T/out" 2> "$T/err"
	cat "$T/err"
	KEPT=$(sed -n 's/^kept //p' "$T/out")
	R=$(grep '"event":"final_report"' "$T/out")
	ALLOC=$(marked_line "the allocating line" leak_lines.py)
	CALL=$(marked_line "the calling line" leak_lines.py)
	jq -c '.stacks[] | [.kind, .bytes, [.frames[] | select(.kind == "python") | [.symbol, .line]]]' <<< "$R"
}

# The stacks whose innermost frame is leak's allocating line called from
# main's calling line hold what the script kept (a stack per line of
# leak that grows the list or makes the bytearray: both are on that line).
assert_leak_named() {
	jq -e --argjson a "$ALLOC" --argjson c "$CALL" '[.stacks[] | select(.frames[0].symbol == "leak")]
		| length > 0 and all(.frames[0].kind == "python" and .frames[0].line == $a
			and (.frames[0].file | endswith("/tests/workloads/leak_lines.py"))
			and .frames[0].line_is_def != true
			and .frames[1].symbol == "main" and .frames[1].line == $c)' <<< "$R"
	held=$(jq '[.stacks[] | select(.frames[0].symbol == "leak") | .bytes] | add' <<< "$R")
	approx "$held" "$KEPT" 5
	jq -e '[.stacks[] | select(.frames[0].symbol == "leak") | .culprit] | all(. == "leak")' <<< "$R"
}

malloc_test() {
	leak_lines "$1" --malloc
	assert_leak_named
	jq -e '.culprit == "leak"' <<< "$R"
	# churn's bytearrays were freed: it holds nothing.
	jq -e '[.stacks[].frames[] | select(.symbol == "churn")] | length == 0' <<< "$R"
	! grep -q "no known layout" "$T/err"
}

@test "cpython 3.8: memleak-trace --malloc names the allocating and calling lines" { malloc_test 3.8; }
@test "cpython 3.9: memleak-trace --malloc names the allocating and calling lines" { malloc_test 3.9; }
@test "cpython 3.10: memleak-trace --malloc names the allocating and calling lines" { malloc_test 3.10; }
@test "cpython 3.11: memleak-trace --malloc names the allocating and calling lines" { malloc_test 3.11; }
@test "cpython 3.12: memleak-trace --malloc names the allocating and calling lines" { malloc_test 3.12; }
@test "cpython 3.13: memleak-trace --malloc names the allocating and calling lines (layout read from _Py_DebugOffsets)" { malloc_test 3.13; }
@test "cpython debian 3.11 (static libpython): memleak-trace --malloc names the allocating and calling lines" { malloc_test debian; }

# Without --malloc the heap's growth is charged to whoever grew it: the
# script runs without its churn (whose freed memory leak would reuse).
@test "cpython 3.9: memleak-trace (mappings) names leak's line for the heap it grew" {
	NOCHURN=1 leak_lines 3.9
	assert_leak_named
}

@test "cpython 3.13: memleak-trace --faults names leak's line for the pages it touched" {
	NOCHURN=1 leak_lines 3.13 --faults
	assert_leak_named
}

@test "cpython 3.12: the text report names the line too" {
	python_bin 3.12
	"$B/memleak-trace" --malloc -- "$PY" "$SRC/leak_lines.py" 200 > "$T/out" 2> "$T/err"
	cat "$T/out"
	grep -F "leak (leak_lines.py:$(marked_line "the allocating line" leak_lines.py))" "$T/out"
}

@test "cpython 3.7: refused once with a note, its stacks left native" {
	python_bin 3.7
	"$B/memleak-trace" --malloc --json -- "$PY" "$SRC/leak_lines.py" 50 > "$T/out" 2> "$T/err"
	cat "$T/err"
	[ "$(grep -c "CPython 3.7 has no known layout" "$T/err")" -eq 1 ]
	! grep '"event":"final_report"' "$T/out" | jq -e '[.stacks[].frames[] | select(.kind == "python")] | length > 0'
}

# sockleak_lines VERSION: the socket script under sockleak -p, its sockets
# opened from a thread once the tracer is attached; the final row in ROW.
sockleak_lines() {
	python_bin "$1"
	(cd "$T" && exec "$PY" "$SRC/leak_sockets.py" "$T/go" "$T/done" 20) > "$T/py.log" 2>&1 &
	SERVICES+=("$!")
	start_tool sockleak -p "$!" --json --older-than 0
	SL=$TOOL_PID
	touch "$T/go"
	wait_for 60 test -s "$T/done"
	stop_tool "$SL"
	ROW=$(jq -c "select(.type == \"process\" and .report == \"final\")" "$T/sockleak.out" | tail -1)
	jq -c '.stacks[] | [.count, .culprit, .frames[0:4]]' <<< "$ROW"
}

sockleak_test() {
	sockleak_lines "$1"
	local at="open_sockets (leak_sockets.py:$(marked_line "the creating line" leak_sockets.py))"
	local from="worker (leak_sockets.py:$(marked_line "the calling line" leak_sockets.py))"
	# socket.py's __init__ is the standard library: the culprit is its caller.
	jq -e --arg at "$at" --arg from "$from" '.stacks[] | select(.count == 20)
		| .culprit == $at and (.frames | index($at)) as $i
		| $i != null and .frames[$i + 1] == $from and .frame_kinds[$i] == "python"' <<< "$ROW"
}

@test "cpython 3.8: sockleak names the socket-opening line of a thread's function" { sockleak_test 3.8; }
@test "cpython 3.12: sockleak names the socket-opening line of a thread's function" { sockleak_test 3.12; }
