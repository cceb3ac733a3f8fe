#!/usr/bin/env bats
# The symbolizer worker (docs/sandbox.md): the binaries of traced processes
# are parsed in a child without capabilities under seccomp, and a crash of
# it costs the names of the frames, not the report.

load helpers

setup() {
	need_bpf
	T="$BATS_TEST_TMPDIR"
	WL_PID=""
	TR_PID=""
	SRV=""
}

teardown() {
	[ -n "$TR_PID" ] && kill -INT "$TR_PID" 2>/dev/null
	[ -n "$WL_PID" ] && kill "$WL_PID" 2>/dev/null
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	wait 2>/dev/null
	true
}

CRASH_LINE='symbolizer worker crashed \(signal 11\); frames from here on are unsymbolized \(module\+offset\)'

# start_on_leak_malloc [ENV=VALUE]: memleak-trace --json attached to
# leak_malloc, held until finish_leak_malloc, which releases it (300 blocks
# of 200 bytes leaked) and stops the tracer (final report) once it says it
# is done; $FINAL, $ERR, $TR_STATUS.
start_on_leak_malloc() {
	"$W/leak_malloc" 300 200 -w > "$T/wl.out" &
	WL_PID=$!
	ERR="$T/tracer.err"
	env "$@" "$B/memleak-trace" -p "$WL_PID" --malloc --json > "$T/report.json" 2> "$ERR" &
	TR_PID=$!
	wait_ready "$ERR" 60
}

finish_leak_malloc() {
	kill -USR1 "$WL_PID"
	wait_for 300 test -s "$T/wl.out"
	kill -INT "$TR_PID"
	wait "$TR_PID" && TR_STATUS=0 || TR_STATUS=$?
	TR_PID=""
	# It waits to be killed; a second run in one test must not leave it.
	kill "$WL_PID"
	wait "$WL_PID" 2>/dev/null || true
	WL_PID=""
	FINAL=$(grep '"final_report"' "$T/report.json")
}

memleak_on_leak_malloc() {
	start_on_leak_malloc "$@"
	finish_leak_malloc
}

# The worker of tracer $1: its one child named memscope-symw.
worker_of() {
	pgrep -P "$1" -x memscope-symw
}

@test "sandbox: the symbolizer worker runs with no capabilities, no new privileges and a seccomp filter" {
	start_on_leak_malloc
	wait_for 60 worker_of "$TR_PID"
	local wp
	wp=$(worker_of "$TR_PID")
	grep -E '^(Cap(Inh|Prm|Eff|Amb)|NoNewPrivs|Seccomp|Uid):' "/proc/$wp/status" >&2
	[ "$(awk '/^CapEff:/ { print $2 }' "/proc/$wp/status")" = 0000000000000000 ]
	[ "$(awk '/^CapPrm:/ { print $2 }' "/proc/$wp/status")" = 0000000000000000 ]
	[ "$(awk '/^CapInh:/ { print $2 }' "/proc/$wp/status")" = 0000000000000000 ]
	[ "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$wp/status")" = 1 ]
	[ "$(awk '/^Seccomp:/ { print $2 }' "/proc/$wp/status")" = 2 ]
	# It holds no file of the tracer's: its fds are the socket, the
	# binaries it was handed and /dev/null, stderr.
	! ls -l "/proc/$wp/fd" | grep -E 'bpf|anon_inode|/proc/'
	# And it is the one that names the frames.
	finish_leak_malloc
	[ "$TR_STATUS" -eq 0 ]
	[ "$(jq -r .stacks[0].culprit <<<"$FINAL")" = leak_record ]
	! grep -q 'symbolizer worker' "$ERR"
}

@test "sandbox: memleak-trace, worker crashing on a binary: one line, frames as module+offset in the right function, numbers intact, exit 0" {
	memleak_on_leak_malloc MEMSCOPE_TEST_SYMW_CRASH=leak_record
	cat "$ERR" >&2
	[ "$TR_STATUS" -eq 0 ]
	[ "$(grep -cE "$CRASH_LINE" "$ERR")" -eq 1 ]
	local top='.stacks[0]'
	[ "$(jq -r "$top.bytes" <<<"$FINAL")" -eq $((300 * 200)) ]
	[ "$(jq -r "$top.allocations" <<<"$FINAL")" -eq 300 ]
	[ "$(jq -r .summary.outstanding_allocations <<<"$FINAL")" -ge 300 ]
	# No frame of the program is named now, but its offset is the one
	# addr2line puts in the leaking function.
	[ "$(jq '[.stacks[].frames[] | select(.symbol == "leak_record")] | length' <<<"$FINAL")" -eq 0 ]
	local off
	off=$(jq -r "[$top.frames[] | select(.module == \"leak_malloc\" and .symbol == null)][0].offset" <<<"$FINAL")
	[ "$(addr2line -f -e "$W/leak_malloc" "$(printf '0x%x' "$off")" | head -1)" = leak_record ]
}

@test "sandbox: sockleak, worker crashing on a binary: one line, counts exact, the leaking frame as module+offset, exit 0" {
	"$W/sockserver" --close "$T/port" &
	SRV=$!
	wait_for 5 test -s "$T/port"
	MEMSCOPE_TEST_SYMW_CRASH=leaky_request "$B/sockleak" --json --older-than 0 > "$T/out.json" 2> "$T/err" &
	TR_PID=$!
	wait_ready "$T/out.json" 30
	"$W/sockclient" "$(cat "$T/port")" 100 10 > "$T/client" &
	local cl=$!
	wait_for 60 grep -q done "$T/client"
	kill -INT "$TR_PID"
	local status=0
	wait "$TR_PID" || status=$?
	TR_PID=""
	kill "$cl"
	cat "$T/err" >&2
	[ "$status" -eq 0 ]
	[ "$(grep -cE "$CRASH_LINE" "$T/err")" -eq 1 ]
	local p
	p=$(jq -c "select(.type == \"process\" and .report == \"final\" and .pid == $cl)" "$T/out.json")
	[ "$(jq .created <<<"$p")" -eq 100 ]
	[ "$(jq .closed <<<"$p")" -eq 90 ]
	[ "$(jq .leaked_total <<<"$p")" -eq 10 ]
	[ "$(jq '.stacks[0].count' <<<"$p")" -eq 10 ]
	[ "$(jq '[.stacks[].frames[] | select(test("leaky_request"))] | length' <<<"$p")" -eq 0 ]
	local f
	f=$(jq -r '[.stacks[0].frames[] | select(startswith("sockclient+0x"))][1]' <<<"$p")
	[ "$(addr2line -f -e "$W/sockclient" "${f#*+}" | head -1)" = leaky_request ]
}

@test "sandbox: MEMSCOPE_SYMWORKER=0 parses in the tracer, with the same frames as the worker" {
	memleak_on_leak_malloc MEMSCOPE_SYMWORKER=0
	[ "$TR_STATUS" -eq 0 ]
	jq -c '[.stacks[0].frames[] | [.symbol, .module, .offset, .file, .line]]' <<<"$FINAL" > "$T/local"
	memleak_on_leak_malloc
	[ "$TR_STATUS" -eq 0 ]
	jq -c '[.stacks[0].frames[] | [.symbol, .module, .offset, .file, .line]]' <<<"$FINAL" > "$T/worker"
	cat "$T/local" >&2
	diff "$T/local" "$T/worker"
	grep -q '"leak_record"' "$T/worker"
}
