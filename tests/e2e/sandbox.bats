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

# Least privilege after attach (docs/sandbox.md): a tracer's capability
# sets once it said it is attached.

# The mask of capabilities given by number, as /proc/PID/status shows it.
cap_mask() {
	local m=0 c
	for c in "$@"; do m=$((m | 1 << c)); done
	printf '%016x\n' "$m"
}
CAP_DAC_OVERRIDE=1 CAP_DAC_READ_SEARCH=2 CAP_KILL=5 CAP_NET_BIND_SERVICE=10
CAP_SYS_PTRACE=19 CAP_SYS_ADMIN=21 CAP_PERFMON=38 CAP_BPF=39 CAP_CHECKPOINT_RESTORE=40

# Does this kernel check CAP_BPF at every bpf() call? From 5.19 it checks
# only where programs and maps are made; before, wherever
# kernel.unprivileged_bpf_disabled is set (Debian's default).
bpf_calls_gated() {
	local v
	v=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
	[ "$v" -lt 5019 ] && [ "$(cat /proc/sys/kernel/unprivileged_bpf_disabled)" != 0 ]
}

# caps_are PID CAP...: its effective, permitted and bounding sets are
# exactly those (with CAP_BPF where bpf() calls need it), its inheritable
# and ambient sets empty, and no exec can grant more (no_new_privs).
caps_are() {
	local pid=$1 want set
	shift
	want=$(cap_mask "$@" $(bpf_calls_gated && echo "$CAP_BPF"))
	grep -E '^Cap' "/proc/$pid/status" >&2
	for set in CapEff CapPrm CapBnd; do
		[ "$(awk -v s="$set:" '$1 == s { print $2 }' "/proc/$pid/status")" = "$want" ] || return 1
	done
	for set in CapInh CapAmb; do
		[ "$(awk -v s="$set:" '$1 == s { print $2 }' "/proc/$pid/status")" = 0000000000000000 ] || return 1
	done
	[ "$(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$pid/status")" = 1 ]
}

# bats test_tags=kernel
@test "sandbox: once attached, memleak-trace --malloc keeps only what it still uses, and still names the leak" {
	start_on_leak_malloc
	caps_are "$TR_PID" $CAP_DAC_READ_SEARCH $CAP_SYS_PTRACE $CAP_CHECKPOINT_RESTORE $CAP_PERFMON $CAP_BPF
	finish_leak_malloc
	[ "$TR_STATUS" -eq 0 ]
	[ "$(jq -r .stacks[0].culprit <<<"$FINAL")" = leak_record ]
	[ "$(jq -r .stacks[0].bytes <<<"$FINAL")" -eq 60000 ]
}

# tracer_caps LOG CAP... -- COMMAND...: the command in the background, its
# capabilities checked once it says it is attached, then stopped.
tracer_caps() {
	local log=$1 caps=() pid
	shift
	while [ "$1" != -- ]; do caps+=("$1"); shift; done
	shift
	"$@" > /dev/null 2> "$log" &
	pid=$!
	wait_for 60 grep -qE 'Tracing|serving https?://|OOM kills \(' "$log" || { cat "$log" >&2; return 1; }
	caps_are "$pid" "${caps[@]}" || { cat "$log" >&2; kill -INT "$pid"; return 1; }
	kill -INT "$pid"
	wait "$pid" || { cat "$log" >&2; return 1; }
}

@test "sandbox: every tracer keeps after attach only what its options still use" {
	local base="$CAP_DAC_READ_SEARCH $CAP_SYS_PTRACE" port
	sleep 600 &
	WL_PID=$!
	tracer_caps "$T/m1" $base $CAP_CHECKPOINT_RESTORE -- "$B/memleak-trace" -p "$WL_PID"
	tracer_caps "$T/m2" $base $CAP_CHECKPOINT_RESTORE $CAP_SYS_ADMIN -- "$B/memleak-trace" -p "$WL_PID" --faults
	tracer_caps "$T/m3" $base $CAP_CHECKPOINT_RESTORE $CAP_KILL -- "$B/memleak-trace" -- sleep 600
	tracer_caps "$T/m4" $base $CAP_CHECKPOINT_RESTORE $CAP_DAC_OVERRIDE -- "$B/memleak-trace" -p "$WL_PID" --pprof "$T/p.pb.gz"
	tracer_caps "$T/s1" $base $CAP_CHECKPOINT_RESTORE -- "$B/sockleak" -p "$WL_PID"
	tracer_caps "$T/o1" $base -- "$B/oomwatch"
	mkdir "$T/kills"
	tracer_caps "$T/o2" $base $CAP_DAC_OVERRIDE -- "$B/oomwatch" --output-dir "$T/kills"
	tracer_caps "$T/e1" $base -- "$B/memscope-exporter" --listen 127.0.0.1:0
	# A privileged port is bound after the drop: that one capability stays.
	port=$(ss -Hltn | awk '{ n = split($4, a, ":"); used[a[n]] = 1 }
		END { for (p = 900; p < 1000; p++) if (!(p in used)) { print p; exit } }')
	tracer_caps "$T/e2" $base $CAP_NET_BIND_SERVICE -- "$B/memscope-exporter" --listen "127.0.0.1:$port"
}
